"""Optional frameworks fail politely: a missing one raises an error that says what to install."""

from __future__ import annotations

import importlib
import json
from functools import cache
from types import ModuleType
from urllib.parse import unquote, urlsplit

from iqm_bridge.core.errors import MissingDependencyError

__all__ = ["install_hint", "require"]


@cache
def _source_checkout() -> tuple[str, bool] | None:
    """The folder iqm-bridge was installed from, and whether the install is editable, when
    it came from a local folder (the published package name then means nothing to pip)."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        text = distribution("iqm-bridge").read_text("direct_url.json")
    except PackageNotFoundError:
        return None
    if not text:
        return None
    try:
        info = json.loads(text)
    except ValueError:
        return None
    url = info.get("url", "")
    if not url.startswith("file:"):
        return None
    editable = bool((info.get("dir_info") or {}).get("editable"))
    return unquote(urlsplit(url).path), editable


def install_hint(extra: str) -> str:
    """The pip command that installs an iqm-bridge extra, fit for how it was installed.

    Args:
        extra: the extra, e.g. ``"qiskit"``.
    """
    checkout = _source_checkout()
    if checkout is not None:
        folder, editable = checkout
        return f"pip install {'-e ' if editable else ''}'{folder}[{extra}]'"
    return f"pip install 'iqm-bridge[{extra}]'"


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
            f"{install_hint(extra)}"
        ) from exc
