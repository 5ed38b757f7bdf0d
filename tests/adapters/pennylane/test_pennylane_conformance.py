"""A representative subset of PennyLane's own device conformance suite on the "iqm" device.

The full suite is ``pl-device-test --device iqm --shots 10000`` (needs the entry point); this
runs gates, measurements, templates, gradients and the tracker on the embedded emulator with
noise off, in a subprocess so the suite's own conftest and options apply.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("pennylane")
pytest.importorskip("flaky")
pytest.importorskip("pytest_mock")

SUBSET = (
    "test_gates.py::TestGatesQubit",
    "test_measurements.py::TestExpval",
    "test_measurements.py::TestTensorExpval",
    "test_measurements.py::TestSample",
    "test_measurements.py::TestVar",
    "test_measurements.py::TestSumExpval",
    "test_measurements.py::TestHamiltonianSupport",
    "test_templates.py",
    "test_gradients_autograd.py",
    "test_tracker.py",
    "test_return_system.py",
)


@pytest.mark.slow
def test_pennylane_device_suite_subset() -> None:
    from pennylane.devices.tests import get_device_tests

    root = pathlib.Path(get_device_tests())
    env = {
        **os.environ,
        "IQM_BRIDGE_EMULATOR_NOISE": "off",
        "IQM_BRIDGE_EMULATOR_MACHINE": "garnet",
    }
    env.pop("IQM_SERVER_URL", None)
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        *(str(root / s) for s in SUBSET),
        "--device=iqm",
        "--shots=10000",
        "--skip-ops",
        "--no-flaky-report",
        "-q",
        "-p",
        "no:warnings",
        "-p",
        "no:cacheprovider",
        f"--rootdir={root}",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=root, timeout=900)
    tail = "\n".join(out.stdout.splitlines()[-25:])
    assert out.returncode == 0, tail
    assert " passed" in tail and " failed" not in tail, tail
