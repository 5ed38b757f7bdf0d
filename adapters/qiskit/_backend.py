"""``IQMProvider`` and ``IQMBackend``: qiskit's ``BackendV2`` on the iqm-bridge core.

The backend only translates: each ``QuantumCircuit`` becomes an IR circuit whose qubit ``i``
is the device's component ``i`` (its qubits in server order, then its resonators), handed to
the core's door with placement ``AUTO``. The door keeps a circuit written in IQM natives on
its qubits (submitted as it is when valid, else routed there) and compiles any other one
with a layout of its choosing (see :mod:`iqm_bridge.core.execute`).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from qiskit import QuantumCircuit
from qiskit.providers import BackendV2, Options
from qiskit.transpiler import Target

from iqm_bridge.adapters.qiskit._convert import to_ir
from iqm_bridge.adapters.qiskit._job import IQMJob
from iqm_bridge.adapters.qiskit._target import IQMTarget, build_target
from iqm_bridge.adapters.qiskit._transpile import PLUGIN_NAME
from iqm_bridge.core import (
    AUTO,
    DEFAULT_LEVEL,
    CircuitValidationError,
    ConfigurationError,
    Connection,
    Device,
    Executor,
    Program,
    QubitNotOnDeviceError,
    RunOptions,
    UnknownOptionError,
    to_iqm_circuit,
)
from iqm_bridge.core.execute import check_settings

__all__ = ["IQMBackend", "IQMProvider"]

logger = logging.getLogger(__name__)

_RUN_OPTION_NAMES = RunOptions.names()
_BACKEND_ONLY = {
    "memory": False,
    "optimization_level": DEFAULT_LEVEL,
    "seed": None,
    "seed_simulator": None,
    "circuit_compilation_options": None,
    "circuit_callback": None,
    "qubit_index_to_name": None,
    "mitigation": None,
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("iqm-bridge")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


class IQMBackend(BackendV2):  # type: ignore[misc]
    """A qiskit backend for one IQM quantum computer (or the iqm-bridge emulator).

    Args:
        client: an ``iqm.iqm_client.IQMClient`` (as for the official ``IQMBackend``) or an
            iqm-bridge :class:`~iqm_bridge.core.Connection`.
        calibration_set_id: run every job on this calibration set (a UUID or its string);
            by default, the set the backend's target was built from.
        use_metrics: accepted for compatibility; the target always carries the calibration's
            error rates and coherence times when the server serves them.
        **kwargs: ``name``, ``description``, ``online_date``, ``backend_version`` for
            ``BackendV2``; any other keyword sets a default run option (see
            :meth:`_default_options`).

    Raises:
        AttributeError: a keyword that is neither a ``BackendV2`` argument nor a run option.
    """

    def __init__(
        self,
        client: Any,
        *,
        calibration_set_id: Any = None,
        use_metrics: bool = False,
        **kwargs: Any,
    ) -> None:
        del use_metrics
        conn = client if isinstance(client, Connection) else Connection(client=client)
        device = conn.device
        kwargs.setdefault("name", device.name)
        kwargs.setdefault("description", f"IQM quantum computer {device.name} via iqm-bridge")
        kwargs.setdefault("backend_version", _version())
        if calibration_set_id is not None:
            kwargs["calibration_set_id"] = calibration_set_id
        super().__init__(**kwargs)
        self._conn = conn
        self._device = device
        self._names = device.qubits + device.resonators
        self._index = {name: i for i, name in enumerate(self._names)}
        self._target = build_target(device)
        self._target_res: IQMTarget | None = None
        self._architecture: Any = None
        self._max_circuits: int | None = None

    # ------------------------------------------------------------------ BackendV2 API
    @classmethod
    def _default_options(cls) -> Options:
        """The run options and their defaults.

        Server options (see :class:`~iqm_bridge.core.RunOptions`): ``shots`` (1024),
        ``calibration_set_id``, ``qubit_mapping``, ``heralding_mode``, ``move_gate_validation``,
        ``move_gate_frame_tracking``, ``dd_mode``, ``dd_strategy``, ``active_reset_cycles``,
        ``max_circuit_duration_over_t2``, ``use_timeslot``, ``timeout`` (seconds for
        ``result()``). The official names work too: ``circuit_compilation_options``
        (iqm-client's ``CircuitCompilationOptions``), ``circuit_callback`` (called with the
        circuits before they are sent) and ``qubit_index_to_name``. Client side:
        ``optimization_level`` (0-3) and ``seed`` of the iqm-bridge compiler for circuits not
        written in natives, ``memory`` (accepted; memory is always available) and
        ``seed_simulator`` (accepted for qiskit's primitives; the server decides its own
        randomness).
        """
        defaults = RunOptions()
        fields = {name: getattr(defaults, name) for name in _RUN_OPTION_NAMES}
        return Options(**fields, **_BACKEND_ONLY)

    @property
    def target(self) -> Target:
        """The transpilation target (star machines: fictional qubit-qubit CZs, no resonator)."""
        return self._target

    @property
    def target_with_resonators(self) -> Target:
        """The real target of a resonator machine (see :meth:`get_real_target`).

        Raises:
            QubitNotOnDeviceError: the device has no computational resonator (a
                ``ValueError``).
        """
        if not self._device.resonators:
            raise QubitNotOnDeviceError(f"{self._device.name} has no computational resonator")
        return self.get_real_target()

    def get_real_target(self) -> Target:
        """The device as it is: resonators as qubits after the qubits, CZ only on calibrated
        loci, and MOVE (on a lattice the same as :attr:`target`)."""
        if self._target_res is None:
            self._target_res = build_target(self._device, with_resonators=True)
        return self._target_res

    def has_resonators(self) -> bool:
        """Whether the quantum computer has computational resonators (a star machine)."""
        return bool(self._device.resonators)

    @property
    def architecture(self) -> Any:
        """The calibration's iqm-client ``DynamicQuantumArchitecture`` the target was built
        from (``.qubits``, ``.computational_resonators``, ``.gates``,
        ``.calibration_set_id``)."""
        if self._architecture is None:
            from iqm.station_control.interface.models import DynamicQuantumArchitecture

            arch = self._device.to_architecture_dict()
            self._architecture = DynamicQuantumArchitecture.model_validate(arch)
        return self._architecture

    def get_scheduling_stage_plugin(self) -> str:
        """The qiskit scheduling stage ``qiskit.transpile`` uses for this backend: it merges
        single-qubit runs and, on star machines, inserts MOVEs (see
        :mod:`iqm_bridge.adapters.qiskit._transpile`)."""
        return PLUGIN_NAME

    @property
    def max_circuits(self) -> int | None:
        """Most circuits per server job (``None``: no limit); ``run`` splits longer lists."""
        return self._max_circuits

    @max_circuits.setter
    def max_circuits(self, value: int | None) -> None:
        self._max_circuits = check_settings(max_circuits=value)[2]

    @property
    def client(self) -> Any:
        """The ``iqm.iqm_client.IQMClient`` jobs go through."""
        return self._conn.client

    @property
    def device(self) -> Device:
        """The core :class:`~iqm_bridge.core.Device` the target was built from."""
        return self._device

    @property
    def connection(self) -> Connection:
        """The core connection jobs go through."""
        return self._conn

    @property
    def physical_qubits(self) -> list[str]:
        """Component names by index: the qubits, then the computational resonators."""
        return list(self._names)

    def qubit_name_to_index(self, name: str) -> int:
        """The qiskit index of a device qubit (or resonator) name.

        Raises:
            QubitNotOnDeviceError: no such component (a ``ValueError``).
        """
        try:
            return self._index[name]
        except KeyError:
            raise QubitNotOnDeviceError(
                f"qubit {name!r} is not on {self.name}; its qubits are {', '.join(self._names)}"
            ) from None

    def index_to_qubit_name(self, index: int) -> str:
        """The device name of qiskit qubit ``index``.

        Raises:
            QubitNotOnDeviceError: the index is out of range (a ``ValueError``).
        """
        if not 0 <= index < len(self._names):
            raise QubitNotOnDeviceError(
                f"qubit index {index} is not on {self.name}, which has indices 0 to "
                f"{len(self._names) - 1}"
            )
        return self._names[index]

    def __deepcopy__(self, memo: dict[int, Any]) -> IQMBackend:
        # the connection (server client, journal) is shared: a copy runs on the same server
        clone = copy.copy(self)
        memo[id(self)] = clone
        clone._options = copy.deepcopy(self._options, memo)
        clone._target = copy.deepcopy(self._target, memo)
        return clone

    # ------------------------------------------------------------------ running
    def _options_for(self, options: Mapping[str, Any]) -> dict[str, Any]:
        valid = list(self.options)
        unknown = sorted(set(options) - set(valid))
        if unknown:
            raise UnknownOptionError(
                f"unknown run option(s) {unknown}; valid options are: {', '.join(valid)}"
            )
        merged = dict(self.options.items())
        merged.update(options)
        return merged

    def _qubit_names(self, mapping: Mapping[int, str] | None) -> Sequence[str]:
        if mapping is None:
            return self._names
        return [mapping.get(i, name) for i, name in enumerate(self._names)]

    def _program(self, circuit: Any, names: Sequence[str], native_only: bool = False) -> Program:
        if not isinstance(circuit, QuantumCircuit):
            raise CircuitValidationError(
                f"backend.run takes QuantumCircuits, got {type(circuit).__name__}"
            )
        ir, layout = to_ir(circuit, names, native_only=native_only)
        return Program(ir, layout.keymap, placement=AUTO, info={"clbits": layout.columns})

    def _prepare(
        self, run_input: QuantumCircuit | Sequence[QuantumCircuit], options: Mapping[str, Any]
    ) -> tuple[Executor, list[Program], RunOptions]:
        merged = self._options_for(options)
        circuits = [run_input] if isinstance(run_input, QuantumCircuit) else list(run_input)
        callback: Callable[[list[QuantumCircuit]], Any] | None = merged["circuit_callback"]
        if callback is not None:
            callback(circuits)
        names = self._qubit_names(merged["qubit_index_to_name"])
        programs = [self._program(c, names) for c in circuits]
        # precedence: this call's flat options, its circuit_compilation_options, then the
        # backend's (only those set away from their defaults, so they cannot mask the call's)
        defaults = RunOptions()
        mine = self.options
        base = RunOptions.from_kwargs(
            circuit_compilation_options=mine["circuit_compilation_options"],
            **{k: mine[k] for k in _RUN_OPTION_NAMES if mine[k] != getattr(defaults, k)},
        )
        run_opts = RunOptions.from_kwargs(
            base,
            circuit_compilation_options=options.get("circuit_compilation_options"),
            **{k: v for k, v in options.items() if k in _RUN_OPTION_NAMES},
        )
        if run_opts.calibration_set_id is None:  # the set the target describes
            run_opts = RunOptions.from_kwargs(
                run_opts, calibration_set_id=self._device.calibration_set_id
            )
        executor = Executor(
            self._conn,
            level=merged["optimization_level"],
            seed=merged["seed"],
            max_circuits=self._max_circuits,
            mitigation=merged["mitigation"],
        )
        return executor, programs, run_opts

    def run(self, run_input: QuantumCircuit | Sequence[QuantumCircuit], **options: Any) -> IQMJob:
        """Run circuits; a list goes out as one job (split only by ``max_circuits``).

        Circuits transpiled for this backend run on the qubits they name; others are compiled
        by iqm-bridge (see the module docstring).

        Args:
            run_input: a circuit or a list of circuits.
            **options: run options overriding the backend's (see :meth:`_default_options`).

        Returns:
            The job.

        Raises:
            UnknownOptionError: an option name that is not a run option (a ``TypeError``).
            UnsupportedOperationError: an instruction with no IQM equivalent.
            CircuitValidationError: a circuit that cannot run (too many qubits, ...).
        """
        executor, programs, run_opts = self._prepare(run_input, options)
        return IQMJob(self, executor.submit(programs, run_opts))

    def create_circuit_job_definition(
        self,
        run_input: QuantumCircuit | Sequence[QuantumCircuit],
        shots: int | None = None,
        circuit_compilation_options: Any = None,
        circuit_callback: Callable[[list[QuantumCircuit]], Any] | None = None,
        qubit_index_to_name: Mapping[int, str] | None = None,
        **options: Any,
    ) -> Any:
        """The job :meth:`run` would submit, as iqm-client's ``CircuitJobDefinition``, without
        submitting it (``backend.client.submit_circuit_job(definition)`` sends it).

        Args:
            run_input: a circuit or a list of circuits.
            shots: shots per circuit (default: the backend's ``shots`` option, 1024).
            circuit_compilation_options: iqm-client's ``CircuitCompilationOptions``.
            circuit_callback: called with the circuits first.
            qubit_index_to_name: the device qubit of each circuit qubit index.
            **options: any other run option (see :meth:`_default_options`).

        Raises:
            UnknownOptionError: an option name that is not a run option (a ``TypeError``).
        """
        given = {
            "shots": shots,
            "circuit_compilation_options": circuit_compilation_options,
            "circuit_callback": circuit_callback,
            "qubit_index_to_name": qubit_index_to_name,
        }
        options.update({k: v for k, v in given.items() if v is not None})
        executor, programs, run_opts = self._prepare(run_input, options)
        return executor.job_definition(programs, run_opts)

    def retrieve_job(self, job_id: str) -> IQMJob:
        """The job with this id (as ``job.job_id()`` gave it), e.g. in a new process.

        Raises:
            JobNotFoundError: not a job id, or the server does not know it.
        """
        return IQMJob(self, Executor(self._conn).retrieve(job_id))

    def close_client(self) -> None:
        """Close the connection's session with the server (a later call reconnects)."""
        self._conn.close()

    def serialize_circuit(
        self, circuit: QuantumCircuit, qubit_index_to_name: Mapping[int, str] | None = None
    ) -> Any:
        """The circuit in the IQM data transfer format (iqm-client's ``Circuit`` model).

        Only native instructions are serialised: r, cz, move, measure, reset, delay, barrier,
        id, if_else (as cc_prx), plus x, rx, y and ry (special cases of r). Each measurement
        gets its own key. No compilation happens: transpile the circuit for this backend first.

        Raises:
            UnsupportedOperationError: an instruction that is not serialisable (a
                ``ValueError``), named in the message.
        """
        program = self._program(circuit, self._qubit_names(qubit_index_to_name), native_only=True)
        return to_iqm_circuit(program.circuit, carry_qubits=False)

    def __repr__(self) -> str:
        return f"<IQMBackend {self.name!r} at {self._conn.url}>"


class IQMProvider:
    """Gives backends of an IQM server; with no URL, of the embedded emulator.

    Args:
        url: the server's root URL; ``None`` uses ``IQM_SERVER_URL`` if set, else starts the
            embedded emulator.
        quantum_computer: the quantum computer's alias on a server with several.
        token: an API token (or set ``IQM_TOKEN``).
        **kwargs: more :class:`~iqm_bridge.core.Connection` settings (``tokens_file``,
            ``retry``, ``poll_interval``, ...).
    """

    def __init__(
        self,
        url: str | None = None,
        quantum_computer: str | None = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.url = url
        self.quantum_computer = quantum_computer
        self._token = token
        self._kwargs = kwargs

    def __repr__(self) -> str:
        return f"IQMProvider(url={self.url!r}, quantum_computer={self.quantum_computer!r})"

    def get_backend(
        self, name: str | None = None, calibration_set_id: Any = None, **options: Any
    ) -> IQMBackend:
        """A backend for the provider's quantum computer.

        Args:
            name: the quantum computer to use (its alias); ``None`` for the provider's.
            calibration_set_id: run every job on this calibration set (see
                :class:`IQMBackend`).
            **options: default run options for the backend (and ``use_metrics``).

        Raises:
            ConfigurationError: ``name`` contradicts the provider's ``quantum_computer``, or
                the server cannot be reached.
        """
        qc = self.quantum_computer
        if name is not None and qc is not None and name != qc:
            raise ConfigurationError(
                f"get_backend({name!r}) on a provider for quantum computer {qc!r}; make a "
                f"provider with quantum_computer={name!r}"
            )
        conn = Connection(self.url, qc or name, self._token, **self._kwargs)
        if name is not None and conn.device.name != name:
            raise ConfigurationError(
                f"the server at {conn.url} serves quantum computer {conn.device.name!r}, not "
                f"{name!r}"
            )
        return IQMBackend(conn, calibration_set_id=calibration_set_id, **options)
