"""iqm_bridge.core: the framework-free heart of iqm-bridge.

The neutral circuit IR, the gate vocabulary, the device model, lowering and validation,
measurement-key maps and wire serialisation. Importing it imports no quantum framework and
not iqm-client either (iqm-client is imported where it is first needed).
"""

from iqm_bridge.core.compiler import CompileReport, CompileResult, compile
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
from iqm_bridge.core.journal import Journal, JournalEntry
from iqm_bridge.core.keys import KeyMap, MeasurementBits, Register, counts_from_bits
from iqm_bridge.core.lowering import lower, lower_gate
from iqm_bridge.core.options import RunOptions
from iqm_bridge.core.parameters import Expression, Parameter, ParamValue
from iqm_bridge.core.pipeline import prepare, prepare_one, run
from iqm_bridge.core.serialize import from_iqm_circuit, to_iqm_circuit
from iqm_bridge.core.submit import CircuitResult, Connection, Job, JobStatus, RetryPolicy
from iqm_bridge.core.templates import Template, get_template
from iqm_bridge.core.validation import validate, validate_native

__all__ = [
    "GATES",
    "NATIVE_GATES",
    "AmbiguousSubmissionError",
    "Barrier",
    "Calibration",
    "Circuit",
    "CircuitResult",
    "CircuitValidationError",
    "CompileReport",
    "CompileResult",
    "Conditional",
    "ConfigurationError",
    "Connection",
    "Delay",
    "Device",
    "DuplicateMeasurementKeyError",
    "Expression",
    "Gate",
    "GateDef",
    "GateSpec",
    "IQMBridgeError",
    "Job",
    "JobError",
    "JobFailedError",
    "JobNotFoundError",
    "JobStatus",
    "JobTimeoutError",
    "Journal",
    "JournalEntry",
    "KeyMap",
    "LocusNotSupportedError",
    "Measure",
    "MeasurementBits",
    "MissingDependencyError",
    "NonFiniteParameterError",
    "Operation",
    "ParamValue",
    "Parameter",
    "QubitNotOnDeviceError",
    "Register",
    "Reset",
    "ResultFormatError",
    "RetryPolicy",
    "RunOptions",
    "Template",
    "ServerError",
    "UnboundParameterError",
    "UnknownOptionError",
    "UnsupportedOperationError",
    "UnwrittenMeasurementKeyError",
    "compile",
    "counts_from_bits",
    "from_iqm_circuit",
    "gate_def",
    "gate_unitary",
    "get_template",
    "lower",
    "lower_gate",
    "prepare",
    "prepare_one",
    "run",
    "to_iqm_circuit",
    "validate",
    "validate_native",
]
