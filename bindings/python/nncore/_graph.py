"""``nncore.Graph``: computational graphs of 2-D float tensors with reverse-mode backpropagation.

The lecture's example::

    g = nncore.Graph()
    x, y, z = g.scalar("x", -2), g.scalar("y", 5), g.scalar("z", -4)
    f = (x + y) * z
    f.backward()
    f.value, x.grad, y.grad, z.grad      # -12.0, -4.0, -4.0, 3.0

Every value is a node; operators and methods add op nodes (``+ - * @``, ``relu()``,
``softmax_cross_entropy(...)``...). The graph runs forward on demand: reading ``value`` or
calling ``backward()`` after a change recomputes it. ``backward()`` resets every gradient and
seeds d node/d node = 1 (for a non-scalar node, the gradient of the sum of its elements).
``value`` and ``grad`` are NumPy arrays of the node's shape, or a Python float for a 1x1 node.
"""
from __future__ import annotations

import ctypes
from typing import Any, Optional, Tuple, Union

import numpy as np

from . import _capi
from ._errors import InvalidArgumentError, InvalidStateError, ShapeMismatchError
from ._support import _numeric, check, encode, float_ptr, floats, is_number, lib, text

Number = Union[int, float]


def _matrix(value: Any, name: str) -> np.ndarray:
    """A value as a 2-D float32 C-contiguous array: a scalar is 1x1, a vector one row."""
    array = _numeric(value, name)
    if array.ndim == 0:
        array = array.reshape(1, 1)
    elif array.ndim == 1:
        array = array.reshape(1, -1)
    elif array.ndim != 2:
        raise ShapeMismatchError(f"{name} must be a scalar, a vector or a 2-D array, got shape {array.shape}")
    if array.size == 0:
        raise ShapeMismatchError(f"{name} is empty")
    return np.ascontiguousarray(array, dtype=np.float32)


class Node:
    """A node of a ``Graph``: an input, a parameter or an operation's result."""

    __slots__ = ("graph", "id", "name", "kind")
    __array_priority__ = 1000  # so that ndarray + node calls Node.__radd__

    def __init__(self, graph: "Graph", node_id: int, name: Optional[str], kind: str):
        self.graph = graph
        self.id = node_id
        self.name = name
        self.kind = kind  # "input", "batch_input", "parameter" or "op"

    # ---- values and gradients ---------------------------------------------------------------

    @property
    def shape(self) -> Tuple[int, int]:
        """(rows, cols); batched nodes report their batch capacity as rows."""
        rows, cols = ctypes.c_uint32(), ctypes.c_uint32()
        check(lib().nn_graph_node_shape(self.graph._live(), self.id, ctypes.byref(rows), ctypes.byref(cols)))
        return int(rows.value), int(cols.value)

    def _shaped(self, flat: np.ndarray):
        cols = self.shape[1]
        array = flat.reshape(-1, cols)
        return float(array[0, 0]) if array.shape == (1, 1) else array

    @property
    def value(self):
        """The node's value (running the forward pass first if anything changed)."""
        self.graph._ensure_forward()
        return self._shaped(floats(lib().nn_graph_value, self.graph._live(), self.id))

    @value.setter
    def value(self, new_value) -> None:
        if self.kind == "op":
            raise InvalidArgumentError(f"node {self.name or self.id} is an op; only inputs and parameters take values")
        array = _matrix(new_value, "value")
        check(lib().nn_graph_set_value(self.graph._live(), self.id, float_ptr(array), array.size))
        self.graph._changed()

    @property
    def grad(self):
        """d target / d node from the last ``backward()`` (recomputed if values changed since)."""
        self.graph._ensure_backward()
        return self._shaped(floats(lib().nn_graph_gradient, self.graph._live(), self.id))

    def backward(self) -> None:
        """Backpropagates from this node (forward first if needed)."""
        self.graph.backward(self)

    def numpy(self) -> np.ndarray:
        """The value as a 2-D array, also for a 1x1 node."""
        self.graph._ensure_forward()
        return floats(lib().nn_graph_value, self.graph._live(), self.id).reshape(-1, self.shape[1])

    def __float__(self) -> float:
        value = self.value
        if not isinstance(value, float):
            raise TypeError(f"only a 1x1 node converts to float; this one has shape {value.shape}")
        return value

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<nncore.Node {self.id}{label} {self.kind} {self.shape[0]}x{self.shape[1]}>"

    # ---- operators ---------------------------------------------------------------------------

    def _other(self, other) -> "Node":
        if isinstance(other, Node):
            if other.graph is not self.graph:
                raise InvalidArgumentError("nodes of different graphs cannot be combined")
            return other
        return self.graph.constant(other)

    def __add__(self, other):
        if is_number(other) and other == 0:
            return self
        return self.graph._op(_capi.NN_OP_ADD, self, self._other(other))

    def __radd__(self, other):
        if is_number(other) and other == 0:  # sum() starts from 0
            return self
        return self.graph._op(_capi.NN_OP_ADD, self._other(other), self)

    def __sub__(self, other):
        return self.graph._op(_capi.NN_OP_SUB, self, self._other(other))

    def __rsub__(self, other):
        return self.graph._op(_capi.NN_OP_SUB, self._other(other), self)

    def __mul__(self, other):
        if is_number(other):
            return self.scale(other)
        return self.graph._op(_capi.NN_OP_MUL, self, self._other(other))

    def __rmul__(self, other):
        if is_number(other):
            return self.scale(other)
        return self.graph._op(_capi.NN_OP_MUL, self._other(other), self)

    def __truediv__(self, other):
        if is_number(other):
            return self.scale(1.0 / other)
        return NotImplemented

    def __neg__(self):
        return self.scale(-1.0)

    def __matmul__(self, other):
        return self.graph._op(_capi.NN_OP_MATMUL, self, self._other(other))

    def __rmatmul__(self, other):
        return self.graph._op(_capi.NN_OP_MATMUL, self._other(other), self)


    # ---- element-wise and reductions ----------------------------------------------------------

    def scale(self, factor: Number) -> "Node":
        return self.graph._op(_capi.NN_OP_SCALE, self, parameter=float(factor))

    def sum(self) -> "Node":
        return self.graph._op(_capi.NN_OP_SUM, self)

    def mean(self) -> "Node":
        return self.graph._op(_capi.NN_OP_MEAN, self)

    def exp(self) -> "Node":
        return self.graph._op(_capi.NN_OP_EXP, self)

    def log(self) -> "Node":
        return self.graph._op(_capi.NN_OP_LOG, self)

    def relu(self) -> "Node":
        return self.graph._op(_capi.NN_OP_RELU, self)

    def leaky_relu(self, alpha: float = 0.01) -> "Node":
        return self.graph._op(_capi.NN_OP_LEAKY_RELU, self, parameter=alpha)

    def sigmoid(self) -> "Node":
        return self.graph._op(_capi.NN_OP_SIGMOID, self)

    def tanh(self) -> "Node":
        return self.graph._op(_capi.NN_OP_TANH, self)

    def elu(self, alpha: float = 1.0) -> "Node":
        return self.graph._op(_capi.NN_OP_ELU, self, parameter=alpha)

    def gelu(self) -> "Node":
        return self.graph._op(_capi.NN_OP_GELU, self)

    def softplus(self) -> "Node":
        return self.graph._op(_capi.NN_OP_SOFTPLUS, self)

    def maxout(self, pieces: int) -> "Node":
        return self.graph._op(_capi.NN_OP_MAXOUT, self, parameter=float(pieces))

    def dropout(self, rate: float) -> "Node":
        return self.graph._op(_capi.NN_OP_DROPOUT, self, parameter=rate)

    def softmax(self) -> "Node":
        return self.graph._op(_capi.NN_OP_SOFTMAX, self)

    def l2_penalty(self, strength: float) -> "Node":
        """strength * sum(x^2), 1x1."""
        return self.graph._op(_capi.NN_OP_L2_PENALTY, self, parameter=strength)

    def l1_penalty(self, strength: float) -> "Node":
        """strength * sum(|x|), 1x1."""
        return self.graph._op(_capi.NN_OP_L1_PENALTY, self, parameter=strength)


class Graph:
    """A computational graph. ``Graph(batch_capacity=1, seed=0)``; ``seed`` drives dropout.

    Nodes: ``scalar``, ``input``, ``parameter``, ``constant``, ``batch_input``; ops through
    ``Node`` operators and methods or the methods here (``matmul``, ``affine``,
    ``softmax_cross_entropy``...). A graph is used by one thread at a time. Free it with
    ``close()`` or a ``with`` block (or leave it to the garbage collector).
    """

    _handle: Optional[int] = None

    def __init__(self, batch_capacity: int = 1, seed: int = 0):
        handle = ctypes.c_void_p()
        check(lib().nn_graph_create(int(batch_capacity), int(seed) & 0xFFFFFFFFFFFFFFFF, ctypes.byref(handle)))
        self._handle = handle.value
        self._dirty = True
        self._backward_from: Optional[Node] = None
        self._gradients_stale = False

    # ---- lifetime ---------------------------------------------------------------------------

    def _live(self) -> int:
        if self._handle is None:
            raise InvalidStateError("the graph is closed")
        return self._handle

    def close(self) -> None:
        """Frees the C graph. Idempotent."""
        handle, self._handle = self._handle, None
        if handle is not None:
            lib().nn_graph_free(handle)

    def __enter__(self) -> "Graph":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    # ---- evaluation state -------------------------------------------------------------------

    def _changed(self) -> None:
        self._dirty = True
        self._gradients_stale = True

    def _ensure_forward(self) -> None:
        if self._dirty:
            self.forward()

    def _ensure_backward(self) -> None:
        if self._backward_from is None:
            raise InvalidStateError("no gradients yet: call backward() on a node first")
        if self._dirty or self._gradients_stale:
            self.backward(self._backward_from)

    def forward(self) -> None:
        """Computes every node's value (compiling the graph the first time)."""
        check(lib().nn_graph_forward(self._live()))
        self._dirty = False

    def backward(self, node: Node) -> None:
        """Backpropagates from ``node``: resets every gradient, seeds 1, applies the chain rule."""
        if not isinstance(node, Node) or node.graph is not self:
            raise InvalidArgumentError("backward needs a node of this graph")
        self._ensure_forward()
        check(lib().nn_graph_backward(self._live(), node.id))
        self._backward_from = node
        self._gradients_stale = False

    @property
    def training(self) -> bool:
        """Training mode: dropout drops only when True (default False)."""
        return getattr(self, "_training", False)

    @training.setter
    def training(self, value: bool) -> None:
        check(lib().nn_graph_set_training(self._live(), 1 if value else 0))
        self._training = bool(value)
        self._changed()

    def set_batch_size(self, rows: int) -> None:
        """How many rows of the batched inputs are active (1 to batch_capacity)."""
        check(lib().nn_graph_set_batch_size(self._live(), int(rows)))
        self._changed()

    def to_dot(self) -> str:
        """The graph as Graphviz DOT text."""
        return text(lib().nn_graph_to_dot, self._live())

    # ---- nodes -------------------------------------------------------------------------------

    @staticmethod
    def _name(name: Optional[str]) -> Optional[bytes]:
        return None if name is None else encode(name, "name")

    def input(self, name: Optional[str] = None, value: Any = None, *, shape: Optional[Tuple[int, int]] = None) -> Node:
        """An input tensor (it receives a gradient): from ``value`` (scalar, vector -> one row,
        or 2-D), or zeros of ``shape``."""
        if value is None and shape is None:
            raise InvalidArgumentError("input needs a value or a shape")
        array = None if value is None else _matrix(value, "value")
        rows, cols = shape if shape is not None else array.shape
        if array is not None and array.shape != (rows, cols):
            raise ShapeMismatchError(f"value has shape {array.shape}, shape says {(rows, cols)}")
        node_id = ctypes.c_int32()
        check(lib().nn_graph_input(self._live(), self._name(name), int(rows), int(cols), ctypes.byref(node_id)))
        node = Node(self, node_id.value, name, "input")
        if array is not None:
            check(lib().nn_graph_set_value(self._live(), node.id, float_ptr(array), array.size))
        self._changed()
        return node

    def scalar(self, name: Optional[str] = None, value: Number = 0.0) -> Node:
        """A 1x1 input with a value (the lecture's x, y, z)."""
        return self.input(name, float(value))

    def constant(self, value: Any) -> Node:
        """An unnamed input holding ``value``, for mixing numbers and arrays into expressions."""
        return self.input(None, value)

    def parameter(self, name: Optional[str], value: Any) -> Node:
        """A trainable tensor initialised with ``value``."""
        array = _matrix(value, "value")
        node_id = ctypes.c_int32()
        check(lib().nn_graph_parameter(self._live(), self._name(name), array.shape[0], array.shape[1],
                                       float_ptr(array), array.size, ctypes.byref(node_id)))
        self._changed()
        return Node(self, node_id.value, name, "parameter")

    def batch_input(self, name: Optional[str], cols: int) -> Node:
        """An input with batch_capacity rows of which ``set_batch_size`` are active (no gradient)."""
        node_id = ctypes.c_int32()
        check(lib().nn_graph_batch_input(self._live(), self._name(name), int(cols), ctypes.byref(node_id)))
        self._changed()
        return Node(self, node_id.value, name, "batch_input")

    def _node(self, value: Any) -> Node:
        if isinstance(value, Node):
            if value.graph is not self:
                raise InvalidArgumentError("nodes of different graphs cannot be combined")
            return value
        return self.constant(value)

    def _op(self, op: int, *inputs: Node, parameter: float = 0.0) -> Node:
        ids = (ctypes.c_int32 * len(inputs))(*[n.id for n in inputs])
        node_id = ctypes.c_int32()
        check(lib().nn_graph_op(self._live(), op, ids, len(inputs), float(parameter), ctypes.byref(node_id)))
        self._changed()
        return Node(self, node_id.value, None, "op")

    # ---- ops taking several inputs -----------------------------------------------------------

    def matmul(self, a, b) -> Node:
        """a @ b: (m,k)(k,n) -> (m,n)."""
        return self._op(_capi.NN_OP_MATMUL, self._node(a), self._node(b))

    def affine(self, x, weights, bias) -> Node:
        """x @ W + b: x (m,k), W (k,n), b (1,n)."""
        return self._op(_capi.NN_OP_AFFINE, self._node(x), self._node(weights), self._node(bias))

    def bias_add(self, x, bias) -> Node:
        """x + b for a row vector b (1,n)."""
        return self._op(_capi.NN_OP_BIAS_ADD, self._node(x), self._node(bias))

    def _labels(self, labels) -> Node:
        if isinstance(labels, Node):
            return self._node(labels)
        array = np.asarray(labels)
        return self.constant(array.reshape(-1, 1) if array.ndim <= 1 else array)

    def _loss(self, op, scores, labels, weights) -> Node:
        inputs = [self._node(scores), self._labels(labels)]
        if weights is not None:
            inputs.append(self._labels(weights))
        return self._op(op, *inputs)

    def softmax_cross_entropy(self, logits, labels, weights=None) -> Node:
        """Mean softmax cross-entropy (1x1). ``labels``: class indices, a node (m,1) or ints."""
        return self._loss(_capi.NN_OP_SOFTMAX_CROSS_ENTROPY, logits, labels, weights)

    def multiclass_hinge(self, scores, labels, weights=None) -> Node:
        """Mean Weston-Watkins hinge loss (1x1), margin 1."""
        return self._loss(_capi.NN_OP_MULTICLASS_HINGE, scores, labels, weights)

    def mean_squared_error(self, predictions, targets, weights=None) -> Node:
        """Mean squared error (1x1) over every element."""
        inputs = [self._node(predictions), self._node(targets)]
        if weights is not None:
            inputs.append(self._labels(weights))
        return self._op(_capi.NN_OP_MEAN_SQUARED_ERROR, *inputs)

    def binary_cross_entropy(self, logits, targets, weights=None) -> Node:
        """Mean binary cross-entropy with logits (1x1)."""
        inputs = [self._node(logits), self._node(targets)]
        if weights is not None:
            inputs.append(self._labels(weights))
        return self._op(_capi.NN_OP_BINARY_CROSS_ENTROPY, *inputs)

