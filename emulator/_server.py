"""Run the emulator: in a background thread (:class:`Emulator`) or embedded singleton.

:class:`Emulator` serves an :class:`~iqm_bridge.emulator._app.EmulatorApp` with uvicorn on
``127.0.0.1`` and a free port, in a daemon thread, and shuts it down cleanly. The embedded
singleton (:func:`start_embedded`) is what the SDK uses when no server URL is given.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from iqm_bridge.emulator._app import EmulatorApp, ServerConfig
from iqm_bridge.emulator._circuits import Limits
from iqm_bridge.emulator._faults import FaultOptions
from iqm_bridge.emulator._machines import MACHINE_NAMES
from iqm_bridge.emulator._ratelimit import RateLimit

__all__ = ["Emulator", "start_embedded", "stop_embedded"]

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
        db: SQLite file for jobs (``":memory:"`` by default).
        token: one accepted bearer token, or several; ``None`` disables authentication.
        host: interface to bind (loopback by default).
        port: TCP port (0: pick a free one).
        queue_delay: seconds each job waits before it runs (for tests of cancellation).
        max_qubits: most components a circuit may touch (more makes the job fail).
        limits: full request limits (overrides ``max_qubits``).
        faults: fault injection options.
        immediate_timeout: how long a POST waits for its job before answering.
        rate_limit: per-token request rate limit, ``"RATE"`` or ``"RATE/BURST"`` (requests per
            second, bucket size), answered ``429`` with ``Retry-After`` (``None``: unlimited).
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
        max_qubits: int = 24,
        limits: Limits | None = None,
        faults: FaultOptions | None = None,
        immediate_timeout: float = 10.0,
        rate_limit: str | RateLimit | None = None,
    ) -> None:
        if machines is None:
            machines = (machine,) if machine is not None else MACHINE_NAMES
        tokens = (token,) if isinstance(token, str) else tuple(token or ())
        self.config = ServerConfig(
            machines=tuple(machines),
            noise=noise,
            seed=seed,
            db=db,
            tokens=tokens,
            queue_delay=queue_delay,
            immediate_timeout=immediate_timeout,
            limits=limits if limits is not None else Limits(max_qubits=max_qubits),
            faults=faults if faults is not None else FaultOptions(),
            rate_limit=RateLimit.parse(rate_limit) if isinstance(rate_limit, str) else rate_limit,
        )
        self.host = host
        self.port = port
        self.app: EmulatorApp | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None

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
        """Start serving in a background thread and return the URL."""
        if self._server is not None:
            return self.url
        import uvicorn

        self.app = EmulatorApp(self.config)
        # proto=IPPROTO_TCP: asyncio then sets TCP_NODELAY on every accepted connection (it
        # skips sockets whose proto is 0); without it, Nagle holds a response body written
        # after its headers until the client's delayed ACK, 40 ms per keep-alive request
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
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

    def stop(self) -> None:
        """Stop serving and release the port and the job store."""
        server, thread = self._server, self._thread
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout=10)
        if self.app is not None:
            self.app.close()
        sock = getattr(self, "_sock", None)
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


_embedded: Emulator | None = None
_embedded_lock = threading.Lock()


def start_embedded() -> str:
    """URL of the process-wide embedded emulator, starting it on first use.

    Reads ``IQM_BRIDGE_EMULATOR_MACHINE`` (default ``garnet``) and
    ``IQM_BRIDGE_EMULATOR_NOISE`` (``on`` by default, ``off`` for ideal results). The server
    stops when the interpreter exits, or with :func:`stop_embedded`.
    """
    global _embedded
    with _embedded_lock:
        if _embedded is not None and _embedded.running:
            return _embedded.url
        machine = os.environ.get("IQM_BRIDGE_EMULATOR_MACHINE", "garnet").strip().lower()
        noise_env = os.environ.get("IQM_BRIDGE_EMULATOR_NOISE", "on").strip().lower()
        if noise_env not in ("on", "off", "true", "false", "1", "0"):
            raise ValueError(f"IQM_BRIDGE_EMULATOR_NOISE must be 'on' or 'off', got {noise_env!r}")
        emulator = Emulator(machine=machine, noise=noise_env in ("on", "true", "1"))
        url = emulator.start()
        _embedded = emulator
        return url


def stop_embedded() -> None:
    """Stop the embedded emulator if it runs."""
    global _embedded
    with _embedded_lock:
        if _embedded is not None:
            _embedded.stop()
            _embedded = None


atexit.register(stop_embedded)
