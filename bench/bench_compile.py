"""Compiler benchmarks: our DEFAULT level against ``qiskit.transpile`` at level 3, same target.

Six circuit families, each over seeds 1-7 (the seed drives the circuit generator where the
family is random, our compiler's ``seed`` and qiskit's ``seed_transpiler``), every circuit
ending in ``measure_all``:

* ``ghz20`` (20-qubit GHZ chain), ``qft8`` (an H layer then QFT(8)), ``qaoa_ring12`` (12-qubit
  ring, p=2, angles drawn from the seed), ``random12`` (``random_circuit(12, 12,
  max_operands=2)``) and ``random16`` (``random_circuit(16, 20, max_operands=2)``) on the
  emulated garnet (20-qubit square lattice);
* ``star6`` (``random_circuit(6, 10, max_operands=2)``) on the emulated deneb (6 qubits
  around a computational resonator).

Ours is what ``backend.run`` does: the qiskit adapter's ``to_ir`` then
``iqm_bridge.core.compile`` at :data:`~iqm_bridge.core.compiler.DEFAULT_LEVEL` on the
backend's own ``Device`` (fetched from the emulator, calibration included). For the first
seed of each family the bench also submits the circuit through ``backend.run`` and reads the
CZ count back from the job's payload on the server; it stops if that count differs from the
one ``compile`` gave, so the figures are those of the user's path.

The anchor is ``qiskit.transpile(qc, target=T, optimization_level=3, seed_transpiler=s)``
where ``T`` is built here from the same ``Device``: ``r`` per qubit, ``cz`` per coupler (both
directions) and ``measure`` per qubit, each with the calibration's error rate (``1 -
fidelity``) and the duration the success estimate assumes. On deneb qiskit cannot place
MOVEs: its target offers a CZ between every two qubits with the error of the MOVE-CZ-MOVE
sequence, and our MOVE router (level 0, qiskit's layout kept) completes its output.

Per family, over the seeds:

* ``compile.<family>.cz_median`` / ``cz_worst``: CZ in our result / in qiskit's, the seed with
  the median and with the largest ratio (goals 1.0 and 1.1);
* ``compile.<family>.errors_median``: ``-ln`` of the estimated success probability
  (:func:`iqm_bridge.core.compiler.success.estimated_success`, the same function scoring both
  results; qiskit's converted with ``to_ir``), ours / qiskit's at the median seed; at most
  1.0 means our success estimate is at least qiskit's;
* ``compile.<family>.time_median``: our compile time / qiskit's transpile time at the median
  seed. Inside the timer: only ``compile(...)`` and only ``transpile(...)``. Outside:
  building the circuit, the conversion to our IR, the success estimate, the payload check.
  Each time is the median of 3 runs, the two sides alternating in one process after one
  warm-up run each, so both see the same machine load.

Also ``compile.template_bind``: binding a 10-qubit, 200-gate symbolic template, against the
absolute target of 1 ms (no anchor: printed as a target).
"""

from __future__ import annotations

import atexit
import contextlib
import math
import random
import statistics
import time
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any
from uuid import UUID

from _common import Figure, Target, interleaved_medians, median_time

from iqm_bridge.core.compiler import DEFAULT_LEVEL, compile
from iqm_bridge.core.compiler.success import DEFAULT_DURATION, estimated_success
from iqm_bridge.core.compiler.templates import Template
from iqm_bridge.core.device import Device
from iqm_bridge.core.ir import Circuit, Gate
from iqm_bridge.core.parameters import Parameter

SEEDS = (1, 2, 3, 4, 5, 6, 7)
_REPEATS = 3


# ------------------------------------------------------------------------- the two machines
_STACK = contextlib.ExitStack()
atexit.register(_STACK.close)


@cache
def _backend(machine: str) -> Any:
    """A backend of the emulated ``machine`` (noise off: only the payload is read)."""
    from iqm_bridge.adapters.qiskit import IQMProvider
    from iqm_bridge.emulator import Emulator

    url = _STACK.enter_context(Emulator(machine=machine, noise=False, seed=1))
    return IQMProvider(url).get_backend()


def _fidelity(table: Any, *keys: Any, default: float) -> float:
    for key in keys:
        value = table.get(key)
        if value is not None:
            return float(value)
    return default


@cache
def _target(machine: str) -> Any:
    """Qiskit's target for ``machine``, from the same ``Device`` and calibration as ours."""
    from qiskit.circuit import Parameter as QParameter
    from qiskit.circuit.library import CZGate, Measure, RGate
    from qiskit.transpiler import InstructionProperties, Target

    device: Device = _backend(machine).device
    cal = device.calibration
    assert cal is not None, "the emulator serves calibration data"
    index = {q: i for i, q in enumerate(device.qubits)}
    target = Target(num_qubits=len(index))
    target.add_instruction(
        RGate(QParameter("theta"), QParameter("phi")),
        {
            (i,): InstructionProperties(
                duration=DEFAULT_DURATION["prx"],
                error=1.0 - _fidelity(cal.prx_fidelity, q, default=0.999),
            )
            for q, i in index.items()
        },
    )
    cz: dict[tuple[int, ...], InstructionProperties] = {}
    if device.resonators:
        (res,) = device.resonators
        seconds = DEFAULT_DURATION["cz"] + 2 * DEFAULT_DURATION["move"]
        for a in device.qubits:
            for b in device.qubits:
                if a == b:
                    continue
                # the better orientation of MOVE(b) CZ(a) MOVE(b) / MOVE(a) CZ(b) MOVE(a)
                fids = [
                    _fidelity(cal.cz_fidelity, (s, res), (res, s), default=0.99)
                    * _fidelity(cal.move_fidelity, (m, res), (res, m), default=0.99) ** 2
                    for s, m in ((a, b), (b, a))
                ]
                cz[(index[a], index[b])] = InstructionProperties(
                    duration=seconds, error=1.0 - max(fids)
                )
    else:
        for locus in device.loci("cz"):
            a, b = locus
            fid = _fidelity(cal.cz_fidelity, (a, b), (b, a), default=0.99)
            cz[(index[a], index[b])] = InstructionProperties(
                duration=DEFAULT_DURATION["cz"], error=1.0 - fid
            )
    target.add_instruction(CZGate(), cz)
    target.add_instruction(
        Measure(),
        {
            (i,): InstructionProperties(
                duration=DEFAULT_DURATION["measure"],
                error=1.0 - _fidelity(cal.readout_fidelity, q, default=0.98),
            )
            for q, i in index.items()
        },
    )
    return target


# ------------------------------------------------------------------------- the families
def _ghz(n: int) -> Any:
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(n)
    qc.h(0)
    for i in range(n - 1):
        qc.cx(i, i + 1)
    return qc


def _qft8() -> Any:
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import QFTGate

    qc = QuantumCircuit(8)
    qc.h(range(8))
    qc.append(QFTGate(8), range(8))
    return qc.decompose()


def _qaoa_ring(n: int, layers: int, seed: int) -> Any:
    from qiskit import QuantumCircuit

    rng = random.Random(seed)
    qc = QuantumCircuit(n)
    qc.h(range(n))
    for _ in range(layers):
        gamma, beta = rng.uniform(0.1, 1.5), rng.uniform(0.1, 1.5)
        for i in range(n):
            qc.rzz(2 * gamma, i, (i + 1) % n)
        for i in range(n):
            qc.rx(2 * beta, i)
    return qc


def _random(n: int, depth: int, seed: int) -> Any:
    from qiskit.circuit.random import random_circuit

    return random_circuit(n, depth, max_operands=2, seed=seed)


FAMILIES: dict[str, tuple[Callable[[int], Any], str]] = {
    "ghz20": (lambda s: _ghz(20), "garnet"),
    "qft8": (lambda s: _qft8(), "garnet"),
    "qaoa_ring12": (lambda s: _qaoa_ring(12, 2, s), "garnet"),
    "random12": (lambda s: _random(12, 12, s), "garnet"),
    "random16": (lambda s: _random(16, 20, s), "garnet"),
    "star6": (lambda s: _random(6, 10, s), "deneb"),
}
"""Family name -> (circuit for a seed, emulated machine)."""


# ------------------------------------------------------------------------- measuring
def _cz(circuit: Circuit) -> int:
    return sum(1 for op in circuit.operations if isinstance(op, Gate) and op.name == "cz")


def _payload_cz(backend: Any, qc: Any, seed: int) -> int:
    """CZ gates of the circuit ``backend.run`` sent, read back from the server's payload."""
    job = backend.run(qc, shots=1, seed=seed)
    job.result()
    payload = backend.client.get_job(UUID(job.job_id())).payload()
    (circuit,) = payload.circuits
    return sum(1 for inst in circuit.instructions if inst.name == "cz")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _row(family: str, seed: int) -> dict[str, float]:
    from qiskit import transpile

    from iqm_bridge.adapters.qiskit import to_ir

    make, machine = FAMILIES[family]
    backend = _backend(machine)
    device: Device = backend.device
    target = _target(machine)
    qc = make(seed)
    qc.measure_all()
    circuit, _ = to_ir(qc, [f"q{i}" for i in range(qc.num_qubits)])

    def ours() -> Any:
        return compile(circuit, device, seed=seed)

    def anchor() -> Any:
        return transpile(qc, target=target, optimization_level=3, seed_transpiler=seed)

    with _quiet():
        result = ours()
        theirs = anchor()
        ours_s, anchor_s = interleaved_medians([ours, anchor], repeat=_REPEATS)
        if seed == SEEDS[0]:
            sent = _payload_cz(backend, qc, seed)
            if sent != result.report.cz_count:
                raise AssertionError(
                    f"{family}: backend.run sent {sent} CZ, compile() gave "
                    f"{result.report.cz_count}: the bench would not measure the user's path"
                )
    native, _ = to_ir(theirs, list(device.qubits))
    if device.resonators:
        native = compile(
            native, device, level=0, initial_layout={q: q for q in native.qubits}
        ).circuit
    their_esp = estimated_success(native, device)
    assert math.isclose(result.report.estimated_success, estimated_success(result.circuit, device))
    return {
        "cz": result.report.cz_count,
        "cz_anchor": _cz(native),
        "esp": result.report.estimated_success,
        "esp_anchor": their_esp,
        "s": ours_s,
        "s_anchor": anchor_s,
    }


def _at_median(rows: list[dict[str, float]], key: Callable[[dict[str, float]], float]) -> int:
    order = sorted(range(len(rows)), key=lambda i: key(rows[i]))
    return order[(len(order) - 1) // 2]


def _family(family: str) -> list[Figure]:
    rows = [_row(family, s) for s in SEEDS]
    cz_ratio = [r["cz"] / r["cz_anchor"] for r in rows]
    err = [(-math.log(r["esp"]), -math.log(r["esp_anchor"])) for r in rows]
    med = _at_median(rows, lambda r: r["cz"] / r["cz_anchor"])
    worst = max(range(len(rows)), key=cz_ratio.__getitem__)
    emed = _at_median(rows, lambda r: math.log(r["esp"]) / math.log(r["esp_anchor"]))
    tmed = _at_median(rows, lambda r: r["s"] / r["s_anchor"])
    seeds = f"seeds {SEEDS[0]}-{SEEDS[-1]}"
    print(
        f"# {family}: CZ ours/qiskit "
        + " ".join(f"{r['cz']:.0f}/{r['cz_anchor']:.0f}" for r in rows)
        + "; success ours/qiskit "
        + " ".join(f"{r['esp']:.3g}/{r['esp_anchor']:.3g}" for r in rows),
        flush=True,
    )
    esp_ratio = statistics.median(r["esp"] / r["esp_anchor"] for r in rows)
    against = (
        f"qiskit.transpile(optimization_level=3, seed_transpiler=s) on the same "
        f"{FAMILIES[family][1]} calibration"
    )
    return [
        Figure(
            f"compile.{family}.cz_median",
            rows[med]["cz"],
            rows[med]["cz_anchor"],
            1.0,
            "CZ",
            f"(seed {SEEDS[med]}, the median ratio of {seeds}; level {DEFAULT_LEVEL} vs 3)",
            against,
        ),
        Figure(
            f"compile.{family}.cz_worst",
            rows[worst]["cz"],
            rows[worst]["cz_anchor"],
            1.1,
            "CZ",
            f"(seed {SEEDS[worst]}, the largest ratio of {seeds})",
            against,
        ),
        Figure(
            f"compile.{family}.errors_median",
            err[emed][0],
            err[emed][1],
            1.0,
            "-ln ESP",
            f"(seed {SEEDS[emed]}; median success ratio ours/qiskit {esp_ratio:.3g})",
            against,
        ),
        Figure(
            f"compile.{family}.time_median",
            rows[tmed]["s"],
            rows[tmed]["s_anchor"],
            1.0,
            "s",
            f"(seed {SEEDS[tmed]}, the median ratio; each the median of {_REPEATS}, interleaved)",
            against,
        ),
    ]


def bench_ghz20() -> list[Figure]:
    return _family("ghz20")


def bench_qft8() -> list[Figure]:
    return _family("qft8")


def bench_qaoa_ring12() -> list[Figure]:
    return _family("qaoa_ring12")


def bench_random12() -> list[Figure]:
    return _family("random12")


def bench_random16() -> list[Figure]:
    return _family("random16")


def bench_star6() -> list[Figure]:
    return _family("star6")


def bench_template_bind() -> Target:
    rng = random.Random(3)
    params = [Parameter(f"t{i}") for i in range(40)]
    names = [f"q{i}" for i in range(10)]
    ops = []
    for k in range(200):
        if k % 3 == 0:
            a, b = rng.sample(names, 2)
            ops.append(Gate("cx", (a, b)))
        else:
            gate = rng.choice(["rx", "ry", "rz"])
            ops.append(Gate(gate, (rng.choice(names),), (rng.choice(params) * 0.5 + 0.1,)))
    circuit = Circuit(tuple(names), tuple(ops))
    t0 = time.perf_counter()
    template = Template(compile(circuit, _backend("garnet").device))
    compile_s = time.perf_counter() - t0
    values = {p.name: rng.uniform(-math.pi, math.pi) for p in params}
    seconds = median_time(lambda: template.bind(values), repeat=51, warmup=5)
    return Target(
        "compile.template_bind_10q_200g",
        seconds,
        1e-3,
        "s",
        f"(template compiled once in {compile_s * 1e3:.1f} ms)",
    )


BENCHMARKS = [
    bench_ghz20,
    bench_qft8,
    bench_qaoa_ring12,
    bench_random12,
    bench_random16,
    bench_star6,
    bench_template_bind,
]
