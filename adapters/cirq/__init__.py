"""iqm_bridge.adapters.cirq: run cirq programs on IQM quantum computers through iqm-bridge.

``IQMSampler`` is a ``cirq.Sampler``: every sweep point of ``run_sweep`` and every circuit of
``run_batch`` goes out as ONE job, the circuit compiled once and bound per point. Results are
:class:`IQMResult` s (``cirq.ResultDict``) keyed by your measurement keys. ``IQMDevice`` is
the server's architecture as a ``cirq.Device`` with ``decompose_circuit``/``route_circuit``;
``Adonis()``, ``Apollo()`` and ``Aphrodite()`` are static ones for offline design::

    import cirq
    from iqm_bridge.adapters.cirq import IQMSampler

    a, b = cirq.LineQubit.range(2)
    bell = cirq.Circuit(cirq.H(a), cirq.CNOT(a, b), cirq.measure(a, b, key="m"))
    print(IQMSampler().run(bell, repetitions=1000).histogram(key="m"))
"""

from iqm_bridge.core import require as _require

_require("cirq", "cirq")

from iqm_bridge.adapters.cirq._convert import Converted, NonAffineParameterError, to_ir  # noqa: E402
from iqm_bridge.adapters.cirq._device import (  # noqa: E402
    Adonis,
    Aphrodite,
    Apollo,
    IQMDevice,
    IQMDeviceMetadata,
)
from iqm_bridge.adapters.cirq._gates import IQMMoveGate  # noqa: E402
from iqm_bridge.adapters.cirq._results import (  # noqa: E402
    IQMResult,
    IQMResultMetadata,
    ResultMetadata,
)
from iqm_bridge.adapters.cirq._sampler import (  # noqa: E402
    IncompatibleDeviceError,
    IQMJob,
    IQMSampler,
)
from iqm_bridge.adapters.cirq._tools import (  # noqa: E402
    circuit_from_qasm,
    simplify_circuit,
    transpile_insert_moves_into_circuit,
)

__all__ = [
    "Adonis",
    "Aphrodite",
    "Apollo",
    "Converted",
    "IQMDevice",
    "IQMDeviceMetadata",
    "IQMJob",
    "IQMMoveGate",
    "IQMResult",
    "IQMResultMetadata",
    "IQMSampler",
    "IncompatibleDeviceError",
    "NonAffineParameterError",
    "ResultMetadata",
    "circuit_from_qasm",
    "simplify_circuit",
    "to_ir",
    "transpile_insert_moves_into_circuit",
]
