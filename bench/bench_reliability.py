"""Reliability benchmarks: 60 small jobs over a flaky network, counted on both sides.

Servers: emulators injecting the same seeded faults (``FAULTS`` of
``tests/reliability/_rel.py``: 20% of requests answered 503, 10% delayed by 50 ms, 5% of
connections dropped before and 5% after the request was handled, so some created jobs' answers
are lost). Every figure is taken twice: against a server that deduplicates resent submissions
by the client's submission id (the emulator's default, listed as ``idempotent-submission`` in
``GET /api/v1/about``) and against one that does not (``Emulator(deduplicate=False)``: every
POST makes a new job, as on a server without the feature).

Clients, each on its own emulator with the same faults: ours (a core ``Connection``, journal
off, default retry policy) and the anchor ``iqm.qiskit_iqm`` (unmodified; iqm-client does not
retry). Each of the 60 jobs is the same 3-qubit circuit (X on one qubit, a GHZ pair on two)
under its own name, 8 shots, and every answer is checked.

Inside the timer: the 60 jobs one after another, each from submission to its checked result,
with every retry and back-off pause. Outside: starting the emulators, building the backend or
connection, translating and transpiling the circuits (once each), and the counting after the
run.

Time: seconds per correct result, ours against the anchor on the same faults. The same 60 jobs
through ours on a server without faults are given in the note, as what the faults cost; that is
not a ratio with a goal, since the injected delays are fixed (50 ms, back-off from 50 ms) while
the clean time follows the machine's load. The retry policy's back-off jitter is seeded, so a
run can be repeated.

Counted, never assumed: *lost* = a job that gave no correct result (an exception or a wrong
answer); *ambiguous* = ``AmbiguousSubmissionError`` (ours says the job may exist and names its
submission id); *duplicates* = jobs on the server beyond the first for one circuit name (from
the server's stored payloads); *orphans* = jobs on the server whose id the client never got.
"""

from __future__ import annotations

import collections
import json
import pathlib
import random
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

from _common import Figure, Target

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "tests" / "reliability"))
from _rel import FAULTS, check_x_ghz, x_ghz_circuit  # noqa: E402

JOBS = 60
SHOTS = 8
FAULT_SEED = 11
JITTER_SEED = 7


@dataclass
class Tally:
    """What one client got from one server: results, failures by kind, and the server's jobs."""

    seconds: float = 0.0
    correct: int = 0
    wrong: int = 0
    ambiguous: int = 0
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    known_ids: set[str] = field(default_factory=set)
    duplicates: int = 0
    orphans: int = 0
    server_jobs: int = 0

    @property
    def lost(self) -> int:
        return JOBS - self.correct

    @property
    def seconds_per_result(self) -> float:
        return self.seconds / max(self.correct, 1)

    def describe(self) -> str:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.errors.items())) or "none"
        return (
            f"{self.correct} correct, {self.wrong} wrong, {self.ambiguous} ambiguous, errors: "
            f"{kinds}; server made {self.server_jobs} jobs, {self.duplicates} duplicated, "
            f"{self.orphans} never known to the client"
        )


def _count_server(emulator: Any, tally: Tally) -> None:
    """Duplicates and orphans, from the server's own store (not through the faulty HTTP)."""
    store = emulator.app.store
    names: collections.Counter[str] = collections.Counter()
    ids = store.ids()
    for job_id in ids:
        rec = store.get(job_id)
        names[json.loads(rec.payload)["circuits"][0]["name"]] += 1
    tally.server_jobs = len(ids)
    tally.duplicates = sum(n - 1 for n in names.values())
    tally.orphans = len(set(ids) - tally.known_ids)


def _emulator(faults: bool, deduplicate: bool) -> Any:
    from iqm_bridge.emulator import Emulator, FaultOptions

    options = FaultOptions(**FAULTS, seed=FAULT_SEED) if faults else None
    return Emulator(machine="garnet", noise=False, seed=3, faults=options, deduplicate=deduplicate)


def _ours(faults: bool, deduplicate: bool) -> Tally:
    from iqm_bridge.core import prepare
    from iqm_bridge.core.errors import AmbiguousSubmissionError, IQMBridgeError
    from iqm_bridge.core.options import RunOptions
    from iqm_bridge.core.submit import Connection

    random.seed(JITTER_SEED)  # the retry policy's back-off jitter
    tally = Tally()
    emulator = _emulator(faults, deduplicate)
    url = emulator.start()
    try:
        conn = Connection(url, journal=None)
        natives = prepare([x_ghz_circuit(f"j{i}") for i in range(JOBS)], conn.device)
        t0 = time.perf_counter()
        for native in natives:
            try:
                job = conn.submit([native], RunOptions(shots=SHOTS))
                tally.known_ids.update(job.job_ids)
                (res,) = job.result(timeout=60)
            except AmbiguousSubmissionError:
                tally.ambiguous += 1
                continue
            except IQMBridgeError as exc:
                tally.errors[type(exc).__name__] += 1
                continue
            try:
                check_x_ghz(res.bits.memory())
            except AssertionError:
                tally.wrong += 1
            else:
                tally.correct += 1
        tally.seconds = time.perf_counter() - t0
        _count_server(emulator, tally)
    finally:
        emulator.stop()
    return tally


def _anchor(deduplicate: bool) -> Tally:
    """The same jobs through ``iqm.qiskit_iqm`` (unmodified) on an emulator with the same faults."""
    from iqm.qiskit_iqm import IQMProvider
    from qiskit import QuantumCircuit, transpile

    tally = Tally()
    emulator = _emulator(True, deduplicate)
    url = emulator.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            backend = None
            while backend is None:  # building the backend itself may meet a fault
                try:
                    backend = IQMProvider(url).get_backend()
                except Exception:
                    time.sleep(0.05)
            circuits = []
            for i in range(JOBS):
                qc = QuantumCircuit(3, 3, name=f"j{i}")
                qc.x(0)
                qc.h(1)
                qc.cx(1, 2)
                qc.measure([0, 1, 2], [0, 1, 2])
                circuits.append(qc)
            natives = transpile(circuits, backend, optimization_level=1, seed_transpiler=1)
            t0 = time.perf_counter()
            for native in natives:
                try:
                    job = backend.run(native, shots=SHOTS)
                    tally.known_ids.add(str(job.job_id()))
                    counts = job.result(timeout=60).get_counts()
                except Exception as exc:  # iqm-client's and requests' errors, unmapped
                    tally.errors[type(exc).__name__] += 1
                    continue
                # bit 0 is the rightmost: q0 always 1, q1 == q2
                if any(k[-1] != "1" or k[0] != k[1] for k in counts):
                    tally.wrong += 1
                else:
                    tally.correct += 1
            tally.seconds = time.perf_counter() - t0
        _count_server(emulator, tally)
    finally:
        emulator.stop()
    return tally


ANCHOR = "iqm.qiskit_iqm backend.run(...).result() on an emulator with the same seeded faults"


def _figures(mode: str, ours: Tally, anchor: Tally, clean: Tally) -> list[Figure | Target]:
    lost_goal = 0.1 if mode == "dedup" else 0.3
    return [
        Figure(
            f"reliability.faulty60_{mode}_jobs_lost",
            ours.lost,
            anchor.lost,
            lost_goal,
            unit="jobs",
            note=f"ours: {ours.describe()} | anchor: {anchor.describe()}",
            against=ANCHOR,
        ),
        Target(
            f"reliability.faulty60_{mode}_duplicates",
            ours.duplicates,
            0,
            unit="jobs",
            note=f"jobs made twice for one submission (the anchor: {anchor.duplicates})",
        ),
        Figure(
            f"reliability.faulty60_{mode}_seconds_per_result",
            ours.seconds_per_result,
            anchor.seconds_per_result,
            1.0,
            note=(
                f"seconds per correct result: ours {ours.correct} in {ours.seconds:.2f} s, "
                f"the anchor {anchor.correct} in {anchor.seconds:.2f} s; ours without faults "
                f"{clean.seconds_per_result * 1e3:.1f} ms per job"
            ),
            against=ANCHOR,
        ),
    ]


def faults_deduplicating_server() -> list[Figure | Target]:
    """60 jobs under the faults, the server deduplicating resent submissions."""
    ours = _ours(faults=True, deduplicate=True)
    anchor = _anchor(deduplicate=True)
    clean = _ours(faults=False, deduplicate=True)
    return _figures("dedup", ours, anchor, clean)


def faults_plain_server() -> list[Figure | Target]:
    """60 jobs under the faults, the server making a new job for every POST."""
    ours = _ours(faults=True, deduplicate=False)
    anchor = _anchor(deduplicate=False)
    clean = _ours(faults=False, deduplicate=False)
    figures = _figures("nodedup", ours, anchor, clean)
    figures.append(
        Figure(
            "reliability.faulty60_nodedup_ambiguous",
            ours.ambiguous,
            anchor.lost,
            0.3,
            unit="jobs",
            note=(
                "ours' AmbiguousSubmissionError (each names the submission id; "
                f"{ours.orphans} of those jobs exist on the server) against every job the "
                "anchor lost"
            ),
            against=ANCHOR,
        )
    )
    return figures


BENCHMARKS = [faults_deduplicating_server, faults_plain_server]
