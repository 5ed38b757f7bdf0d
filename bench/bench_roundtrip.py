"""Job round trips and load: the core's submission path beside the unmodified ``IQMClient``.

Every figure runs ours and the anchor against the SAME emulator in the same run, in both of
its answering modes:

* ``hold``: the emulator holds the submission POST open until the job has finished (its
  default), so the answer already says ``completed`` and a client that reads it needs no
  status request;
* ``queued``: the POST answers at once with the ``waiting`` job, as a real server's queue
  does, and both clients poll for the status.

Ours: ``Connection.submit(natives, RunOptions(shots=...)).result()`` (the core's submission
layer, journal off), which polls every 10 ms at first, growing 1.5x per poll. The anchor:
``IQMClient.submit_circuits(...)``, ``wait_for_completion(polling_interval=0.01)`` and
``result()``; its default interval is 1 s, which would put a whole second into every queued
figure, so the anchor here polls at a steady 10 ms, never slower than ours.

Inside both timers: serialising the circuits (ours from our IR; the anchor's iqm-client models
are built before the timer, which favours the anchor), the POST, the status requests, the
measurements request, and parsing the results into per-circuit data (ours: 0/1 numpy arrays
per register; the anchor: iqm-client's validated measurement lists). Outside: starting the
emulator, fetching the architecture, compiling the circuits. Each figure's note also gives the
floor both sides share: the same job posted and its measurements fetched with a bare
``requests.Session`` (no client library, a 2 ms poll in queued mode).

Load: 32 client threads x 20 jobs, each thread with its own connection (ours) or its own
``IQMClient`` (the anchor), against one emulator in a separate process; seconds per job
(1 / throughput) and the p50 and p99 job latency, each thread's jobs one after another and
every result checked. Inside the latency timer: one job, submission to checked result.
"""

from __future__ import annotations

import contextlib
import pathlib
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from _common import Figure, bare_http_job, interleaved_medians

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "tests" / "reliability"))
from _rel import (  # noqa: E402
    check_x_ghz,
    concurrent_jobs,
    server_process,
    x_ghz_circuit,
    x_ghz_jobs,
)

MODES = ("hold", "queued")
POLL = 0.01
ANCHOR = "IQMClient submit_circuits + wait_for_completion(polling_interval=0.01) + result()"


@contextlib.contextmanager
def _emulator(mode: str) -> Iterator[str]:
    from iqm_bridge.emulator import Emulator

    with Emulator(machine="garnet", noise=False, seed=3, queued=mode == "queued") as url:
        yield url


def _batch(n_circuits: int, qubits: Sequence[str], layers: int, seed: int) -> list[Any]:
    """``n_circuits`` native circuits of one structure with different angles (a sweep).

    Per layer: two PRX on every qubit, then CZ along the chain of ``qubits`` (neighbours on
    garnet); one measurement of all qubits at the end.
    """
    from iqm_bridge.core import Circuit, Gate, Measure

    rng = np.random.default_rng(seed)
    key = f"m_{len(qubits)}_0_0"
    circuits = []
    for index in range(n_circuits):
        ops: list[Any] = []
        for _ in range(layers):
            for q in qubits:
                for _ in range(2):
                    angle, phase = rng.uniform(0, np.pi), rng.uniform(-np.pi, np.pi)
                    ops.append(Gate("prx", (q,), (float(angle), float(phase))))
            ops += [Gate("cz", (a, b)) for a, b in zip(qubits, qubits[1:], strict=False)]
        ops.append(Measure(tuple(qubits), key))
        circuits.append(Circuit(tuple(qubits), ops, name=f"point{index}"))
    return circuits


def _ours_fn(url: str, natives: Sequence[Any], shots: int) -> Callable[[], object]:
    from iqm_bridge.core.options import RunOptions
    from iqm_bridge.core.submit import Connection

    conn = Connection(url, journal=None)
    conn.device  # noqa: B018 - the architecture, once, outside the timer
    options = RunOptions(shots=shots)

    def once() -> object:
        results = conn.submit(natives, options).result(timeout=120)
        if len(results) != len(natives):
            raise RuntimeError("ours: results missing")
        return results

    return once


def _anchor_fn(url: str, natives: Sequence[Any], shots: int) -> Callable[[], object]:
    from iqm.iqm_client import IQMClient

    from iqm_bridge.core.submit.serialize import to_iqm_circuit

    client = IQMClient.from_url(url)
    circuits = [to_iqm_circuit(c) for c in natives]

    def once() -> object:
        job = client.submit_circuits(circuits, shots=shots)
        job.wait_for_completion(polling_interval=POLL)
        results = job.result()
        if results is None or len(results) != len(circuits):
            raise RuntimeError("anchor: results missing")
        return results

    return once


def _floor_fn(url: str, natives: Sequence[Any], shots: int) -> Callable[[], object]:
    """The same job with a bare ``requests.Session`` (see ``_common.bare_http_job``)."""
    from iqm.station_control.interface.models.circuit import CircuitJobDefinition

    from iqm_bridge.core.submit.serialize import to_iqm_circuit

    definition = CircuitJobDefinition(circuits=[to_iqm_circuit(c) for c in natives], shots=shots)
    return bare_http_job(url, definition.model_dump_json())


def _roundtrip(name: str, natives: Sequence[Any], shots: int, repeat: int) -> list[Figure]:
    figures = []
    for mode in MODES:
        with _emulator(mode) as url:
            ours, anchor, floor = interleaved_medians(
                [
                    _ours_fn(url, natives, shots),
                    _anchor_fn(url, natives, shots),
                    _floor_fn(url, natives, shots),
                ],
                repeat=repeat,
                warmup=2,
            )
        figures.append(
            Figure(
                f"roundtrip.{name}_{mode}",
                ours,
                anchor,
                goal=1.0,
                note=f"shared floor (bare HTTP, same job) {floor * 1e3:.1f} ms",
                against=f"{ANCHOR}, same emulator ({mode})",
            )
        )
    return figures


def small_job() -> list[Figure]:
    """One 3-qubit circuit (X and a GHZ pair, compiled for garnet), 100 shots."""
    from iqm_bridge.core import prepare
    from iqm_bridge.emulator import get_machine

    natives = prepare([x_ghz_circuit("small")], get_machine("garnet").device)
    return _roundtrip("small_job", natives, 100, repeat=31)


def batch50_4q() -> list[Figure]:
    """A Cirq-sweep-like job: 50 circuits of one structure, 4 qubits, 21 ops, 100 shots."""
    natives = _batch(50, ["QB4", "QB5", "QB10", "QB9"], layers=2, seed=5)
    return _roundtrip("batch50_4q", natives, 100, repeat=15)


def batch96_6q_step() -> list[Figure]:
    """A PennyLane-step-like job: 96 circuits of one structure, 6 qubits, 1,000 shots."""
    natives = _batch(96, ["QB9", "QB4", "QB5", "QB10", "QB11", "QB6"], layers=4, seed=6)
    return _roundtrip("batch96_6q_step", natives, 1000, repeat=7)


# ------------------------------------------------------------------------------------- load


def _anchor_load_client(url: str) -> Callable[[int], Callable[[], None]]:
    from iqm.iqm_client import IQMClient

    from iqm_bridge.core import prepare
    from iqm_bridge.core.submit.serialize import to_iqm_circuit
    from iqm_bridge.emulator import get_machine

    (native,) = prepare([x_ghz_circuit("t")], get_machine("garnet").device)
    keys = [op.key for op in native.operations if hasattr(op, "key")]

    def make(index: int) -> Callable[[], None]:
        client = IQMClient.from_url(url)
        circuit = to_iqm_circuit(native)

        def once() -> None:
            job = client.submit_circuits([circuit], shots=8)
            job.wait_for_completion(polling_interval=POLL, timeout_secs=120)
            (meas,) = job.result()
            check_x_ghz(np.column_stack([np.asarray(meas[k])[:, 0] for k in sorted(keys)]))

        return once

    return make


def load_32x20() -> list[Figure]:
    """32 threads x 20 jobs on one emulator process, ours and the anchor in turn, per mode."""
    figures = []
    for mode in MODES:
        args = ["--queued"] if mode == "queued" else []
        with (
            tempfile.TemporaryDirectory() as tmp,
            server_process(pathlib.Path(tmp) / "jobs.sqlite3", args=args) as server,
        ):
            order = ["ours", "anchor"] if mode == "hold" else ["anchor", "ours"]
            runs = {}
            for who in order:
                make = (x_ghz_jobs if who == "ours" else _anchor_load_client)(server.url)
                runs[who] = concurrent_jobs(32, 20, make)
        ours, anchor = runs["ours"], runs["anchor"]
        against = f"IQMClient per thread, 10 ms polling, same emulator process ({mode})"
        for key, label in (("seconds_per_job", "seconds_per_job"), ("p50", "p50"), ("p99", "p99")):
            figures.append(
                Figure(
                    f"roundtrip.load_32x20_{mode}_{label}",
                    ours[key],
                    anchor[key],
                    goal=1.0,
                    note=(
                        f"{1 / ours['seconds_per_job']:.0f} jobs/s ours, "
                        f"{1 / anchor['seconds_per_job']:.0f} jobs/s anchor"
                    ),
                    against=against,
                )
            )
    return figures


BENCHMARKS = [small_job, batch50_4q, batch96_6q_step, load_32x20]
