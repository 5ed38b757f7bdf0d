"""iqm_bridge.adapters: one translation layer per framework (qiskit, cirq, pennylane).

Each subpackage imports its framework lazily and only translates; the logic they share lives
in :mod:`iqm_bridge.core`.
"""

__all__: list[str] = []
