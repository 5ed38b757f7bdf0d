"""The one door to the server: submit native circuits, follow jobs, fetch results.

:class:`Connection` owns an ``iqm.iqm_client.IQMClient``. With no URL given (and no
``IQM_SERVER_URL`` set) it starts the embedded emulator, so everything works without an
account. :class:`Job` is the handle of one submission (several server jobs when a
``max_circuits`` limit split it); it can be rebuilt from its id alone in a new process.
"""

from __future__ import annotations

import enum
import logging
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID, uuid4

import attrs
import numpy as np

from iqm_bridge.core.device import Device
from iqm_bridge.core.errors import (
    AmbiguousSubmissionError,
    CircuitValidationError,
    ConfigurationError,
    IQMBridgeError,
    JobFailedError,
    JobNotFoundError,
    JobTimeoutError,
    ResultFormatError,
    ServerError,
)
from iqm_bridge.core.ir import Circuit, Measure
from iqm_bridge.core.journal import Journal, default_journal
from iqm_bridge.core.keys import KeyMap, MeasurementBits, Register
from iqm_bridge.core.options import RunOptions
from iqm_bridge.core.serialize import from_iqm_circuit, to_iqm_circuit

if TYPE_CHECKING:
    from iqm.iqm_client import IQMClient

__all__ = [
    "REGISTERS_METADATA_KEY",
    "SUBMISSION_FEATURE",
    "SUBMISSION_METADATA_KEY",
    "CircuitResult",
    "Connection",
    "Job",
    "JobStatus",
    "RetryPolicy",
]

logger = logging.getLogger(__name__)

REGISTERS_METADATA_KEY = "iqm_bridge_registers"
"""Circuit metadata entry listing the result registers ``[[name, size], ...]`` in order, so
registers that are never measured survive a round trip through the server."""

SUBMISSION_METADATA_KEY = "iqm_bridge_submission_id"
"""Metadata entry of a job's first circuit: a client-made id unique to one submission."""

SUBMISSION_FEATURE = "idempotent-submission"
"""The ``about`` feature by which a server says it deduplicates resent submissions."""

T = TypeVar("T")


class JobStatus(enum.StrEnum):
    """Status of a job, as the server reports it."""

    WAITING = "waiting"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        """Whether the job will not change any more."""
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


@attrs.frozen(slots=True)
class CircuitResult:
    """The result of one circuit of a job.

    Attributes:
        name: the circuit's name.
        bits: the measured bits per register (see :class:`~iqm_bridge.core.keys.MeasurementBits`).
        shots: number of shots.
        job_id: the server job that ran the circuit.
        calibration_set_id: the calibration set used, if the server said.
        metadata: the circuit's metadata as submitted.
        raw: the server's per-key measurement lists.
    """

    name: str
    bits: MeasurementBits
    shots: int
    job_id: str
    calibration_set_id: str | None
    metadata: Mapping[str, Any]
    raw: Mapping[str, Any] = attrs.field(repr=False)


def _translate(exc: Exception, what: str) -> IQMBridgeError:
    """Map iqm-client and transport exceptions to our hierarchy."""
    name = type(exc).__name__
    if name == "NotFoundError":
        return JobNotFoundError(f"{what}: the server does not know it ({exc})")
    if isinstance(exc, IQMBridgeError):
        return exc
    return ServerError(f"{what} failed: {name}: {exc}")


_RETRYABLE = frozenset(
    {
        "ConnectionError",
        "Timeout",
        "ReadTimeout",
        "ConnectTimeout",
        "ChunkedEncodingError",
        "SystemUnavailableError",
        "BadGatewayError",
        "OperationTimeoutError",
        "RateLimitError",
    }
)
_CERTAINLY_NOT_SENT = frozenset({"ConnectTimeout", "NewConnectionError"})


@attrs.frozen(slots=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter for idempotent requests.

    Connection errors, timeouts, 429, 502, 503 and 504 are retried. A 429 or 503 answer's
    ``Retry-After`` header is honoured (up to ``max_retry_after``) when the installed
    iqm-client lets us see it (it raises without the response; see
    ``_install_retry_after_probe``); otherwise the jittered backoff applies. A job
    submission is resent only when that cannot create a second job.

    Attributes:
        attempts: total tries (1 = no retry).
        base_delay: first backoff in seconds.
        max_delay: backoff cap in seconds.
        max_retry_after: the longest ``Retry-After`` pause honoured, in seconds.
    """

    attempts: int = 10
    base_delay: float = 0.05
    max_delay: float = 2.0
    max_retry_after: float = 60.0

    def delays(self) -> Iterator[float]:
        """Backoff delays between attempts (full jitter)."""
        for i in range(self.attempts - 1):
            yield random.uniform(0, min(self.max_delay, self.base_delay * 2**i))

    def wait_for(self, backoff: float, retry_after: float | None) -> float:
        """The pause before the next try: the server's ``Retry-After`` (capped at
        ``max_retry_after``) when it gave one, else the jittered backoff."""
        if retry_after is None:
            return backoff
        return max(backoff, min(retry_after, self.max_retry_after))


# iqm-client raises ``RateLimitError``/``SystemUnavailableError`` with the message only: the
# response and its ``Retry-After`` header are gone by then. So the HTTP method handed to
# iqm-client's ``send_request`` is wrapped to note the header (per thread) before iqm-client
# turns the answer into an exception; without that hook we fall back to plain backoff.
_hints = threading.local()


def _parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delay-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds or seconds < 0:  # NaN or in the past
        return 0.0 if seconds == seconds else None
    return seconds


def _take_retry_after() -> float | None:
    value: float | None = getattr(_hints, "retry_after", None)
    _hints.retry_after = None
    return value


def _install_retry_after_probe(client: Any) -> bool:
    """Note ``Retry-After`` of 429/503 answers that pass through ``client`` (an IQMClient).

    Returns:
        Whether the hook could be installed (iqm-client's internals are as expected).
    """
    server = getattr(getattr(client, "_executor", None), "client", None)
    original = getattr(server, "send_request", None)
    if original is None or getattr(original, "_iqm_bridge_probe", False):
        return original is not None

    def send_request(http_method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        def method(url: str, **kw: Any) -> Any:
            response = http_method(url, **kw)
            if getattr(response, "status_code", None) in (429, 503):
                _hints.retry_after = _parse_retry_after(response.headers.get("Retry-After"))
            return response

        # iqm-client tells mutating requests from the method's name
        method.__name__ = getattr(http_method, "__name__", "get")
        return original(method, *args, **kwargs)

    send_request._iqm_bridge_probe = True  # type: ignore[attr-defined]
    try:
        server.send_request = send_request  # type: ignore[union-attr]
    except AttributeError:
        return False
    return True


def _is_retryable(exc: BaseException) -> bool:
    names = {type(e).__name__ for e in _chain(exc)}
    return bool(names & _RETRYABLE)


def _certainly_not_sent(exc: BaseException) -> bool:
    """Whether a failed POST provably never reached the server (connection refused etc.)."""
    for e in _chain(exc):
        if type(e).__name__ in _CERTAINLY_NOT_SENT or isinstance(e, ConnectionRefusedError):
            return True
    return False


def _is_malformed(exc: BaseException) -> bool:
    """Whether a failed read means the server's answer did not parse (JSON or model)."""
    for e in _chain(exc):
        module = type(e).__module__
        if module.startswith(("pydantic", "json", "requests")) and (
            "ValidationError" in type(e).__name__ or "JSONDecodeError" in type(e).__name__
        ):
            return True
    return False


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        stack.extend([e.__cause__, e.__context__])
        for arg in getattr(e, "args", ()):
            if isinstance(arg, BaseException):
                stack.append(arg)
            reason = getattr(arg, "reason", None)
            if isinstance(reason, BaseException):
                stack.append(reason)


class Connection:
    """A connection to one quantum computer of an IQM server (or the embedded emulator).

    Args:
        url: the server's root URL. ``None``: ``IQM_SERVER_URL`` if set, else the embedded
            emulator (``IQM_BRIDGE_EMULATOR_MACHINE``, ``IQM_BRIDGE_EMULATOR_NOISE``).
        quantum_computer: the quantum computer's alias when the server has several
            (``IQM_QUANTUM_COMPUTER`` is honoured by iqm-client).
        token: an API token (or set ``IQM_TOKEN``); never logged or shown.
        tokens_file: a tokens file (or set ``IQM_TOKENS_FILE``).
        retry: retry policy for idempotent requests.
        poll_interval: first polling interval in seconds; it grows by 1.5x up to
            ``max_poll_interval``.
        max_poll_interval: the polling interval's cap in seconds.
        progress: show a progress bar while waiting; ``None`` shows it only on a terminal.
        journal: where submitted job ids are recorded; ``"default"`` follows
            ``IQM_BRIDGE_JOURNAL`` (see :mod:`iqm_bridge.core.journal`), ``None`` keeps none.
        cancel_on_interrupt: on Ctrl-C while waiting, cancel the job (True), leave it running
            (False), or ask when attached to a terminal and leave it otherwise (None).
    """

    def __init__(
        self,
        url: str | None = None,
        quantum_computer: str | None = None,
        token: str | None = None,
        *,
        tokens_file: str | None = None,
        retry: RetryPolicy | None = None,
        poll_interval: float = 0.01,
        max_poll_interval: float = 1.0,
        progress: bool | None = None,
        journal: Journal | str | None = "default",
        cancel_on_interrupt: bool | None = None,
    ) -> None:
        if url is None:
            url = os.environ.get("IQM_SERVER_URL") or None
        self._embedded = url is None
        if url is None:
            from iqm_bridge.core._embedded import embedded_url

            url = embedded_url()
        self._url = url
        self._quantum_computer = quantum_computer
        self._token = token
        self._tokens_file = tokens_file
        self.retry = retry or RetryPolicy()
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.progress = progress
        self._client: IQMClient | None = None
        self._device: Device | None = None
        self._idempotent: bool | None = None
        self.journal: Journal | None = (
            default_journal()
            if journal == "default"
            else Journal(journal)
            if isinstance(journal, str)
            else journal
        )
        self.cancel_on_interrupt = cancel_on_interrupt
        _warn_insecure(url, token)

    def __repr__(self) -> str:
        qc = f", quantum_computer={self._quantum_computer!r}" if self._quantum_computer else ""
        return f"Connection(url={self._url!r}{qc})"

    @property
    def url(self) -> str:
        """The server's root URL."""
        return self._url

    @property
    def client(self) -> IQMClient:
        """The underlying ``IQMClient`` (created on first use)."""
        if self._client is None:
            from iqm.iqm_client import IQMClient

            try:
                self._client = self._call(
                    lambda: IQMClient.from_url(
                        self._url,
                        quantum_computer=self._quantum_computer,
                        token=self._token,
                        tokens_file=self._tokens_file,
                    ),
                    "connecting to the IQM server",
                )
            except ServerError as exc:
                raise ConfigurationError(
                    f"cannot connect to the IQM server at {self._url}: {exc}"
                ) from None
            if not _install_retry_after_probe(self._client):
                logger.debug("iqm-client hides Retry-After here; 429 answers use plain backoff")
        return self._client

    @property
    def quantum_computer(self) -> str:
        """The quantum computer's name (alias)."""
        return str(self.client.quantum_computer_name)

    @property
    def device(self) -> Device:
        """The quantum computer's architecture under the default calibration (cached)."""
        if self._device is None:
            self._device = self.refresh_device()
        return self._device

    def refresh_device(self) -> Device:
        """Fetch the current default architecture again."""
        dqa = self._call(
            lambda: self.client.get_dynamic_quantum_architecture(), "fetching the architecture"
        )
        self._device = Device.from_architecture(dqa, name=self.quantum_computer)
        return self._device

    def close(self) -> None:
        """Forget the client; a later call creates a new one."""
        self._client = None

    # requests -------------------------------------------------------------------------------
    def _call(self, fn: Callable[[], T], what: str) -> T:
        """Run an idempotent request with retries; map errors to our hierarchy."""
        delays = self.retry.delays()
        while True:
            _hints.retry_after = None
            try:
                return fn()
            except IQMBridgeError:
                raise
            except Exception as exc:
                retry_after = _take_retry_after()
                if _is_retryable(exc):
                    delay = next(delays, None)
                    if delay is not None:
                        delay = self.retry.wait_for(delay, retry_after)
                        logger.info("%s: %s; retrying in %.2f s", what, type(exc).__name__, delay)
                        time.sleep(delay)
                        continue
                raise _translate(exc, what) from exc

    def submit(
        self,
        circuits: Sequence[Circuit],
        options: RunOptions | None = None,
        *,
        max_circuits: int | None = None,
    ) -> Job:
        """Submit native circuits as one job (several when ``max_circuits`` splits the batch).

        Args:
            circuits: native, physical-qubit circuits (see :func:`iqm_bridge.core.lower`).
            options: shots and server options.
            max_circuits: at most this many circuits per server job.

        Raises:
            ConfigurationError: no circuits, or a bad ``max_circuits``.
            AmbiguousSubmissionError: the request may have reached the server; the message
                says how to find the job.
            ServerError: the server refused the job.
        """
        opts = options or RunOptions()
        opts.check()
        if not circuits:
            raise ConfigurationError("nothing to run: the list of circuits is empty")
        if max_circuits is not None and max_circuits < 1:
            raise ConfigurationError(f"max_circuits={max_circuits} must be at least 1")
        wire = [to_iqm_circuit(c) for c in circuits]
        # read every circuit's keys BEFORE sending: a job whose results could not be read
        # back must not be created on the server at all
        keymaps = []
        for c in circuits:
            try:
                keymaps.append(_keymap(c))
            except ResultFormatError as exc:
                raise CircuitValidationError(
                    f"circuit {c.name!r}: {exc}; build measurement keys with "
                    "iqm_bridge.core.KeyMap.encode so results can be read back"
                ) from None
        size = max_circuits or len(wire)
        parts = []
        for start in range(0, len(wire), size):
            chunk = wire[start : start + size]
            job_id = self._submit_chunk(chunk, opts)
            self._remember(job_id, len(chunk), opts.shots)
            parts.append(
                _Part.of(job_id, circuits[start : start + size], keymaps[start : start + size])
            )
        job = Job(self, tuple(parts), opts)
        if len(parts) > 1:
            self._remember(job.job_id, len(circuits), opts.shots, label="split submission")
        return job

    def _remember(
        self, job_id: str, num_circuits: int, shots: int, label: str | None = None
    ) -> None:
        if self.journal is None:
            return
        try:
            qc = self._quantum_computer or (
                self.quantum_computer if self._client is not None else None
            )
            self.journal.record(job_id, self._url, qc, num_circuits, shots, label)
        except Exception as exc:  # a full disk must not lose the job id: say it loudly
            logger.error("could not write job %s to the journal %s: %s", job_id, self.journal, exc)

    def _definition(self, circuits: list[Any], opts: RunOptions) -> Any:
        from iqm.station_control.interface.models.circuit import (
            CircuitJobDefinition,
            DDMode,
            HeraldingMode,
            MoveGateFrameTrackingMode,
            MoveGateValidationMode,
        )

        try:
            cal_id = UUID(opts.calibration_set_id) if opts.calibration_set_id else None
        except ValueError:
            raise ConfigurationError(
                f"option calibration_set_id={opts.calibration_set_id!r} is not a UUID"
            ) from None
        return CircuitJobDefinition(
            circuits=circuits,
            calibration_set_id=cal_id,
            qubit_mapping=dict(opts.qubit_mapping) if opts.qubit_mapping else None,
            shots=opts.shots,
            max_circuit_duration_over_t2=opts.max_circuit_duration_over_t2,
            heralding_mode=HeraldingMode(opts.heralding_mode),
            move_gate_validation=MoveGateValidationMode(opts.move_gate_validation),
            move_gate_frame_tracking=MoveGateFrameTrackingMode(opts.move_gate_frame_tracking),
            active_reset_cycles=opts.active_reset_cycles,
            dd_mode=DDMode(opts.dd_mode),
            dd_strategy=opts.dd_strategy,
        )

    def _measurements(self, job_id: str) -> Any:
        """The ``measurements`` artifact of a job as plain JSON data.

        The measured bits are plain nested lists of 0/1; reading them with ``json.loads`` and
        checking them in :meth:`KeyMap.bits` is several times faster than iqm-client's
        per-integer model validation, which dominates large results. Falls back to
        iqm-client's public call if its internals are not as expected.
        """
        server = getattr(getattr(self.client, "_executor", None), "client", None)
        send = getattr(server, "send_request", None)
        if send is None:
            return self.client.get_job_measurements(UUID(job_id))
        import json

        import requests

        response = send(requests.get, f"jobs/{UUID(job_id)}/artifacts/measurements")
        return json.loads(response.content)

    def _payload(self, job_id: str) -> Any:
        return self.client.get_job(UUID(job_id)).payload()

    @property
    def idempotent_submissions(self) -> bool:
        """Whether the server deduplicates a resent job by its submission id.

        Servers that do say so in ``GET /api/v1/about`` (``"features"`` lists
        ``"idempotent-submission"``); the emulator does. Only then is a job submission whose
        answer was lost resent; otherwise that case raises :class:`AmbiguousSubmissionError`.
        """
        if self._idempotent is None:
            try:
                about = self._call(lambda: self.client.get_about(), "reading the server's about")
            except IQMBridgeError:
                return False  # unknown for now (server unreachable): ask again next time
            features = about.get("features") if isinstance(about, Mapping) else None
            self._idempotent = isinstance(features, list | tuple) and SUBMISSION_FEATURE in features
        return self._idempotent

    def _submit_chunk(self, circuits: list[Any], opts: RunOptions) -> str:
        submission_id = str(uuid4())
        first = circuits[0]
        meta = dict(first.metadata or {})
        meta[SUBMISSION_METADATA_KEY] = submission_id
        circuits = [type(first)(first.name, first.instructions, meta), *circuits[1:]]
        definition = self._definition(circuits, opts)
        client = self.client
        delays = self.retry.delays()
        tries = 0
        while True:
            tries += 1
            _hints.retry_after = None
            try:
                tracker = client.submit_circuit_job(definition, use_timeslot=opts.use_timeslot)
                return str(tracker.job_id)
            except IQMBridgeError:
                raise
            except Exception as exc:
                retry_after = _take_retry_after()
                # the server answered and refused (503, 429): nothing was created
                refused = type(exc).__name__ in {"SystemUnavailableError", "RateLimitError"}
                ambiguous = _is_retryable(exc) and not refused and not _certainly_not_sent(exc)
                safe = (
                    _certainly_not_sent(exc)
                    or refused
                    or (ambiguous and self.idempotent_submissions)
                )
                if safe:
                    delay = next(delays, None)
                    if delay is not None:
                        delay = self.retry.wait_for(delay, retry_after)
                        logger.info(
                            "job submission: %s; resending submission %s in %.2f s",
                            type(exc).__name__,
                            submission_id,
                            delay,
                        )
                        time.sleep(delay)
                        continue
                if ambiguous:
                    why = (
                        f"it was sent {tries} times (the server deduplicates resent jobs) and "
                        "the last answer was lost too"
                        if safe
                        else "it was not resent, to avoid a duplicate job"
                    )
                    raise AmbiguousSubmissionError(
                        f"the job submission to {self._url} failed with {type(exc).__name__} "
                        f"after the request may have reached the server; {why}. The job, if "
                        f"created, carries circuit metadata {SUBMISSION_METADATA_KEY}="
                        f"{submission_id!r}: check the server's job list (or the IQM portal) "
                        "before submitting again."
                    ) from exc
                raise _translate(exc, "submitting the job") from exc

    def retrieve(self, job_id: str) -> Job:
        """Rebuild a job handle from its id (as ``Job.job_id`` gives it), e.g. in a new process.

        The measurement-key maps are rebuilt from the job's payload on the server.
        """
        ids = [part for part in job_id.split(",") if part]
        if not ids:
            raise ConfigurationError(f"job id {job_id!r} is empty")
        parts = []
        shots = None
        for jid in ids:
            payload = self._call(_bind(self._payload, jid), f"fetching job {jid}")
            shots = payload.shots
            parts.append(_Part.of(jid, [from_iqm_circuit(c) for c in payload.circuits]))
        return Job(self, tuple(parts), RunOptions(shots=shots or 1))


def _warn_insecure(url: str, token: str | None) -> None:
    """Warn when a token would travel in clear text to a host that is not this machine."""
    from urllib.parse import urlsplit

    has_token = token is not None or bool(os.environ.get("IQM_TOKEN"))
    parts = urlsplit(url)
    if (
        has_token
        and parts.scheme == "http"
        and parts.hostname not in {"localhost", "127.0.0.1", "::1"}
    ):
        import warnings

        warnings.warn(
            f"a token would be sent over plain http to {parts.hostname}; use https",
            stacklevel=3,
        )


def _bind(fn: Callable[[Any], T], arg: Any) -> Callable[[], T]:
    """``fn`` with its one argument fixed (a typed stand-in for a late-binding lambda)."""
    return lambda: fn(arg)


def _keymap(circuit: Circuit) -> KeyMap:
    km = KeyMap.from_keys(circuit.measurement_keys)
    regs = circuit.metadata.get(REGISTERS_METADATA_KEY)
    if regs:
        km = km.with_registers([Register(str(n), int(s)) for n, s in regs])
    return km


def _widths(circuit: Circuit) -> dict[str, int]:
    """Bits each measurement key returns per shot (top-level measurements only)."""
    return {op.key: len(op.qubits) for op in circuit.operations if isinstance(op, Measure)}


def _check_measurements(job_id: str, index: int, meas: Any, widths: Mapping[str, int]) -> None:
    """Refuse a circuit's measurement payload that would not decode to the right bits.

    Every measured key must hold ``shots x width`` values, each 0 or 1, with ``width`` the
    number of qubits its measurement reads; anything else (negative or huge numbers, rows of
    the wrong length, empty rows) would otherwise be read as some wrong bits.
    """
    where = f"job {job_id}, circuit {index}"
    if not isinstance(meas, Mapping):
        raise ResultFormatError(f"{where}: the measurement result is not a key -> shots mapping")
    for key, width in widths.items():
        if key not in meas:
            continue  # reported by the key map with the full list of missing keys
        try:
            arr = np.asarray(meas[key])  # ragged rows raise ValueError
        except (TypeError, ValueError, OverflowError):
            arr = None
        if arr is None or arr.ndim != 2 or (arr.shape[0] > 0 and arr.shape[1] != width):
            raise ResultFormatError(
                f"{where}: measurement key {key!r} should give {width} bit(s) per shot; the "
                "server's rows have another length or shape"
            )
        if arr.size and (arr.dtype.kind not in "iub" or arr.min() < 0 or arr.max() > 1):
            raise ResultFormatError(
                f"{where}: measurement key {key!r} holds values other than 0 and 1"
            )


@attrs.frozen(slots=True)
class _Part:
    job_id: str
    keymaps: tuple[KeyMap, ...]
    names: tuple[str, ...]
    metadata: tuple[Mapping[str, Any], ...]
    widths: tuple[Mapping[str, int], ...] = ()

    @classmethod
    def of(
        cls, job_id: str, circuits: Sequence[Circuit], keymaps: Sequence[KeyMap] | None = None
    ) -> _Part:
        return cls(
            job_id,
            tuple(keymaps) if keymaps is not None else tuple(_keymap(c) for c in circuits),
            tuple(c.name for c in circuits),
            tuple(c.metadata for c in circuits),
            tuple(_widths(c) for c in circuits),
        )


class Job:
    """Handle of one submission: status, cancel, wait and results.

    A submission split by ``max_circuits`` is several server jobs behind one handle; its
    :attr:`job_id` joins their ids with commas and :meth:`Connection.retrieve` accepts it.
    """

    def __init__(self, connection: Connection, parts: tuple[_Part, ...], options: RunOptions):
        self._conn = connection
        self._parts = parts
        self._options = options
        self._data: dict[str, Any] = {}
        self._results: list[CircuitResult] | None = None

    def __repr__(self) -> str:
        return f"Job(job_id={self.job_id!r})"

    @property
    def job_id(self) -> str:
        """The job's id (comma-joined server ids for a split submission)."""
        return ",".join(p.job_id for p in self._parts)

    @property
    def job_ids(self) -> tuple[str, ...]:
        """The server job ids."""
        return tuple(p.job_id for p in self._parts)

    @property
    def shots(self) -> int:
        """Shots per circuit."""
        return self._options.shots

    @property
    def num_circuits(self) -> int:
        """How many circuits the job runs."""
        return sum(len(p.keymaps) for p in self._parts)

    def _update(self, job_id: str) -> Any:
        data = self._data.get(job_id)
        if data is not None and JobStatus(str(data.status)).is_terminal:
            return data
        tracker = self._conn._call(
            lambda: self._conn.client.get_job(UUID(job_id)), f"fetching job {job_id}"
        )
        self._data[job_id] = tracker.job_data
        return tracker.job_data

    def status(self) -> JobStatus:
        """The overall status: failed or cancelled if any part is, completed if all are."""
        statuses = [JobStatus(str(self._update(p.job_id).status)) for p in self._parts]
        for s in (JobStatus.FAILED, JobStatus.CANCELLED):
            if s in statuses:
                return s
        if all(s is JobStatus.COMPLETED for s in statuses):
            return JobStatus.COMPLETED
        if JobStatus.PROCESSING in statuses or JobStatus.COMPLETED in statuses:
            return JobStatus.PROCESSING
        return JobStatus.WAITING

    def queue_position(self) -> int | None:
        """Position in the server's queue of the first waiting part, if the server says."""
        for p in self._parts:
            data = self._update(p.job_id)
            if data.queue_position is not None:
                return int(data.queue_position)
        return None

    def error_message(self) -> str | None:
        """The server's error messages for failed parts, or ``None``."""
        messages = []
        for p in self._parts:
            data = self._data.get(p.job_id) or self._update(p.job_id)
            for err in data.errors or ():
                messages.append(f"job {p.job_id}: {getattr(err, 'message', err)}")
            if str(data.status) == JobStatus.CANCELLED:
                messages.append(f"job {p.job_id}: cancelled")
        return "; ".join(messages) or None

    def cancel(self) -> bool:
        """Ask the server to cancel every part that has not finished.

        Returns:
            True if every part is now cancelled or was already finished.
        """
        ok = True
        for p in self._parts:
            try:
                self._conn._call(
                    _bind(self._conn.client.cancel_job, UUID(p.job_id)),
                    f"cancelling job {p.job_id}",
                )
            except IQMBridgeError as exc:
                logger.warning("could not cancel job %s: %s", p.job_id, exc)
                ok = False
            self._data.pop(p.job_id, None)
        return ok

    def wait(self, timeout: float | None = None) -> JobStatus:
        """Poll until every part is finished, with an interval growing from short to a cap.

        Args:
            timeout: give up after this many seconds (``None``: the run's ``timeout`` option,
                else wait indefinitely).

        Returns:
            The final status.

        Raises:
            JobTimeoutError: not finished in time (the job keeps running on the server).
        """
        limit = timeout if timeout is not None else self._options.timeout
        deadline = None if limit is None else time.monotonic() + limit
        interval = self._conn.poll_interval
        bar = _Progress(self._conn.progress, len(self._parts))
        try:
            while True:
                status = self.status()
                bar.update(self)
                if status.is_terminal:
                    self._journal_status(status)
                    return status
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    raise JobTimeoutError(
                        f"job {self.job_id} did not finish within {limit} s (status: {status}); "
                        "it is still on the server: call result() again later, or "
                        "retrieve it by id"
                    )
                sleep = interval if deadline is None else min(interval, deadline - now)
                time.sleep(max(sleep, 0.0))
                interval = min(interval * 1.5, self._conn.max_poll_interval)
        except KeyboardInterrupt:
            bar.close()
            self._on_interrupt()
            raise
        finally:
            bar.close()

    def _journal_status(self, status: JobStatus) -> None:
        journal = self._conn.journal
        if journal is None:
            return
        try:
            journal.set_status({*self.job_ids, self.job_id}, str(status))
        except Exception as exc:
            logger.warning("could not update the journal for job %s: %s", self.job_id, exc)

    def _on_interrupt(self) -> None:
        choice = self._conn.cancel_on_interrupt
        if choice is None and sys.stdin.isatty() and sys.stderr.isatty():
            try:
                answer = input(f"\nCancel job {self.job_id} on the server? [y/N] ")
            except (EOFError, KeyboardInterrupt):
                answer = ""
            choice = answer.strip().lower() in {"y", "yes"}
        if choice:
            self.cancel()
            self._journal_status(JobStatus.CANCELLED)
            logger.warning("job %s cancelled after an interrupt", self.job_id)
        else:
            logger.warning(
                "job %s keeps running on the server; retrieve it later with its id "
                "(iqm-bridge jobs list shows it)",
                self.job_id,
            )

    def result(self, timeout: float | None = None) -> list[CircuitResult]:
        """Wait for the job and return one :class:`CircuitResult` per circuit, in order.

        Raises:
            JobFailedError: the job failed or was cancelled (the message has the server's).
            JobTimeoutError: not finished within ``timeout``.
            ResultFormatError: the server's results do not fit the circuits.
        """
        if self._results is not None:
            return self._results
        status = self.wait(timeout)
        if status is not JobStatus.COMPLETED:
            raise JobFailedError(
                f"job {self.job_id} {status}: {self.error_message() or 'no message from server'}"
            )
        results: list[CircuitResult] = []
        for p in self._parts:
            try:
                measurements = self._conn._call(
                    _bind(self._conn._measurements, p.job_id),
                    f"fetching results of job {p.job_id}",
                )
            except ServerError as exc:
                cause = exc.__cause__
                if cause is None or not _is_malformed(cause):
                    raise
                first = str(cause).strip().splitlines()
                raise ResultFormatError(
                    f"job {p.job_id}: the server's measurement results are malformed "
                    f"({type(cause).__name__}: {' '.join(first[:3])[:300]}); the job itself "
                    "may be fine: retrieve it again later, or report the server's answer"
                ) from cause
            if not isinstance(measurements, list | tuple):
                raise ResultFormatError(
                    f"job {p.job_id}: the server's measurement results are a "
                    f"{type(measurements).__name__}, not a list with one entry per circuit"
                )
            if len(measurements) != len(p.keymaps):
                raise ResultFormatError(
                    f"job {p.job_id} returned results for {len(measurements)} circuits, "
                    f"expected {len(p.keymaps)}"
                )
            data = self._data.get(p.job_id)
            cal = None
            if data is not None and data.compilation is not None:
                cal_id = data.compilation.calibration_set_id
                cal = str(cal_id) if cal_id is not None else None
            for i, (km, meas) in enumerate(zip(p.keymaps, measurements, strict=True)):
                if not isinstance(meas, Mapping):
                    raise ResultFormatError(
                        f"job {p.job_id}: the results of circuit {i} are a "
                        f"{type(meas).__name__}, not a mapping of measurement keys to shots"
                    )
                if p.widths:
                    _check_measurements(p.job_id, i, meas, p.widths[i])
                bits = km.bits(
                    meas, None if self._options.heralding_mode != "none" else self._options.shots
                )
                results.append(
                    CircuitResult(
                        name=p.names[i],
                        bits=bits,
                        shots=bits.shots,
                        job_id=p.job_id,
                        calibration_set_id=cal,
                        metadata=p.metadata[i],
                        raw=meas,
                    )
                )
        self._results = results
        return results


class _Progress:
    """A tqdm bar on a terminal (queue position, then completed parts); silent otherwise."""

    def __init__(self, enabled: bool | None, total: int) -> None:
        if enabled is None:
            enabled = sys.stderr.isatty() and not os.environ.get("CI")
        self._bar: Any = None
        self._enabled = enabled
        self._total = total

    def update(self, job: Job) -> None:
        if not self._enabled:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=self._total, desc=f"job {job.job_ids[0][:8]}", leave=False)
        done = sum(1 for d in job._data.values() if JobStatus(str(d.status)).is_terminal)
        pos = job.queue_position()
        self._bar.set_postfix_str("" if pos is None else f"queue position {pos}")
        self._bar.n = done
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
