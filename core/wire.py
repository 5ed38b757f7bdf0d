"""Every name iqm-bridge puts on the wire besides iqm-client's own models.

The IQM protocol lets a client attach free-form metadata to each circuit. iqm-bridge uses it
for what a job must carry so that its results can be read back by any process (and so that a
resent submission can be recognised). The emulator reads the same names from here, never a
copy of them.
"""

from __future__ import annotations

__all__ = [
    "NOISE_METADATA_KEY",
    "QISKIT_METADATA_KEY",
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

QISKIT_METADATA_KEY = "iqm_bridge_qiskit"
"""Circuit metadata entry with what a qiskit result needs besides the registers:
``{"clbits": [column of clbit j, ...] or None, "memory": bool, "metadata": user metadata}``."""

NOISE_METADATA_KEY = "emulator_noise"
"""Circuit metadata entry the emulator reads as a per-circuit noise switch (true/false)."""
