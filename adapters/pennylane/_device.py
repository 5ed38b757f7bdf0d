"""The ``"iqm"`` PennyLane device: every batch of tapes is one job on an IQM server.

PennyLane preprocesses each tape (wires, mid-circuit measurements, qubit-wise-commuting
groups, diagonalisation, decomposition to the iqm-bridge gate set, broadcasting); the device
translates the tapes to iqm-bridge circuits with their trainable angles as symbols and hands
them to the core's door, which compiles each structure once, binds the values per tape and
submits the whole batch as one job. Results come back as bit arrays and become expectation
values, variances, probabilities, samples and counts through PennyLane's own measurement
processes; with ``mitigation=...`` the door attaches per-column readout errors and expectation
values, variances and probabilities come back readout-mitigated (see ``_results``).
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pennylane as qml
from pennylane.devices import Device, ExecutionConfig
from pennylane.devices.modifiers import single_tape_support
from pennylane.devices.preprocess import (
    decompose,
    validate_device_wires,
    validate_measurements,
)
from pennylane.exceptions import DeviceError
from pennylane.tape import QuantumScript, QuantumScriptBatch
from pennylane.transforms import (
    broadcast_expand,
    defer_measurements,
)
from pennylane.transforms.core import CompilePipeline

from iqm_bridge.adapters.pennylane._mcm import (
    check_observables,
    decomposer,
    native_mid_circuit_measurements,
    rotate_to_measurement_basis,
    split_non_commuting_if_needed,
    stopping_condition,
)
from iqm_bridge.adapters.pennylane._results import NotComputed, tape_results
from iqm_bridge.adapters.pennylane._translate import qubit_name, translate
from iqm_bridge.core import (
    DEFAULT_LEVEL,
    ConfigurationError,
    Connection,
    Executor,
    Mitigation,
    Program,
    QubitNotOnDeviceError,
    RunOptions,
)
from iqm_bridge.core.execute import check_settings

__all__ = ["IQMDevice"]

_TOML = str(pathlib.Path(__file__).with_name("iqm.toml"))


def require_shots(tape: QuantumScript) -> None:
    """Refuse analytic execution: a quantum computer only samples.

    Raises:
        DeviceError: the tape has no shots.
    """
    if not tape.shots:
        raise DeviceError(
            "the 'iqm' device runs on a quantum computer and estimates every result from "
            "samples; analytic mode (shots=None) is not supported. Set shots, e.g. "
            "@qml.qnode(dev, shots=1000) or qml.set_shots(circuit, shots=1000)"
        )


def _sample_measurement(mp: Any) -> bool:
    return isinstance(mp, qml.measurements.SampleMeasurement)


def _gradients_wanted(config: ExecutionConfig) -> bool:
    """Whether the caller's framework is recording for a backward pass right now."""
    interface = getattr(config.interface, "value", config.interface)
    if interface == "autograd":
        from autograd.tracer import trace_stack

        return bool(trace_stack.top >= 0)
    if interface == "torch":
        import torch

        return bool(torch.is_grad_enabled())
    return True


@single_tape_support
class IQMDevice(Device):
    """A PennyLane device that runs circuits on an IQM quantum computer (or its emulator).

    Every ``execute`` call submits all of its tapes as one job (split only by
    ``max_circuits``); tapes that share a structure are compiled once and bound per tape.
    Shots come from the tapes (``qml.set_shots``, ``@qml.qnode(..., shots=N)``); the device has
    no analytic mode.

    Args:
        wires: number of wires or their labels (ints or strings); ``None`` uses each tape's
            own wires.
        shots: default shots (PennyLane still accepts device-level shots, deprecated).
        url: the IQM server's root URL; ``None`` uses ``IQM_SERVER_URL`` or else the embedded
            emulator (``IQM_BRIDGE_EMULATOR_MACHINE``, ``IQM_BRIDGE_EMULATOR_NOISE``).
        quantum_computer: the quantum computer's alias when the server has several.
        token: an API token (or set ``IQM_TOKEN``).
        placement: logical wire -> physical qubit name (e.g. ``{0: "QB3", 1: "QB4"}``) for
            every wire; ``None`` lets the compiler choose.
        max_circuits: at most this many circuits per server job.
        optimization_level: the iqm-bridge compiler's level (0-3).
        seed: seed of the compiler's layout search.
        connection: an existing :class:`~iqm_bridge.core.submit.Connection` to reuse.
        mitigation: readout-error mitigation of ``qml.expval``, ``qml.var`` and ``qml.probs``
            (gradients included; samples, counts and mid-circuit measurements stay raw):
            ``None`` (off), ``"readout"``/``True`` (the readout errors the server serves,
            else two calibration circuits in each job), ``"calibration"`` (served only),
            ``"circuits"`` (calibration circuits only) or a
            :class:`~iqm_bridge.core.Mitigation`.
        **run_options: server options of :class:`~iqm_bridge.core.options.RunOptions`
            (``calibration_set_id``, ``heralding_mode``, ``dd_mode``, ``timeout``...).

    Raises:
        UnknownOptionError: an unknown run option.
        ConfigurationError: a bad option value, placement or mitigation setting.
    """

    config_filepath = _TOML

    def __init__(
        self,
        wires: Any = None,
        shots: Any = None,
        *,
        url: str | None = None,
        quantum_computer: str | None = None,
        token: str | None = None,
        placement: Mapping[Any, str] | None = None,
        max_circuits: int | None = None,
        optimization_level: int = DEFAULT_LEVEL,
        seed: int | None = None,
        connection: Connection | None = None,
        mitigation: Any = None,
        **run_options: Any,
    ) -> None:
        super().__init__(wires=wires, shots=shots)
        if "shots" in run_options:  # pragma: no cover - shots is a named argument
            run_options.pop("shots")
        self._run_options = RunOptions.from_kwargs(**run_options)
        self._level, self._seed, self._max_circuits = check_settings(
            optimization_level, seed, max_circuits
        )
        self._url = url
        self._quantum_computer = quantum_computer
        self._token = token
        self._connection = connection
        self._placement = self._check_placement(placement)
        self._mitigation = Mitigation.of(mitigation)

    # ------------------------------------------------------------------ configuration
    @property
    def name(self) -> str:
        """The device's short name, ``"iqm"``."""
        return "iqm"

    @property
    def connection(self) -> Connection:
        """The connection to the IQM server (opened on first use)."""
        if self._connection is None:
            self._connection = Connection(
                self._url, quantum_computer=self._quantum_computer, token=self._token
            )
        return self._connection

    @property
    def mitigation(self) -> Mitigation | None:
        """The readout-mitigation setting (``None``: raw results)."""
        return self._mitigation

    @property
    def run_options(self) -> RunOptions:
        """The server options every job uses (shots come from the tapes)."""
        return self._run_options

    def _check_placement(self, placement: Mapping[Any, str] | None) -> dict[Any, str] | None:
        if placement is None:
            return None
        placement = dict(placement)
        if self.wires is None:
            raise ConfigurationError("placement needs the device's wires; pass wires=... too")
        unknown = [w for w in placement if w not in self.wires]
        if unknown:
            raise ConfigurationError(
                f"placement names wire(s) {unknown} that the device does not have "
                f"(its wires: {self.wires.tolist()})"
            )
        missing = [w for w in self.wires if w not in placement]
        if missing:
            raise ConfigurationError(
                f"placement must put every wire on a physical qubit; missing wire(s) {missing}"
            )
        if len(set(placement.values())) != len(placement):
            raise ConfigurationError("placement puts two wires on the same physical qubit")
        return placement

    def _initial_layout(self, qubits: Sequence[str], wires: Any) -> dict[str, str] | None:
        if self._placement is None:
            return None
        device = self.connection.device
        layout = {}
        for i, w in enumerate(wires):
            phys = self._placement[w]
            if phys not in device.qubits:
                raise QubitNotOnDeviceError(
                    f"placement puts wire {w!r} on {phys!r}, which is not a qubit of "
                    f"{device.name} (its qubits: {', '.join(device.qubits)})"
                )
            layout[qubit_name(i)] = phys
        return {q: layout[q] for q in qubits}

    # ------------------------------------------------------------------ PennyLane hooks
    def setup_execution_config(
        self, config: ExecutionConfig | None = None, circuit: QuantumScript | None = None
    ) -> ExecutionConfig:
        """Resolve the mid-circuit measurement method and the device-gradient settings.

        Raises:
            ConfigurationError: ``postselect_mode="fill-shots"`` with mid-circuit measurements
                run on the device (as ``default.qubit``, only deferral could fill the shots).
        """
        config = super().setup_execution_config(config, circuit)
        mcm = config.mcm_config
        if mcm.postselect_mode == "fill-shots" and mcm.mcm_method != "deferred":
            raise ConfigurationError(
                "postselect_mode='fill-shots' cannot be honoured by the 'iqm' device: a quantum "
                "computer only keeps the shots that pass the postselection. Use "
                "postselect_mode='hw-like' (results from the shots kept) and more shots"
            )
        if config.gradient_method == "device":
            updates: dict[str, Any] = {"use_device_gradient": True}
            if config.grad_on_execution is None:
                updates["grad_on_execution"] = True
            config = replace(config, **updates)
        return config

    def preprocess_transforms(
        self, execution_config: ExecutionConfig | None = None
    ) -> CompilePipeline:
        """The transforms that turn any tape into tapes this device runs as they are."""
        config = execution_config or ExecutionConfig()
        program = CompilePipeline()
        program.add_transform(validate_device_wires, wires=self.wires, name=self.name)
        mcm_method = config.mcm_config.mcm_method
        if mcm_method == "deferred":
            program.add_transform(defer_measurements, allow_postselect=False)
        else:
            program.add_transform(native_mid_circuit_measurements)
        program.add_transform(check_observables)
        program.add_transform(split_non_commuting_if_needed)
        program.add_transform(rotate_to_measurement_basis)
        program.add_transform(
            decompose,
            stopping_condition=stopping_condition,
            target_gates=self.capabilities.gate_set() if self.capabilities else None,
            skip_initial_state_prep=False,
            decomposer=decomposer,
            device_wires=self.wires,
            name=self.name,
        )
        program.add_transform(
            validate_measurements, sample_measurements=_sample_measurement, name=self.name
        )
        program.add_transform(broadcast_expand)
        return program

    def execute(
        self,
        circuits: QuantumScriptBatch,
        execution_config: ExecutionConfig | None = None,
    ) -> tuple[Any, ...]:
        """Run all tapes as one job and return their results in order."""
        circuits = tuple(circuits)
        results = self._run(circuits, execution_config)
        if self.tracker.active:
            for tape, res in zip(circuits, results, strict=True):
                self.tracker.update(
                    executions=1,
                    shots=tape.shots.total_shots,
                    results=res,
                    resources=tape.specs["resources"],
                )
                self.tracker.record()
        return results

    def supports_derivatives(
        self,
        execution_config: ExecutionConfig | None = None,
        circuit: QuantumScript | None = None,
    ) -> bool:
        """Device derivatives (batched parameter-shift) only when asked for by name."""
        if execution_config is None:
            return False
        return (
            execution_config.gradient_method == "device" and execution_config.derivative_order == 1
        )

    def compute_derivatives(
        self,
        circuits: QuantumScriptBatch,
        execution_config: ExecutionConfig | None = None,
    ) -> tuple[Any, ...]:
        """Parameter-shift Jacobians of all tapes, with every shifted tape in one job."""
        circuits = tuple(circuits)
        jacs = self._derivatives(circuits, (), execution_config)[1]
        if self.tracker.active:
            self.tracker.update(derivative_batches=1, derivatives=len(circuits))
            self.tracker.record()
        return jacs

    def execute_and_compute_derivatives(
        self,
        circuits: QuantumScriptBatch,
        execution_config: ExecutionConfig | None = None,
    ) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """Results and Jacobians from one job holding the tapes and all their shifted tapes.

        When the caller's framework is not recording a backward pass (autograd outside
        ``qml.grad``, torch under ``no_grad``), only the tapes run and the Jacobians are left
        uncomputed.
        """
        circuits = tuple(circuits)
        config = execution_config or ExecutionConfig()
        if not _gradients_wanted(config):
            results = self.execute(circuits, config)
            return results, tuple(NotComputed() for _ in circuits)
        results, jacs = self._derivatives(circuits, circuits, config)
        if self.tracker.active:
            self.tracker.update(
                execute_and_derivative_batches=1,
                executions=len(circuits),
                derivatives=len(circuits),
            )
            self.tracker.record()
        return results, jacs

    # ------------------------------------------------------------------ the work
    def _derivatives(
        self,
        circuits: tuple[QuantumScript, ...],
        forward: tuple[QuantumScript, ...],
        config: ExecutionConfig | None,
    ) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        batches = []
        fns = []
        for tape in circuits:
            tapes, fn = qml.gradients.param_shift(tape)
            batches.append(tapes)
            fns.append(fn)
        everything = list(forward) + [t for b in batches for t in b]
        if not everything:
            return (), tuple(fn(()) for fn in fns)
        results = self._run(tuple(everything), config)
        pos = len(forward)
        jacs = []
        for tapes, fn in zip(batches, fns, strict=True):
            jacs.append(fn(results[pos : pos + len(tapes)]))
            pos += len(tapes)
        return tuple(results[: len(forward)]), tuple(jacs)

    def _run(
        self, circuits: tuple[QuantumScript, ...], config: ExecutionConfig | None = None
    ) -> tuple[Any, ...]:
        """Translate, compile (once per structure), bind, submit as one job, post-process."""
        if not circuits:
            return ()
        for tape in circuits:
            require_shots(tape)
        programs = []
        translations = []
        for i, tape in enumerate(circuits):
            wires = self.wires if self.wires is not None else tape.wires
            tr = translate(tape, wires, f"tape{i}")
            programs.append(
                Program(
                    tr.circuit,
                    tr.keymap,
                    bindings=[tr.values] if tr.values else (),
                    layout=self._initial_layout(tr.circuit.qubits, wires),
                    shots=tape.shots.total_shots,
                )
            )
            translations.append(tr)
        executor = Executor(
            self.connection,
            level=self._level,
            seed=self._seed,
            max_circuits=self._max_circuits,
            mitigation=self._mitigation,
        )
        batch = executor.submit(programs, self._run_options)
        if self.tracker.active:
            self.tracker.update(
                batches=1,
                jobs=len(batch.job_ids),
                circuits=len(programs),
                job_shots=batch.job.shots,
            )
            self.tracker.record()
        raw = [group[0] for group in batch.result()]
        postselect_mode = config.mcm_config.postselect_mode if config is not None else None
        mitigate = self._mitigation is not None
        return tuple(
            tape_results(tape, tr, res.bits, postselect_mode, res.readout, mitigate)
            for tape, tr, res in zip(circuits, translations, raw, strict=True)
        )
