"""iqm_bridge.adapters.cirq: run cirq programs on IQM quantum computers through iqm-bridge."""

from iqm_bridge.core.optional import require as _require

_require("cirq", "cirq")

__all__: list[str] = []
