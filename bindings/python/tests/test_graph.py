"""nncore.Graph: the lecture's example, operators, and gradients against NumPy finite differences."""
import math

import numpy as np
import pytest

import nncore


def test_the_lecture_example():
    g = nncore.Graph()
    x, y, z = g.scalar("x", -2), g.scalar("y", 5), g.scalar("z", -4)
    f = (x + y) * z
    f.backward()
    assert f.value == -12.0
    assert (x.grad, y.grad, z.grad) == (-4.0, -4.0, 3.0)
    assert isinstance(x.grad, float)


def test_values_and_gradients_follow_changed_inputs():
    g = nncore.Graph()
    x, y, z = g.scalar("x", -2), g.scalar("y", 5), g.scalar("z", -4)
    f = (x + y) * z
    f.backward()
    x.value = 1.0
    assert f.value == -24.0
    assert z.grad == 6.0  # recomputed: d f/d z = x + y


def test_numbers_mix_into_expressions():
    g = nncore.Graph()
    x = g.scalar("x", 3.0)
    f = 2 * x * x - x / 3 + 1 - (-x) + 0
    f.backward()
    assert f.value == pytest.approx(2 * 9 - 1 + 1 + 3)
    assert x.grad == pytest.approx(4 * 3 - 1 / 3 + 1)
    s = sum([x, x, x])
    s.backward()
    assert x.grad == 3.0


def test_matrices_broadcasting_and_reductions():
    g = nncore.Graph()
    a = g.input("a", np.array([[1.0, 2.0], [3.0, 4.0]]))
    row = g.parameter("b", [10.0, 20.0])
    c = (a + row).sum()
    c.backward()
    assert c.value == 1 + 2 + 3 + 4 + 2 * 30
    assert np.array_equal(row.grad, [[2.0, 2.0]])
    assert np.array_equal(a.grad, np.ones((2, 2)))
    m = (a @ np.eye(2)).mean()
    assert m.value == 2.5
    assert a.shape == (2, 2) and row.shape == (1, 2)
    assert "digraph" in g.to_dot()


def test_nodes_of_different_graphs_do_not_mix():
    a, b = nncore.Graph().scalar("a", 1), nncore.Graph().scalar("b", 2)
    with pytest.raises(nncore.InvalidArgumentError, match="different graphs"):
        a + b


def test_shape_errors_come_from_the_library():
    g = nncore.Graph()
    with pytest.raises(nncore.ShapeMismatchError):
        g.input("a", np.ones((2, 3))) @ g.input("b", np.ones((2, 3)))


def test_closed_graph_refuses_use():
    g = nncore.Graph()
    x = g.scalar("x", 1)
    g.close()
    g.close()
    with pytest.raises(nncore.InvalidStateError):
        x.value


def test_grad_needs_backward_first():
    g = nncore.Graph()
    with pytest.raises(nncore.InvalidStateError, match="backward"):
        g.scalar("x", 1).grad


# ---- gradients against central differences of an independent NumPy implementation -------------

def numeric_gradient(function, value: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Central differences of a float64 NumPy function with respect to one array."""
    value = value.astype(np.float64)
    grad = np.zeros_like(value)
    for index in np.ndindex(value.shape):
        original = value[index]
        value[index] = original + eps
        plus = function(value)
        value[index] = original - eps
        minus = function(value)
        value[index] = original
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def assert_gradients(build, reference, arrays, rtol=2e-3, atol=2e-4):
    """build(g, nodes) -> loss node; reference(*arrays) -> float64 scalar. Compares every gradient."""
    g = nncore.Graph()
    nodes = [g.parameter(f"p{i}", a) for i, a in enumerate(arrays)]
    loss = build(g, *nodes)
    loss.backward()
    assert loss.value == pytest.approx(reference(*[a.astype(np.float64) for a in arrays]), rel=1e-4, abs=1e-5)
    for i, (node, array) in enumerate(zip(nodes, arrays)):
        def partial(v, i=i):
            args = [a.astype(np.float64) for a in arrays]
            args[i] = v
            return reference(*args)
        analytic = np.asarray(node.grad).reshape(array.shape)
        np.testing.assert_allclose(analytic, numeric_gradient(partial, array.copy()), rtol=rtol, atol=atol)


rng = np.random.default_rng(7)
A = rng.standard_normal((4, 3)).astype(np.float32)
B = rng.uniform(0.5, 2.0, (4, 3)).astype(np.float32)


def softplus(x):
    return np.logaddexp(0, x)


def gelu(x):
    return x * 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


ELEMENTWISE = {
    "relu": (lambda n: n.relu(), lambda x: np.maximum(x, 0)),
    "leaky_relu": (lambda n: n.leaky_relu(0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    "sigmoid": (lambda n: n.sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    "tanh": (lambda n: n.tanh(), np.tanh),
    "elu": (lambda n: n.elu(0.7), lambda x: np.where(x > 0, x, 0.7 * np.expm1(x))),
    "gelu": (lambda n: n.gelu(), gelu),
    "softplus": (lambda n: n.softplus(), softplus),
    "exp": (lambda n: n.exp(), np.exp),
    "softmax": (lambda n: n.softmax(), lambda x: np.exp(x - x.max(1, keepdims=True)) / np.exp(x - x.max(1, keepdims=True)).sum(1, keepdims=True)),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_gradients(name):
    op, reference = ELEMENTWISE[name]
    weights = rng.standard_normal((4, 3))
    A_away_from_kinks = np.where(np.abs(A) < 0.05, 0.3, A).astype(np.float32)
    assert_gradients(lambda g, a: (op(a) * weights.astype(np.float32)).sum(),
                     lambda a: float((reference(a) * weights).sum()), [A_away_from_kinks])


def test_log_gradient():
    assert_gradients(lambda g, b: b.log().mean(), lambda b: float(np.log(b).mean()), [B])


def test_arithmetic_and_matmul_gradients():
    C = rng.standard_normal((3, 2)).astype(np.float32)
    row = rng.standard_normal((1, 3)).astype(np.float32)
    assert_gradients(lambda g, a, b, c, r: (((a - b) * (a + r)) @ c).sum() + (a * 0.5).mean(),
                     lambda a, b, c, r: float((((a - b) * (a + r)) @ c).sum() + (a * 0.5).mean()),
                     [A, B, C, row])


def test_two_layer_net_with_softmax_cross_entropy_and_l2():
    X = rng.standard_normal((6, 3)).astype(np.float32)
    labels = np.array([0, 2, 1, 1, 0, 2])
    W1 = (rng.standard_normal((3, 5)) * 0.5).astype(np.float32)
    b1 = (rng.standard_normal((1, 5)) * 0.1).astype(np.float32)
    W2 = (rng.standard_normal((5, 3)) * 0.5).astype(np.float32)
    b2 = np.zeros((1, 3), np.float32)

    def build(g, w1, c1, w2, c2):
        x = g.input("X", X)
        hidden = g.affine(x, w1, c1).relu()
        scores = g.affine(hidden, w2, c2)
        return g.softmax_cross_entropy(scores, labels) + w1.l2_penalty(1e-2) + w2.l2_penalty(1e-2)

    def reference(w1, c1, w2, c2):
        hidden = np.maximum(X @ w1 + c1, 0)
        scores = hidden @ w2 + c2
        scores = scores - scores.max(1, keepdims=True)
        log_p = scores - np.log(np.exp(scores).sum(1, keepdims=True))
        return float(-log_p[np.arange(6), labels].mean() + 1e-2 * (w1 ** 2).sum() + 1e-2 * (w2 ** 2).sum())

    assert_gradients(build, reference, [W1, b1, W2, b2])


def test_hinge_mse_bce_and_l1_gradients():
    scores = rng.standard_normal((5, 4)).astype(np.float32)
    labels = np.array([0, 3, 1, 2, 3])
    weights = np.array([1.0, 2.0, 0.5, 1.0, 3.0])

    def hinge(s):
        margins = np.maximum(0, s - s[np.arange(5), labels][:, None] + 1)
        margins[np.arange(5), labels] = 0
        per_row = margins.sum(1)
        return float((per_row * weights).sum() / weights.sum())

    assert_gradients(lambda g, s: g.multiclass_hinge(s, labels, weights), hinge, [scores])

    targets = rng.standard_normal((5, 4)).astype(np.float32)
    assert_gradients(lambda g, p: g.mean_squared_error(p, g.input("t", targets)),
                     lambda p: float(((p - targets) ** 2).mean()), [scores])

    binary = rng.integers(0, 2, (5, 4)).astype(np.float32)
    assert_gradients(lambda g, z: g.binary_cross_entropy(z, g.input("t", binary)),
                     lambda z: float((np.logaddexp(0, z) - binary * z).mean()), [scores])

    away = np.where(np.abs(scores) < 0.05, 0.2, scores).astype(np.float32)
    assert_gradients(lambda g, w: w.l1_penalty(0.3), lambda w: float(0.3 * np.abs(w).sum()), [away])


def test_maxout_gradient():
    X = rng.standard_normal((3, 6)).astype(np.float32)
    assert_gradients(lambda g, x: (x.maxout(3) * g.constant([[1.0, -2.0]])).sum(),
                     lambda x: float((x.reshape(3, 2, 3).max(2) * [1.0, -2.0]).sum()), [X])


def test_batched_inputs_and_dropout_modes():
    g = nncore.Graph(batch_capacity=8, seed=1)
    x = g.batch_input("x", 4)
    w = g.parameter("w", np.ones((4, 1)))
    out = (x @ w).dropout(0.5)
    g.set_batch_size(3)
    x.value = np.ones((3, 4))
    assert np.array_equal(out.value, np.full((3, 1), 4.0))  # dropout is the identity outside training
    g.training = True
    dropped = out.value
    assert set(np.unique(dropped)) <= {0.0, 8.0}
