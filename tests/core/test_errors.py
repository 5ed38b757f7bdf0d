"""One error tree: every error the SDK raises on purpose is an ``IQMBridgeError``."""

from __future__ import annotations

import inspect

import iqm_bridge.core.errors as errors
from iqm_bridge.core import IQMBridgeError


def test_every_error_is_in_the_tree_and_exported() -> None:
    classes = {
        name: value
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, Exception)
    }
    assert set(classes) == set(errors.__all__)
    for cls in classes.values():
        assert issubclass(cls, IQMBridgeError), cls


def test_standard_bases_let_generic_handlers_catch_them() -> None:
    assert issubclass(errors.CircuitValidationError, ValueError)
    assert issubclass(errors.UnknownOptionError, TypeError)
    assert issubclass(errors.MissingDependencyError, ImportError)
    assert issubclass(errors.JobTimeoutError, TimeoutError)
    assert issubclass(errors.ServerUnavailableError, errors.ServerError)


def test_server_unavailable_says_whether_the_request_may_have_acted() -> None:
    err = errors.ServerUnavailableError("busy", maybe_processed=False, retry_after=3.0)
    assert (err.maybe_processed, err.retry_after, str(err)) == (False, 3.0, "busy")
