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
untranspiled ones of standard gates (compiled by iqm-bridge). On star machines the target
offers fictional qubit-qubit CZs and iqm-bridge inserts the MOVEs.
"""

from iqm_bridge.core import require as _require

_require("qiskit", "qiskit")

from iqm_bridge.adapters.qiskit._backend import IQMBackend, IQMProvider  # noqa: E402
from iqm_bridge.adapters.qiskit._convert import to_ir  # noqa: E402
from iqm_bridge.adapters.qiskit._job import IQMJob, IQMResult  # noqa: E402
from iqm_bridge.adapters.qiskit._target import MoveGate  # noqa: E402

__all__ = ["IQMBackend", "IQMJob", "IQMProvider", "IQMResult", "MoveGate", "to_ir"]
