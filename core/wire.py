"""Every name iqm-bridge puts on the wire besides iqm-client's own models.

The IQM protocol lets a client attach free-form metadata to each circuit. iqm-bridge uses it
for what a job must carry so that its results can be read back by any process (and so that a
resent submission can be recognised). The emulator reads the same names from here, never a
copy of them.
"""

from __future__ import annotations

__all__ = [
    "NOISE_METADATA_KEY",
    "RESULT_METADATA_KEY",
    "QUBITS_METADATA_KEY",
    "REGISTERS_METADATA_KEY",
    "SUBMISSION_FEATURE",
    "SUBMISSION_METADATA_KEY",
]

SUBMISSION_METADATA_KEY = "iqm_bridge_submission_id"
"""Metadata entry of a job's first circuit: a client-made id unique to one submission, by
which a server that deduplicates recognises a resent job."""

SUBMISSION_FEATURE = "idempotent-submission"
"""The ``GET /api/v1/about`` feature by which a server says it deduplicates resent
submissions by :data:`SUBMISSION_METADATA_KEY`."""

REGISTERS_METADATA_KEY = "iqm_bridge_registers"
"""Circuit metadata entry listing the result registers ``[[name, size], ...]`` in order, so
registers that are never measured survive a round trip through the server."""

QUBITS_METADATA_KEY = "iqm_bridge_qubits"
"""Circuit metadata entry that carries the circuit's qubit order (idle qubits included)."""

RESULT_METADATA_KEY = "iqm_bridge_result"
"""Circuit metadata entry with what the adapter that made the circuit needs, besides the
registers, to rebuild its framework's result (JSON data the adapter defines), so a job
retrieved by id in another process comes back in the same shape."""

NOISE_METADATA_KEY = "emulator_noise"
"""Circuit metadata entry the emulator reads as a per-circuit noise switch (true/false)."""
