"""iqm_bridge.core: the framework-free heart of iqm-bridge.

The neutral circuit IR, the gate vocabulary, the device model, lowering and validation,
measurement-key maps and wire serialisation. Importing it imports no quantum framework and
not iqm-client either (iqm-client is imported where it is first needed).
"""

from iqm_bridge.core.device import Calibration, Device, GateSpec
from iqm_bridge.core.errors import (
    AmbiguousSubmissionError,
    CircuitValidationError,
    ConfigurationError,
    DuplicateMeasurementKeyError,
    IQMBridgeError,
    JobError,
    JobFailedError,
    JobNotFoundError,
    JobTimeoutError,
    LocusNotSupportedError,
    MissingDependencyError,
    NonFiniteParameterError,
    QubitNotOnDeviceError,
    ResultFormatError,
    ServerError,
    UnboundParameterError,
    UnknownOptionError,
    UnsupportedOperationError,
    UnwrittenMeasurementKeyError,
)
from iqm_bridge.core.gates import GATES, NATIVE_GATES, GateDef, gate_def, gate_unitary
from iqm_bridge.core.ir import Barrier, Circuit, Conditional, Delay, Gate, Measure, Operation, Reset
from iqm_bridge.core.lowering import lower, lower_gate
from iqm_bridge.core.parameters import Expression, Parameter, ParamValue

__all__ = [
    "GATES",
    "NATIVE_GATES",
    "AmbiguousSubmissionError",
    "Barrier",
    "Calibration",
    "Circuit",
    "CircuitValidationError",
    "Conditional",
    "ConfigurationError",
    "Delay",
    "Device",
    "DuplicateMeasurementKeyError",
    "Expression",
    "Gate",
    "GateDef",
    "GateSpec",
    "IQMBridgeError",
    "JobError",
    "JobFailedError",
    "JobNotFoundError",
    "JobTimeoutError",
    "LocusNotSupportedError",
    "Measure",
    "MissingDependencyError",
    "NonFiniteParameterError",
    "Operation",
    "ParamValue",
    "Parameter",
    "QubitNotOnDeviceError",
    "Reset",
    "ResultFormatError",
    "ServerError",
    "UnboundParameterError",
    "UnknownOptionError",
    "UnsupportedOperationError",
    "UnwrittenMeasurementKeyError",
    "gate_def",
    "gate_unitary",
    "lower",
    "lower_gate",
]
