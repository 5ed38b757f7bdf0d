"""A loopback HTTP proxy in front of the emulator that misbehaves the way networks do.

It forwards every request to the real emulator and can, per request, instead: hang (accept
and never answer), answer a gateway's HTML error page after forwarding (so the job exists but
the client sees 503), or replace a forwarded answer's body with something that does not parse.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

Rule = Callable[[str, str], str | None]
"""(method, path) -> what to do: ``None`` (forward), ``"hang"``, ``"gateway503"`` (forward,
then answer 503 with an HTML page), ``"garbage"`` (forward, then answer 200 with a body that is
not JSON)."""


class MisbehavingProxy:
    """Runs in a daemon thread; ``url`` is what clients use instead of the emulator's."""

    def __init__(self, target: str, rule: Rule) -> None:
        self.target = target.rstrip("/")
        self.rule = rule
        self.seen: list[tuple[str, str, str | None]] = []
        self._release = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _handle(self) -> None:
                action = proxy.rule(self.command, self.path)
                proxy.seen.append((self.command, self.path, action))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if action == "hang":
                    proxy._release.wait(120)
                    self.close_connection = True
                    return
                skip = {"host", "content-length"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
                answer = requests.request(
                    self.command, proxy.target + self.path, data=body, headers=headers, timeout=60
                )
                status, content, ctype = (
                    answer.status_code,
                    answer.content,
                    answer.headers.get("Content-Type", "application/json"),
                )
                if action == "gateway503":
                    status, ctype = 503, "text/html"
                    content = b"<html><body><h1>503 Service Unavailable</h1></body></html>"
                elif action == "garbage":
                    status, content = 200, b"{not json at all"
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_DELETE = do_PUT = _handle  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> MisbehavingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        time.sleep(0.05)
