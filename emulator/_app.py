"""The ASGI application: IQM server endpoints, job queue and worker.

Endpoints follow shared/iqm_protocol/wire_protocol.md (E1-E14). Jobs are validated when they
are posted (bad input is a 4xx, never a 500), stored in SQLite and run in order by one worker
thread. In the default (immediate) mode the POST waits for its job, so a small job is already
``completed`` in the answer and clients never sleep-poll; in queued mode the POST answers at
once with the ``waiting`` job, as a real server's queue does, and clients poll; with
``queue_delay`` jobs stay ``waiting`` that long, which tests of cancellation need.

Several servers may share one job file (see :mod:`iqm_bridge.emulator._store`): each runs the
jobs it queued, and takes over the unfinished jobs of servers that are gone, when it starts and
whenever such a job is asked for.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import json
import logging
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from iqm_bridge.emulator import _circuits
from iqm_bridge.emulator._calibration import (
    calibration_set,
    noise_model,
    noise_model_without,
    quality_metric_set,
)
from iqm_bridge.emulator._circuits import Limits, ParsedJob, RequestError, ShapeCache, parse_job
from iqm_bridge.emulator._engine_plan import JobPlan, plan_job, run_plan
from iqm_bridge.emulator._faults import FaultInjector, FaultOptions
from iqm_bridge.emulator._machines import MACHINE_NAMES, Machine, get_machine
from iqm_bridge.emulator._ratelimit import RateLimit, RateLimiter
from iqm_bridge.emulator._results import counts_from_measurements, counts_json, measurements_json
from iqm_bridge.emulator._store import JobRecord, JobStore, Resent, Retention

__all__ = ["EmulatorApp", "ServerConfig"]

logger = logging.getLogger(__name__)

_TERMINAL = ("completed", "failed", "cancelled")
_VERSION = "0.1.0"
_RECENT_BITS = 1 << 25
"""Measured bits of the latest jobs kept in memory to answer a counts request quickly."""
_REQUEUED = "requeued_after_restart"
_PRUNE_EVERY = 32
"""Finished jobs between two applications of the retention limit (and at start)."""


@dataclass(frozen=True)
class ServerConfig:
    """Everything that configures one emulator server.

    Attributes:
        machines: catalogue names to serve; the first is the only one when just one is given.
        noise: simulate the calibration's noise (jobs may switch it off).
        seed: seed for reproducible results (``None``: fresh randomness).
        db: SQLite file for jobs, or ``":memory:"``.
        tokens: accepted bearer tokens; empty means no authentication.
        queue_delay: seconds each job stays ``waiting`` before it runs.
        immediate_timeout: how long a POST waits for its job to finish before answering.
        queued: answer a POST at once with the ``waiting`` job (as a real server's queue
            does) instead of waiting up to ``immediate_timeout`` for it to finish.
        limits: request limits.
        faults: fault injection.
        rate_limit: per-token request rate limit (``None``: unlimited).
        retention: how many finished jobs the database keeps (``None``: all).
        deduplicate: answer a resent submission (same client submission id) with the job the
            first copy created, and say so in ``about``; ``False`` behaves like a server
            without that feature: every POST creates a new job.
    """

    machines: tuple[str, ...] = ("garnet",)
    noise: bool = True
    seed: int | None = None
    db: str = ":memory:"
    tokens: tuple[str, ...] = ()
    queue_delay: float = 0.0
    immediate_timeout: float = 10.0
    queued: bool = False
    limits: Limits = field(default_factory=Limits)
    faults: FaultOptions = field(default_factory=FaultOptions)
    rate_limit: RateLimit | None = None
    retention: Retention | None = None
    deduplicate: bool = True


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _entry(status: str) -> dict[str, str]:
    return {"source": "iqm-server", "status": status, "timestamp": _now()}


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"message": message, "error_code": code, "source": "iqm-server"}, status_code=status
    )


def _json(text: str | bytes, status: int = 200) -> Response:
    return Response(text, status_code=status, media_type="application/json")


def _digest(qc: str, options: dict[str, Any], body: bytes) -> str:
    """Digest of a submission: its machine, its options and its body as sent.

    Hashing the body costs about 1% of parsing it (11 MB, 1,000 circuits: 10 ms against
    0.8 s), where canonical JSON of every body would double the cost of a POST; so a resend is
    compared as canonical JSON only when its digest differs (see ``EmulatorApp._resent``).
    """
    head = json.dumps([qc, options], sort_keys=True).encode()
    return hashlib.sha256(head + b"\0" + body).hexdigest()


def _flag(value: str | None) -> bool | None:
    if value is None:
        return None
    low = value.lower()
    if low in ("on", "true", "1", "yes"):
        return True
    if low in ("off", "false", "0", "no"):
        return False
    raise RequestError(400, "invalid_request", f"'noise' must be on or off, got {value!r}")


class EmulatorApp:
    """One emulator server: the ASGI app plus its job store and worker.

    Args:
        config: the server configuration.
    """

    def __init__(self, config: ServerConfig) -> None:
        for name in config.machines:
            if name not in MACHINE_NAMES:
                raise ValueError(
                    f"unknown machine {name!r}; choose from {', '.join(MACHINE_NAMES)}"
                )
        if not config.machines:
            raise ValueError("serve at least one machine")
        self.config = config
        self.machines: dict[str, Machine] = {n: get_machine(n) for n in config.machines}
        _circuits.preload()
        self._job_model: Any = None
        self.store = JobStore(config.db)
        self._parsed: dict[str, ParsedJob] = {}
        self._shapes = ShapeCache()  # circuit structures validated by earlier jobs
        self._queue: collections.deque[str] = collections.deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._waiters: dict[str, list[Any]] = {}
        self._faults: FaultInjector | None = None
        self.rate_limiter: RateLimiter | None = None
        self._holding: str | None = None  # waiting job the worker has taken from the queue
        self._recent: collections.OrderedDict[str, tuple[int, list[dict[str, np.ndarray]]]] = (
            collections.OrderedDict()
        )
        self._recent_size = 0
        self._finished_since_prune = 0
        if config.retention is not None:
            self.store.prune(config.retention)
        self._adopt_orphans()
        self._worker = threading.Thread(target=self._work, name="iqm-emulator-worker", daemon=True)
        self._worker.start()
        self.asgi = self._build()

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Stop the worker and close the store."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._worker.join(timeout=10)
        self.store.close()

    def job_count(self, owner: str | None = None) -> int:
        """Number of jobs stored (of one token, if given)."""
        return self.store.count(owner)

    # ------------------------------------------------------------------ shared job files
    def _adopt_orphans(self) -> None:
        """Take over every unfinished job whose server is gone."""
        for job_id, server in self.store.unfinished():
            if not self.store.alive(server):
                self._adopt(job_id, server)

    def _adopt(self, job_id: str, previous: str | None) -> None:
        """Run an unfinished job of a server that is gone: queue it again, or fail it clearly.

        A job that was already running is retried once: if its server died while running
        it twice, the job itself may be what kills servers.
        """
        if not self.store.adopt(job_id, previous):
            return  # another server took it first
        rec = self.store.get(job_id)
        if rec is None or rec.status not in ("waiting", "processing"):
            return
        if rec.qc not in MACHINE_NAMES:
            self._finish(
                job_id, "failed", "server_exited", f"the emulator that queued this job exited "
                f"before running it, and this emulator has no machine {rec.qc!r} to run it on",
            )  # fmt: skip
            return
        if rec.status == "processing":
            if any(entry.get("status") == _REQUEUED for entry in rec.timeline):
                self._finish(
                    job_id, "failed", "server_exited", "the emulator running this job exited "
                    "before it finished, for the second time; it is not started again (a job "
                    "this large may exhaust the machine: try fewer qubits, circuits or shots)",
                )  # fmt: skip
                return
            timeline = [*rec.timeline, _entry(_REQUEUED)]
            if not self.store.update(job_id, "waiting", timeline, only_if=("processing",)):
                return
        logger.info("resuming job %s, left unfinished by an emulator that has stopped", job_id)
        with self._cond:
            self._queue.append(job_id)
            self._cond.notify_all()

    def _machine_for(self, name: str) -> Machine:
        """The machine a stored job runs on (an adopted job's may be one this server lacks)."""
        machine = self.machines.get(name)
        return machine if machine is not None else get_machine(name)

    def _maybe_prune(self) -> None:
        """Apply the retention limit every few finished jobs, or after many bytes."""
        retention = self.config.retention
        if retention is None:
            return
        self._finished_since_prune += 1
        if (
            self._finished_since_prune < _PRUNE_EVERY
            and self.store.bytes_written < retention.max_bytes // 8
        ):
            return
        self._finished_since_prune = 0
        try:
            self.store.prune(retention)
        except sqlite3.Error as exc:  # e.g. another server holds the file too long
            logger.warning("could not apply the job retention limit now: %s", exc)

    # ------------------------------------------------------------------ worker
    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                job_id = self._queue.popleft()
            try:
                self._run_job(job_id)
            except Exception:  # keep the worker alive whatever happens
                logger.exception("job %s crashed the worker", job_id)
                self._finish(job_id, "failed", "internal_error", "internal emulator error")
            self._notify(job_id)
            self._maybe_prune()

    def _wait_queue_delay(self, rec: JobRecord) -> bool:
        delay = self.config.queue_delay
        if delay <= 0:
            return True
        created = datetime.fromisoformat(rec.timeline[0]["timestamp"]).timestamp()
        deadline = created + delay
        with self._cond:
            while not self._stopping:
                left = deadline - time.time()
                if left <= 0:
                    break
                self._cond.wait(timeout=min(left, 0.2))
                current = self.store.get(rec.id)
                if current is None or current.status != "waiting":
                    return False
        return not self._stopping

    def _finish(self, job_id: str, status: str, code: str, message: str) -> None:
        rec = self.store.get(job_id)
        if rec is None:
            return
        errors = [{"message": message, "error_code": code, "source": "iqm-server"}]
        timeline = [*rec.timeline, _entry(status)]
        self.store.update(job_id, status, timeline, errors, only_if=("waiting", "processing"))

    def _run_job(self, job_id: str) -> None:
        rec = self.store.get(job_id)
        if rec is None or rec.status != "waiting":
            self._parsed.pop(job_id, None)
            return
        self._holding = job_id
        try:
            waited = self._wait_queue_delay(rec)
        finally:
            self._holding = None
        if not waited:
            self._parsed.pop(job_id, None)
            return
        timeline = [*rec.timeline, _entry("execution_started")]
        if not self.store.update(job_id, "processing", timeline, only_if=("waiting",)):
            self._parsed.pop(job_id, None)
            return
        machine = self._machine_for(rec.qc)
        parsed = self._parsed.pop(job_id, None)
        if parsed is None:
            try:
                parsed = parse_job(rec.payload, machine, self.config.limits, self._shapes)
            except RequestError as exc:
                self._finish(job_id, "failed", exc.code, exc.message)
                return
        if self._faults is not None and self._faults.fail_job():
            self._finish(job_id, "failed", "execution_failed", "injected job failure")
            return
        noise_default = rec.options.get("noise")
        seed = rec.options.get("seed")
        if seed is None and self.config.seed is not None:
            seed = [self.config.seed, rec.seq]
        rng = np.random.default_rng(seed)
        try:
            results = self._simulate(machine, parsed, noise_default, rng)
        except RequestError as exc:  # a job stored before the server's limits were lowered
            self._finish(job_id, "failed", exc.code, exc.message)
            return
        except MemoryError:
            self._finish(job_id, "failed", "out_of_memory", "the simulation ran out of memory")
            return
        meas = measurements_json(results)
        timeline = [*timeline, _entry("execution_ended"), _entry("completed")]
        # measurement_counts is derived on first request: from these arrays while they are
        # kept, else (after a restart) from the stored measurements text; both give one answer
        self._remember(job_id, results)
        self.store.update(job_id, "completed", timeline, [], meas, only_if=("processing",))

    def _remember(self, job_id: str, results: list[dict[str, np.ndarray]]) -> None:
        size = sum(a.size for r in results for a in r.values())
        with self._cond:
            self._recent[job_id] = (size, results)
            self._recent_size += size
            while self._recent_size > _RECENT_BITS and self._recent:
                self._recent_size -= self._recent.popitem(last=False)[1][0]

    def _counts(self, rec: JobRecord) -> str:
        with self._cond:
            recent = self._recent.get(rec.id)
        if recent is not None:
            return counts_json(recent[1])
        assert rec.measurements is not None
        return counts_from_measurements(rec.measurements)

    def _plan(self, machine: Machine, parsed: ParsedJob, noise_default: bool | None) -> JobPlan:
        """Each circuit's engine and the job's cost estimate; a 4xx if it cannot run."""
        models = []
        for override in parsed.noise:
            if isinstance(override, tuple):  # noise on, less the sources the circuit names
                models.append(noise_model_without(machine, override))
                continue
            use_noise = override if override is not None else noise_default
            if use_noise is None:
                use_noise = self.config.noise
            models.append(noise_model(machine) if use_noise else None)
        return plan_job(parsed, models, self.config.limits)

    def _simulate(
        self, machine: Machine, parsed: ParsedJob, noise_default: bool | None, rng: Any
    ) -> list[dict[str, np.ndarray]]:
        """Run a job's circuits, each on the engine its plan chose."""
        plan = self._plan(machine, parsed, noise_default)
        logger.info("running %d circuits: %s", len(parsed.circuits), plan.summary())
        return run_plan(parsed, plan, rng, self.config.limits)

    def _notify(self, job_id: str) -> None:
        for callback in self._waiters.pop(job_id, []):
            callback()

    # ------------------------------------------------------------------ HTTP helpers
    def _owner(self, request: Request) -> str:
        tokens = self.config.tokens
        if not tokens:
            return ""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise RequestError(401, "unauthorized", "missing bearer token")
        if token.strip() not in tokens:
            raise RequestError(401, "unauthorized", "invalid token")
        return token.strip()

    def _machine(self, alias: str) -> Machine:
        machine = self.machines.get(alias)
        if machine is None:
            raise RequestError(
                404,
                "not_found",
                f"quantum computer {alias!r} not found; available: {', '.join(self.machines)}",
            )
        return machine

    def _calset(self, machine: Machine, cs: str) -> None:
        if cs != "default" and cs != machine.calibration_set_id:
            raise RequestError(
                404, "not_found", f"calibration set {cs!r} not found for {machine.name}"
            )

    def _job(self, request: Request) -> JobRecord:
        owner = self._owner(request)
        raw = request.path_params["job"]
        try:
            job_id = str(uuid.UUID(raw))
        except ValueError:
            raise RequestError(400, "invalid_request", f"{raw!r} is not a valid job id") from None
        rec = self.store.get(job_id)
        if rec is None or rec.owner != owner:
            raise RequestError(404, "not_found", f"job {job_id} not found")
        if (
            rec.status in ("waiting", "processing")
            and rec.server != self.store.server_id
            and not self.store.alive(rec.server)
        ):
            self._adopt(rec.id, rec.server)  # its server is gone: run it here
            rec = self.store.get(job_id) or rec
        return rec

    def _queue_position(self, job_id: str) -> int | None:
        with self._cond:
            holding = self._holding
            if holding == job_id:
                return 1
            try:
                return self._queue.index(job_id) + 1 + (holding is not None)
            except ValueError:
                return None

    def _job_json(self, rec: JobRecord) -> str:
        if self._job_model is None:
            from iqm.station_control.interface.models.jobs_new import JobData

            self._job_model = JobData
        artifacts = (
            [{"type": "measurements"}, {"type": "measurement_counts"}]
            if rec.status == "completed"
            else []
        )
        data = self._job_model.model_validate(
            {
                "id": rec.id,
                "type": "circuit",
                "status": rec.status,
                "compilation": {"calibration_set_id": rec.calibration_set_id},
                "messages": [],
                "errors": rec.errors,
                "queue_position": (
                    self._queue_position(rec.id) if rec.status == "waiting" else None
                ),
                "timeline": rec.timeline,
                "artifacts": artifacts,
            }
        )
        return str(data.model_dump_json())

    # ------------------------------------------------------------------ endpoints
    async def quantum_computers(self, request: Request) -> Response:
        self._owner(request)
        return JSONResponse(
            {
                "quantum_computers": [
                    {
                        "id": m.id,
                        "alias": m.name,
                        "display_name": m.display_name,
                        "proxy_path": None,
                    }
                    for m in self.machines.values()
                ]
            }
        )

    async def architecture(self, request: Request) -> Response:
        self._owner(request)
        machine = self._machine(request.path_params["qc"])
        self._calset(machine, request.path_params["cs"])
        return JSONResponse(machine.architecture())

    async def calibration(self, request: Request) -> Response:
        self._owner(request)
        machine = self._machine(request.path_params["qc"])
        self._calset(machine, request.path_params["cs"])
        return JSONResponse(calibration_set(machine))

    async def metrics(self, request: Request) -> Response:
        self._owner(request)
        machine = self._machine(request.path_params["qc"])
        self._calset(machine, request.path_params["cs"])
        return JSONResponse(quality_metric_set(machine))

    async def static_architecture(self, request: Request) -> Response:
        self._owner(request)
        machine = self._machine(request.path_params["qc"])
        return JSONResponse([machine.static_architecture()])

    async def health(self, request: Request) -> Response:
        self._owner(request)
        machine = self._machine(request.path_params["qc"])
        return JSONResponse({"status": "healthy", "quantum_computer": machine.name})

    async def about(self, request: Request) -> Response:
        self._owner(request)
        # resent submissions carrying the same client submission id are answered with the
        # job they created, so a client may resend a POST whose answer it never received
        features = ["idempotent-submission"] if self.config.deduplicate else []
        return JSONResponse(
            {"name": "iqm-bridge emulator", "version": _VERSION, "features": features}
        )

    async def qc_about(self, request: Request) -> Response:
        self._owner(request)
        machine = self._machine(request.path_params["qc"])
        return JSONResponse(
            {
                "version": _VERSION,
                "software_versions": {"iqm-bridge-emulator": _VERSION},
                "quantum_computer": machine.name,
            }
        )

    async def submit(self, request: Request) -> Response:
        owner = self._owner(request)
        machine = self._machine(request.path_params["qc"])
        limit = self.config.limits.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise RequestError(
                413, "payload_too_large", f"request body exceeds the limit of {limit} bytes"
            )
        buf = bytearray()  # not bytes +=, which copies the whole body for every chunk
        async for chunk in request.stream():
            buf += chunk
            if len(buf) > limit:
                raise RequestError(
                    413, "payload_too_large", f"request body exceeds the limit of {limit} bytes"
                )
        body = bytes(buf)
        query = request.query_params
        options: dict[str, Any] = {"noise": _flag(query.get("noise"))}
        if "seed" in query:
            try:
                options["seed"] = int(query["seed"])
            except ValueError:
                raise RequestError(400, "invalid_request", "'seed' must be an integer") from None
            if options["seed"] < 0:
                raise RequestError(400, "invalid_request", "'seed' must not be negative")
        if options["noise"] is None:
            # the job keeps the noise it was posted under: a server resuming it runs it alike
            options["noise"] = self.config.noise
        if len(body) > 1_000_000:
            parsed = await asyncio.to_thread(
                parse_job, body, machine, self.config.limits, self._shapes
            )
            await asyncio.to_thread(self._plan, machine, parsed, options["noise"])
        else:
            parsed = parse_job(body, machine, self.config.limits, self._shapes)
            self._plan(machine, parsed, options["noise"])  # refuses what cannot run: a 4xx
        job_id = str(uuid.uuid4())
        sid = parsed.submission_id if self.config.deduplicate else None
        digest = None if sid is None else _digest(machine.name, options, body)
        # the job and its client submission id are stored in one transaction, so a resent
        # copy (even after a crash and restart) finds the job the first copy created
        earlier = self.store.create(
            job_id, owner, machine.name, body, options, parsed.calibration_set_id,
            [_entry("created")], submission_id=sid, digest=digest,
        )  # fmt: skip
        if earlier is not None:
            return self._resent(earlier, sid, machine.name, options, body, digest)
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        def wake() -> None:
            loop.call_soon_threadsafe(lambda: done.done() or done.set_result(None))

        config = self.config
        wait = not config.queued and config.queue_delay <= 0 and config.immediate_timeout > 0
        queued = None
        with self._cond:
            self._parsed[job_id] = parsed
            if wait:
                self._waiters.setdefault(job_id, []).append(wake)
            self._queue.append(job_id)
            if config.queued:  # the answer shows the job as queued, before the worker sees it
                created = self.store.get(job_id)
                assert created is not None
                queued = self._job_json(created)
            self._cond.notify_all()
        if queued is not None:
            return _json(queued)
        if wait:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done, self.config.immediate_timeout)
        rec = self.store.get(job_id)
        assert rec is not None
        return _json(self._job_json(rec))

    def _resent(
        self,
        earlier: Resent,
        sid: str | None,
        qc: str,
        options: dict[str, Any],
        body: bytes,
        digest: str | None,
    ) -> Response:
        """Answer a submission whose id was used before: the earlier job, if it is the same."""
        rec = self.store.get(earlier.job_id)
        if rec is None:
            raise RequestError(  # the earlier job was deleted by its owner
                409, "conflict", f"submission id {sid!r} was already used for job "
                f"{earlier.job_id}, which has since been deleted; submit with a new submission id",
            )  # fmt: skip
        if earlier.digest is not None and earlier.digest != digest:
            # not byte-identical: still the same submission if it only differs in JSON layout
            try:
                same = (
                    rec.qc == qc
                    and rec.options == options
                    and json.loads(rec.payload) == json.loads(body)
                )
            except ValueError:
                same = False
            if not same:
                raise RequestError(
                    409, "conflict", f"submission id {sid!r} was already used for job {rec.id} "
                    "with different circuits, shots or options; the first job stands and this "
                    "one was not run: give every new submission a new submission id",
                )  # fmt: skip
        return _json(self._job_json(rec))

    async def get_job(self, request: Request) -> Response:
        return _json(self._job_json(self._job(request)))

    async def measurements(self, request: Request) -> Response:
        rec = self._job(request)
        kind = request.path_params["artifact"]
        if kind not in ("measurements", "measurement_counts"):
            raise RequestError(404, "not_found", f"job {rec.id} has no artifact {kind!r}")
        if rec.status != "completed" or rec.measurements is None:
            raise RequestError(
                404, "not_found", f"job {rec.id} has no {kind} (status: {rec.status})"
            )
        if kind == "measurements":
            return _json(rec.measurements)
        counts = rec.counts
        if counts is None:
            counts = self._counts(rec)
            self.store.set_counts(rec.id, counts)
        return _json(counts)

    async def payload(self, request: Request) -> Response:
        return _json(self._job(request).payload)

    async def cancel(self, request: Request) -> Response:
        rec = self._job(request)
        if rec.status not in _TERMINAL:
            self.store.update(
                rec.id,
                "cancelled",
                [*rec.timeline, _entry("cancelled")],
                rec.errors,
                only_if=("waiting", "processing"),
            )
            with self._cond:
                self._cond.notify_all()
            self._notify(rec.id)
        return Response(status_code=204)

    async def delete(self, request: Request) -> Response:
        rec = self._job(request)
        self.store.delete(rec.id)
        with self._cond:
            recent = self._recent.pop(rec.id, None)
            if recent is not None:
                self._recent_size -= recent[0]
            self._cond.notify_all()
        return Response(status_code=204)

    # ------------------------------------------------------------------ app
    def _build(self) -> Any:
        prefix = "/api/v1"
        routes = [
            Route(f"{prefix}/quantum-computers", self.quantum_computers),
            Route(
                f"{prefix}/calibration-sets/{{qc}}/{{cs}}/dynamic-quantum-architecture",
                self.architecture,
            ),
            Route(f"{prefix}/calibration-sets/{{qc}}/{{cs}}/metrics", self.metrics),
            Route(f"{prefix}/calibration-sets/{{qc}}/{{cs}}", self.calibration),
            Route(
                f"{prefix}/quantum-computers/{{qc}}/artifacts/static-quantum-architectures",
                self.static_architecture,
            ),
            Route(f"{prefix}/quantum-computers/{{qc}}/artifacts/about", self.qc_about),
            Route(f"{prefix}/quantum-computers/{{qc}}/health", self.health),
            Route(f"{prefix}/about", self.about),
            Route(f"{prefix}/jobs/{{qc}}/circuit", self.submit, methods=["POST"]),
            Route(f"{prefix}/jobs/{{job}}", self.get_job, methods=["GET"]),
            Route(f"{prefix}/jobs/{{job}}", self.delete, methods=["DELETE"]),
            Route(f"{prefix}/jobs/{{job}}/artifacts/{{artifact}}", self.measurements),
            Route(f"{prefix}/jobs/{{job}}/payload", self.payload),
            Route(f"{prefix}/jobs/{{job}}/cancel", self.cancel, methods=["POST"]),
        ]

        async def on_request_error(request: Request, exc: Exception) -> Response:
            assert isinstance(exc, RequestError)
            return _error(exc.status, exc.code, exc.message)

        async def on_http_error(request: Request, exc: Exception) -> Response:
            assert isinstance(exc, HTTPException)
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
            message = f"{request.method} {request.url.path}: {exc.detail}"
            return _error(exc.status_code, code, message)

        async def on_disconnect(request: Request, exc: Exception) -> Response:
            # the client went away before its request was complete: nothing was created, and
            # nobody is left to answer (the response below is never sent)
            logger.info(
                "client disconnected during %s %s before its request was complete; ignored",
                request.method,
                request.url.path,
            )
            return Response(status_code=400)

        async def on_crash(request: Request, exc: Exception) -> Response:
            logger.exception("unexpected error on %s %s", request.method, request.url.path)
            return _error(500, "internal_error", "internal emulator error")

        app = Starlette(
            routes=routes,
            exception_handlers={
                RequestError: on_request_error,
                HTTPException: on_http_error,
                ClientDisconnect: on_disconnect,
                Exception: on_crash,
            },
        )
        asgi: Any = app
        if self.config.rate_limit is not None:
            self.rate_limiter = asgi = RateLimiter(asgi, self.config.rate_limit)
        if self.config.faults.active or self.config.faults.job_failure_rate:
            self._faults = asgi = FaultInjector(asgi, self.config.faults)
        return asgi
