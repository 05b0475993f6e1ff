"""``nncore.Model``: build, train, inspect, save and run a multi-layer perceptron."""
from __future__ import annotations

import ctypes
import math
import os
import signal
import threading
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Union

import numpy as np

from . import _capi, _options, _progress
from ._errors import (BadHyperparameterError, InvalidArgumentError, InvalidStateError, ShapeMismatchError,
                      StopTraining)
from ._support import (FLOAT32, INT32, address, as_float_vector, as_inputs, as_labels, as_targets, check,
                       check_out, encode, float_ptr, floats, int32_ptr, is_number, lib, string_array, text)

ACTIVATIONS = {
    "identity": _capi.NN_ACTIVATION_IDENTITY, "linear": _capi.NN_ACTIVATION_IDENTITY,
    "relu": _capi.NN_ACTIVATION_RELU, "leaky_relu": _capi.NN_ACTIVATION_LEAKY_RELU,
    "sigmoid": _capi.NN_ACTIVATION_SIGMOID, "logistic": _capi.NN_ACTIVATION_SIGMOID,
    "tanh": _capi.NN_ACTIVATION_TANH, "elu": _capi.NN_ACTIVATION_ELU,
    "gelu": _capi.NN_ACTIVATION_GELU, "softplus": _capi.NN_ACTIVATION_SOFTPLUS,
}
ACTIVATION_NAMES = {_capi.NN_ACTIVATION_IDENTITY: "identity", _capi.NN_ACTIVATION_RELU: "relu",
                    _capi.NN_ACTIVATION_LEAKY_RELU: "leaky_relu", _capi.NN_ACTIVATION_SIGMOID: "sigmoid",
                    _capi.NN_ACTIVATION_TANH: "tanh", _capi.NN_ACTIVATION_ELU: "elu",
                    _capi.NN_ACTIVATION_GELU: "gelu", _capi.NN_ACTIVATION_SOFTPLUS: "softplus"}
DEFAULT_ALPHA = {_capi.NN_ACTIVATION_LEAKY_RELU: 0.01, _capi.NN_ACTIVATION_ELU: 1.0}

LOSSES = {
    "softmax": _capi.NN_LOSS_SOFTMAX_CROSS_ENTROPY, "softmax_cross_entropy": _capi.NN_LOSS_SOFTMAX_CROSS_ENTROPY,
    "cross_entropy": _capi.NN_LOSS_SOFTMAX_CROSS_ENTROPY, "log_loss": _capi.NN_LOSS_SOFTMAX_CROSS_ENTROPY,
    "hinge": _capi.NN_LOSS_MULTICLASS_HINGE, "svm": _capi.NN_LOSS_MULTICLASS_HINGE,
    "multiclass_hinge": _capi.NN_LOSS_MULTICLASS_HINGE,
    "mse": _capi.NN_LOSS_MEAN_SQUARED_ERROR, "mean_squared_error": _capi.NN_LOSS_MEAN_SQUARED_ERROR,
    "squared_error": _capi.NN_LOSS_MEAN_SQUARED_ERROR,
    "binary_cross_entropy": _capi.NN_LOSS_BINARY_CROSS_ENTROPY, "bce": _capi.NN_LOSS_BINARY_CROSS_ENTROPY,
}
LOSS_NAMES = {_capi.NN_LOSS_SOFTMAX_CROSS_ENTROPY: "softmax", _capi.NN_LOSS_MULTICLASS_HINGE: "hinge",
              _capi.NN_LOSS_MEAN_SQUARED_ERROR: "mse", _capi.NN_LOSS_BINARY_CROSS_ENTROPY: "binary_cross_entropy"}
LAYER_KINDS = {_capi.NN_LAYER_DENSE: "dense", _capi.NN_LAYER_MAXOUT: "maxout", _capi.NN_LAYER_DROPOUT: "dropout"}


def _loss_code(loss: Union[str, int]) -> int:
    if isinstance(loss, str) and loss.lower() in LOSSES:
        return LOSSES[loss.lower()]
    if isinstance(loss, int) and loss in LOSS_NAMES:
        return loss
    raise InvalidArgumentError(f"unknown loss {loss!r}; use one of {sorted(LOSSES)}")


def _activation_code(activation: Union[str, int, None]) -> int:
    if activation is None:
        return _capi.NN_ACTIVATION_IDENTITY
    if isinstance(activation, str) and activation.lower() in ACTIVATIONS:
        return ACTIVATIONS[activation.lower()]
    if isinstance(activation, int) and activation in ACTIVATION_NAMES:
        return activation
    raise InvalidArgumentError(f"unknown activation {activation!r}; use one of {sorted(ACTIVATIONS)}")


class _Shape(NamedTuple):
    """What the binding needs of a model's nn_model_info on every call (see ``Model._shape``)."""
    loss: int
    output_width: int


def _none_if_nan(value: float) -> Optional[float]:
    return None if math.isnan(value) else float(value)


@dataclass(frozen=True)
class EpochStats:
    """Statistics of one training epoch. Absent values (accuracy of a regressor, validation
    metrics without validation data) are None."""

    epoch: int
    """The epoch over the model's whole life, from 1."""
    loss: float
    """Mean data loss over the epoch's steps (without the regularisation term)."""
    regularization_loss: float
    """Mean l2*sum(W^2) + l1*sum(|W|) over the epoch's steps."""
    accuracy: Optional[float]
    val_loss: Optional[float]
    val_accuracy: Optional[float]
    lr: float
    """The learning rate of the epoch."""
    seconds: float

    @property
    def total_loss(self) -> float:
        """The full loss: data loss + regularisation."""
        return self.loss + self.regularization_loss

    @classmethod
    def _from_c(cls, c: _capi.nn_epoch_stats) -> "EpochStats":
        return cls(epoch=int(c.epoch), loss=float(c.data_loss), regularization_loss=float(c.regularization_loss),
                   accuracy=_none_if_nan(c.accuracy), val_loss=_none_if_nan(c.validation_loss),
                   val_accuracy=_none_if_nan(c.validation_accuracy), lr=float(c.learning_rate),
                   seconds=float(c.seconds))


class History(Sequence[EpochStats]):
    """The epochs of one ``fit`` call (or, from ``Model.history``, of the model's whole life).

    A sequence of ``EpochStats``, with each metric as a NumPy array (NaN where absent):
    ``history.loss``, ``.accuracy``, ``.val_loss``, ``.val_accuracy``, ``.lr``, ``.seconds``.
    ``stop_reason`` is ``"completed"``, ``"early_stopped"`` or ``"cancelled"`` (a callback raised
    ``nncore.StopTraining``); ``best_epoch`` is the epoch whose weights the model holds after early
    stopping.
    """

    def __init__(self, epochs: List[EpochStats], stop_reason: Optional[str] = None,
                 best_epoch: Optional[int] = None):
        self.epochs = list(epochs)
        self.stop_reason = stop_reason
        self.best_epoch = best_epoch

    def __len__(self) -> int:
        return len(self.epochs)

    def __getitem__(self, index):
        return self.epochs[index]

    def _column(self, name: str) -> np.ndarray:
        return np.array([np.nan if getattr(e, name) is None else getattr(e, name) for e in self.epochs],
                        dtype=np.float64)

    loss = property(lambda self: self._column("loss"), doc="Data loss per epoch.")
    regularization_loss = property(lambda self: self._column("regularization_loss"))
    accuracy = property(lambda self: self._column("accuracy"), doc="Training accuracy per epoch (NaN for regression).")
    val_loss = property(lambda self: self._column("val_loss"), doc="Validation loss per epoch (NaN without validation).")
    val_accuracy = property(lambda self: self._column("val_accuracy"))
    lr = property(lambda self: self._column("lr"), doc="Learning rate per epoch.")
    seconds = property(lambda self: self._column("seconds"))

    def as_dict(self) -> dict:
        """The metrics as a dict of lists (Keras' ``history.history`` shape)."""
        names = ("loss", "regularization_loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds")
        return {name: [getattr(e, name) for e in self.epochs] for name in names}

    def __repr__(self) -> str:
        if not self.epochs:
            return "History(0 epochs)"
        last = self.epochs[-1]
        parts = [f"{len(self)} epochs", f"loss {last.loss:.4g}"]
        if last.accuracy is not None:
            parts.append(f"accuracy {last.accuracy:.2%}")
        if last.val_loss is not None:
            parts.append(f"val_loss {last.val_loss:.4g}")
        if self.stop_reason and self.stop_reason != "completed":
            parts.append(self.stop_reason)
        return f"History({', '.join(parts)})"


class Evaluation(NamedTuple):
    """Result of ``Model.evaluate``: mean data loss, accuracy (None for regression), samples."""

    loss: float
    accuracy: Optional[float]
    count: int


class Layer:
    """A view of one layer of a model; ``weights`` and ``biases`` read and write the model.

    Reading returns a new array (weights of shape (inputs, units), y = x @ W + b); assign a whole
    array to change them (``layer.weights = w``); editing the returned array in place does not
    change the model.
    """

    def __init__(self, model: "Model", index: int, info: _capi.nn_layer_info):
        self._model = model
        self.index = index
        self.kind = LAYER_KINDS.get(info.kind, str(info.kind))
        self.units = int(info.units)
        self.activation = ACTIVATION_NAMES.get(info.activation) if self.kind == "dense" else None
        self.alpha = float(info.alpha) if self.activation in ("leaky_relu", "elu") else None
        self.pieces = int(info.pieces) if self.kind == "maxout" else None
        self.rate = float(info.rate) if self.kind == "dropout" else None
        self.input_width = int(info.input_width)
        self.output_width = int(info.output_width)
        self.weight_shape = (int(info.weight_rows), int(info.weight_cols))

    @property
    def trainable(self) -> bool:
        return self.kind != "dropout"

    @property
    def parameter_count(self) -> int:
        rows, cols = self.weight_shape
        return rows * cols + cols if self.trainable else 0

    @property
    def weights(self) -> np.ndarray:
        return floats(lib().nn_model_get_weights, self._model._live(), self.index, shape=self.weight_shape)

    @weights.setter
    def weights(self, value) -> None:
        array = np.ascontiguousarray(np.asarray(value), dtype=np.float32)
        if array.shape != self.weight_shape:
            raise ShapeMismatchError(f"layer {self.index} weights have shape {self.weight_shape}, got {array.shape}")
        check(lib().nn_model_set_weights(self._model._live(), self.index, float_ptr(array), array.size))

    @property
    def biases(self) -> np.ndarray:
        return floats(lib().nn_model_get_biases, self._model._live(), self.index)

    @biases.setter
    def biases(self, value) -> None:
        array = as_float_vector(value, self.weight_shape[1], f"layer {self.index} biases")
        check(lib().nn_model_set_biases(self._model._live(), self.index, float_ptr(array), array.size))

    def describe(self) -> str:
        if self.kind == "dense":
            extra = self.activation + (f"(alpha={self.alpha:g})" if self.alpha is not None else "")
        elif self.kind == "maxout":
            extra = f"{self.pieces} pieces"
        else:
            extra = f"rate {self.rate:g}"
        return f"{self.kind} {self.units or ''} {extra}".replace("  ", " ")

    def __repr__(self) -> str:
        return f"<nncore.Layer {self.index}: {self.describe()}, {self.input_width}->{self.output_width}>"


class _Metadata(MutableMapping):
    """The model's free key/value metadata (str -> str), saved with it."""

    def __init__(self, model: "Model"):
        self._model = model

    def __getitem__(self, key: str) -> str:
        k = encode(key, "metadata key") if isinstance(key, str) else None
        if not k:
            raise KeyError(key)
        length = ctypes.c_size_t(0)
        status = lib().nn_model_get_metadata(self._model._live(), k, None, 0, ctypes.byref(length))
        if status == _capi.NN_ERR_NOT_FOUND:
            raise KeyError(key)
        return text(lib().nn_model_get_metadata, self._model._live(), k)

    def __setitem__(self, key: str, value: str) -> None:
        check(lib().nn_model_set_metadata(self._model._live(), encode(key, "metadata key"),
                                          encode(str(value), "metadata value")))

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        check(lib().nn_model_set_metadata(self._model._live(), encode(key, "metadata key"), None))

    def __iter__(self) -> Iterator[str]:
        count = self._model._info().metadata_count
        keys = [text(lib().nn_model_get_metadata_key, self._model._live(), i) for i in range(count)]
        return iter(keys)

    def __len__(self) -> int:
        return int(self._model._info().metadata_count)

    def __repr__(self) -> str:
        return repr(dict(self.items()))


class _FitRun:
    """The state of one fit call shared with its C callback: epochs seen, a stop request, and an
    exception to re-raise once the C call has returned."""

    def __init__(self, callbacks, progress):
        self.callbacks = callbacks
        self.progress = progress
        self.epochs: List[EpochStats] = []
        self.stopped = False
        self.interrupted = False
        self.error: Optional[BaseException] = None

    def on_epoch(self, stats_pointer, _user_data) -> int:
        # Runs on the training thread while the C call is in progress. Nothing may escape: ctypes
        # would print and ignore it, and training would go on. So: record it, return non-zero
        # (cancel), re-raise after the C call returns.
        try:
            stats = EpochStats._from_c(stats_pointer.contents)
            self.epochs.append(stats)
            if self.progress is not None:
                self.progress.update(stats)
            for callback in self.callbacks:
                callback(stats)
            return 1 if self.interrupted else 0
        except StopTraining:
            self.stopped = True
            return 1
        except BaseException as error:  # noqa: BLE001 - re-raised unchanged by fit
            self.error = error
            return 1

    def on_sigint(self, signum, frame):
        # Runs (in the main thread) at the next epoch's callback: only note the request, so that
        # no KeyboardInterrupt can surface inside ctypes' callback machinery.
        self.interrupted = True


class Model:
    """A multi-layer perceptron: layers, loss, parameters, training state and history.

    Build it in one chain, train it, use it::

        model = nncore.Model(2).dense(100, "relu").dense(3).loss("softmax")
        history = model.fit(X, y, epochs=200, lr=1.0, l2=1e-3, batch_size=0)
        model.classify(X)

    ``Model(inputs, loss="softmax", seed=0)`` creates a model without layers; ``dense``,
    ``maxout`` and ``dropout`` append layers (each layer's parameters are drawn from the model's
    own generator when it is added) and return the model. Losses: ``"softmax"`` (cross-entropy),
    ``"hinge"`` (multiclass SVM), ``"mse"``, ``"binary_cross_entropy"``.

    Arrays: inputs are (samples, features); float32 C-contiguous arrays (and int32 labels) are
    passed to the C library without a copy, anything else is converted once per call. Outputs are
    new NumPy arrays, or written into ``out=``.

    Threads: ``predict``, ``predict_proba``, ``classify``, ``evaluate``, inspection and saving
    may run on one model from many threads at once (the GIL is released during the C call);
    ``fit`` and setters need the model alone and raise ``nncore.BusyError`` otherwise.

    Resources: the C model is freed by ``close()``, at the end of a ``with`` block, or when the
    object is garbage-collected. Models pickle (through their file bytes) and copy.
    """

    _handle: Optional[int] = None

    def __init__(self, inputs: int, *, loss: Union[str, int] = "softmax", seed: int = 0):
        if not isinstance(inputs, (int, np.integer)) or isinstance(inputs, bool) or inputs < 1:
            raise InvalidArgumentError(f"inputs must be a positive int (the width of an input row), got {inputs!r}")
        handle = ctypes.c_void_p()
        check(lib().nn_model_create(int(inputs), _loss_code(loss), _seed(seed), ctypes.byref(handle)))
        self._handle = handle.value

    @classmethod
    def _adopt(cls, handle: ctypes.c_void_p) -> "Model":
        model = cls.__new__(cls)
        model._handle = handle.value
        return model

    # ---- lifetime ---------------------------------------------------------------------------

    def _live(self) -> int:
        handle = self._handle
        if handle is None:
            raise InvalidStateError("the model is closed")
        return handle

    def close(self) -> None:
        """Frees the C model. Idempotent; the model cannot be used afterwards."""
        handle, self._handle = self._handle, None
        if handle is not None:
            lib().nn_model_free(handle)

    @property
    def closed(self) -> bool:
        return self._handle is None

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        # A fallback only: close() or `with` free the model deterministically.
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown may have torn down the module
            pass

    def copy(self) -> "Model":
        """An independent copy: parameters, data description, training state and history."""
        handle = ctypes.c_void_p()
        check(lib().nn_model_clone(self._live(), ctypes.byref(handle)))
        return Model._adopt(handle)

    __copy__ = copy

    def __deepcopy__(self, memo) -> "Model":
        return self.copy()

    def __reduce__(self):
        return (_from_bytes, (self.to_bytes(),))

    # ---- building ---------------------------------------------------------------------------

    def dense(self, units: int, activation: Union[str, None] = "identity", *, alpha: Optional[float] = None) -> "Model":
        """Appends a fully connected layer y = f(x W + b) and returns the model.

        ``activation``: identity (the default, for the output layer), relu, leaky_relu, sigmoid,
        tanh, elu, gelu, softplus. ``alpha`` is Leaky ReLU's slope (default 0.01) or ELU's scale
        (default 1).
        """
        code = _activation_code(activation)
        a = DEFAULT_ALPHA.get(code, 0.0) if alpha is None else float(alpha)
        check(lib().nn_model_add_dense(self._live(), _count(units, "units"), code, a))
        self._shape_cache = None
        return self

    def maxout(self, units: int, pieces: int = 2) -> "Model":
        """Appends a maxout layer (max over ``pieces`` linear pieces per unit) and returns the model."""
        check(lib().nn_model_add_maxout(self._live(), _count(units, "units"), _count(pieces, "pieces")))
        self._shape_cache = None
        return self

    def dropout(self, rate: float) -> "Model":
        """Appends an inverted-dropout layer (active during training only) and returns the model."""
        check(lib().nn_model_add_dropout(self._live(), float(rate)))
        self._shape_cache = None
        return self

    def loss(self, loss: Union[str, int]) -> "Model":
        """Sets the data loss and returns the model (read it back with ``loss_name``)."""
        check(lib().nn_model_set_loss(self._live(), _loss_code(loss)))
        self._shape_cache = None
        return self

    def reinitialize(self, seed: int) -> "Model":
        """Draws fresh parameters from ``seed`` and forgets the training state (history stays)."""
        check(lib().nn_model_reinitialize(self._live(), _seed(seed)))
        return self

    def reset_training(self) -> "Model":
        """Forgets the optimiser state and the epoch and step counters (weights stay)."""
        check(lib().nn_model_reset_training(self._live()))
        return self

    # ---- inspection -------------------------------------------------------------------------

    def _info(self) -> _capi.nn_model_info:
        info = _capi.nn_model_info()
        check(lib().nn_model_info_init(ctypes.byref(info)))
        check(lib().nn_model_get_info(self._live(), ctypes.byref(info)))
        return info

    input_width = property(lambda self: int(self._info().input_width), doc="Width of an input row.")
    output_width = property(lambda self: int(self._info().output_width), doc="Width of an output row.")
    n_classes = property(lambda self: int(self._info().class_count),
                         doc="Number of classes (0 for regression; 2 for a one-output binary model).")
    parameter_count = property(lambda self: int(self._info().parameter_count), doc="Trainable parameters.")
    epochs_trained = property(lambda self: int(self._info().epochs_trained),
                              doc="Epochs completed over the model's life (the schedule's position).")
    steps_trained = property(lambda self: int(self._info().steps_trained), doc="Optimiser updates over the model's life.")
    seed = property(lambda self: int(self._info().seed), doc="The seed the model was created (or reinitialised) with.")
    loss_name = property(lambda self: LOSS_NAMES.get(self._info().loss, "unknown"),
                         doc="The data loss: 'softmax', 'hinge', 'mse' or 'binary_cross_entropy'.")

    @property
    def layers(self) -> List[Layer]:
        """The layers, as ``Layer`` views."""
        handle = self._live()
        result = []
        for index in range(self._info().layer_count):
            info = _capi.nn_layer_info()
            check(lib().nn_layer_info_init(ctypes.byref(info)))
            check(lib().nn_model_get_layer(handle, index, ctypes.byref(info)))
            result.append(Layer(self, index, info))
        return result

    def __len__(self) -> int:
        return int(self._info().layer_count)

    def get_weights(self) -> List[np.ndarray]:
        """[W0, b0, W1, b1, ...] of the trainable layers (new arrays; W is (inputs, units))."""
        out = []
        for layer in self.layers:
            if layer.trainable:
                out += [layer.weights, layer.biases]
        return out

    def set_weights(self, arrays: Sequence[Any]) -> None:
        """Sets every trainable layer's parameters from [W0, b0, W1, b1, ...]."""
        layers = [layer for layer in self.layers if layer.trainable]
        if len(arrays) != 2 * len(layers):
            raise ShapeMismatchError(f"expected {2 * len(layers)} arrays (weights and biases of "
                                     f"{len(layers)} layers), got {len(arrays)}")
        for i, layer in enumerate(layers):
            layer.weights = arrays[2 * i]
            layer.biases = arrays[2 * i + 1]

    @property
    def metadata(self) -> MutableMapping:
        """Free key/value metadata (str -> str) saved with the model; a live mapping."""
        return _Metadata(self)

    @metadata.setter
    def metadata(self, values: dict) -> None:
        mapping = _Metadata(self)
        for key in list(mapping):
            del mapping[key]
        mapping.update(values)

    @property
    def class_labels(self) -> List[str]:
        """Names of the classes (empty when not set); set a list of n_classes names, or []."""
        handle = self._live()
        return [text(lib().nn_model_get_class_label, handle, i) for i in range(self._info().class_label_count)]

    @class_labels.setter
    def class_labels(self, labels: Optional[Sequence[Any]]) -> None:
        array, keep = string_array(list(labels or []), "class_labels")
        check(lib().nn_model_set_class_labels(self._live(), array, len(keep)))

    @property
    def feature_names(self) -> List[str]:
        """Names of the input features (empty when not set); set a list of input_width names, or []."""
        handle = self._live()
        return [text(lib().nn_model_get_feature_name, handle, i) for i in range(self._info().feature_name_count)]

    @feature_names.setter
    def feature_names(self, names: Optional[Sequence[Any]]) -> None:
        array, keep = string_array(list(names or []), "feature_names")
        check(lib().nn_model_set_feature_names(self._live(), array, len(keep)))

    @property
    def standardization(self) -> Optional[tuple]:
        """The input standardisation (mean, scale) applied before the first layer, or None."""
        handle = self._live()
        count = ctypes.c_size_t(0)
        status = lib().nn_model_get_standardization(handle, None, None, 0, ctypes.byref(count))
        if status not in (_capi.NN_OK, _capi.NN_ERR_BUFFER_TOO_SMALL):
            check(status)
        if count.value == 0:
            return None
        mean = np.empty(count.value, np.float32)
        scale = np.empty(count.value, np.float32)
        check(lib().nn_model_get_standardization(handle, float_ptr(mean), float_ptr(scale), count.value,
                                                 ctypes.byref(count)))
        return mean, scale

    @standardization.setter
    def standardization(self, value: Optional[tuple]) -> None:
        if value is None:
            check(lib().nn_model_set_standardization(self._live(), None, None, 0))
            return
        mean, scale = value
        width = self.input_width
        mean = as_float_vector(mean, width, "standardization mean")
        scale = as_float_vector(scale, width, "standardization scale")
        check(lib().nn_model_set_standardization(self._live(), float_ptr(mean), float_ptr(scale), width))

    @property
    def history(self) -> History:
        """Every epoch of every fit over the model's life (also after save and load)."""
        handle = self._live()
        epochs = []
        for index in range(self._info().history_count):
            stats = _capi.nn_epoch_stats()
            check(lib().nn_epoch_stats_init(ctypes.byref(stats)))
            check(lib().nn_model_get_epoch(handle, index, ctypes.byref(stats)))
            epochs.append(EpochStats._from_c(stats))
        return History(epochs)

    def to_dot(self) -> str:
        """The model's inference graph as Graphviz DOT text."""
        return text(lib().nn_model_to_dot, self._live())

    def summary(self) -> str:
        """A table of the layers, their shapes and parameter counts, and the training state."""
        info = self._info()
        rows = [("#", "layer", "output", "parameters")]
        for layer in self.layers:
            rows.append((str(layer.index), layer.describe(), str(layer.output_width), f"{layer.parameter_count:,}"))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = [f"nncore.Model: {info.input_width} inputs -> {info.output_width} outputs, "
                 f"loss {LOSS_NAMES.get(info.loss, '?')}"]
        for i, r in enumerate(rows):
            lines.append(f"  {r[0]:>{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:>{widths[3]}}")
            if i == 0:
                lines.append("  " + "-" * (sum(widths) + 6))
        lines.append(f"  parameters: {info.parameter_count:,}")
        if info.has_standardization:
            lines.append("  inputs are standardised")
        if info.class_label_count:
            lines.append(f"  classes: {', '.join(self.class_labels)}")
        lines.append(f"  trained: {info.epochs_trained} epochs, {info.steps_trained} steps")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary() if self._handle is not None else "nncore.Model (closed)"

    def __repr__(self) -> str:
        if self._handle is None:
            return "<nncore.Model (closed)>"
        info = self._info()
        widths = [str(info.input_width)] + [str(layer.output_width) for layer in self.layers if layer.trainable]
        return (f"<nncore.Model {'-'.join(widths)} {LOSS_NAMES.get(info.loss, '?')}, "
                f"{info.parameter_count} parameters, {info.epochs_trained} epochs trained>")

    # ---- data --------------------------------------------------------------------------------

    def _dataset(self, X, y, sample_weight, info, name: str = ""):
        """An nn_dataset over the arrays (kept alive by the returned list)."""
        X = as_inputs(X, f"{name}X")
        rows, cols = X.shape
        data = _capi.nn_dataset()
        check(lib().nn_dataset_init(ctypes.byref(data)))
        data.inputs = float_ptr(X)
        data.rows = rows
        data.cols = cols
        keep = [X]
        if y is None:
            raise InvalidArgumentError(f"{name}y is required")
        if self._uses_labels(info, y):
            labels = as_labels(y, rows, f"{name}y")
            data.labels = int32_ptr(labels)
            keep.append(labels)
        else:
            targets = as_targets(y, rows, info.output_width, f"{name}y")
            data.targets = float_ptr(targets)
            data.target_cols = targets.shape[1]
            keep.append(targets)
        if sample_weight is not None:
            weights = as_float_vector(sample_weight, rows, f"{name}sample_weight")
            data.sample_weights = float_ptr(weights)
            keep.append(weights)
        return data, keep

    @staticmethod
    def _uses_labels(info, y) -> bool:
        if info.loss in (_capi.NN_LOSS_SOFTMAX_CROSS_ENTROPY, _capi.NN_LOSS_MULTICLASS_HINGE):
            return True
        if info.loss == _capi.NN_LOSS_BINARY_CROSS_ENTROPY and info.output_width == 1:
            kind = getattr(y, "dtype", np.asarray(y).dtype).kind
            return kind in "iub"
        return False

    # ---- training ----------------------------------------------------------------------------

    def fit(self, X, y, *, epochs: int = 10, batch_size: int = 32,
            optimizer: Union[str, _options.Optimizer, None] = "sgd", lr: float = 0.01,
            l2: float = 0.0, l1: float = 0.0, schedule: Union[str, _options.Schedule, None] = None,
            validation=None, early_stopping=None, seed: Optional[int] = None, progress=None,
            callbacks: Union[Callable[[EpochStats], Any], Iterable[Callable[[EpochStats], Any]], None] = None,
            sample_weight=None, standardize: bool = False, shuffle: bool = True,
            clip_norm: Optional[float] = None) -> History:
        """Trains the model and returns this call's ``History``.

        Args:
            X: (samples, features) inputs.
            y: class indices (softmax, hinge; 0/1 for a one-output binary model) or float
                targets (mse; binary cross-entropy), one row per sample.
            epochs: passes over the data.
            batch_size: samples per step; 0 for full batch.
            optimizer: ``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adagrad"``, ``"rmsprop"``,
                ``"adam"``, ``"adamw"`` or an object (``nncore.Adam(beta1=0.9)``).
            lr: base learning rate.
            l2, l1: regularisation strengths: the full loss is mean data loss
                + l2*sum(W^2) + l1*sum(|W|) over weights (not biases).
            schedule: ``nncore.StepDecay([30, 60, 90], 0.1)``, ``ExponentialDecay``,
                ``CosineDecay``, ``Warmup``, or a name; per epoch over the model's whole life.
            validation: ``(X_val, y_val)`` (optionally ``(X_val, y_val, w_val)``), or a fraction
                of ``X`` to hold out, monitored after each epoch.
            early_stopping: a patience (int), ``True`` (10) or ``nncore.EarlyStopping``; the
                best epoch's weights are restored.
            seed: when given, re-initialises the parameters and training state from this seed
                first (a reproducible fresh start); None continues from the current state.
            progress: None (a bar when standard error is a terminal and training lasts over a
                second), True, False, ``"tqdm"`` or ``"plain"``.
            callbacks: a function or list of functions called with each epoch's ``EpochStats``.
                Raise ``nncore.StopTraining`` to stop cleanly; any other exception stops training
                and is re-raised unchanged by ``fit``. They must not use this model (it is busy).
            sample_weight: one non-negative weight per sample.
            standardize: fit input standardisation from the training rows first (kept with the
                model and applied at prediction), unless the model already has one.
            shuffle: shuffle the rows every epoch.
            clip_norm: rescale gradients to at most this global L2 norm.

        Ctrl-C stops training at the end of the current epoch and raises ``KeyboardInterrupt``;
        the model keeps the weights of the last completed epoch and stays usable. If the loss
        diverges, ``nncore.DivergedError`` is raised and the model keeps its last good weights.
        """
        handle = self._live()
        info = self._info()
        data, keep = self._dataset(X, y, sample_weight, info)
        validation_data = None
        options = _capi.nn_train_options()
        check(lib().nn_train_options_init(ctypes.byref(options)))
        if validation is not None:
            if is_number(validation):
                options.validation_fraction = float(validation)
            elif isinstance(validation, (tuple, list)) and len(validation) in (2, 3):
                weights = validation[2] if len(validation) == 3 else None
                validation_data, more = self._dataset(validation[0], validation[1], weights, info, "validation ")
                keep += more
            else:
                raise InvalidArgumentError("validation must be (X_val, y_val), (X_val, y_val, weights) or a "
                                           f"fraction in [0, 1), got {type(validation).__name__}")
        options.epochs = _count(epochs, "epochs", minimum=0)
        options.batch_size = _count(batch_size, "batch_size", minimum=0)
        _options.optimizer(optimizer)._apply(options)
        options.learning_rate = float(lr)
        _options.schedule(schedule)._apply(options, keep)
        options.l2 = float(l2)
        options.l1 = float(l1)
        if clip_norm is not None:
            if not (is_number(clip_norm) and clip_norm > 0):
                raise BadHyperparameterError(f"clip_norm must be a positive number, got {clip_norm!r}")
            options.gradient_clip_norm = float(clip_norm)
        stopping = _options.early_stopping(early_stopping)
        if stopping is not None:
            options.early_stopping_patience = int(stopping.patience)
            options.early_stopping_min_delta = float(stopping.min_delta)
        options.shuffle = 1 if shuffle else 0
        options.standardize = 1 if standardize else 0
        if callbacks is None:
            callbacks = []
        elif callable(callbacks):
            callbacks = [callbacks]
        else:
            callbacks = list(callbacks)

        if seed is not None:
            check(lib().nn_model_reinitialize(handle, _seed(seed)))

        bar = _progress.make(progress, options.epochs)
        run = _FitRun(callbacks, bar)
        # The C function pointer must outlive the call; keeping it in a local is enough.
        trampoline = _capi.nn_epoch_callback(run.on_epoch)
        options.callback = trampoline
        result = _capi.nn_train_result()
        check(lib().nn_train_result_init(ctypes.byref(result)))

        previous = None
        if threading.current_thread() is threading.main_thread():
            try:
                if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                    previous = signal.signal(signal.SIGINT, run.on_sigint)
            except ValueError:  # not the main interpreter
                previous = None
        try:
            status = lib().nn_model_fit(handle, ctypes.byref(data),
                                        ctypes.byref(validation_data) if validation_data is not None else None,
                                        ctypes.byref(options), ctypes.byref(result))
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
            if bar is not None:
                bar.close()
        del keep
        if run.error is not None:
            error, run.error = run.error, None
            try:
                raise error
            finally:
                error = None
        if run.interrupted:
            raise KeyboardInterrupt
        if status == _capi.NN_ERR_CANCELLED and run.stopped:
            return History(run.epochs, "cancelled", None)
        check(status)
        reason = "early_stopped" if result.stop_reason == _capi.NN_STOP_EARLY_STOPPED else "completed"
        return History(run.epochs, reason, int(result.best_epoch) or None)

    def train_step(self, X, y, *, optimizer="sgd", lr: float = 0.01, l2: float = 0.0, l1: float = 0.0,
                   schedule=None, sample_weight=None, clip_norm: Optional[float] = None) -> dict:
        """One optimisation step on the batch (X, y), for callers that stream their own batches.

        The learning rate is the schedule's at the model's epoch counter; ``advance_epoch()``
        moves it on. Returns the step's ``loss``, ``regularization_loss``, ``accuracy``, ``lr``
        and ``gradient_norm`` (before the update).
        """
        handle = self._live()
        data, keep = self._dataset(X, y, sample_weight, self._shape(handle))
        options = self._step_options(optimizer, lr, l2, l1, schedule, clip_norm)
        stats = _capi.nn_step_stats()
        check(lib().nn_step_stats_init(ctypes.byref(stats)))
        check(lib().nn_model_train_step(handle, ctypes.byref(data), ctypes.byref(options), ctypes.byref(stats)))
        return {"loss": float(stats.data_loss), "regularization_loss": float(stats.regularization_loss),
                "accuracy": _none_if_nan(stats.accuracy), "lr": float(stats.learning_rate),
                "gradient_norm": float(stats.gradient_norm)}

    # (arguments, (options, what they point into)) of the last train_step: a loop that passes
    # the same arguments reuses the options, which took about 5 µs to build. The C library only
    # reads them during a call, so concurrent calls may share them.
    _step_options_cache: Optional[tuple] = None

    def _step_options(self, optimizer, lr, l2, l1, schedule, clip_norm) -> _capi.nn_train_options:
        key = (optimizer, lr, l2, l1, schedule, clip_norm)
        cached = self._step_options_cache
        try:
            if cached is not None and cached[0] == key:
                return cached[1][0]
            hash(key)
        except (TypeError, ValueError):  # unhashable or array-valued arguments: no reuse
            key = None
        options = _capi.nn_train_options()
        check(lib().nn_train_options_init(ctypes.byref(options)))
        _options.optimizer(optimizer)._apply(options)
        options.learning_rate = float(lr)
        keep: list = []
        _options.schedule(schedule)._apply(options, keep)
        options.l2 = float(l2)
        options.l1 = float(l1)
        if clip_norm is not None:
            options.gradient_clip_norm = float(clip_norm)
        if key is not None:
            self._step_options_cache = (key, (options, keep))
        return options

    def advance_epoch(self) -> None:
        """Moves the epoch counter (the schedule's position) on by one, for ``train_step`` users."""
        check(lib().nn_model_advance_epoch(self._live()))

    # ---- inference ---------------------------------------------------------------------------

    # (handle, _Shape) of the last query: the output width and the loss change only through
    # dense, maxout, dropout and loss (which reset it), so predictions and train_step skip asking
    # the C library for them.
    _shape_cache: Optional[tuple] = None

    def _shape(self, handle: int) -> "_Shape":
        cached = self._shape_cache
        if cached is not None and cached[0] == handle:
            return cached[1]
        info = self._info()
        shape = _Shape(int(info.loss), int(info.output_width))
        self._shape_cache = (handle, shape)
        return shape

    def _infer(self, function, X, out, dtype, columns: bool):
        # The per-call path is kept short: it is most of a one-row prediction's time from Python.
        handle = self._live()
        X = as_inputs(X)
        rows, cols = X.shape
        shape = (rows, self._shape(handle).output_width) if columns else (rows,)
        if out is None:
            out = np.empty(shape, dtype)
        else:
            check_out(out, shape, dtype)
        status = function(handle, address(X), rows, cols, address(out), out.size)
        if status:
            check(status)
        return out

    def predict(self, X, *, out: Optional[np.ndarray] = None) -> np.ndarray:
        """The last layer's outputs (scores or logits for classifiers), shape (samples, outputs),
        float32. ``out``: a float32 C-contiguous array of that shape to write into.

        The model keeps its predictions' working memory for later calls (predict, predict_proba
        and classify alike): per call running at the same time, one set for single rows and one
        for batches, with the activations and, on AVX2 machines, a packed copy of the weights
        (see ``nn_model_predict`` in nncore.h)."""
        return self._infer(lib().nn_model_predict, X, out, FLOAT32, True)

    def predict_proba(self, X, *, out: Optional[np.ndarray] = None) -> np.ndarray:
        """Class probabilities: softmax rows, or per-output sigmoids for binary cross-entropy;
        shape (samples, outputs). Hinge and MSE models have none (``InvalidStateError``)."""
        return self._infer(lib().nn_model_predict_proba, X, out, FLOAT32, True)

    def classify(self, X, *, out: Optional[np.ndarray] = None, labels: bool = False) -> np.ndarray:
        """The predicted class index of each row (int32, shape (samples,)); with ``labels=True``
        the class names instead (see ``class_labels``)."""
        classes = self._infer(lib().nn_model_classify, X, out, INT32, False)
        if not labels:
            return classes
        names = self.class_labels
        if not names:
            raise InvalidStateError("the model has no class labels; set model.class_labels first")
        return np.array(names, dtype=object)[classes]

    def evaluate(self, X, y, *, sample_weight=None) -> Evaluation:
        """Mean data loss and accuracy on (X, y), without dropout and without the
        regularisation term."""
        handle = self._live()
        data, keep = self._dataset(X, y, sample_weight, self._info())
        result = _capi.nn_evaluation()
        check(lib().nn_evaluation_init(ctypes.byref(result)))
        check(lib().nn_model_evaluate(handle, ctypes.byref(data), ctypes.byref(result)))
        del keep
        return Evaluation(float(result.loss), _none_if_nan(result.accuracy), int(result.count))

    # ---- files and bytes ---------------------------------------------------------------------

    @staticmethod
    def _save_options(training_state: bool, creation_time: Optional[int]) -> _capi.nn_save_options:
        options = _capi.nn_save_options()
        check(lib().nn_save_options_init(ctypes.byref(options)))
        options.include_training_state = 1 if training_state else 0
        if creation_time is not None:
            options.pin_creation_time = 1
            options.creation_time = int(creation_time)
        return options

    def save(self, path: Union[str, os.PathLike], *, training_state: bool = True,
             creation_time: Optional[int] = None) -> None:
        """Saves the model to a file atomically (a failure leaves any previous file untouched).

        ``training_state=False`` writes an inference-only copy; ``creation_time`` (seconds since
        1970) pins the recorded time so the same model saves to the same bytes.
        """
        options = self._save_options(training_state, creation_time)
        check(lib().nn_model_save(self._live(), os.fsencode(path), ctypes.byref(options)))

    def to_bytes(self, *, training_state: bool = True, creation_time: Optional[int] = None) -> bytes:
        """The bytes of the model file (what ``save`` writes)."""
        handle = self._live()
        options = self._save_options(training_state, creation_time)
        size = ctypes.c_size_t(0)
        check(lib().nn_model_serialized_size(handle, ctypes.byref(options), ctypes.byref(size)))
        while True:
            buffer = ctypes.create_string_buffer(max(size.value, 1))
            status = lib().nn_model_save_to_buffer(handle, ctypes.byref(options), buffer, len(buffer), ctypes.byref(size))
            if status != _capi.NN_ERR_BUFFER_TOO_SMALL:  # the model may have grown in between
                check(status)
                return buffer.raw[:size.value]

    @classmethod
    def load(cls, path: Union[str, os.PathLike]) -> "Model":
        """Loads a model file (validated completely; a damaged file raises ``CorruptFileError``)."""
        handle = ctypes.c_void_p()
        check(lib().nn_model_load(os.fsencode(path), ctypes.byref(handle)))
        return cls._adopt(handle)

    @classmethod
    def from_bytes(cls, data: Union[bytes, bytearray, memoryview]) -> "Model":
        """Loads a model from the bytes of a model file."""
        buffer = np.frombuffer(data, dtype=np.uint8)
        handle = ctypes.c_void_p()
        check(lib().nn_model_load_from_buffer(buffer.ctypes.data if buffer.size else None, buffer.size,
                                              ctypes.byref(handle)))
        return cls._adopt(handle)


def _from_bytes(data: bytes) -> Model:
    return Model.from_bytes(data)


def _seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InvalidArgumentError(f"seed must be an int, got {seed!r}")
    return int(seed) & 0xFFFFFFFFFFFFFFFF


def _count(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not minimum <= value <= 0xFFFFFFFF:
        raise InvalidArgumentError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)

