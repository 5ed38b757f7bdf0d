"""The PennyLane examples run against the emulator, and keep the promises their docstrings make."""

from __future__ import annotations

import importlib.util
import math
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


@pytest.mark.slow
def test_vqe_example_reaches_its_accuracy_with_default_noise_and_mitigation_helps(
    emulator_factory: object,
) -> None:
    """The example as a user runs it (its defaults: 40 steps, 2,000 shots, readout mitigation)
    on garnet with the embedded emulator's default noise ends within its stated ``ACCURACY``;
    the same run without mitigation ends farther from the exact energy.

    Both final energies are estimated with 500,000 shots per circuit. A raw per-shot energy is
    bounded by sum |c_k| = 7, a mitigated one by sum |c_k| B_k = 3 B^2 + 4 B = 8.7 (B = 1.16
    bounds a qubit's mitigated weight on garnet: 1.153 at worst with the served errors), so
    each estimate's sigma is at most that over sqrt(shots): 0.010 and 0.012, and the raw run
    must end more than 4 combined sigma (0.064) farther away. Measured: mitigated about 0.15-0.21,
    raw about 0.29-0.33. Fails with mitigation off in the example (0.29-0.33 > 0.25).
    """
    emu = emulator_factory(machine="garnet", noise=True, seed=7)  # type: ignore[operator]
    vqe = _load("vqe_pennylane")
    shots = 500_000
    mitigated = vqe.run(url=emu.url, final_shots=shots)
    raw = vqe.run(url=emu.url, final_shots=shots, mitigation=None)
    assert mitigated["jobs"] == len(mitigated["history"]) == 40
    err_m = abs(mitigated["energy"] - mitigated["exact"])
    err_r = abs(raw["energy"] - raw["exact"])
    assert err_m < vqe.ACCURACY, err_m
    weight = 1.16
    sigma = math.hypot(7.0, 3 * weight**2 + 4 * weight) / math.sqrt(shots)
    assert err_r - err_m > 4 * sigma, (err_m, err_r)
