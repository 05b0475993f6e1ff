"""float32 C-contiguous inputs and int32 labels reach the C library without a copy.

Two kinds of evidence: the pointer the binding passes is the array's own buffer (a spy on the C
function), and — stronger — the library reads the caller's memory while it trains: changing the
array in place from a callback changes what the following epochs learn.
"""
import ctypes

import numpy as np
import pytest

import nncore


class Spy:
    """Wraps a bound C function, records the addresses of its pointer arguments, and calls it."""

    def __init__(self, function):
        self.function = function
        self.calls = []

    def __call__(self, *args):
        self.calls.append(args)
        return self.function(*args)


def address(pointer) -> int:
    return ctypes.cast(pointer, ctypes.c_void_p).value or 0


@pytest.fixture
def spy(monkeypatch):
    library = nncore._lib()

    def install(name):
        recorder = Spy(getattr(library, name))
        monkeypatch.setattr(library, name, recorder)
        return recorder
    return install


def test_predict_passes_a_float32_array_without_copying(spy, trained_spiral, spiral):
    X, _ = spiral
    assert X.dtype == np.float32 and X.flags.c_contiguous
    predict = spy("nn_model_predict")
    out = np.empty((300, 3), np.float32)
    trained_spiral.predict(X, out=out)
    (_, inputs, rows, cols, outputs, capacity), = predict.calls
    assert address(inputs) == X.ctypes.data
    assert address(outputs) == out.ctypes.data
    assert (rows, cols, capacity) == (300, 2, 900)


def test_read_only_and_sliced_row_blocks_are_not_copied(spy, trained_spiral, spiral):
    X, _ = spiral
    classify = spy("nn_model_classify")
    frozen = np.frombuffer(X.tobytes(), dtype=np.float32).reshape(300, 2)
    assert not frozen.flags.writeable
    trained_spiral.classify(frozen)
    block = X[100:200]  # a contiguous block of rows is a C-contiguous view
    trained_spiral.classify(block)
    assert address(classify.calls[0][1]) == frozen.ctypes.data
    assert address(classify.calls[1][1]) == block.ctypes.data


def test_the_address_passed_is_the_first_element_for_every_kind_of_array():
    from nncore._support import address
    X = np.arange(40, dtype=np.float32).reshape(10, 4)
    frozen = X.copy()
    frozen.flags.writeable = False
    cases = [X, X[3:7], frozen, frozen[2:], np.empty((0, 4), np.float32), np.empty((10, 0), np.float32),
             np.zeros((1, 1), np.int32)]
    for array in cases:
        assert address(array) == array.ctypes.data
    # What the C library reads there: the view's own first row, not its base's.
    view = X[3:7]
    assert ctypes.c_float.from_address(address(view)).value == 12.0


def test_other_layouts_and_dtypes_are_converted_once(spy, trained_spiral, spiral):
    X, _ = spiral
    predict = spy("nn_model_predict_proba")
    expected = trained_spiral.predict_proba(X)
    for variant in (X.astype(np.float64), np.asfortranarray(X), X[::2], X.astype(">f4")):
        result = trained_spiral.predict_proba(variant)
        assert address(predict.calls[-1][1]) != variant.ctypes.data
        rows = variant.shape[0]
        assert np.allclose(result, expected[:rows] if rows == 300 else expected[::2], atol=1e-6)


def test_fit_passes_inputs_and_int32_labels_without_copying(spy, spiral):
    X, y = spiral
    fit = spy("nn_model_fit")
    weights = np.ones(300, np.float32)
    nncore.Model(2).dense(3).fit(X, y, epochs=1, sample_weight=weights)
    data = fit.calls[0][1]._obj
    assert address(data.inputs) == X.ctypes.data
    assert address(data.labels) == y.ctypes.data
    assert address(data.sample_weights) == weights.ctypes.data
    nncore.Model(2).dense(3).fit(X, y.astype(np.int64), epochs=1)
    assert address(fit.calls[1][1]._obj.labels) != y.ctypes.data


def test_the_library_reads_the_callers_labels_during_training():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 2)).astype(np.float32)
    y = ((X[:, 0] > 0).astype(np.int32) + (X[:, 1] > 0)).astype(np.int32)
    model = nncore.Model(2, seed=1).dense(32, "relu").dense(3)

    def relabel(stats):
        if stats.epoch == 5:
            y[:] = 0  # in place: only visible to the library if it reads this very buffer

    history = model.fit(X, y, epochs=15, batch_size=10, lr=0.1, callbacks=relabel)
    assert history[4].accuracy < 0.99
    assert history[-1].accuracy == 1.0  # accuracy against the labels as they are now
    assert (model.classify(X) == 0).all()


def test_the_library_reads_the_callers_inputs_during_training():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 2)).astype(np.float32)
    y = rng.integers(0, 3, 300).astype(np.int32)
    model = nncore.Model(2, seed=1).dense(32, "relu").dense(3)

    def blank(stats):
        if stats.epoch == 3:
            X[:] = 0

    history = model.fit(X, y, epochs=12, batch_size=10, lr=0.1, callbacks=blank)
    majority = np.bincount(y).max() / 300
    # All inputs are now identical, so nothing beats predicting the majority class.
    assert history[-1].accuracy == pytest.approx(majority, abs=1e-6)
