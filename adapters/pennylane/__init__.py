"""iqm_bridge.adapters.pennylane: run PennyLane programs on IQM quantum computers.

``qml.device("iqm", wires=4)`` (or :class:`IQMDevice` directly) runs every batch of tapes as
one job on an IQM server, or on the embedded emulator when no server URL is configured.
"""

from iqm_bridge.core import require as _require

_require("pennylane", "pennylane")

from iqm_bridge.adapters.pennylane._device import IQMDevice  # noqa: E402

__all__ = ["IQMDevice"]
