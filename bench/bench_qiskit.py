"""The qiskit adapter beside the anchor ``iqm.qiskit_iqm``, both on ONE emulator per figure.

1. ``qiskit.small_job_end_to_end``: a Bell circuit, 1,000 shots. Inside the timer: transpile
   to the backend, ``run``, ``result()`` and ``get_counts()``. Outside: starting the emulator
   and building both backends (the architecture fetch).
2. ``qiskit.ghz_100_circuits``: 100 GHZ circuits of 2-10 qubits as one job, 100 shots; the
   same inside and outside.
   Both are taken with the emulator holding each submission open until the job is done (its
   default; the answer already says ``completed``) and with it queueing (``*_queued``: the
   answer says ``waiting`` and both clients poll, as on a real server; the anchor's
   iqm-client polls once a second, ours after 10 ms, growing). Ours and the anchor are timed
   in turns.
3. ``qiskit.counts_memory_20q_100k``: 20 one-bit measurement keys x 100,000 shots (a GHZ-like
   distribution with 5% bit flips: about 4,000 distinct outcomes). Inside the
   timer: everything from the server's ``measurements`` JSON text to the user's
   ``result.get_counts()`` and ``result.get_memory()``. Ours: the core's parse
   (``parse_measurements``), the key map's bit arrays, our qiskit ``Result`` and its two
   calls. The anchor: iqm-client's parse of the same text
   (``CircuitMeasurementResultsBatchAdapter.validate_json``, what ``job.result()`` calls),
   ``IQMJob._iqm_format_results``, the ``Result`` its ``IQMJob.result`` builds, and the same
   two calls. Outside: making the data. Both sides' counts and memory are checked equal.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

from _common import Figure, interleaved_medians

ANCHOR = "iqm.qiskit_iqm backend: transpile + run + result().get_counts()"


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


def _both_modes(name: str, circuits: Any, shots: int, repeat: int, goal: float) -> list[Figure]:
    from iqm_bridge.emulator import Emulator

    figures = []
    for mode in ("hold", "queued"):
        with Emulator(machine="garnet", noise=False, seed=1, queued=mode == "queued") as url:
            ours, anchor = _backends(url)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t_ours, t_anchor = interleaved_medians(
                    [_end_to_end(ours, circuits, shots), _end_to_end(anchor, circuits, shots)],
                    repeat=repeat,
                )
        suffix = "" if mode == "hold" else "_queued"
        figures.append(
            Figure(
                f"qiskit.{name}{suffix}",
                t_ours,
                t_anchor,
                goal,
                against=f"{ANCHOR}, same emulator ({mode})",
            )
        )
    return figures


def small_job_end_to_end() -> list[Figure]:
    """A Bell circuit: transpile, run, result; ours / iqm.qiskit_iqm."""
    return _both_modes("small_job_end_to_end", _ghz(2, "bell"), 1000, repeat=7, goal=0.5)


def ghz_100_circuits() -> list[Figure]:
    """100 GHZ circuits (2-10 qubits): transpile + one job + result; ours / iqm.qiskit_iqm."""
    circuits = [_ghz(2 + i % 9, f"ghz{i}") for i in range(100)]
    return _both_modes("ghz_100_circuits", circuits, 100, repeat=5, goal=0.7)


def counts_and_memory_20q_100k() -> Figure:
    """Counts + per-shot memory, 20 one-bit keys x 100,000 shots, from the server's text."""
    import datetime
    import json

    import numpy as np
    from iqm.iqm_client import Circuit, CircuitOperation
    from iqm.iqm_server_client.iqm_server_client import CircuitMeasurementResultsBatchAdapter
    from iqm.qiskit_iqm.iqm_job import IQMJob as AnchorJob
    from qiskit.result import Result

    from iqm_bridge.adapters.qiskit._job import IQMResult, experiment_result
    from iqm_bridge.core.keys import KeyMap, Register
    from iqm_bridge.core.submit import CircuitResult
    from iqm_bridge.core.submit.transport import parse_measurements

    n, shots = 20, 100_000
    rng = np.random.default_rng(3)
    # a noisy GHZ-like distribution: mostly all-0 / all-1, with bit flips
    base = rng.integers(0, 2, size=(shots, 1))
    flips = rng.random((shots, n)) < 0.05
    table = (base ^ flips).astype(int)
    reg = Register("c", n)
    keys = [KeyMap.encode(reg, 0, i) for i in range(n)]
    text = json.dumps([{k: table[:, i : i + 1].tolist() for i, k in enumerate(keys)}]).encode()
    keymap = KeyMap.from_keys(keys)
    meta = {"iqm_bridge_qiskit": {"clbits": None, "memory": True, "metadata": {}}}
    # the anchor's circuit as its job payload holds it (only its name is read)
    circuit = Circuit(
        name="c", instructions=(CircuitOperation("measure", ("QB1",), {"key": keys[0]}),)
    )

    def ours() -> tuple[Any, Any]:
        (measurements,) = parse_measurements(text)
        bits = keymap.bits(measurements, shots)
        res = CircuitResult("c", bits, shots, "job", None, meta, measurements)
        result = IQMResult(
            backend_name="garnet",
            backend_version="",
            job_id="job",
            success=True,
            results=[experiment_result(res)],
            date=datetime.datetime.now().isoformat(),
        )
        return result.get_counts(), result.get_memory()

    def anchor() -> tuple[Any, Any]:
        batch = CircuitMeasurementResultsBatchAdapter.validate_json(text)
        ((name, memory, counts),) = AnchorJob._iqm_format_results(batch, [circuit], shots, True)
        result = Result.from_dict(
            {
                "backend_name": "garnet",
                "backend_version": "",
                "qobj_id": "",
                "job_id": "job",
                "success": True,
                "date": datetime.date.today().isoformat(),
                "results": [
                    {
                        "shots": len(memory),
                        "success": True,
                        "data": {"memory": memory, "counts": counts, "metadata": {}},
                        "header": {"name": name},
                        "calibration_set_id": None,
                    }
                ],
            }
        )
        return result.get_counts(), result.get_memory()

    mine, theirs = ours(), anchor()
    if dict(mine[0]) != dict(theirs[0]) or mine[1] != theirs[1]:
        raise RuntimeError("ours and the anchor disagree on counts or memory")
    t_ours, t_anchor = interleaved_medians([ours, anchor], repeat=5)
    return Figure(
        "qiskit.counts_memory_20q_100k",
        t_ours,
        t_anchor,
        0.2,
        note=f"{len(mine[0])} distinct outcomes",
        against="iqm-client's parse + qiskit-iqm's result formatting + Result.get_counts/memory",
    )


BENCHMARKS = [small_job_end_to_end, ghz_100_circuits, counts_and_memory_20q_100k]

if __name__ == "__main__":  # pragma: no cover
    t0 = time.perf_counter()
    for fn in BENCHMARKS:
        result = fn()
        for fig in result if isinstance(result, list) else [result]:
            print(fig.line())
    print(f"{time.perf_counter() - t0:.1f} s")
