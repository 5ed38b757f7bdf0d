"""The PennyLane examples run against the emulator (short versions)."""

from __future__ import annotations

import importlib.util
import pathlib
from types import ModuleType

import pytest

pytest.importorskip("pennylane")

EXAMPLES = pathlib.Path(__file__).resolve().parents[3] / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bell_example_uses_the_embedded_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IQM_SERVER_URL", raising=False)
    counts = _load("bell_pennylane").run(shots=400)
    assert sum(counts.values()) == 400
    # correlated outcomes dominate even with the embedded emulator's default noise
    assert counts.get("00", 0) + counts.get("11", 0) > 0.8 * 400


def test_exact_energy_matches_pennylane() -> None:
    import numpy as np
    import pennylane as qml

    vqe = _load("vqe_pennylane")
    matrix = qml.matrix(vqe.hamiltonian(), wire_order=range(vqe.N_QUBITS))
    assert vqe.exact_ground_energy() == pytest.approx(np.linalg.eigvalsh(matrix)[0])


@pytest.mark.slow
def test_vqe_example_short_run_descends(emulator_url: str) -> None:
    vqe = _load("vqe_pennylane")
    out = vqe.run(steps=12, shots=1000, url=emulator_url)
    assert out["jobs"] == 12  # one job per step with the device-side gradient
    # within a few steps the energy falls well below the starting point, towards the exact one
    assert out["energy"] < out["history"][0] - 0.5
    assert out["energy"] > out["exact"] - 0.2
