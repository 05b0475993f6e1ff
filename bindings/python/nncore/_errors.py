"""Exceptions: ``nncore.Error`` and one subclass per C status code.

Every failure of a C call becomes an instance of the subclass for its ``nn_status``, carrying the
status code, its C name and the library's specific message (``nn_last_error_message()``). Checks
the binding makes itself before calling C (dtypes, shapes, lengths the C API cannot see) raise the
same classes, so one ``except nncore.ShapeMismatchError`` covers both.

The subclasses also derive from the matching built-in exception (``ValueError`` for bad
arguments and data, ``FileNotFoundError`` for missing files, ``MemoryError``, ``RuntimeError``
for state problems), so code that catches built-ins keeps working.
"""
from __future__ import annotations

from . import _capi


class Error(Exception):
    """Base class of every nncore error.

    Attributes:
        status: the ``nn_status`` code (an int, pinned forever by the C ABI).
        status_name: its C name, e.g. ``"NN_ERR_SHAPE_MISMATCH"``.
        message: the specific message, e.g. ``"layer 2 expects 100 inputs, got 64"``.
    """

    status: int = -1

    def __init__(self, message: str = "", status: int | None = None):
        if status is not None:
            self.status = status
        self.message = message
        self.status_name = _capi.NN_STATUS_NAMES.get(self.status, "NN_ERR_UNKNOWN")
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.message} [{self.status_name}]" if self.message else self.status_name

    def __reduce__(self):
        return (_rebuild, (type(self), self.message, self.status))


def _rebuild(cls, message, status):
    return cls(message, status)


class InvalidArgumentError(Error, ValueError):
    """An argument is malformed (bad count, index, name, or misuse of the API)."""
    status = _capi.NN_ERR_INVALID_ARGUMENT


class NullPointerError(Error, ValueError):
    """A required pointer was NULL (a binding bug if it ever reaches Python)."""
    status = _capi.NN_ERR_NULL_POINTER


class ShapeMismatchError(Error, ValueError):
    """Two shapes that must agree do not (input width, element counts, array dimensions)."""
    status = _capi.NN_ERR_SHAPE_MISMATCH


class BufferTooSmallError(Error, ValueError):
    """An output buffer is smaller than the result."""
    status = _capi.NN_ERR_BUFFER_TOO_SMALL


class LabelOutOfRangeError(Error, ValueError):
    """A class label is negative or not below the number of classes."""
    status = _capi.NN_ERR_LABEL_OUT_OF_RANGE


class NonFiniteError(Error, ValueError):
    """Data contain NaN or infinity."""
    status = _capi.NN_ERR_NON_FINITE


class EmptyDataError(Error, ValueError):
    """A data set has no samples."""
    status = _capi.NN_ERR_EMPTY_DATA


class BadHyperparameterError(Error, ValueError):
    """A hyper-parameter is out of its domain."""
    status = _capi.NN_ERR_BAD_HYPERPARAMETER


class InvalidStateError(Error, RuntimeError):
    """The object cannot do this now (a model without layers, a closed model, ...)."""
    status = _capi.NN_ERR_INVALID_STATE


class DivergedError(Error, ArithmeticError):
    """The training loss became NaN or infinite; the model keeps its last good weights."""
    status = _capi.NN_ERR_DIVERGED


class CancelledError(Error):
    """Training was cancelled by a callback (the binding normally turns this into a clean stop)."""
    status = _capi.NN_ERR_CANCELLED


class IOFailureError(Error, OSError):
    """Reading or writing a file failed (NN_ERR_IO)."""
    status = _capi.NN_ERR_IO


class NotFoundError(Error, FileNotFoundError):
    """A file, directory or key does not exist."""
    status = _capi.NN_ERR_NOT_FOUND


class CorruptFileError(Error, ValueError):
    """A model file is malformed, truncated, damaged or inconsistent."""
    status = _capi.NN_ERR_CORRUPT_FILE


class UnsupportedVersionError(Error, ValueError):
    """A model file needs a newer reader."""
    status = _capi.NN_ERR_UNSUPPORTED_VERSION


class LimitExceededError(Error, ValueError):
    """A size exceeds a hard limit of the library."""
    status = _capi.NN_ERR_LIMIT_EXCEEDED


class BusyError(Error, RuntimeError):
    """The model is in use by another thread in a way that excludes this call."""
    status = _capi.NN_ERR_BUSY


class OutOfMemoryError(Error, MemoryError):
    """Memory could not be allocated."""
    status = _capi.NN_ERR_OUT_OF_MEMORY


class InvalidHandleError(Error, RuntimeError):
    """A handle is freed, forged, or of the wrong kind."""
    status = _capi.NN_ERR_INVALID_HANDLE


class InternalError(Error, RuntimeError):
    """A bug in nncore; please report it with the message."""
    status = _capi.NN_ERR_INTERNAL


class LibraryError(Error, ImportError):
    """libnncore.so could not be found or loaded, or its major version does not match.

    The message lists every place that was tried and why each one failed.
    """
    status = -1

    def __str__(self) -> str:
        return self.message


class StopTraining(Exception):
    """Raise from a training callback to end ``fit`` early and cleanly.

    ``fit`` then returns normally; its history's ``stop_reason`` is ``"cancelled"`` and the model
    holds the weights of the epoch just finished. Not an error: it does not derive from
    ``nncore.Error``.
    """


_BY_STATUS = {cls.status: cls for cls in (
    InvalidArgumentError, NullPointerError, ShapeMismatchError, BufferTooSmallError,
    LabelOutOfRangeError, NonFiniteError, EmptyDataError, BadHyperparameterError,
    InvalidStateError, DivergedError, CancelledError, IOFailureError, NotFoundError, CorruptFileError,
    UnsupportedVersionError, LimitExceededError, BusyError, OutOfMemoryError,
    InvalidHandleError, InternalError)}


def error_class(status: int) -> type[Error]:
    """The exception class for an ``nn_status`` code (``Error`` for codes this binding does not know)."""
    return _BY_STATUS.get(status, Error)


def make_error(status: int, message: str) -> Error:
    """An exception for a failed call, with its status and message."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        return Error(message or f"unknown status {status}", status)
    return cls(message)
