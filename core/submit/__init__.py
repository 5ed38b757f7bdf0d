"""The submission layer: native circuits to an IQM server as jobs, and results back.

:class:`Connection` (the device, submission, retrieval) sits on a :class:`Transport` (the only
module that touches iqm-client) and makes :class:`Job` handles (status, cancel, wait, results).
The :class:`Journal` remembers every submitted job id; :class:`RetryPolicy` says how patiently
requests are retried.
"""

from iqm_bridge.core.submit.connection import Connection
from iqm_bridge.core.submit.jobs import CircuitResult, Job, JobStatus, PollPolicy
from iqm_bridge.core.submit.journal import Journal, JournalEntry
from iqm_bridge.core.submit.retry import RetryPolicy
from iqm_bridge.core.submit.serialize import from_iqm_circuit, to_iqm_circuit
from iqm_bridge.core.submit.transport import Transport

__all__ = [
    "CircuitResult",
    "Connection",
    "Job",
    "JobStatus",
    "Journal",
    "JournalEntry",
    "PollPolicy",
    "RetryPolicy",
    "Transport",
    "from_iqm_circuit",
    "to_iqm_circuit",
]
