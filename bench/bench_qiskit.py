"""The qiskit adapter beside the anchor ``iqm.qiskit_iqm``, both on ONE emulator per figure.

1. one small job end to end (transpile + run + result), the job queued briefly;
2. 100 GHZ circuits: transpile + submit as one job + result;
3. building counts and memory for 20 qubits x 100,000 shots from the server's measurement
   lists (ours: the core's key map + our qiskit result; anchor: ``IQMJob._iqm_format_results``).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

from _common import Figure, median_time

QUEUE_DELAY = 0.05  # seconds: every job waits briefly in the emulator's queue, as on a server


def _ghz(n: int, name: str = "ghz") -> Any:
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(n, name=name)
    qc.h(0)
    for i in range(1, n):
        qc.cx(i - 1, i)
    qc.measure_all()
    return qc


def _backends(url: str) -> tuple[Any, Any]:
    from iqm.qiskit_iqm import IQMProvider as AnchorProvider

    from iqm_bridge.adapters.qiskit import IQMProvider

    return IQMProvider(url).get_backend(), AnchorProvider(url).get_backend()


def _end_to_end(backend: Any, circuits: Any, shots: int) -> Callable[[], object]:
    from qiskit import transpile

    def go() -> object:
        t = transpile(circuits, backend, optimization_level=1, seed_transpiler=1)
        return backend.run(t, shots=shots).result().get_counts()

    return go


def small_job_end_to_end() -> Figure:
    """A Bell circuit: transpile, run, result; ours / iqm.qiskit_iqm."""
    from iqm_bridge.emulator import Emulator

    with Emulator(machine="garnet", noise=False, seed=1, queue_delay=QUEUE_DELAY) as url:
        ours, anchor = _backends(url)
        qc = _ghz(2, "bell")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_ours = median_time(_end_to_end(ours, qc, 1000), repeat=5)
            t_anchor = median_time(_end_to_end(anchor, qc, 1000), repeat=5)
    return Figure(
        "qiskit.small_job_end_to_end", t_ours, t_anchor, 0.5, note=f"queue delay {QUEUE_DELAY} s"
    )


def ghz_100_circuits() -> Figure:
    """100 GHZ circuits (2-10 qubits): transpile + one job + result; ours / iqm.qiskit_iqm."""
    from iqm_bridge.emulator import Emulator

    with Emulator(machine="garnet", noise=False, seed=1, queue_delay=QUEUE_DELAY) as url:
        ours, anchor = _backends(url)
        circuits = [_ghz(2 + i % 9, f"ghz{i}") for i in range(100)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_ours = median_time(_end_to_end(ours, circuits, 100), repeat=3)
            t_anchor = median_time(_end_to_end(anchor, circuits, 100), repeat=3)
    return Figure("qiskit.ghz_100_circuits", t_ours, t_anchor, 0.7)


def counts_and_memory_20q_100k() -> Figure:
    """Counts + per-shot memory, 20 one-bit keys x 100,000 shots; ours / iqm.qiskit_iqm."""
    import numpy as np
    from iqm.qiskit_iqm.iqm_job import IQMJob as AnchorJob

    from iqm_bridge.adapters.qiskit._job import experiment_result
    from iqm_bridge.core.keys import KeyMap, Register
    from iqm_bridge.core.submit import CircuitResult

    n, shots = 20, 100_000
    rng = np.random.default_rng(3)
    # a noisy GHZ-like distribution: mostly all-0 / all-1, with bit flips
    base = rng.integers(0, 2, size=(shots, 1))
    flips = rng.random((shots, n)) < 0.05
    table = (base ^ flips).astype(int)
    reg = Register("c", n)
    keys = [KeyMap.encode(reg, 0, i) for i in range(n)]
    measurements = {k: table[:, i : i + 1].tolist() for i, k in enumerate(keys)}
    keymap = KeyMap.from_keys(keys)
    meta = {"iqm_bridge_qiskit": {"clbits": None, "memory": True, "metadata": {}}}

    def ours() -> object:
        bits = keymap.bits(measurements, shots)
        res = CircuitResult("c", bits, shots, "job", None, meta, measurements)
        return experiment_result(res)

    def anchor() -> object:
        return AnchorJob._iqm_format_results([measurements], [None], shots, True)

    # same histogram on both sides (ours in hex, qiskit formats it on get_counts)
    exp = ours()
    mine = {format(int(k, 16), f"0{n}b"): v for k, v in exp.data.counts.items()}
    theirs = dict(anchor()[0][2])
    assert mine == theirs, "ours and the anchor disagree"
    t_ours = median_time(ours, repeat=5)
    t_anchor = median_time(anchor, repeat=3)
    return Figure("qiskit.counts_memory_20q_100k", t_ours, t_anchor, 0.2)


BENCHMARKS = [small_job_end_to_end, ghz_100_circuits, counts_and_memory_20q_100k]

if __name__ == "__main__":  # pragma: no cover
    t0 = time.perf_counter()
    for fn in BENCHMARKS:
        print(fn().line())
    print(f"{time.perf_counter() - t0:.1f} s")
