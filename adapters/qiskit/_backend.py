"""``IQMProvider`` and ``IQMBackend``: qiskit's ``BackendV2`` on the iqm-bridge core.

How ``IQMBackend.run`` treats a circuit (qubit ``i`` of the circuit is the device's component
``i``: its qubits in server order, then its resonators):

1. A circuit that is native and valid on the device as it stands (what ``qiskit.transpile``
   gives for a lattice machine like garnet) is submitted exactly as it is.
2. A circuit made only of target instructions (r/x/y/rx/ry, cz, move, measure, reset, delay,
   barrier, if_else) but not valid as it stands -- a star machine's transpiled circuit with
   fictional qubit-qubit CZs, or a hand-written one on uncoupled qubits -- keeps its qubits
   (the identity layout) and is routed by the iqm-bridge compiler (MOVE insertion on stars,
   SWAPs on lattices).
3. Any other circuit (h, cx, swap, ccx, ... untranspiled) is compiled by the iqm-bridge
   compiler (``iqm_bridge.core.pipeline``) at the ``optimization_level`` option, which also
   chooses the layout.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from qiskit import QuantumCircuit
from qiskit.providers import BackendV2, Options
from qiskit.transpiler import Target

from iqm_bridge.adapters.qiskit._convert import NATIVE_NAMES, to_ir, uses_only
from iqm_bridge.adapters.qiskit._job import IQMJob
from iqm_bridge.adapters.qiskit._target import build_target
from iqm_bridge.core.compiler import compile as compile_circuit
from iqm_bridge.core.device import Device
from iqm_bridge.core.errors import (
    CircuitValidationError,
    ConfigurationError,
    QubitNotOnDeviceError,
    UnknownOptionError,
)
from iqm_bridge.core.ir import Circuit
from iqm_bridge.core.options import RunOptions
from iqm_bridge.core.pipeline import prepare_one
from iqm_bridge.core.submit import Connection
from iqm_bridge.core.validation import validate_native

__all__ = ["IQMBackend", "IQMProvider"]

logger = logging.getLogger(__name__)

_TARGET_NAMES = NATIVE_NAMES | {"measure", "reset", "delay", "barrier", "if_else"}
_RUN_OPTION_NAMES = RunOptions.names()
_QISKIT_ONLY = ("memory", "optimization_level", "seed", "seed_simulator")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("iqm-bridge")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


class IQMBackend(BackendV2):  # type: ignore[misc]
    """A qiskit backend for one IQM quantum computer (or the iqm-bridge emulator).

    Args:
        client: the core :class:`~iqm_bridge.core.submit.Connection` to the server.
        **kwargs: ``name``, ``description``, ``online_date``, ``backend_version`` for
            ``BackendV2``; any other keyword sets a default run option (see
            :meth:`_default_options`).

    Raises:
        AttributeError: a keyword that is neither a ``BackendV2`` argument nor a run option.
    """

    def __init__(self, client: Connection, **kwargs: Any) -> None:
        device = client.device
        kwargs.setdefault("name", device.name)
        kwargs.setdefault("description", f"IQM quantum computer {device.name} via iqm-bridge")
        kwargs.setdefault("backend_version", _version())
        super().__init__(**kwargs)
        self._client = client
        self._device = device
        self._names = device.qubits + device.resonators
        self._index = {name: i for i, name in enumerate(self._names)}
        self._target = build_target(device)
        self._target_res: Target | None = None
        self._max_circuits: int | None = None

    # ------------------------------------------------------------------ BackendV2 API
    @classmethod
    def _default_options(cls) -> Options:
        """The run options and their defaults.

        ``shots`` (1024), ``memory`` (False: per-shot bitstrings in the result),
        ``calibration_set_id``, ``qubit_mapping``, ``heralding_mode``, ``move_gate_validation``,
        ``move_gate_frame_tracking``, ``dd_mode``, ``dd_strategy``, ``active_reset_cycles``,
        ``max_circuit_duration_over_t2``, ``use_timeslot``, ``timeout`` (seconds for
        ``result()``), ``optimization_level`` (0-3) and ``seed`` for the iqm-bridge compiler
        when a circuit is not native, and ``seed_simulator`` (accepted for qiskit's primitives;
        the server decides its own randomness).
        """
        defaults = RunOptions()
        fields = {name: getattr(defaults, name) for name in _RUN_OPTION_NAMES}
        return Options(**fields, memory=False, optimization_level=2, seed=None, seed_simulator=None)

    @property
    def target(self) -> Target:
        """The transpilation target (star machines: fictional qubit-qubit CZs, no resonator)."""
        return self._target

    @property
    def target_with_resonators(self) -> Target:
        """The real target of a resonator machine: resonators as extra qubits, with MOVEs.

        Raises:
            ConfigurationError: the device has no computational resonator.
        """
        if not self._device.resonators:
            raise ConfigurationError(f"{self._device.name} has no computational resonator")
        if self._target_res is None:
            self._target_res = build_target(self._device, with_resonators=True)
        return self._target_res

    @property
    def max_circuits(self) -> int | None:
        """Most circuits per server job (``None``: no limit); ``run`` splits longer lists."""
        return self._max_circuits

    @max_circuits.setter
    def max_circuits(self, value: int | None) -> None:
        if value is not None and (isinstance(value, bool) or int(value) < 1):
            raise ConfigurationError(f"max_circuits={value!r} must be None or at least 1")
        self._max_circuits = None if value is None else int(value)

    @property
    def device(self) -> Device:
        """The core :class:`~iqm_bridge.core.device.Device` the target was built from."""
        return self._device

    @property
    def connection(self) -> Connection:
        """The core connection jobs go through."""
        return self._client

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

    # ------------------------------------------------------------------ running
    def _options_for(self, options: dict[str, Any]) -> dict[str, Any]:
        valid = list(self.options)
        unknown = sorted(set(options) - set(valid))
        if unknown:
            raise UnknownOptionError(
                f"unknown run option(s) {unknown}; valid options are: {', '.join(valid)}"
            )
        merged = dict(self.options.items())
        merged.update(options)
        return merged

    def _prepare(
        self, circuit: QuantumCircuit, memory: bool, level: int, seed: int | None
    ) -> Circuit:
        if not isinstance(circuit, QuantumCircuit):
            raise CircuitValidationError(
                f"backend.run takes QuantumCircuits, got {type(circuit).__name__}"
            )
        ir, _ = to_ir(circuit, self._names, memory=memory)
        if not ir.measurement_keys:
            raise CircuitValidationError(
                f"circuit {circuit.name!r} has no measurements, so it would return no counts; "
                "add measurements (e.g. circuit.measure_all())"
            )
        if uses_only(circuit, _TARGET_NAMES):
            try:
                validate_native(ir, self._device)
            except CircuitValidationError:
                identity = {q: q for q in ir.qubits}
                return compile_circuit(
                    ir, self._device, level=level, seed=seed, initial_layout=identity
                ).circuit
            return ir
        return prepare_one(ir, self._device, level=level, seed=seed)

    def run(self, run_input: QuantumCircuit | Sequence[QuantumCircuit], **options: Any) -> IQMJob:
        """Run circuits; a list goes out as one job (split only by ``max_circuits``).

        Transpiled circuits run as they are; others are compiled by iqm-bridge (see the module
        docstring of :mod:`iqm_bridge.adapters.qiskit`).

        Args:
            run_input: a circuit or a list of circuits.
            **options: run options overriding the backend's (see :meth:`_default_options`).

        Returns:
            The job.

        Raises:
            UnknownOptionError: an option name that is not a run option (a ``TypeError``).
            UnsupportedOperationError: an instruction with no IQM equivalent.
            CircuitValidationError: a circuit that cannot run (no measurement, too many
                qubits, ...).
        """
        merged = self._options_for(options)
        circuits = [run_input] if isinstance(run_input, QuantumCircuit) else list(run_input)
        if not circuits:
            raise ConfigurationError("nothing to run: the list of circuits is empty")
        memory = bool(merged["memory"])
        level = int(merged["optimization_level"])
        seed = merged["seed"]
        run_opts = RunOptions.from_kwargs(**{k: merged[k] for k in _RUN_OPTION_NAMES})
        natives = [self._prepare(c, memory, level, seed) for c in circuits]
        job = self._client.submit(natives, run_opts, max_circuits=self._max_circuits)
        return IQMJob(self, job, memory=memory)

    def retrieve_job(self, job_id: str) -> IQMJob:
        """The job with this id (as ``job.job_id()`` gave it), e.g. in a new process.

        Raises:
            JobNotFoundError: the server does not know the id.
        """
        return IQMJob(self, self._client.retrieve(job_id))

    def close_client(self) -> None:
        """Close the connection's session with the server (a later call reconnects)."""
        self._client.close()

    def serialize_circuit(self, circuit: QuantumCircuit) -> Any:
        """The circuit in the IQM data transfer format (iqm-client's ``Circuit`` model).

        Only native instructions are serialised: r, cz, move, measure, reset, delay, barrier,
        id, if_else (as cc_prx), plus x, rx, y and ry (special cases of r). Each measurement
        gets its own key. No compilation happens: transpile the circuit for this backend first.

        Raises:
            UnsupportedOperationError: an instruction that is not serialisable (a
                ``ValueError``), named in the message.
        """
        from iqm_bridge.core.serialize import to_iqm_circuit

        ir, _ = to_ir(circuit, self._names, native_only=True)
        return to_iqm_circuit(ir)

    def __repr__(self) -> str:
        return f"<IQMBackend {self.name!r} at {self._client.url}>"


class IQMProvider:
    """Gives backends of an IQM server; with no URL, of the embedded emulator.

    Args:
        url: the server's root URL; ``None`` uses ``IQM_SERVER_URL`` if set, else starts the
            embedded emulator.
        quantum_computer: the quantum computer's alias on a server with several.
        token: an API token (or set ``IQM_TOKEN``).
        **kwargs: more :class:`~iqm_bridge.core.submit.Connection` settings (``tokens_file``,
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

    def get_backend(self, name: str | None = None, **options: Any) -> IQMBackend:
        """A backend for the provider's quantum computer.

        Args:
            name: the quantum computer to use (its alias); ``None`` for the provider's.
            **options: default run options for the backend.

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
        return IQMBackend(conn, **options)
