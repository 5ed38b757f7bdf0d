"""The embedded default server: with no URL configured, start the local emulator.

This is the one place where the core reaches into :mod:`iqm_bridge.emulator` (lazily, inside
functions), so every adapter gets the default from the same door.
"""

from __future__ import annotations

import os

from iqm_bridge.core.errors import MissingDependencyError
from iqm_bridge.core.optional import install_hint

__all__ = ["embedded_machine", "embedded_url"]

MACHINE_ENV = "IQM_BRIDGE_EMULATOR_MACHINE"
DEFAULT_MACHINE = "garnet"


def embedded_machine() -> str:
    """The machine the embedded emulator serves (``IQM_BRIDGE_EMULATOR_MACHINE``, default
    ``garnet``)."""
    return os.environ.get(MACHINE_ENV, DEFAULT_MACHINE).strip().lower() or DEFAULT_MACHINE


def embedded_url() -> str:
    """URL of the process-wide embedded emulator, starting it on first use.

    Raises:
        MissingDependencyError: the emulator's extra is not installed.
    """
    try:
        from iqm_bridge.emulator import start_embedded  # type: ignore[attr-defined,unused-ignore]
    except ImportError as exc:
        raise MissingDependencyError(
            "no IQM server URL is configured and the embedded emulator cannot start "
            f"({exc}); install it with: {install_hint('emulator')}, or pass url=... "
            "(or set IQM_SERVER_URL) to use a real IQM server"
        ) from exc
    url: str = start_embedded()
    return url
