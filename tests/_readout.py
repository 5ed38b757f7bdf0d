"""Shared pieces of the readout-mitigation tests: a readout-free reference and a GHZ chain.

The emulator switches single noise sources off per circuit through
``metadata[NOISE_METADATA_KEY]``; ``readout_off`` stamps ``{"readout": False}`` on every native
circuit a connection submits, so gate and idle noise stay on and only readout error goes.
"""

from __future__ import annotations

from typing import Any

import attrs

from iqm_bridge.core.submit.connection import Connection
from iqm_bridge.core.wire import NOISE_METADATA_KEY

# a path of coupled garnet qubits: a CNOT chain along it needs no routing
GARNET_CHAIN = ("QB1", "QB2", "QB5", "QB6", "QB7", "QB12", "QB11", "QB10", "QB9", "QB8")


def readout_off(connection: Connection) -> None:
    """Make every circuit ``connection`` submits ask the emulator to skip readout error."""
    submit = connection.submit

    def stamped(natives: Any, *args: Any, **kwargs: Any) -> Any:
        off = [
            attrs.evolve(c, metadata={**c.metadata, NOISE_METADATA_KEY: {"readout": False}})
            for c in natives
        ]
        return submit(off, *args, **kwargs)

    connection.submit = stamped  # type: ignore[method-assign]
