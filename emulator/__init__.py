"""A local stand-in for an IQM server, spoken to over HTTP by the unmodified iqm-client.

It serves a catalogue of emulated machines (``garnet``, ``emerald``, ``deneb``, ``adonis``),
simulates IQM's native operations with a noise model derived from each machine's calibration,
keeps jobs in SQLite, and can inject faults for reliability tests::

    from iqm_bridge.emulator import Emulator

    with Emulator(machine="garnet", noise=False, seed=1) as url:
        ...  # IQMProvider(url).get_backend() etc.

:func:`start_embedded` starts (once per process) the emulator the SDK uses when no server URL
is given; it keeps its jobs in a per-user file, so they outlive the process.
"""

from iqm_bridge.emulator._circuits import Limits
from iqm_bridge.emulator._faults import FaultOptions
from iqm_bridge.emulator._machines import MACHINE_NAMES, Machine, get_machine
from iqm_bridge.emulator._ratelimit import RateLimit
from iqm_bridge.emulator._server import Emulator, start_embedded, stop_embedded
from iqm_bridge.emulator._store import Retention

__all__ = [
    "MACHINE_NAMES",
    "Emulator",
    "FaultOptions",
    "Limits",
    "Machine",
    "RateLimit",
    "Retention",
    "get_machine",
    "start_embedded",
    "stop_embedded",
]
