"""iqm_bridge.adapters.qiskit: run qiskit programs on IQM quantum computers through iqm-bridge.

::

    from qiskit import QuantumCircuit
    from iqm_bridge.adapters.qiskit import IQMProvider

    backend = IQMProvider().get_backend()  # no URL: the embedded emulator
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure_all()
    print(backend.run(qc, shots=1000).result().get_counts())

``backend.run`` takes circuits transpiled for ``backend`` (submitted as they are) and also
untranspiled ones of standard gates (compiled by iqm-bridge). ``qiskit.transpile(circuit,
backend)`` gives IQM-native circuits: the backend's scheduling stage (the ``iqm_bridge``
plugin) merges single-qubit runs into one ``r`` each and, on star machines, whose target
offers fictional qubit-qubit CZs, inserts the MOVEs.
"""

from iqm_bridge.core import require as _require

_require("qiskit", "qiskit")

from iqm_bridge.adapters.qiskit._backend import IQMBackend, IQMProvider  # noqa: E402
from iqm_bridge.adapters.qiskit._convert import to_ir  # noqa: E402
from iqm_bridge.adapters.qiskit._job import IQMJob, IQMResult  # noqa: E402
from iqm_bridge.adapters.qiskit._primitives import EstimatorV2, SamplerV2  # noqa: E402
from iqm_bridge.adapters.qiskit._target import IQMTarget, MoveGate  # noqa: E402
from iqm_bridge.adapters.qiskit._transpile import (  # noqa: E402
    IQMNativeCircuit,
    IQMSchedulingPlugin,
    optimize_single_qubit_gates,
    transpile_to_IQM,
)

__all__ = [
    "EstimatorV2",
    "IQMBackend",
    "IQMJob",
    "IQMNativeCircuit",
    "IQMProvider",
    "IQMResult",
    "IQMSchedulingPlugin",
    "IQMTarget",
    "MoveGate",
    "SamplerV2",
    "optimize_single_qubit_gates",
    "to_ir",
    "transpile_to_IQM",
]
