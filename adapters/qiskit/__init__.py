"""iqm_bridge.adapters.qiskit: run qiskit programs on IQM quantum computers through iqm-bridge."""

from iqm_bridge.core.optional import require as _require

_require("qiskit", "qiskit")

__all__: list[str] = []
