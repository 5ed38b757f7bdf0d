"""The one exception hierarchy of iqm-bridge.

Every error the SDK raises on purpose derives from :class:`IQMBridgeError`, so a caller can
catch all of them at once, or catch a narrower branch (validation, jobs, configuration).
Messages name the offending gate, qubit, key or option and say how to fix it.
"""

from __future__ import annotations

__all__ = [
    "AmbiguousSubmissionError",
    "CircuitValidationError",
    "ConfigurationError",
    "DuplicateMeasurementKeyError",
    "IQMBridgeError",
    "JobError",
    "JobFailedError",
    "JobNotFoundError",
    "JobTimeoutError",
    "LocusNotSupportedError",
    "MissingDependencyError",
    "MalformedResponseError",
    "NonFiniteParameterError",
    "QubitNotOnDeviceError",
    "ResultFormatError",
    "ServerError",
    "ServerUnavailableError",
    "UnboundParameterError",
    "UnknownOptionError",
    "UnsupportedOperationError",
    "UnwrittenMeasurementKeyError",
]


class IQMBridgeError(Exception):
    """Base class of every error raised by iqm-bridge."""


class ConfigurationError(IQMBridgeError):
    """A setting (URL, token, option, environment variable) is missing or invalid."""


class UnknownOptionError(ConfigurationError, TypeError):
    """An option name is not one of the accepted options."""


class MissingDependencyError(IQMBridgeError, ImportError):
    """An optional framework is not installed; the message gives the pip command."""


class CircuitValidationError(IQMBridgeError, ValueError):
    """A circuit cannot run as given: the message names the culprit and the fix."""


class UnsupportedOperationError(CircuitValidationError):
    """A gate or instruction has no translation or no lowering to IQM natives."""


class QubitNotOnDeviceError(CircuitValidationError):
    """An operation acts on a qubit the device does not have."""


class LocusNotSupportedError(CircuitValidationError):
    """The device does not offer a native gate on the qubits an operation acts on."""


class NonFiniteParameterError(CircuitValidationError):
    """A gate parameter is NaN or infinite."""


class UnboundParameterError(CircuitValidationError):
    """A symbolic parameter has no value where a number is needed."""


class DuplicateMeasurementKeyError(CircuitValidationError):
    """Two measurements in one circuit write the same key."""


class UnwrittenMeasurementKeyError(CircuitValidationError):
    """A classically controlled operation reads a key that no earlier measurement wrote."""


class JobError(IQMBridgeError):
    """Base class of errors about a submitted job."""


class JobFailedError(JobError):
    """The server reports that the job failed or was cancelled."""


class JobTimeoutError(JobError, TimeoutError):
    """Waiting for a job exceeded the given timeout."""


class JobNotFoundError(JobError):
    """The server does not know the job id."""


class AmbiguousSubmissionError(JobError):
    """A submission may or may not have reached the server; the message says how to check."""


class ServerError(IQMBridgeError):
    """The server answered with an error or could not be reached."""


class ServerUnavailableError(ServerError):
    """The server could not be reached or is busy (a failure worth another try later).

    Attributes:
        maybe_processed: whether the request may have taken effect on the server (False when
            it provably never arrived, or when the IQM server itself answered that it refused
            it; True for a lost answer, a read time-out or a gateway's error page).
        retry_after: the server's ``Retry-After`` hint in seconds, if it gave one.
    """

    def __init__(
        self, message: str, *, maybe_processed: bool = True, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.maybe_processed = maybe_processed
        self.retry_after = retry_after


class MalformedResponseError(ServerError):
    """The server answered, but its answer does not parse as the protocol says."""


class ResultFormatError(IQMBridgeError):
    """The server's results do not have the shape the submitted circuits imply."""
