"""nncore: build, train, save, load and run multi-layer perceptrons on the CPU.

A Python binding (ctypes) of libnncore.so, nncore's C library. Quick start::

    import nncore
    model = nncore.Model(2).dense(100, "relu").dense(3).loss("softmax")
    history = model.fit(X, y, epochs=1000, batch_size=0, lr=1.0, l2=1e-3)
    model.classify(X)
    model.save("spiral.nnm")

    g = nncore.Graph()
    x, y, z = g.scalar("x", -2), g.scalar("y", 5), g.scalar("z", -4)
    f = (x + y) * z
    f.backward()
    x.grad          # -4.0

scikit-learn estimators live in ``nncore.sklearn`` (``MLPClassifier``, ``MLPRegressor``).
See docs/python.md for the guide.
"""
from . import _capi
from ._errors import (BadHyperparameterError, BufferTooSmallError, BusyError, CancelledError,
                      CorruptFileError, DivergedError, EmptyDataError, Error, InternalError,
                      InvalidArgumentError, InvalidHandleError, InvalidStateError, IOFailureError,
                      LabelOutOfRangeError, LibraryError, LimitExceededError, NonFiniteError,
                      NotFoundError, NullPointerError, OutOfMemoryError, ShapeMismatchError,
                      StopTraining, UnsupportedVersionError, error_class)
from ._graph import Graph, Node
from ._loader import library_path
from ._model import EpochStats, Evaluation, History, Layer, Model
from ._options import (SGD, Adagrad, Adam, AdamW, Constant, CosineDecay, EarlyStopping, ExponentialDecay,
                       Momentum, Nesterov, Optimizer, RMSProp, Schedule, StepDecay, Warmup)
from ._support import check as _check
from ._support import lib as _lib

__version__ = f"{_capi.VERSION_MAJOR}.{_capi.VERSION_MINOR}.{_capi.VERSION_PATCH}"


def library_version() -> str:
    """The loaded C library's version, "MAJOR.MINOR.PATCH" (``__version__`` is the binding's)."""
    return _lib().nn_version_string().decode()


def set_thread_count(threads: int) -> None:
    """Sets how many threads a large matrix product uses (process-wide; counts above 64
    select 64). nncore splits large products over its own worker threads and runs OpenBLAS
    single-threaded inside each block (its first product sets the process-wide OpenBLAS
    count of the library it links to 1; NumPy's bundled OpenBLAS is a separate copy and is
    not affected, and stops that library's own idle threads). Training is deterministic for a
    given seed and thread count on one machine; another count may change the last bits, since
    a small weight gradient is summed in blocks of the batch's rows, one per thread.
    Small products run in nncore's own SIMD loops, built for AVX2 with fused multiply-adds
    where the CPU supports it and for baseline x86-64 otherwise (or when the environment
    variable NNCORE_KERNELS=baseline is set before the first product); on AVX2 CPUs a dense
    layer's products of 16 rows or more (forward, input and weight gradients) also run in
    nncore's own loops, with the same bits for any thread count. So results on different
    CPUs agree to float rounding, not bit for bit.

    Raises nncore.InvalidArgumentError for threads < 1."""
    _check(_lib().nn_set_thread_count(int(threads)))


def get_thread_count() -> int:
    """How many threads a large matrix product uses (see set_thread_count)."""
    return int(_lib().nn_get_thread_count())


def load(path) -> Model:
    """Loads a model file: ``nncore.Model.load(path)``."""
    return Model.load(path)


__all__ = [
    "Model", "Layer", "History", "EpochStats", "Evaluation", "Graph", "Node",
    "Optimizer", "SGD", "Momentum", "Nesterov", "Adagrad", "RMSProp", "Adam", "AdamW",
    "Schedule", "Constant", "StepDecay", "ExponentialDecay", "CosineDecay", "Warmup", "EarlyStopping",
    "StopTraining", "Error", "InvalidArgumentError", "NullPointerError", "ShapeMismatchError",
    "BufferTooSmallError", "LabelOutOfRangeError", "NonFiniteError", "EmptyDataError",
    "BadHyperparameterError", "InvalidStateError", "DivergedError", "CancelledError", "IOFailureError",
    "NotFoundError", "CorruptFileError", "UnsupportedVersionError", "LimitExceededError", "BusyError",
    "OutOfMemoryError", "InvalidHandleError", "InternalError", "LibraryError", "error_class",
    "load", "library_path", "library_version", "set_thread_count", "get_thread_count", "__version__",
]
