"""The one door to the server: submit native circuits, follow jobs, fetch results.

:class:`Connection` owns an ``iqm.iqm_client.IQMClient``. With no URL given (and no
``IQM_SERVER_URL`` set) it starts the embedded emulator, so everything works without an
account. It submits a batch of native circuits as one job (several when ``max_circuits``
splits it) and returns a :class:`~iqm_bridge.core.jobs.Job`, which can also be rebuilt from
its id alone in a new process.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID, uuid4

from iqm_bridge.core._retry import (
    RetryPolicy,
    certainly_not_sent,
    clear_retry_after,
    install_retry_after_probe,
    is_retryable,
    take_retry_after,
    translate,
)
from iqm_bridge.core.device import Device
from iqm_bridge.core.errors import (
    AmbiguousSubmissionError,
    CircuitValidationError,
    ConfigurationError,
    IQMBridgeError,
    ResultFormatError,
    ServerError,
)
from iqm_bridge.core.ir import Circuit
from iqm_bridge.core.jobs import (
    REGISTERS_METADATA_KEY,
    CircuitResult,
    Job,
    JobStatus,
    Part,
    bind,
    keymap_of,
)
from iqm_bridge.core.journal import Journal, default_journal
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

SUBMISSION_METADATA_KEY = "iqm_bridge_submission_id"
"""Metadata entry of a job's first circuit: a client-made id unique to one submission."""

SUBMISSION_FEATURE = "idempotent-submission"
"""The ``about`` feature by which a server says it deduplicates resent submissions."""

T = TypeVar("T")


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
            if not install_retry_after_probe(self._client):
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
            clear_retry_after()
            try:
                return fn()
            except IQMBridgeError:
                raise
            except Exception as exc:
                retry_after = take_retry_after()
                if is_retryable(exc):
                    delay = next(delays, None)
                    if delay is not None:
                        delay = self.retry.wait_for(delay, retry_after)
                        logger.info("%s: %s; retrying in %.2f s", what, type(exc).__name__, delay)
                        time.sleep(delay)
                        continue
                raise translate(exc, what) from exc

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
                keymaps.append(keymap_of(c))
            except ResultFormatError as exc:
                raise CircuitValidationError(
                    f"circuit {c.name!r}: {exc}; build measurement keys with "
                    "iqm_bridge.core.KeyMap.encode so results can be read back"
                ) from None
        size = max_circuits or len(wire)
        parts = []
        first_data: dict[str, Any] = {}
        for start in range(0, len(wire), size):
            chunk = wire[start : start + size]
            job_id, data = self._submit_chunk(chunk, opts)
            first_data[job_id] = data
            self._remember(job_id, len(chunk), opts.shots)
            parts.append(
                Part.of(job_id, circuits[start : start + size], keymaps[start : start + size])
            )
        job = Job(self, tuple(parts), opts, first_data)
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
        # a str parses many times faster than bytes; bad bytes then fail as malformed JSON
        return json.loads(response.content.decode("utf-8", errors="replace"))

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

    def _submit_chunk(self, circuits: list[Any], opts: RunOptions) -> tuple[str, Any]:
        """Submit one server job; its id and the job data the server answered with."""
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
            clear_retry_after()
            try:
                tracker = client.submit_circuit_job(definition, use_timeslot=opts.use_timeslot)
                return str(tracker.job_id), tracker.job_data
            except IQMBridgeError:
                raise
            except Exception as exc:
                retry_after = take_retry_after()
                # the server answered and refused (503, 429): nothing was created
                refused = type(exc).__name__ in {"SystemUnavailableError", "RateLimitError"}
                ambiguous = is_retryable(exc) and not refused and not certainly_not_sent(exc)
                safe = (
                    certainly_not_sent(exc)
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
                raise translate(exc, "submitting the job") from exc

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
            payload = self._call(bind(self._payload, jid), f"fetching job {jid}")
            shots = payload.shots
            parts.append(Part.of(jid, [from_iqm_circuit(c) for c in payload.circuits]))
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
