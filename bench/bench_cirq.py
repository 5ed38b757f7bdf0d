"""Cirq adapter figures: 50-point sweeps as one job, beside ``iqm.cirq_iqm`` on one emulator.

Both samplers talk HTTP to the SAME noiseless garnet emulator in the same run, taken in turns
(see ``_common.interleaved_medians``), once with the emulator holding each submission open
until the job is done (its default: the answer already says ``completed``) and once queueing
(the answer says ``waiting`` and both clients poll, as on a real server; figure names end in
``_queued``).

Inside every wall-time timer: one ``run_sweep(circuit, sweep, repetitions=100)`` call, from the
cirq circuit to the list of cirq results: ours translates, binds its cached template per point
(or compiles it first, in the ``cold`` figures), serialises, submits, waits and rebuilds the
results; the anchor resolves, checks and serialises every point, submits with iqm-client,
waits (its default 1 s polling) and converts the results. Outside: starting the emulator,
building the samplers (the architecture fetch), and the anchor's
``route_circuit``/``decompose_circuit`` of the circuit, except in ``*_new_circuit``, where
ours' compilation and the anchor's routing and decomposition are both inside.

``cirq_sweep50_above_floor``: each side's wall time minus the floor under it, measured in the
same interleaved run: its own job body (ours' door circuits; the anchor's decomposed ones)
posted, polled every 2 ms and read back with a bare ``requests.Session`` and ``json.loads``,
no client library. What is left is what each client itself adds.

``cirq_sweep50_client_prep`` has no network at all: ours' whole ``submit_batch`` path up to a
wire-ready ``CircuitJobDefinition`` (the connection's send replaced by building that
definition), against the anchor's ``create_circuit_job_definition`` (its own pre-send path).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from _common import Figure, bare_http_job, interleaved_medians

SHOTS = 100
REPEAT = 7


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


ANCHOR = "iqm.cirq_iqm IQMSampler.run_sweep (circuit routed and decomposed before the timer)"


def _sweep_figures(mode: str) -> list[Figure]:
    """Wall time and jobs of a 50-point sweep: ours vs ``iqm.cirq_iqm.IQMSampler``."""
    import warnings

    from iqm.cirq_iqm.iqm_sampler import IQMSampler as AnchorSampler

    from iqm_bridge.adapters.cirq import IQMSampler
    from iqm_bridge.core.compiler.templates import clear_template_cache
    from iqm_bridge.core.submit import Connection
    from iqm_bridge.emulator import Emulator

    circuit, sweep = _circuit()
    suffix = "" if mode == "hold" else "_queued"
    emu = Emulator(machine="garnet", noise=False, seed=1, queued=mode == "queued")
    url = emu.start()
    try:
        ours = IQMSampler(url)
        # the core journals every job id to a local SQLite file (crash safety); the anchor
        # keeps no journal, so ours is also timed without it
        ours_nojournal = IQMSampler(connection=Connection(url, journal=None))
        anchor = AnchorSampler(url)
        routed, _, _ = anchor.device.route_circuit(circuit)
        anchor_circuit = anchor.device.decompose_circuit(routed)

        def run_ours() -> Any:
            return ours.run_sweep(circuit, sweep, repetitions=SHOTS)

        def run_ours_nojournal() -> Any:
            return ours_nojournal.run_sweep(circuit, sweep, repetitions=SHOTS)

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

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the anchor warns about its calibration set id
            # the floor under each side: its own job body, posted and read back with bare HTTP
            floor_ours = bare_http_job(url, _ours_body(url, circuit, sweep))
            anchor_body = anchor.create_circuit_job_definition(
                anchor_circuit, params=sweep, repetitions=SHOTS
            ).model_dump_json()
            times = interleaved_medians(
                [
                    run_ours,
                    run_anchor,
                    run_ours_cold,
                    run_ours_nojournal,
                    run_anchor_cold,
                    floor_ours,
                    bare_http_job(url, anchor_body),
                ],
                repeat=REPEAT,
            )
            t_ours, t_anchor, t_ours_cold, t_ours_nojournal, t_anchor_cold = times[:5]
            t_floor_ours, t_floor_anchor = times[5:]
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
    against = f"{ANCHOR}, same emulator ({mode})"
    return [
        Figure(f"cirq_sweep50_wall{suffix}", t_ours, t_anchor, goal=0.2, against=against),
        Figure(
            f"cirq_sweep50_wall_cold_compile{suffix}",
            t_ours_cold,
            t_anchor,
            goal=0.2,
            note="ours' template cache cleared before every run",
            against=against,
        ),
        Figure(
            f"cirq_sweep50_new_circuit{suffix}",
            t_ours_cold,
            t_anchor_cold,
            goal=0.2,
            note="a circuit not seen before: ours compiles, the anchor routes and decomposes",
            against=f"the anchor's route_circuit + decompose_circuit + run_sweep ({mode})",
        ),
        Figure(
            f"cirq_sweep50_wall_no_journal{suffix}",
            t_ours_nojournal,
            t_anchor,
            goal=0.2,
            note="core job journal off (Connection(journal=None))",
            against=against,
        ),
        Figure(
            f"cirq_sweep50_above_floor{suffix}",
            t_ours - t_floor_ours,
            t_anchor - t_floor_anchor,
            goal=0.2,
            note=(
                "what each client adds to its own job over bare HTTP (floors: "
                f"{t_floor_ours * 1e3:.1f} ms ours' body, {t_floor_anchor * 1e3:.1f} ms the "
                "anchor's)"
            ),
            against=f"the anchor's run_sweep minus its own floor ({mode})",
        ),
        Figure(
            f"cirq_sweep50_jobs{suffix}",
            jobs_ours,
            jobs_anchor,
            goal=1.0,
            unit="jobs",
            note="server jobs per sweep, counted on the emulator",
            against=against,
        ),
    ]


def _unsent(url: str) -> Any:
    """A core connection whose send builds the job definition and stops there."""
    from iqm_bridge.core.submit import Connection

    class Unsent(Connection):
        def submit(self, circuits: Any, options: Any = None, **kwargs: Any) -> Any:
            return self.job_definition(circuits, options)

    return Unsent(url, journal=None)


def _ours_body(url: str, circuit: Any, sweep: Any) -> str:
    """The JSON ours posts for the sweep: its door's circuits as one job definition."""
    from iqm_bridge.adapters.cirq import IQMSampler

    probe = IQMSampler(connection=_unsent(url))
    return str(probe.submit_sweep(circuit, sweep, repetitions=SHOTS).batch.job.model_dump_json())


def sweep_50_points() -> list[Figure]:
    """The 4-qubit 50-point sweep, the emulator holding each submission until it is done."""
    return _sweep_figures("hold")


def sweep_50_points_queued() -> list[Figure]:
    """The same, the emulator queueing each job (both clients poll)."""
    return _sweep_figures("queued")


def sweep_50_points_client_prep() -> Figure:
    """Client-side work of the same sweep, no network: a wire-ready job definition."""
    import warnings

    from iqm.cirq_iqm.iqm_sampler import IQMSampler as AnchorSampler

    from iqm_bridge.adapters.cirq import IQMSampler
    from iqm_bridge.emulator import Emulator

    circuit, sweep = _circuit()
    with Emulator(machine="garnet", noise=False, seed=1) as url:
        ours = IQMSampler(connection=_unsent(url))
        anchor = AnchorSampler(url)
        routed, _, _ = anchor.device.route_circuit(circuit)
        anchor_circuit = anchor.device.decompose_circuit(routed)
        ours.connection.device  # noqa: B018 - fetch the architecture outside the timing
        definition = ours.submit_sweep(circuit, sweep, repetitions=SHOTS).batch.job
        if len(definition.circuits) != 50:
            raise RuntimeError("ours did not prepare 50 circuits")

        def prep_ours() -> Any:
            return ours.submit_sweep(circuit, sweep, repetitions=SHOTS)

        def prep_anchor() -> Any:
            return anchor.create_circuit_job_definition(
                anchor_circuit, params=sweep, repetitions=SHOTS
            )

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_ours, t_anchor = interleaved_medians([prep_ours, prep_anchor], repeat=21)
    return Figure(
        "cirq_sweep50_client_prep",
        t_ours,
        t_anchor,
        goal=0.2,
        against="iqm.cirq_iqm IQMSampler.create_circuit_job_definition of the same sweep",
    )


def _pair_8q(url: str) -> list[Callable[[], object]]:
    """Ours' and the anchor's ``run_sweep`` of the 8-qubit sweep on the emulator at ``url``."""
    from iqm.cirq_iqm.iqm_sampler import IQMSampler as AnchorSampler

    from iqm_bridge.adapters.cirq import IQMSampler

    circuit, sweep = _circuit_8q()
    ours = IQMSampler(url)
    anchor = AnchorSampler(url)
    routed, _, _ = anchor.device.route_circuit(circuit)
    anchor_circuit = anchor.device.decompose_circuit(routed)

    def run_ours() -> object:
        return ours.run_sweep(circuit, sweep, repetitions=SHOTS)

    def run_anchor() -> object:
        return anchor.run_sweep(anchor_circuit, sweep, repetitions=SHOTS)

    return [run_ours, run_anchor]


def sweep_50_points_8q() -> list[Figure]:
    """The same 50-point sweep of a larger circuit (8 qubits, 4 layers, 28 CNOTs), both modes."""
    import warnings

    from iqm_bridge.emulator import Emulator

    figures = []
    for mode in ("hold", "queued"):
        with (
            Emulator(machine="garnet", noise=False, seed=1, queued=mode == "queued") as url,
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            t_ours, t_anchor = interleaved_medians(_pair_8q(url), repeat=REPEAT)
        suffix = "" if mode == "hold" else "_queued"
        figures.append(
            Figure(
                f"cirq_sweep50_8q_wall{suffix}",
                t_ours,
                t_anchor,
                goal=0.2,
                against=f"{ANCHOR}, same emulator ({mode})",
            )
        )
    return figures


BENCHMARKS = [
    sweep_50_points,
    sweep_50_points_queued,
    sweep_50_points_client_prep,
    sweep_50_points_8q,
]
