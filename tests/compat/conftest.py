"""Fixtures of the compatibility suite: every test runs once per flavour.

A *flavour* is one of the two SDKs a user may import: ``official`` (``iqm.qiskit_iqm`` and
``iqm.cirq_iqm`` from iqm-client 36, the control) and ``bridge`` (``iqm_bridge.adapters.qiskit``
and ``iqm_bridge.adapters.cirq``). A test asks its flavour for the public names it needs
(``flavour.qiskit.IQMProvider``, ``flavour.cirq.IQMSampler``...), exactly as a program would
import them, and runs them against the same real emulator over HTTP.

Names are resolved lazily, inside the test: a name or module the flavour lacks makes that test
fail (an ``AttributeError`` naming the missing name), never a fixture error.
"""

from __future__ import annotations

import importlib
import pathlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest

# the helper module of this suite (statistics, circuits) is imported by its name
sys.path.insert(0, str(pathlib.Path(__file__).parent))

FLAVOURS = ("official", "bridge")

# Where a program importing each SDK finds its public names. The official SDK spreads them
# over several modules; iqm-bridge promises them all from one package per framework.
_MODULES: dict[str, dict[str, tuple[str, ...]]] = {
    "official": {
        "qiskit": (
            "iqm.qiskit_iqm",
            "iqm.qiskit_iqm.iqm_provider",
            "iqm.qiskit_iqm.iqm_job",
            "iqm.qiskit_iqm.move_gate",
            "iqm.qiskit_iqm.iqm_transpilation",
        ),
        "cirq": (
            "iqm.cirq_iqm",
            "iqm.cirq_iqm.iqm_sampler",
            "iqm.cirq_iqm.devices",
            "iqm.cirq_iqm.iqm_gates",
            "iqm.cirq_iqm.optimizers",
        ),
    },
    "bridge": {
        "qiskit": ("iqm_bridge.adapters.qiskit",),
        "cirq": ("iqm_bridge.adapters.cirq",),
    },
}


class Namespace:
    """The public names one flavour offers for one framework, imported on first use.

    Args:
        label: e.g. ``"bridge qiskit"``, for error messages.
        modules: the modules to search, in order.
    """

    def __init__(self, label: str, modules: tuple[str, ...]) -> None:
        self._label = label
        self._module_names = modules
        self._modules: list[ModuleType] | None = None

    def _load(self) -> list[ModuleType]:
        if self._modules is None:
            self._modules = [importlib.import_module(name) for name in self._module_names]
        return self._modules

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        for module in self._load():
            if hasattr(module, name):
                return getattr(module, name)
        raise AttributeError(
            f"{self._label}: no public name {name!r} in {', '.join(self._module_names)}"
        )

    def has(self, name: str) -> bool:
        """Whether the flavour offers ``name``."""
        return any(hasattr(module, name) for module in self._load())


@dataclass(frozen=True)
class Flavour:
    """One SDK under test: its name and its qiskit and cirq namespaces."""

    name: str
    qiskit: Namespace = field(repr=False)
    cirq: Namespace = field(repr=False)

    @property
    def is_official(self) -> bool:
        """True for the control (the official SDK)."""
        return self.name == "official"


def make_flavour(name: str) -> Flavour:
    """The flavour called ``name`` (``official`` or ``bridge``)."""
    modules = _MODULES[name]
    return Flavour(
        name,
        Namespace(f"{name} qiskit", modules["qiskit"]),
        Namespace(f"{name} cirq", modules["cirq"]),
    )


@pytest.fixture(params=FLAVOURS, scope="session")
def flavour(request: pytest.FixtureRequest) -> Flavour:
    """The SDK under test; every test using it runs once per flavour."""
    return make_flavour(request.param)


@pytest.fixture(scope="session")
def garnet_url(emulator_url: str) -> str:
    """A noiseless 20-qubit square-lattice emulator (shared with the rest of the tests)."""
    return emulator_url


@pytest.fixture(scope="session")
def deneb_url(star_emulator_url: str) -> str:
    """A noiseless resonator-star emulator (6 qubits around one computational resonator)."""
    return star_emulator_url


@pytest.fixture(scope="session")
def queued_url() -> Iterator[str]:
    """A noiseless garnet emulator whose jobs wait 120 s in the queue before they run.

    For cancellation and timeouts: a job there is still queued when the test acts on it.
    """
    from iqm_bridge.emulator import Emulator

    with Emulator(machine="garnet", noise=False, seed=7, queue_delay=120.0) as url:
        yield url
