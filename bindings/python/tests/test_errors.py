"""Bad input raises the exception for its status, with the C library's specific message."""
import numpy as np
import pytest

import nncore
from nncore import _capi


@pytest.fixture
def model():
    with nncore.Model(2, seed=0).dense(8, "relu").dense(3) as m:
        yield m


def X_y(rows=30):
    rng = np.random.default_rng(0)
    return rng.standard_normal((rows, 2)).astype(np.float32), rng.integers(0, 3, rows).astype(np.int32)


def test_every_status_has_its_own_exception_class():
    for code, name in _capi.NN_STATUS_NAMES.items():
        if code == _capi.NN_OK:
            continue
        cls = nncore.error_class(code)
        assert cls is not nncore.Error and issubclass(cls, nncore.Error)
        error = cls("message")
        assert (error.status, error.status_name, error.message) == (code, name, "message")
        assert str(error) == f"message [{name}]"
    assert len({nncore.error_class(c) for c in _capi.NN_STATUS_NAMES if c}) == len(_capi.NN_STATUS_NAMES) - 1


def test_errors_carry_status_and_c_message(model):
    X, _ = X_y()
    with pytest.raises(nncore.ShapeMismatchError) as caught:
        model.predict(np.ones((4, 5), np.float32))
    error = caught.value
    assert error.status == _capi.NN_ERR_SHAPE_MISMATCH and error.status_name == "NN_ERR_SHAPE_MISMATCH"
    assert "expects 2 inputs per row, got 5" in error.message
    assert isinstance(error, ValueError)


def test_wrong_dtype_is_refused_with_a_useful_message(model):
    with pytest.raises(nncore.InvalidArgumentError, match="numeric"):
        model.predict(np.array([["a", "b"]]))
    with pytest.raises(nncore.InvalidArgumentError, match="complex"):
        model.predict(np.ones((2, 2), np.complex64))
    with pytest.raises(nncore.InvalidArgumentError, match="object"):
        model.predict(np.array([[object(), 1]], dtype=object))


def test_other_numeric_dtypes_are_converted(model):
    X, _ = X_y()
    expected = model.predict(X)
    assert np.allclose(model.predict(X.astype(np.float64)), expected)
    assert np.array_equal(model.predict(np.ones((2, 2), np.int64)), model.predict(np.ones((2, 2), np.float32)))
    assert np.array_equal(model.predict([[1, 2], [3, 4]]), model.predict(np.array([[1, 2], [3, 4]], np.float32)))


def test_wrong_shapes_are_refused(model):
    X, y = X_y()
    with pytest.raises(nncore.ShapeMismatchError, match=r"2-D .*reshape\(1, -1\)"):
        model.predict(np.ones(2, np.float32))
    with pytest.raises(nncore.ShapeMismatchError, match="2-D"):
        model.predict(np.ones((2, 2, 2), np.float32))
    with pytest.raises(nncore.ShapeMismatchError, match="expects 2 inputs per row, the training data has 3"):
        model.fit(np.ones((30, 3), np.float32), y)
    with pytest.raises(nncore.ShapeMismatchError, match="29 labels for 30 samples"):
        model.fit(X, y[:-1])
    with pytest.raises(nncore.ShapeMismatchError, match="1-D class indices"):
        model.fit(X, np.zeros((30, 2), np.int32))
    with pytest.raises(nncore.ShapeMismatchError, match="sample_weight"):
        model.fit(X, y, sample_weight=np.ones(29))


def test_nan_and_infinity_are_refused(model):
    X, y = X_y()
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(nncore.NonFiniteError) as caught:
        model.predict(bad)
    assert caught.value.status == _capi.NN_ERR_NON_FINITE and caught.value.message
    with pytest.raises(nncore.NonFiniteError, match="row 3"):
        model.fit(bad, y)
    bad[3, 1] = np.inf
    with pytest.raises(nncore.NonFiniteError):
        model.evaluate(bad, y)
    with pytest.raises(nncore.NonFiniteError, match="NaN"):
        model.fit(X, np.where(np.arange(30) == 2, np.nan, 0.0))
    assert model.epochs_trained == 0


def test_labels_out_of_range_are_refused(model):
    X, y = X_y()
    y[7] = 3
    with pytest.raises(nncore.LabelOutOfRangeError) as caught:
        model.fit(X, y)
    assert "3" in caught.value.message and caught.value.status == _capi.NN_ERR_LABEL_OUT_OF_RANGE
    y[7] = -1
    with pytest.raises(nncore.LabelOutOfRangeError):
        model.evaluate(X, y)
    wide = y.astype(np.int64)
    wide[7] = 2**32 + 1  # would wrap to 1 if cast blindly
    with pytest.raises(nncore.LabelOutOfRangeError, match="int32"):
        model.fit(X, wide)
    with pytest.raises(nncore.InvalidArgumentError, match="integer"):
        model.fit(X, np.full(30, 0.5))
    assert model.epochs_trained == 0


def test_empty_data_and_bad_hyperparameters(model):
    X, y = X_y()
    with pytest.raises(nncore.EmptyDataError):
        model.fit(X[:0], y[:0])
    with pytest.raises(nncore.BadHyperparameterError, match="learning"):
        model.fit(X, y, lr=-1.0)
    with pytest.raises(nncore.BadHyperparameterError):
        model.fit(X, y, optimizer=nncore.Momentum(1.5))
    with pytest.raises(nncore.BadHyperparameterError):
        model.fit(X, y, clip_norm=-1)
    with pytest.raises(nncore.BadHyperparameterError):
        nncore.Model(2).dropout(1.5)
    with pytest.raises(nncore.InvalidArgumentError, match="unknown activation"):
        nncore.Model(2).dense(3, "swish")
    with pytest.raises(nncore.InvalidArgumentError, match="unknown loss"):
        nncore.Model(2, loss="kl")
    with pytest.raises(nncore.InvalidArgumentError, match="inputs"):
        nncore.Model(0)


def test_a_model_without_layers_cannot_train():
    X, y = X_y()
    with pytest.raises(nncore.InvalidStateError, match="no trainable layers"):
        nncore.Model(2).fit(X, y)


def test_corrupt_and_missing_files(tmp_path, model):
    with pytest.raises(nncore.NotFoundError) as caught:
        nncore.Model.load(tmp_path / "missing.nnm")
    assert isinstance(caught.value, FileNotFoundError)
    data = bytearray(model.to_bytes())
    data[len(data) // 2] ^= 0x10
    with pytest.raises(nncore.CorruptFileError):
        nncore.Model.from_bytes(bytes(data))
    with pytest.raises(nncore.CorruptFileError):
        nncore.Model.from_bytes(bytes(data[:40]))
    with pytest.raises(nncore.CorruptFileError):
        nncore.Model.from_bytes(b"")
    (tmp_path / "junk.nnm").write_bytes(b"not a model at all")
    with pytest.raises(nncore.CorruptFileError):
        nncore.Model.load(tmp_path / "junk.nnm")
    with pytest.raises((nncore.NotFoundError, nncore.IOFailureError)):
        model.save(tmp_path / "no-such-dir" / "m.nnm")


def test_probabilities_of_a_hinge_model_are_refused():
    X, y = X_y()
    model = nncore.Model(2, loss="hinge").dense(3)
    with pytest.raises(nncore.InvalidStateError, match="probabilit"):
        model.predict_proba(X)


def test_exceptions_pickle():
    import pickle
    error = pickle.loads(pickle.dumps(nncore.CorruptFileError("bad checksum")))
    assert isinstance(error, nncore.CorruptFileError) and error.message == "bad checksum"
