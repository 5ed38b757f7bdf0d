"""Raw ASGI answers for the emulator's middlewares (they sit below Starlette's routing)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


async def send_iqm_error(
    send: Any,
    status: int,
    code: str,
    message: str,
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """Answer with an IQM error body ``{"message", "error_code", "source": "iqm-server"}``."""
    body = json.dumps({"message": message, "error_code": code, "source": "iqm-server"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
