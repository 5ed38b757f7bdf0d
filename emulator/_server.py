"""Run the emulator: in a background thread (:class:`Emulator`) or embedded singleton.

:class:`Emulator` serves an :class:`~iqm_bridge.emulator._app.EmulatorApp` with uvicorn on
``127.0.0.1`` and a free port, in a daemon thread, and shuts it down cleanly. The embedded
emulator (:func:`start_embedded`) is what the SDK uses when no server URL is given; it keeps
its jobs in a per-user database file, so that a later process (which starts its own embedded
emulator on the same file) still finds them.
"""

from __future__ import annotations

import atexit
import dataclasses
import errno
import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from iqm_bridge.core.errors import ConfigurationError
from iqm_bridge.emulator._app import EmulatorApp, ServerConfig
from iqm_bridge.emulator._circuits import Limits
from iqm_bridge.emulator._faults import FaultOptions
from iqm_bridge.emulator._machines import MACHINE_NAMES
from iqm_bridge.emulator._ratelimit import RateLimit
from iqm_bridge.emulator._store import Retention

__all__ = ["DB_ENV", "MACHINE_ENV", "NOISE_ENV", "Emulator", "embedded_db", "start_embedded",
           "stop_embedded"]  # fmt: skip

MACHINE_ENV = "IQM_BRIDGE_EMULATOR_MACHINE"
"""Environment variable naming the embedded emulator's machine (default ``garnet``)."""
NOISE_ENV = "IQM_BRIDGE_EMULATOR_NOISE"
"""Environment variable switching the embedded emulator's noise (``on`` by default, ``off``)."""
DB_ENV = "IQM_BRIDGE_EMULATOR_DB"
"""Environment variable with the embedded emulator's job file (``:memory:``: keep no jobs)."""
EMBEDDED_RETENTION = Retention()
"""How many finished jobs the embedded emulator's file keeps."""

logger = logging.getLogger(__name__)


class Emulator:
    """A local IQM server emulator running in a background thread.

    Use it as a context manager (``with Emulator(machine="garnet", noise=False) as url``) or
    call :meth:`start` / :meth:`stop`.

    Args:
        machine: the one machine to serve (its name is the quantum-computer alias), or
            ``None`` to serve every catalogue machine (clients must then name one).
        machines: several machines to serve (instead of ``machine``).
        noise: simulate the calibration's noise.
        seed: seed for reproducible results.
        db: SQLite file for jobs (``":memory:"`` by default); several servers, in this process
            or others, may share one file.
        token: one accepted bearer token, or several; ``None`` disables authentication.
        host: interface to bind (loopback by default).
        port: TCP port (0: pick a free one).
        queue_delay: seconds each job waits before it runs (for tests of cancellation).
        max_qubits: most components a circuit may touch (more is refused at submission).
        memory_budget: most bytes one job may need, estimated before it runs (simulation,
            results, measurement artifact); a job over it is refused at submission.
        limits: full request limits (overrides ``max_qubits`` and ``memory_budget``).
        faults: fault injection options.
        immediate_timeout: how long a POST waits for its job before answering.
        queued: answer a job submission at once with the ``waiting`` job, as a real server's
            queue does (clients then poll), instead of waiting for the job to finish.
        rate_limit: per-token request rate limit, ``"RATE"`` or ``"RATE/BURST"`` (requests per
            second, bucket size), answered ``429`` with ``Retry-After`` (``None``: unlimited).
        retention: how many finished jobs ``db`` keeps, newest first (``None``: all of them).
        deduplicate: answer a resent submission (same client submission id) with the job it
            created and list ``idempotent-submission`` in ``about``; ``False`` serves like a
            server without the feature (each POST makes a new job), for tests of clients.

    Raises:
        ConfigurationError: an unknown machine, or ``port`` is not a TCP port number.
    """

    def __init__(
        self,
        machine: str | None = "garnet",
        *,
        machines: Sequence[str] | None = None,
        noise: bool = True,
        seed: int | None = None,
        db: str = ":memory:",
        token: str | Sequence[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        queue_delay: float = 0.0,
        max_qubits: int | None = None,
        memory_budget: int | None = None,
        limits: Limits | None = None,
        faults: FaultOptions | None = None,
        immediate_timeout: float = 10.0,
        queued: bool = False,
        rate_limit: str | RateLimit | None = None,
        retention: Retention | None = None,
        deduplicate: bool = True,
    ) -> None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ConfigurationError(
                f"port {port!r} is not a TCP port; give 1-65535, or 0 for any free port"
            )
        if limits is None:
            limits = Limits(max_qubits=max_qubits)
            if memory_budget is not None:
                limits = dataclasses.replace(limits, memory_budget=memory_budget)
        if machines is None:
            machines = (machine,) if machine is not None else MACHINE_NAMES
        unknown = [name for name in machines if name not in MACHINE_NAMES]
        if unknown or not machines:
            problem = f"unknown machine {unknown[0]!r}" if unknown else "no machine to serve"
            raise ConfigurationError(f"{problem}; choose from {', '.join(MACHINE_NAMES)}")
        tokens = (token,) if isinstance(token, str) else tuple(token or ())
        self.config = ServerConfig(
            machines=tuple(machines),
            noise=noise,
            seed=seed,
            db=db,
            tokens=tokens,
            queue_delay=queue_delay,
            immediate_timeout=immediate_timeout,
            queued=queued,
            limits=limits,
            faults=faults if faults is not None else FaultOptions(),
            rate_limit=RateLimit.parse(rate_limit) if isinstance(rate_limit, str) else rate_limit,
            retention=retention,
            deduplicate=deduplicate,
        )
        self.host = host
        self.port = port
        self.app: EmulatorApp | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    # ---------------------------------------------------------------- lifecycle
    @property
    def url(self) -> str:
        """The server's root URL, ``http://127.0.0.1:PORT``."""
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> str:
        """Start serving in a background thread and return the URL.

        Raises:
            ConfigurationError: the port is taken or cannot be bound, or the job database
                cannot be opened; the message says which.
        """
        if self._server is not None:
            return self.url
        import uvicorn

        sock = self._listen()
        try:
            self.app = EmulatorApp(self.config)
        except BaseException:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app.asgi,
            log_level="warning",
            access_log=False,
            http="h11",
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="iqm-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the emulator failed to start")
            time.sleep(0.005)
        self._sock = sock
        logger.info("emulator serving %s at %s", ",".join(self.config.machines), self.url)
        return self.url

    def _listen(self) -> socket.socket:
        """A socket bound to the host and port, or a one-line reason why there is none."""
        where = f"{self.host}:{self.port}"
        try:
            # proto=IPPROTO_TCP: asyncio then sets TCP_NODELAY on every accepted connection
            # (it skips sockets whose proto is 0); without it, Nagle holds a response body
            # written after its headers until the client's delayed ACK, 40 ms per request
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        except OSError as exc:
            raise ConfigurationError(f"cannot open a socket for {where}: {exc}") from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
        except (OSError, OverflowError) as exc:
            sock.close()
            if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
                raise ConfigurationError(
                    f"cannot listen on {where}: the port is already in use; stop the program "
                    "using it or pick another port (0: any free port)"
                ) from None
            if isinstance(exc, socket.gaierror):
                raise ConfigurationError(
                    f"cannot listen on {where}: unknown host {self.host!r}"
                ) from None
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ConfigurationError(f"cannot listen on {where}: {reason}") from None
        return sock

    def stop(self) -> None:
        """Stop serving and release the port and the job store."""
        server, thread = self._server, self._thread
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout=10)
        if self.app is not None:
            self.app.close()
        sock = self._sock
        if sock is not None:
            sock.close()
            self._sock = None
        self._server = None
        self._thread = None
        self.app = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---------------------------------------------------------------- inspection
    def job_count(self, token: str | None = None) -> int:
        """Number of jobs stored on the server (of one token, if given).

        Tests of client reliability use it to find duplicate or orphaned jobs.
        """
        if self.app is None:
            raise RuntimeError("the emulator is not running")
        return self.app.job_count(token)

    def job_ids(self) -> list[str]:
        """Ids of every stored job, oldest first."""
        if self.app is None:
            raise RuntimeError("the emulator is not running")
        return self.app.store.ids()

    @property
    def injected_faults(self) -> dict[str, int]:
        """How many faults of each kind were injected so far."""
        faults = self.app._faults if self.app is not None else None
        return dict(faults.injected) if faults is not None else {}

    @property
    def rate_limited(self) -> int:
        """How many requests were refused with ``429`` by the rate limit so far."""
        limiter = self.app.rate_limiter if self.app is not None else None
        return limiter.refused if limiter is not None else 0


_embedded: dict[tuple[str, bool, str], Emulator] = {}
_embedded_lock = threading.Lock()


def embedded_db() -> str:
    """The embedded emulator's job file: ``IQM_BRIDGE_EMULATOR_DB``, else the user's data dir.

    The default is ``emulator.sqlite3`` in ``platformdirs.user_data_dir("iqm-bridge")`` (beside
    the SDK's job journal), so jobs outlive the process that made them; ``:memory:`` keeps
    none.
    """
    setting = os.environ.get(DB_ENV, "").strip()
    if setting:
        return setting
    from platformdirs import user_data_dir

    return str(Path(user_data_dir("iqm-bridge")) / "emulator.sqlite3")


def _noise_setting() -> bool:
    value = os.environ.get(NOISE_ENV, "on").strip().lower()
    if value not in ("on", "off", "true", "false", "1", "0"):
        raise ConfigurationError(f"{NOISE_ENV} must be 'on' or 'off', got {value!r}")
    return value in ("on", "true", "1")


def start_embedded(
    machine: str | None = None, db: str | None = None, *, noise: bool | None = None
) -> str:
    """URL of the process-wide embedded emulator, starting it on first use.

    One embedded emulator runs per ``(machine, noise, db)``; asking again for the same returns
    the same URL. Every embedded emulator on one file answers for every job in it, whichever
    machine ran it, and runs the jobs that emulators of processes that have ended left
    unfinished. The servers stop when the interpreter exits, or with :func:`stop_embedded`.

    Args:
        machine: the machine to serve; default ``IQM_BRIDGE_EMULATOR_MACHINE``, else
            ``garnet``.
        db: the job file; default :func:`embedded_db` (``IQM_BRIDGE_EMULATOR_DB``, else a file
            in the user's data directory); ``":memory:"`` keeps no jobs.
        noise: simulate noise; default ``IQM_BRIDGE_EMULATOR_NOISE`` (``on``/``off``), else on.

    Raises:
        ConfigurationError: an unknown machine, a bad noise setting, or a job file that
            cannot be opened (the message names it and the variable that sets it).
    """
    name = (machine or os.environ.get(MACHINE_ENV, "") or "garnet").strip().lower()
    if name not in MACHINE_NAMES:
        source = "machine" if machine else MACHINE_ENV
        raise ConfigurationError(
            f"{source}={name!r} is not an emulated machine; choose from {', '.join(MACHINE_NAMES)}"
        )
    use_noise = _noise_setting() if noise is None else noise
    path = db if db is not None else embedded_db()
    in_file = path != ":memory:"
    if in_file:
        path = str(Path(path).expanduser())
    key = (name, use_noise, path)
    with _embedded_lock:
        running = _embedded.get(key)
        if running is not None and running.running:
            return running.url
        if in_file:
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigurationError(
                    f"cannot create the folder of the emulator's job file {path!r} ({exc}); "
                    f"set {DB_ENV} to a writable file, or to :memory: to keep no jobs"
                ) from None
        emulator = Emulator(machine=name, noise=use_noise, db=path, retention=EMBEDDED_RETENTION)
        try:
            url = emulator.start()
        except ConfigurationError as exc:
            if db is None:  # say how to choose another file
                raise ConfigurationError(f"{exc} (the file is set by {DB_ENV})") from None
            raise
        _embedded[key] = emulator
        return url


def stop_embedded() -> None:
    """Stop every embedded emulator of this process."""
    with _embedded_lock:
        emulators = list(_embedded.values())
        _embedded.clear()
    for emulator in emulators:
        emulator.stop()


atexit.register(stop_embedded)
