"""iqm_bridge.adapters.pennylane: run PennyLane programs on IQM quantum computers."""

from iqm_bridge.core.optional import require as _require

_require("pennylane", "pennylane")

__all__: list[str] = []
