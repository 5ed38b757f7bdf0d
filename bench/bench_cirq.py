"""Cirq adapter figures: a 50-point sweep as one job, beside ``iqm.cirq_iqm`` on one emulator.

Both samplers talk HTTP to the SAME noiseless garnet emulator in the same run. The anchor gets
the circuit routed and decomposed by its own ``IQMDevice.route_circuit``/``decompose_circuit``
(once, outside the timing) and then resolves, checks and serialises every sweep point in
``run_sweep``; ours translates once, compiles one template (cached by structure) and binds it
per point.
"""

from __future__ import annotations

from typing import Any

from _common import Figure, median_time

SHOTS = 100
REPEAT = 5


def _circuit() -> tuple[Any, Any]:
    """A 2-parameter circuit on 4 qubits and a 10 x 5 Linspace sweep (50 points)."""
    import cirq
    import sympy

    a, b = sympy.Symbol("a"), sympy.Symbol("b")
    q = cirq.LineQubit.range(4)
    circuit = cirq.Circuit(
        cirq.H.on_each(*q),
        cirq.rx(a).on(q[0]),
        cirq.ry(b).on(q[1]),
        cirq.CNOT(q[0], q[1]),
        cirq.CNOT(q[1], q[2]),
        cirq.CZ(q[2], q[3]),
        cirq.rz(2 * a + 0.5).on(q[2]),
        cirq.rx(b).on(q[3]),
        cirq.CNOT(q[3], q[0]),
        cirq.ry(a).on(q[1]),
        cirq.measure(*q, key="m"),
    )
    sweep = cirq.Linspace("a", 0, 3.0, 10) * cirq.Linspace("b", 0, 3.0, 5)
    return circuit, sweep


def _circuit_8q(layers: int = 4) -> tuple[Any, Any]:
    """A 2-parameter, 8-qubit layered ansatz (RY/RZ layers, CNOT ladders) and the same sweep."""
    import cirq
    import sympy

    a, b = sympy.Symbol("a"), sympy.Symbol("b")
    q = cirq.LineQubit.range(8)
    ops: list[Any] = []
    for layer in range(layers):
        for i, qubit in enumerate(q):
            ops.append(cirq.ry(a * (i + 1) / 8 + 0.1 * layer).on(qubit))
            ops.append(cirq.rz(b - 0.2 * i).on(qubit))
        ops += [cirq.CNOT(q[i], q[i + 1]) for i in range(7)]
    circuit = cirq.Circuit(*ops, cirq.measure(*q, key="m"))
    sweep = cirq.Linspace("a", 0, 3.0, 10) * cirq.Linspace("b", 0, 3.0, 5)
    return circuit, sweep


def _median(fn: Any, repeat: int = REPEAT) -> float:
    return median_time(fn, repeat=repeat)


def sweep_50_points() -> list[Figure]:
    """Wall time and jobs of a 50-point sweep: ours vs ``iqm.cirq_iqm.IQMSampler``."""
    from iqm.cirq_iqm.iqm_sampler import IQMSampler as AnchorSampler

    from iqm_bridge.adapters.cirq import IQMSampler
    from iqm_bridge.core.submit import Connection
    from iqm_bridge.core.compiler.templates import clear_template_cache
    from iqm_bridge.emulator import Emulator

    circuit, sweep = _circuit()
    emu = Emulator(machine="garnet", noise=False, seed=1)
    url = emu.start()
    try:
        ours = IQMSampler(url)
        # the core journals every job id to a local SQLite file (crash safety); the anchor
        # keeps no journal, so also time ours without it
        ours_nojournal = IQMSampler(connection=Connection(url, journal=None))
        anchor = AnchorSampler(url)
        routed, _, _ = anchor.device.route_circuit(circuit)
        anchor_circuit = anchor.device.decompose_circuit(routed)

        def run_ours_nojournal() -> Any:
            return ours_nojournal.run_sweep(circuit, sweep, repetitions=SHOTS)

        def run_ours() -> Any:
            return ours.run_sweep(circuit, sweep, repetitions=SHOTS)

        def run_ours_cold() -> Any:
            clear_template_cache()
            return ours.run_sweep(circuit, sweep, repetitions=SHOTS)

        def run_anchor() -> Any:
            return anchor.run_sweep(anchor_circuit, sweep, repetitions=SHOTS)

        def run_anchor_cold() -> Any:
            # what a cirq-iqm user does with a new circuit: route, decompose, then sweep
            routed, _, _ = anchor.device.route_circuit(circuit)
            return anchor.run_sweep(
                anchor.device.decompose_circuit(routed), sweep, repetitions=SHOTS
            )

        t_anchor = _median(run_anchor)
        t_ours = _median(run_ours)
        t_ours_cold = _median(run_ours_cold)
        t_ours_nojournal = _median(run_ours_nojournal)
        t_anchor_cold = _median(run_anchor_cold)

        before = emu.job_count()
        results = run_ours()
        jobs_ours = emu.job_count() - before
        before = emu.job_count()
        anchor_results = run_anchor()
        jobs_anchor = emu.job_count() - before
        if not len(results) == len(anchor_results) == 50:
            raise RuntimeError("a sampler did not return 50 results")
    finally:
        emu.stop()
    return [
        Figure("cirq_sweep50_wall", t_ours, t_anchor, goal=0.2),
        Figure(
            "cirq_sweep50_wall_cold_compile",
            t_ours_cold,
            t_anchor,
            goal=0.2,
            note="template cache cleared before every run",
        ),
        Figure(
            "cirq_sweep50_new_circuit",
            t_ours_cold,
            t_anchor_cold,
            goal=0.2,
            note="a circuit not seen before: ours compiles, the anchor routes and decomposes",
        ),
        Figure(
            "cirq_sweep50_wall_no_journal",
            t_ours_nojournal,
            t_anchor,
            goal=0.2,
            note="core job journal off (Connection(journal=None))",
        ),
        Figure("cirq_sweep50_jobs", jobs_ours, max(jobs_anchor, 1), goal=1.0, unit="jobs"),
    ]


def sweep_50_points_client_prep() -> Figure:
    """Client-side work of the same sweep, no network: wire-ready circuits for 50 points.

    Ours: translate, fetch the cached template, bind 50 times, serialise to iqm-client models.
    Anchor: what its ``run_sweep`` does per point before sending, resolve the parameters and
    ``serialize_circuit``.
    """
    import warnings

    from iqm.cirq_iqm.iqm_sampler import IQMSampler as AnchorSampler
    from iqm.cirq_iqm.serialize import serialize_circuit

    from iqm_bridge.adapters.cirq import IQMSampler
    from iqm_bridge.core.submit.serialize import to_iqm_circuit
    from iqm_bridge.emulator import Emulator

    circuit, sweep = _circuit()
    with Emulator(machine="garnet", noise=False, seed=1) as url:
        ours = IQMSampler(url)
        anchor = AnchorSampler(url)
        routed, _, _ = anchor.device.route_circuit(circuit)
        anchor_circuit = anchor.device.decompose_circuit(routed)
        ours.connection.device  # noqa: B018 - fetch the architecture outside the timing

        def prep_ours() -> Any:
            return [to_iqm_circuit(c) for _, c in ours._expand(0, circuit, sweep)]

        def prep_anchor() -> Any:
            circuits, _ = anchor._resolve_parameters(anchor_circuit, sweep)
            return [serialize_circuit(c) for c in circuits]

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_ours = _median(prep_ours, repeat=21)
            t_anchor = _median(prep_anchor, repeat=21)
    return Figure("cirq_sweep50_client_prep", t_ours, t_anchor, goal=0.2)


def sweep_50_points_8q() -> Figure:
    """The same 50-point sweep of a larger circuit (8 qubits, 4 layers, 28 CNOTs): wall time."""
    from iqm.cirq_iqm.iqm_sampler import IQMSampler as AnchorSampler

    from iqm_bridge.adapters.cirq import IQMSampler
    from iqm_bridge.emulator import Emulator

    circuit, sweep = _circuit_8q()
    with Emulator(machine="garnet", noise=False, seed=1) as url:
        ours = IQMSampler(url)
        anchor = AnchorSampler(url)
        routed, _, _ = anchor.device.route_circuit(circuit)
        anchor_circuit = anchor.device.decompose_circuit(routed)
        t_ours = _median(lambda: ours.run_sweep(circuit, sweep, repetitions=SHOTS))
        t_anchor = _median(lambda: anchor.run_sweep(anchor_circuit, sweep, repetitions=SHOTS))
    return Figure("cirq_sweep50_8q_wall", t_ours, t_anchor, goal=0.2)


BENCHMARKS = [sweep_50_points, sweep_50_points_client_prep, sweep_50_points_8q]
