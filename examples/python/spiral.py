"""The lecture's spiral: 3 classes of 100 points in 2-D that no linear classifier separates.

A linear softmax classifier reaches about 50 %; the 2-layer net f = W2 max(0, W1 x) with 100
ReLU units, trained by full-batch gradient descent (rate 1.0, L2 1e-3), reaches 97-98 %.
The trained model is saved to spiral.nnm (or the path given as the first argument).

    python examples/python/spiral.py [spiral.nnm]
"""
import sys

import numpy as np

import nncore


def make_spiral(points_per_class=100, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    X = np.zeros((points_per_class * classes, 2), dtype=np.float32)
    y = np.zeros(points_per_class * classes, dtype=np.int32)
    for k in range(classes):
        rows = slice(points_per_class * k, points_per_class * (k + 1))
        r = np.linspace(0.0, 1.0, points_per_class)
        t = np.linspace(4.0 * k, 4.0 * (k + 1), points_per_class) + rng.standard_normal(points_per_class) * 0.2
        X[rows] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[rows] = k
    return X, y


def main(path="spiral.nnm"):
    X, y = make_spiral()

    with nncore.Model(2, seed=1).dense(3) as linear:
        linear.fit(X, y, epochs=200, batch_size=0, lr=1.0, l2=1e-3)
        print(f"linear softmax classifier: training accuracy {linear.evaluate(X, y).accuracy:.1%}")

    model = nncore.Model(2, seed=1).dense(100, "relu").dense(3).loss("softmax")
    history = model.fit(X, y, epochs=10_000, batch_size=0, lr=1.0, l2=1e-3)
    for stats in history[::2000]:
        print(f"epoch {stats.epoch:5d}: loss {stats.total_loss:.4f}, accuracy {stats.accuracy:.1%}")
    accuracy = (model.classify(X) == y).mean()
    print(f"2-layer net (100 ReLU units): training accuracy {accuracy:.1%} "
          f"in {history.seconds.sum():.2f} s of training")

    model.class_labels = ["arm 0", "arm 1", "arm 2"]
    model.metadata["example"] = "spiral"
    model.save(path)
    with nncore.Model.load(path) as loaded:
        assert np.array_equal(loaded.predict(X), model.predict(X))
    print(f"saved to {path}")
    print(model.summary())
    return 0 if accuracy >= 0.97 else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
