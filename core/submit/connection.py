"""The connection to one quantum computer: its device, job submission and retrieval.

:class:`Connection` owns a :class:`~iqm_bridge.core.submit.transport.Transport` (and through
it an ``iqm.iqm_client.IQMClient``, made on first use or handed in). With no URL given (and no
``IQM_SERVER_URL`` set) it starts the embedded emulator, so everything works without an
account. It submits a batch of native circuits as one job (several when ``max_circuits`` splits
it) and returns a :class:`~iqm_bridge.core.submit.jobs.Job`, which can also be rebuilt from its
id alone in a new process.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from iqm_bridge.core import collector
from iqm_bridge.core.device import Calibration, Device
from iqm_bridge.core.errors import (
    AmbiguousSubmissionError,
    CircuitValidationError,
    ConfigurationError,
    IQMBridgeError,
    JobNotFoundError,
    MalformedResponseError,
    ResultFormatError,
    ServerUnavailableError,
)
from iqm_bridge.core.ir import Circuit
from iqm_bridge.core.keys import KeyMap
from iqm_bridge.core.options import RunOptions
from iqm_bridge.core.submit.jobs import Job, JobContext, Part, PollPolicy, keymap_of
from iqm_bridge.core.submit.journal import (
    AMBIGUOUS,
    EMBEDDED_URL_PREFIX,
    Journal,
    JournalBusyError,
    default_journal,
)
from iqm_bridge.core.submit.retry import RetryPolicy
from iqm_bridge.core.submit.serialize import from_iqm_circuit, to_iqm_circuit
from iqm_bridge.core.submit.transport import Transport
from iqm_bridge.core.wire import SUBMISSION_FEATURE, SUBMISSION_METADATA_KEY

if TYPE_CHECKING:
    from iqm.iqm_client import IQMClient

__all__ = ["Connection"]

logger = logging.getLogger(__name__)

_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def _client_url(client: Any) -> str:
    server = getattr(getattr(client, "_executor", None), "client", None)
    return str(getattr(server, "root_url", None) or "iqm-client")


def _journal_of(journal: Journal | str | None) -> Journal | None:
    if journal == "default":
        return default_journal()
    if isinstance(journal, str):
        return Journal(journal)
    return journal


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
            ``IQM_BRIDGE_JOURNAL`` (see :mod:`iqm_bridge.core.submit.journal`), ``None`` keeps
            none.
        cancel_on_interrupt: on Ctrl-C while waiting, cancel the job (True), leave it running
            (False), or ask when attached to a terminal and leave it otherwise (None).
        client: an existing ``iqm.iqm_client.IQMClient`` to use (then ``url``, ``token`` and
            ``tokens_file`` are not needed).
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
        client: IQMClient | None = None,
    ) -> None:
        self._embedded: str | None = None
        if client is not None:
            url = url or _client_url(client)
        elif url is None:
            url = os.environ.get("IQM_SERVER_URL") or None
            if url is None:
                from iqm_bridge.core.submit.embedded import embedded_machine, embedded_url

                url = embedded_url()
                self._embedded = embedded_machine()
        self._transport = Transport(url, quantum_computer, token, tokens_file, retry, client)
        self._poll = PollPolicy(first=poll_interval, cap=max_poll_interval)
        self.progress = progress
        self.journal: Journal | None = _journal_of(journal)
        self.cancel_on_interrupt = cancel_on_interrupt
        self._device: Device | None = None
        self._idempotent: bool | None = None
        _warn_insecure(url, token, tokens_file)

    def __repr__(self) -> str:
        qc = self._transport.quantum_computer
        return f"Connection(url={self.url!r}" + (f", quantum_computer={qc!r})" if qc else ")")

    # ----------------------------------------------------------------------------- settings
    @property
    def url(self) -> str:
        """The server's root URL."""
        return self._transport.url

    @property
    def transport(self) -> Transport:
        """The transport every request of this connection goes through."""
        return self._transport

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy of idempotent requests."""
        return self._transport.retry

    @retry.setter
    def retry(self, policy: RetryPolicy) -> None:
        self._transport.retry = policy

    @property
    def poll_interval(self) -> float:
        """The first polling interval in seconds."""
        return self._poll.first

    @property
    def max_poll_interval(self) -> float:
        """The polling interval's cap in seconds."""
        return self._poll.cap

    @property
    def embedded(self) -> bool:
        """Whether this connection runs on the embedded emulator."""
        return self._embedded is not None

    @property
    def client(self) -> IQMClient:
        """The underlying ``IQMClient`` (created on first use)."""
        return self._transport.client

    @property
    def quantum_computer(self) -> str:
        """The quantum computer's name (alias)."""
        return self._transport.quantum_computer_name

    def close(self) -> None:
        """Forget the client; a later call creates a new one."""
        self._transport.close()

    def _context(self) -> JobContext:
        return JobContext(
            self._transport, self.journal, self._poll, self.progress, self.cancel_on_interrupt
        )

    # ----------------------------------------------------------------------------- the device
    @property
    def device(self) -> Device:
        """The quantum computer's architecture and calibration figures (fetched once)."""
        if self._device is None:
            self._device = self.refresh_device()
        return self._device

    def refresh_device(self) -> Device:
        """Fetch the current default architecture, its quality metrics and its calibration set
        (gate durations) again.

        Figures a server does not serve leave :attr:`Device.calibration` empty (compilation
        then ignores calibration); the architecture itself is required.
        """
        dqa = self._transport.architecture()
        calibration: Calibration | None = None
        observations: list[Any] = []
        for fetch, what in (
            (self._transport.quality_metrics, "quality metrics"),
            (self._transport.calibration_observations, "calibration set"),
        ):
            try:
                observations += fetch()
            except IQMBridgeError as exc:
                logger.info("no %s from %s (%s): working without it", what, self.url, exc)
        if observations:
            calibration = Calibration.from_quality_metrics(observations)
        self._device = Device.from_architecture(
            dqa, name=self.quantum_computer, calibration=calibration
        )
        return self._device

    def quantum_computers(self) -> list[Any]:
        """The server's quantum computers (iqm-client's models: ``alias``, ``id``, ...)."""
        return self._transport.quantum_computers()

    @property
    def idempotent_submissions(self) -> bool:
        """Whether the server deduplicates a resent job by its submission id.

        Servers that do say so in ``GET /api/v1/about`` (``"features"`` lists
        ``"idempotent-submission"``); the emulator does. Only then is a job submission whose
        answer was lost resent; otherwise that case raises :class:`AmbiguousSubmissionError`.
        """
        if self._idempotent is None:
            try:
                about = self._transport.about()
            except IQMBridgeError:
                return False  # unknown for now (server unreachable): ask again next time
            features = about.get("features")
            self._idempotent = isinstance(features, list | tuple) and SUBMISSION_FEATURE in features
        return self._idempotent

    # ----------------------------------------------------------------------------- submission
    def submit(
        self,
        circuits: Sequence[Circuit],
        options: RunOptions | None = None,
        *,
        max_circuits: int | None = None,
        keymaps: Sequence[KeyMap] | None = None,
        keep_shots: Sequence[int | None] | None = None,
    ) -> Job:
        """Submit native circuits as one job (several when ``max_circuits`` splits the batch).

        Args:
            circuits: native, physical-qubit circuits (see :func:`iqm_bridge.core.lower`).
            options: shots and server options.
            max_circuits: at most this many circuits per server job.
            keymaps: each circuit's key map (default: rebuilt from its measurement keys).
            keep_shots: per circuit, the shots its result keeps (``None``: all of the job's).

        Raises:
            ConfigurationError: no circuits, or a bad ``max_circuits``.
            AmbiguousSubmissionError: the request may have reached the server; the message
                says how to find the job (it is also in the journal).
            ServerError: the server refused the job.
        """
        opts = options or RunOptions()
        opts.check()
        if not circuits:
            raise ConfigurationError("nothing to run: the list of circuits is empty")
        if max_circuits is not None and (isinstance(max_circuits, bool) or max_circuits < 1):
            raise ConfigurationError(f"max_circuits={max_circuits!r} must be at least 1")
        with collector.paused():  # thousands of short-lived wire models
            wire = [to_iqm_circuit(c) for c in circuits]
        if keymaps is None:
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
        keep = list(keep_shots) if keep_shots is not None else [None] * len(circuits)
        size = max_circuits or len(wire)
        parts = []
        known: dict[str, Any] = {}
        for start in range(0, len(wire), size):
            stop = start + size
            job_id, data = self._submit_part(wire[start:stop], opts)
            known[job_id] = data
            self._remember(job_id, len(wire[start:stop]), opts.shots)
            parts.append(
                Part.of(job_id, circuits[start:stop], keymaps[start:stop], keep[start:stop])
            )
        job = Job(self._context(), tuple(parts), opts, known)
        if len(parts) > 1:
            self._remember(job.job_id, len(circuits), opts.shots, label="split submission")
        return job

    @property
    def _journal_url(self) -> str:
        return f"{EMBEDDED_URL_PREFIX}{self._embedded}" if self._embedded else self.url

    def _remember(
        self,
        job_id: str,
        num_circuits: int,
        shots: int,
        label: str | None = None,
        status: str = "submitted",
    ) -> None:
        if self.journal is None:
            return
        try:
            qc = self._transport.quantum_computer or self.quantum_computer
            self.journal.record(job_id, self._journal_url, qc, num_circuits, shots, label, status)
        except (JournalBusyError, OSError, IQMBridgeError) as exc:
            # a full disk or a busy journal must not lose the job id: say it loudly
            logger.error("could not write job %s to the journal %s: %s", job_id, self.journal, exc)

    def job_definition(self, circuits: Sequence[Circuit], options: RunOptions | None = None) -> Any:
        """iqm-client's ``CircuitJobDefinition`` for native circuits, without sending it."""
        opts = options or RunOptions()
        opts.check()
        return self._definition([to_iqm_circuit(c) for c in circuits], opts)

    def _definition(self, circuits: list[Any], opts: RunOptions) -> Any:
        from iqm.station_control.interface.models.circuit import (
            CircuitJobDefinition,
            DDMode,
            HeraldingMode,
            MoveGateFrameTrackingMode,
            MoveGateValidationMode,
        )

        cal_id = UUID(opts.calibration_set_id) if opts.calibration_set_id else None
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

    def _submit_part(self, circuits: list[Any], opts: RunOptions) -> tuple[str, Any]:
        """Submit one server job; its id and the job data the server answered with.

        A failed submission is resent only when that cannot create a second job: the request
        provably never arrived, the IQM server itself answered that it refused it, or the
        server deduplicates resent submissions by their submission id.
        """
        submission_id = str(uuid4())
        first = circuits[0]
        meta = dict(first.metadata or {})
        meta[SUBMISSION_METADATA_KEY] = submission_id
        circuits = [type(first)(first.name, first.instructions, meta), *circuits[1:]]
        definition = self._definition(circuits, opts)
        delays = self.retry.delays()
        tries = 0
        while True:
            tries += 1
            try:
                return self._transport.submit(definition, opts.use_timeslot)
            except ServerUnavailableError as exc:
                safe = not exc.maybe_processed or self.idempotent_submissions
                delay = next(delays, None) if safe else None
                if delay is not None:
                    pause = self.retry.wait_for(delay, exc.retry_after)
                    logger.info(
                        "job submission: %s; resending submission %s in %.2f s",
                        exc,
                        submission_id,
                        pause,
                    )
                    time.sleep(pause)
                    continue
                if not exc.maybe_processed:
                    raise
                why = (
                    f"it was sent {tries} times (the server deduplicates resent jobs) and the "
                    "last answer was lost too"
                    if safe
                    else "it was not resent, to avoid a duplicate job"
                )
                raise self._ambiguous(submission_id, len(circuits), opts, str(exc), why) from exc
            except MalformedResponseError as exc:
                raise self._ambiguous(
                    submission_id,
                    len(circuits),
                    opts,
                    str(exc),
                    "the server answered, but its answer did not say which job it made",
                ) from exc

    def _ambiguous(
        self, submission_id: str, num_circuits: int, opts: RunOptions, failure: str, why: str
    ) -> AmbiguousSubmissionError:
        self._remember(
            f"submission:{submission_id}",
            num_circuits,
            opts.shots,
            label="answer lost: find the job by its submission id",
            status=AMBIGUOUS,
        )
        return AmbiguousSubmissionError(
            f"the job submission to {self.url} may have reached the server ({failure}); {why}. "
            f"The job, if created, carries circuit metadata {SUBMISSION_METADATA_KEY}="
            f"{submission_id!r} (also in the job journal): check the server's job list (or the "
            "IQM portal) before submitting again."
        )

    def retrieve(self, job_id: str) -> Job:
        """Rebuild a job handle from its id (as ``Job.job_id`` gives it), e.g. in a new process.

        The measurement-key maps are rebuilt from the job's payload on the server.

        Raises:
            JobNotFoundError: not a job id, or the server does not know it.
        """
        ids = [part.strip() for part in str(job_id).split(",") if part.strip()]
        if not ids:
            raise JobNotFoundError(f"job id {job_id!r} is empty")
        for jid in ids:
            try:
                UUID(jid)
            except ValueError:
                raise JobNotFoundError(
                    f"{jid!r} is not a job id: IQM job ids are UUIDs such as "
                    "'8f8a1f0c-5f2b-4c8e-9d3e-2b1a5c7d9e01' (iqm-bridge jobs list shows yours)"
                ) from None
        parts = []
        shots = None
        for jid in ids:
            payload = self._transport.payload(jid)
            shots = payload.shots
            parts.append(Part.of(jid, [from_iqm_circuit(c) for c in payload.circuits]))
        return Job(self._context(), tuple(parts), RunOptions(shots=shots or 1))


def _warn_insecure(url: str, token: str | None, tokens_file: str | None = None) -> None:
    """Warn when a token would travel in clear text to a host that is not this machine."""
    if insecure_token_host(url, token, tokens_file) is not None:
        import warnings
        from urllib.parse import urlsplit

        warnings.warn(
            f"a token would be sent over plain http to {urlsplit(url).hostname}; use https",
            stacklevel=3,
        )


def insecure_token_host(url: str, token: str | None, tokens_file: str | None = None) -> str | None:
    """The host a token (given, or from ``IQM_TOKEN``, a tokens file or ``IQM_TOKENS_FILE``)
    would reach over plain http, unless it is this machine; else None."""
    from urllib.parse import urlsplit

    has_token = any(
        (token, os.environ.get("IQM_TOKEN"), tokens_file, os.environ.get("IQM_TOKENS_FILE"))
    )
    parts = urlsplit(url)
    if has_token and parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        return parts.hostname or url
    return None
