"""Optional frameworks fail politely: a missing one raises an error that says what to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from iqm_bridge.core.errors import MissingDependencyError

__all__ = ["require"]


def require(module: str, extra: str) -> ModuleType:
    """Import ``module``, or explain which iqm-bridge extra installs it.

    Args:
        module: the module to import, e.g. ``"qiskit"``.
        extra: the iqm-bridge extra that provides it, e.g. ``"qiskit"``.

    Raises:
        MissingDependencyError: the module is not installed (also an ``ImportError``).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{module} is not installed, and iqm_bridge.adapters.{extra} needs it: "
            f"pip install 'iqm-bridge[{extra}]'"
        ) from exc
