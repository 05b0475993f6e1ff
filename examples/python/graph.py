"""Computational graphs and backpropagation, as in the lecture.

1. f(x, y, z) = (x + y) * z at x = -2, y = 5, z = -4: f = -12, df/dx = df/dy = -4, df/dz = 3.
2. A sigmoid neuron f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))) at w = (2, -3, -3), x = (-1, -2):
   f = 0.73, df/dw = (-0.2, -0.39, 0.2), df/dx = (0.39, -0.59).
3. Gradient descent by hand on a graph: fit a line y = a x + b to noisy points.

    python examples/python/graph.py
"""
import numpy as np

import nncore


def lecture_example():
    g = nncore.Graph()
    x, y, z = g.scalar("x", -2), g.scalar("y", 5), g.scalar("z", -4)
    f = (x + y) * z
    f.backward()
    print(f"f = (x + y) * z = {f.value}; df/dx = {x.grad}, df/dy = {y.grad}, df/dz = {z.grad}")
    assert (f.value, x.grad, y.grad, z.grad) == (-12.0, -4.0, -4.0, 3.0)


def sigmoid_neuron():
    g = nncore.Graph()
    w = g.parameter("w", [[2.0], [-3.0]])
    b = g.parameter("b", [[-3.0]])
    x = g.input("x", [[-1.0, -2.0]])
    f = (x @ w + b).sigmoid()
    f.backward()
    print(f"sigmoid neuron: f = {f.value:.2f}; df/dw = {np.round(w.grad.ravel(), 2)}, "
          f"df/db = {b.grad:.2f}, df/dx = {np.round(x.grad.ravel(), 2)}")
    assert abs(f.value - 0.73) < 0.01 and np.allclose(w.grad.ravel(), [-0.2, -0.39], atol=0.01)


def fit_a_line():
    rng = np.random.default_rng(0)
    xs = rng.uniform(-1, 1, (50, 1)).astype(np.float32)
    ys = (3.0 * xs - 0.5 + rng.normal(0, 0.05, (50, 1))).astype(np.float32)
    with nncore.Graph() as g:
        a = g.parameter("a", [[0.0]])
        b = g.parameter("b", [[0.0]])
        x, y = g.input("x", xs), g.input("y", ys)
        loss = g.mean_squared_error(x @ a + b, y)
        for _ in range(200):
            loss.backward()
            a.value = a.value - 0.5 * a.grad
            b.value = b.value - 0.5 * b.grad
        print(f"gradient descent on a graph: y = {a.value:.2f} x {b.value:+.2f} (truth: 3.00 x -0.50), "
              f"loss {loss.value:.4f}")
        assert abs(a.value - 3.0) < 0.05 and abs(b.value + 0.5) < 0.05


if __name__ == "__main__":
    lecture_example()
    sigmoid_neuron()
    fit_a_line()
