"""Every script in ``examples/`` runs, as a user would run it, against the embedded emulator.

Each example runs in its own interpreter with the emulator's default noise and a private job
journal; it must exit 0 and print what it promises. Examples may read
``IQM_BRIDGE_EXAMPLE_QUICK=1`` (set here) to use fewer shots or steps.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _process import emulator_process_env  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))
TIMEOUT = 600

EXPECTED: dict[str, list[str]] = {
    # regular expressions each example's standard output must match
    "bell_qiskit.py": [r"backend: garnet, 20 qubits", r"Bell counts: \{", r"GHZ counts"],
    "qiskit_primitives.py": [r"theta=0\.5: \{", r"<ZZ> = [+-]\d", r"<XX> = [+-]\d"],
    "retrieve_job.py": [r"submitted job [0-9a-f-]{36}", r"same as the original job: True"],
    "bell_cirq.py": [r"Bell pair on garnet: \{", r"calibration set [0-9a-f-]{36}"],
    "cirq_sweep.py": [r"\d+ sweep points in job\(s\) \['[0-9a-f-]{36}'\]"],
    "resonator_cirq.py": [r"deneb: qubits", r"resonators \['CR1'\]", r"\d+ MOVEs", r"GHZ counts"],
    "bell_pennylane.py": [r"'00': \d+", r"'11': \d+"],
    "vqe_pennylane.py": [r"VQE energy\s+-?\d", r"exact energy\s+-?\d"],
}


def _env(tmp_path: Path) -> dict[str, str]:
    return emulator_process_env(tmp_path, IQM_BRIDGE_EXAMPLE_QUICK="1")


def test_there_are_examples() -> None:
    assert len(SCRIPTS) >= 3, f"examples/ has {len(SCRIPTS)} scripts"


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_example_runs(script: Path, tmp_path: Path) -> None:
    try:
        proc = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{script.name} did not finish within {TIMEOUT} s")
    assert proc.returncode == 0, (
        f"{script.name} exited {proc.returncode}\n--- stdout\n{proc.stdout[-3000:]}\n"
        f"--- stderr\n{proc.stderr[-6000:]}"
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-6000:]
    patterns = EXPECTED.get(script.name, [r"\S"])
    for pattern in patterns:
        assert re.search(pattern, proc.stdout), (
            f"{script.name}: nothing in its output matches {pattern!r}\n{proc.stdout[-3000:]}"
        )
