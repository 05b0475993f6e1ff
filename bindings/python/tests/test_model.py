"""nncore.Model: building, training options, inference, inspection, persistence, lifetime."""
import copy
import gc
import pickle

import numpy as np
import pytest

import nncore

from conftest import make_spiral


def test_builder_chain_makes_the_lecture_net():
    model = nncore.Model(2).dense(100, "relu").dense(3).loss("softmax")
    assert isinstance(model, nncore.Model)
    assert (model.input_width, model.output_width, model.n_classes) == (2, 3, 3)
    assert model.parameter_count == 2 * 100 + 100 + 100 * 3 + 3
    assert model.loss_name == "softmax"
    assert [(l.kind, l.units, l.activation) for l in model.layers] == [("dense", 100, "relu"), ("dense", 3, "identity")]
    assert len(model) == 2


def test_every_layer_kind_and_activation_can_be_added():
    model = nncore.Model(4, loss="hinge")
    for activation in ("identity", "relu", "leaky_relu", "sigmoid", "tanh", "elu", "gelu", "softplus"):
        model.dense(5, activation)
    model.maxout(6, pieces=3).dropout(0.25).dense(2)
    kinds = [layer.kind for layer in model.layers]
    assert kinds == ["dense"] * 8 + ["maxout", "dropout", "dense"]
    assert model.layers[2].alpha == pytest.approx(0.01)
    assert model.layers[5].alpha == pytest.approx(1.0)
    assert model.layers[8].pieces == 3 and model.layers[8].weight_shape == (5, 18)
    assert model.layers[9].rate == pytest.approx(0.25) and not model.layers[9].trainable
    assert model.loss_name == "hinge"


def test_summary_lists_layers_and_parameters():
    model = nncore.Model(2).dense(100, "relu").dense(3)
    text = model.summary()
    assert "2 inputs -> 3 outputs" in text and "dense 100 relu" in text and "603" in text
    assert "2-100-3" in repr(model)


def test_fit_returns_the_history_and_reaches_the_lecture_accuracy(spiral):
    X, y = spiral
    model = nncore.Model(2, seed=1).dense(100, "relu").dense(3)
    history = model.fit(X, y, epochs=3000, batch_size=0, lr=1.0, l2=1e-3, progress=False)
    assert isinstance(history, nncore.History) and len(history) == 3000
    assert history.stop_reason == "completed"
    assert history[-1].epoch == 3000 and history.loss.shape == (3000,)
    assert history.loss[-1] < history.loss[0]
    assert history[-1].accuracy >= 0.97
    assert np.isnan(history.val_loss).all()
    assert (model.classify(X) == y).mean() >= 0.97
    assert model.epochs_trained == 3000 and len(model.history) == 3000


def test_two_fits_of_ten_epochs_equal_one_of_twenty(spiral):
    X, y = spiral
    a = nncore.Model(2, seed=3).dense(16, "tanh").dense(3)
    b = nncore.Model(2, seed=3).dense(16, "tanh").dense(3)
    a.fit(X, y, epochs=10, optimizer="adam", lr=0.01)
    a.fit(X, y, epochs=10, optimizer="adam", lr=0.01)
    b.fit(X, y, epochs=20, optimizer="adam", lr=0.01)
    assert np.array_equal(a.predict(X), b.predict(X))


def test_seed_restarts_training_reproducibly(spiral):
    X, y = spiral
    model = nncore.Model(2).dense(16, "relu").dense(3)
    model.fit(X, y, epochs=5, seed=42)
    first = model.predict(X)
    model.fit(X, y, epochs=5, seed=42)
    assert np.array_equal(model.predict(X), first)
    assert model.seed == 42


def test_optimisers_by_name_and_object(spiral):
    X, y = spiral
    for optimizer in ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw",
                      nncore.Momentum(0.5), nncore.Adam(beta1=0.8, beta2=0.99, eps=1e-7), nncore.AdamW(weight_decay=0.1)):
        model = nncore.Model(2, seed=0).dense(8, "relu").dense(3)
        history = model.fit(X, y, epochs=3, optimizer=optimizer, lr=0.01)
        assert np.isfinite(history.loss).all()
    with pytest.raises(nncore.InvalidArgumentError, match="unknown optimizer"):
        model.fit(X, y, optimizer="lbfgs")


def test_step_decay_multiplies_the_rate_at_its_milestones(spiral):
    X, y = spiral
    model = nncore.Model(2).dense(3)
    history = model.fit(X, y, epochs=100, lr=1.0, schedule=nncore.StepDecay([30, 60, 90], 0.1), batch_size=0)
    assert history.lr[[0, 29, 30, 59, 60, 89, 90, 99]] == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001], rel=1e-5)


def test_other_schedules(spiral):
    X, y = spiral
    model = nncore.Model(2).dense(3)
    assert model.fit(X, y, epochs=3, lr=1.0, schedule=nncore.ExponentialDecay(0.5)).lr == pytest.approx([1, 0.5, 0.25])
    model.reset_training()
    cosine = model.fit(X, y, epochs=11, lr=1.0, schedule=nncore.CosineDecay(period=10)).lr
    assert cosine[0] == pytest.approx(1.0) and cosine[10] == pytest.approx(0.0, abs=1e-6)
    model.reset_training()
    warm = model.fit(X, y, epochs=6, lr=1.0, schedule=nncore.Warmup(4)).lr
    assert warm[0] < warm[1] < warm[2] < warm[3] <= warm[4] == pytest.approx(1.0)
    model.reset_training()
    assert model.fit(X, y, epochs=2, schedule="exponential").lr[1] == pytest.approx(0.01 * 0.95)
    assert repr(nncore.StepDecay([30, 60, 90], 0.1)) == "StepDecay(milestones=(30, 60, 90), factor=0.1)"


def test_validation_data_and_fraction_are_monitored(spiral):
    X, y = spiral
    model = nncore.Model(2, seed=2).dense(32, "relu").dense(3)
    history = model.fit(X[:240], y[:240], epochs=5, validation=(X[240:], y[240:]), lr=0.1)
    assert not np.isnan(history.val_loss).any() and not np.isnan(history.val_accuracy).any()
    history = model.fit(X, y, epochs=5, validation=0.2, lr=0.1)
    assert history[0].val_loss is not None
    with pytest.raises(nncore.InvalidArgumentError, match="validation"):
        model.fit(X, y, validation="some")


def test_early_stopping_stops_and_restores_the_best_epoch(spiral):
    X, y = spiral
    model = nncore.Model(2, seed=0).dense(64, "relu").dense(3)
    history = model.fit(X, y, epochs=5000, batch_size=0, lr=5.0, validation=0.3,
                        early_stopping=nncore.EarlyStopping(patience=5))
    assert history.stop_reason == "early_stopped"
    assert len(history) < 5000
    best = history.best_epoch
    assert best == history.epochs[int(np.nanargmin(history.val_loss))].epoch
    assert model.fit(X, y, epochs=3, early_stopping=2).stop_reason in ("completed", "early_stopped")


def test_regression_with_mean_squared_error():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (400, 3)).astype(np.float32)
    y = (X @ np.array([1.5, -2.0, 0.5], np.float32) + 0.3).astype(np.float32)
    model = nncore.Model(3, loss="mse", seed=0).dense(16, "tanh").dense(1)
    history = model.fit(X, y, epochs=300, optimizer="adam", lr=0.01)
    assert history[-1].accuracy is None
    assert model.predict(X).shape == (400, 1)
    assert model.evaluate(X, y).loss < 0.01
    assert model.evaluate(X, y).accuracy is None
    with pytest.raises(nncore.InvalidStateError):
        model.predict_proba(X)


def test_binary_cross_entropy_with_labels_and_targets():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int32)
    model = nncore.Model(2, loss="binary_cross_entropy", seed=0).dense(16, "relu").dense(1)
    model.fit(X, y, epochs=200, optimizer="adam", lr=0.02)
    assert (model.classify(X) == y).mean() > 0.9
    proba = model.predict_proba(X)
    assert proba.shape == (300, 1) and ((proba >= 0) & (proba <= 1)).all()
    multi = nncore.Model(2, loss="bce").dense(2)
    multi.fit(X, np.c_[y, 1 - y].astype(np.float32), epochs=2)


def test_predict_proba_rows_sum_to_one_and_classify_is_their_argmax(trained_spiral, spiral):
    X, _ = spiral
    proba = trained_spiral.predict_proba(X)
    assert proba.dtype == np.float32 and proba.shape == (300, 3)
    assert np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert np.array_equal(trained_spiral.classify(X), proba.argmax(axis=1))
    assert trained_spiral.classify(X).dtype == np.int32


def test_outputs_can_be_written_into_out(trained_spiral, spiral):
    X, _ = spiral
    out = np.empty((300, 3), np.float32)
    assert trained_spiral.predict(X, out=out) is out
    assert np.array_equal(out, trained_spiral.predict(X))
    classes = np.empty(300, np.int32)
    assert trained_spiral.classify(X, out=classes) is classes
    with pytest.raises(nncore.ShapeMismatchError, match=r"shape \(300, 3\)"):
        trained_spiral.predict(X, out=np.empty((300, 2), np.float32))
    with pytest.raises(nncore.InvalidArgumentError, match="float32"):
        trained_spiral.predict(X, out=np.empty((300, 3), np.float64))
    with pytest.raises(nncore.InvalidArgumentError, match="C-contiguous"):
        trained_spiral.predict(X, out=np.empty((3, 300), np.float32).T)


def test_zero_rows_predict_nothing(trained_spiral):
    assert trained_spiral.predict(np.empty((0, 2), np.float32)).shape == (0, 3)


def test_prediction_shape_follows_layers_added_after_a_prediction():
    # The binding caches the output width between predictions; adding a layer must reset it.
    model = nncore.Model(4).dense(6, "relu")
    x = np.ones((2, 4), np.float32)
    assert model.predict(x).shape == (2, 6)
    model.dense(3)
    assert model.predict(x).shape == (2, 3)
    model.maxout(5, pieces=2)
    assert model.predict(x).shape == (2, 5)
    with pytest.raises(nncore.ShapeMismatchError):
        model.predict(x, out=np.empty((2, 3), np.float32))


def test_evaluate_matches_the_training_statistics(trained_spiral, spiral):
    X, y = spiral
    result = trained_spiral.evaluate(X, y)
    assert isinstance(result, nncore.Evaluation) and result.count == 300
    assert result.accuracy == pytest.approx((trained_spiral.classify(X) == y).mean(), abs=1e-6)
    assert result.loss > 0


def test_weights_and_biases_read_and_write(spiral):
    X, _ = spiral
    model = nncore.Model(2).dense(4, "relu").dense(3)
    layer = model.layers[0]
    w = layer.weights
    assert w.shape == (2, 4) and w.dtype == np.float32
    layer.weights = np.arange(8, dtype=np.float64).reshape(2, 4)
    assert np.array_equal(model.layers[0].weights, np.arange(8).reshape(2, 4))
    layer.biases = [1, 2, 3, 4]
    assert np.array_equal(model.layers[0].biases, [1, 2, 3, 4])
    params = model.get_weights()
    assert [p.shape for p in params] == [(2, 4), (4,), (4, 3), (3,)]
    params = [np.zeros_like(p) for p in params]
    model.set_weights(params)
    assert np.array_equal(model.predict(X), np.zeros((300, 3), np.float32))
    with pytest.raises(nncore.ShapeMismatchError):
        layer.weights = np.zeros((4, 2))
    with pytest.raises(nncore.ShapeMismatchError):
        model.set_weights(params[:2])
    with pytest.raises(nncore.NonFiniteError):
        layer.biases = [np.nan, 0, 0, 0]


def test_manual_weights_compute_x_w_plus_b():
    model = nncore.Model(2).dense(2, "relu").dense(1)
    model.set_weights([np.array([[1, -1], [2, 0.5]]), np.array([0.5, 0]), np.array([[1], [3]]), np.array([-1])])
    x = np.array([[1.0, 2.0], [-3.0, 1.0]], np.float32)
    hidden = np.maximum(x @ np.array([[1, -1], [2, 0.5]]) + [0.5, 0], 0)
    assert np.allclose(model.predict(x), hidden @ np.array([[1], [3]]) - 1)


def test_metadata_class_labels_feature_names_and_standardization(tmp_path, spiral):
    X, y = spiral
    model = nncore.Model(2).dense(3)
    model.metadata["author"] = "lecture"
    model.metadata["dataset"] = "spiral"
    assert dict(model.metadata) == {"author": "lecture", "dataset": "spiral"}
    del model.metadata["author"]
    with pytest.raises(KeyError):
        model.metadata["author"]
    with pytest.raises(KeyError):
        del model.metadata["author"]
    model.class_labels = ["red", "green", "blue"]
    model.feature_names = ["x", "y"]
    model.standardization = (np.array([0.1, -0.2]), np.array([2.0, 3.0]))
    with pytest.raises(nncore.ShapeMismatchError):
        model.class_labels = ["a", "b"]
    path = tmp_path / "labelled.nnm"
    model.save(path)
    loaded = nncore.Model.load(path)
    assert loaded.metadata == {"dataset": "spiral"}
    assert loaded.class_labels == ["red", "green", "blue"]
    assert loaded.feature_names == ["x", "y"]
    mean, scale = loaded.standardization
    assert np.allclose(mean, [0.1, -0.2]) and np.allclose(scale, [2, 3])
    assert set(loaded.classify(X, labels=True)) <= {"red", "green", "blue"}
    loaded.standardization = None
    assert loaded.standardization is None
    loaded.class_labels = []
    assert loaded.class_labels == []


def test_standardize_option_fits_and_keeps_the_input_scaling(spiral):
    X, y = spiral
    model = nncore.Model(2).dense(3)
    model.fit(X * 100 + 5, y, epochs=1, standardize=True)
    mean, scale = model.standardization
    assert np.allclose(mean, (X * 100 + 5).mean(axis=0), rtol=1e-3)


def test_save_and_load_by_path_and_bytes_give_identical_predictions(tmp_path, trained_spiral, spiral):
    X, _ = spiral
    path = tmp_path / "spiral.nnm"
    trained_spiral.save(path)
    trained_spiral.save(str(tmp_path / "deploy.nnm"), training_state=False)
    for loaded in (nncore.Model.load(path), nncore.load(str(path)), nncore.Model.from_bytes(path.read_bytes()),
                   nncore.Model.from_bytes(bytearray(trained_spiral.to_bytes())),
                   nncore.Model.load(tmp_path / "deploy.nnm")):
        with loaded:
            assert np.array_equal(loaded.predict(X), trained_spiral.predict(X))
    assert (tmp_path / "deploy.nnm").stat().st_size < path.stat().st_size


def test_the_same_model_saves_to_the_same_bytes(trained_spiral):
    assert trained_spiral.to_bytes(creation_time=0) == trained_spiral.to_bytes(creation_time=0)


def test_training_continues_after_load_exactly(spiral, tmp_path):
    X, y = spiral
    a = nncore.Model(2, seed=5).dense(16, "relu").dense(3)
    a.fit(X, y, epochs=5, optimizer="adam", lr=0.01)
    b = nncore.Model.from_bytes(a.to_bytes())
    a.fit(X, y, epochs=5, optimizer="adam", lr=0.01)
    b.fit(X, y, epochs=5, optimizer="adam", lr=0.01)
    assert np.array_equal(a.predict(X), b.predict(X))
    assert len(b.history) == 10


def test_models_pickle_and_copy(trained_spiral, spiral):
    X, _ = spiral
    expected = trained_spiral.predict(X)
    for other in (pickle.loads(pickle.dumps(trained_spiral)), copy.copy(trained_spiral),
                  copy.deepcopy(trained_spiral), trained_spiral.copy()):
        assert other is not trained_spiral
        assert np.array_equal(other.predict(X), expected)
    clone = trained_spiral.copy()
    clone.layers[0].biases = np.zeros(100)
    assert np.array_equal(trained_spiral.predict(X), expected)


def test_close_is_idempotent_and_a_closed_model_refuses_use(spiral):
    X, _ = spiral
    model = nncore.Model(2).dense(3)
    model.close()
    model.close()
    assert model.closed and "closed" in repr(model)
    with pytest.raises(nncore.InvalidStateError, match="closed"):
        model.predict(X)
    with nncore.Model(2).dense(3) as scoped:
        scoped.predict(X)
    assert scoped.closed


def test_collected_models_free_their_handles():
    library = nncore._lib()
    handles = []
    for _ in range(3):
        model = nncore.Model(2).dense(3)
        handles.append(model._handle)
        del model
    gc.collect()
    info = nncore._capi.nn_model_info()
    library.nn_model_info_init(info)
    for handle in handles:
        assert library.nn_model_get_info(handle, info) == nncore._capi.NN_ERR_INVALID_HANDLE


def test_dot_output_describes_the_graph(trained_spiral):
    dot = trained_spiral.to_dot()
    assert dot.startswith("digraph") and "relu" in dot.lower()


def test_train_step_and_advance_epoch(spiral):
    X, y = spiral
    model = nncore.Model(2, seed=0).dense(16, "relu").dense(3)
    first = model.train_step(X[:32], y[:32], lr=0.1, schedule=nncore.ExponentialDecay(0.5))
    assert set(first) == {"loss", "regularization_loss", "accuracy", "lr", "gradient_norm"}
    model.advance_epoch()
    assert model.train_step(X[:32], y[:32], lr=0.1, schedule=nncore.ExponentialDecay(0.5))["lr"] == pytest.approx(0.05)
    assert model.steps_trained == 2 and model.epochs_trained == 1


def test_train_step_uses_each_calls_arguments():
    # A softmax layer without hidden units, checked against its gradient in NumPy: each step
    # must use the learning rate, penalty and optimiser of its own call, whatever came before.
    rng = np.random.default_rng(3)
    X = rng.standard_normal((16, 4)).astype(np.float32)
    y = rng.integers(0, 3, 16).astype(np.int32)
    model = nncore.Model(4, seed=1).dense(3)
    calls = [dict(lr=0.1), dict(lr=0.1), dict(lr=0.3), dict(lr=0.3, l2=0.01), dict(lr=0.1),
             dict(lr=0.1, schedule=nncore.StepDecay([0], 0.5)), dict(lr=0.1)]
    for kwargs in calls:
        W, b = (p.astype(np.float64) for p in model.get_weights())
        scores = X @ W + b
        P = np.exp(scores - scores.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        P[np.arange(16), y] -= 1
        rate = kwargs["lr"] * (0.5 if "schedule" in kwargs else 1.0)
        expected_W = W - rate * (X.T @ P / 16 + 2 * kwargs.get("l2", 0.0) * W)
        stats = model.train_step(X, y, **kwargs)
        assert stats["lr"] == pytest.approx(rate)
        assert np.allclose(model.get_weights()[0], expected_W, atol=1e-5)


def test_train_step_follows_a_change_of_loss():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((8, 2)).astype(np.float32)
    model = nncore.Model(2, seed=0).dense(3)
    model.train_step(X, rng.integers(0, 3, 8).astype(np.int32))
    model.loss("mse")
    targets = rng.standard_normal((8, 3)).astype(np.float32)
    before = float(np.mean((model.predict(X) - targets) ** 2))
    assert model.train_step(X, targets, lr=0.05)["loss"] == pytest.approx(before, rel=1e-4)
    model.dense(2)
    assert model.predict(X).shape == (8, 2)


def test_several_class_counts(spiral):
    for classes in (2, 5):
        X, y = make_spiral(40, classes, seed=classes)
        model = nncore.Model(2).dense(32, "relu").dense(classes)
        model.fit(X, y, epochs=50, optimizer="adam", lr=0.01)
        assert model.predict_proba(X).shape == (40 * classes, classes)
