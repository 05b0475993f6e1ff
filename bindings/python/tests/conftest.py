"""Shared fixtures of the nncore Python tests.

The tests exercise whichever ``nncore`` Python imports: the installed package under `make test`
(`pip install ./bindings/python`), or the source tree with ``PYTHONPATH=bindings/python``. The
header printed by pytest names the package and the libnncore.so in use.
"""
import os
import time
from pathlib import Path

import numpy as np
import pytest

import nncore

REPOSITORY = Path(__file__).resolve().parents[3]
_REPORT = []


def report(line: str) -> None:
    """Adds a line to the summary printed at the end of the run (figures worth seeing in CI)."""
    _REPORT.append(line)


def pytest_report_header(config):
    return [f"nncore {nncore.__version__} from {Path(nncore.__file__).parent}",
            f"libnncore.so {nncore.library_version()} from {nncore.library_path()}"]


def pytest_terminal_summary(terminalreporter):
    if _REPORT:
        terminalreporter.section("nncore figures")
        for line in _REPORT:
            terminalreporter.write_line(line)


def child_environment(**overrides) -> dict:
    """The environment for a Python subprocess that must import this same nncore package."""
    environment = dict(os.environ)
    package_parent = str(Path(nncore.__file__).resolve().parent.parent)
    environment["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, environment.get("PYTHONPATH")) if p)
    environment.update(overrides)
    return environment


def make_spiral(points_per_class: int = 100, classes: int = 3, seed: int = 0):
    """The lecture's spiral: `classes` arms of points in 2-D, float32 inputs and int32 labels."""
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


@pytest.fixture(scope="session")
def spiral():
    return make_spiral()


@pytest.fixture(scope="session")
def trained_spiral_bytes(spiral):
    """A 2-100-3 ReLU/softmax model trained on the spiral, as file bytes (tests load their own copy)."""
    X, y = spiral
    with nncore.Model(2, seed=1).dense(100, "relu").dense(3) as model:
        model.fit(X, y, epochs=2000, batch_size=0, lr=1.0, l2=1e-3, progress=False)
        return model.to_bytes()


@pytest.fixture
def trained_spiral(trained_spiral_bytes):
    with nncore.Model.from_bytes(trained_spiral_bytes) as model:
        yield model


@pytest.fixture(scope="session")
def digits_split():
    """scikit-learn's digits, scaled to [0, 1], split 75/25 stratified with a fixed seed."""
    datasets = pytest.importorskip("sklearn.datasets")
    model_selection = pytest.importorskip("sklearn.model_selection")
    X, y = datasets.load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    return model_selection.train_test_split(X, y.astype(np.int32), test_size=0.25, random_state=0, stratify=y)


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start

