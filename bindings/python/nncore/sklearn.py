"""scikit-learn estimators backed by nncore: ``MLPClassifier`` and ``MLPRegressor``.

They take scikit-learn's ``sklearn.neural_network`` parameter names and set its fitted
attributes, so they drop into pipelines, grid searches and cross-validation::

    from nncore.sklearn import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=100, random_state=0).fit(X, y)
    clf.score(X_test, y_test), clf.loss_curve_[-1], clf.n_iter_

nncore's own additions: ``loss="hinge"`` (classifier), ``l1``, ``schedule`` (an nncore schedule
object), ``standardize``, more ``solver`` values (``"adamw"``, ``"rmsprop"``, ``"adagrad"``) and
more ``activation`` values (``"leaky_relu"``, ``"elu"``, ``"gelu"``, ``"softplus"``). The
trained network is ``model_`` (an ``nncore.Model``): save it with ``model_.save(path)``.

Differences from scikit-learn's estimators are listed in docs/python.md (no ``lbfgs``, no
``"invscaling"``/``"adaptive"`` rates; early stopping watches the validation loss; the
regressor's loss is the mean squared error, not half of it).
"""
from __future__ import annotations

import numbers
import sys
import warnings

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import LabelBinarizer
    from sklearn.utils import check_random_state
    from sklearn.utils.metaestimators import available_if
    from sklearn.utils.multiclass import _check_partial_fit_first_call, check_classification_targets, unique_labels
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d
except ImportError as error:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError("nncore.sklearn needs scikit-learn: pip install scikit-learn") from error

try:
    from sklearn.utils.validation import validate_data as _sk_validate_data
except ImportError:  # scikit-learn < 1.6
    _sk_validate_data = None

from . import _options
from ._model import Model

__all__ = ["MLPClassifier", "MLPRegressor"]

_SOLVERS = {"adam", "sgd", "adamw", "rmsprop", "adagrad"}
_ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
                "leaky_relu": "leaky_relu", "elu": "elu", "gelu": "gelu", "softplus": "softplus"}


def _validate_data(estimator, X, y="no_validation", **kwargs):
    if _sk_validate_data is not None:
        return _sk_validate_data(estimator, X, y, **kwargs)
    return estimator._validate_data(X, y, **kwargs)  # pragma: no cover


class _BaseMLP(BaseEstimator):
    """What the classifier and the regressor share: parameters, training, fitted attributes."""

    _loss_options: tuple = ()

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5,
                 max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False,
                 momentum=0.9, nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 loss=None, l1=0.0, schedule=None, standardize=False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.loss = loss
        self.l1 = l1
        self.schedule = schedule
        self.standardize = standardize

    # ---- parameters -------------------------------------------------------------------------

    def _hidden(self) -> list:
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = list(sizes)
        if any(not isinstance(s, numbers.Integral) or s <= 0 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive ints, got {self.hidden_layer_sizes}.")
        return [int(s) for s in sizes]

    def _check_parameters(self) -> None:
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"The activation '{self.activation}' is not supported. Supported activations "
                             f"are {sorted(_ACTIVATIONS)}.")
        if self.solver == "lbfgs":
            raise ValueError("solver='lbfgs' is not supported by nncore; use 'adam' or 'sgd'.")
        if self.solver not in _SOLVERS:
            raise ValueError(f"The solver {self.solver} is not supported. Expected one of {sorted(_SOLVERS)}.")
        if self.learning_rate != "constant":
            raise ValueError(f"learning_rate='{self.learning_rate}' is not supported by nncore; use "
                             "learning_rate='constant' with schedule=nncore.StepDecay(...), ExponentialDecay, "
                             "CosineDecay or Warmup.")
        if self.loss not in self._loss_options:
            raise ValueError(f"The loss {self.loss!r} is not supported. Expected one of {list(self._loss_options)}.")
        if not isinstance(self.max_iter, numbers.Integral) or self.max_iter <= 0:
            raise ValueError(f"max_iter must be > 0, got {self.max_iter}.")
        if self.alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {self.alpha}.")
        if self.learning_rate_init <= 0:
            raise ValueError(f"learning_rate_init must be > 0, got {self.learning_rate_init}.")
        if self.early_stopping and not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in (0, 1), got {self.validation_fraction}.")
        if not isinstance(self.n_iter_no_change, numbers.Integral) or self.n_iter_no_change <= 0:
            raise ValueError(f"n_iter_no_change must be > 0, got {self.n_iter_no_change}.")

    def _optimizer(self) -> _options.Optimizer:
        if self.solver == "adam":
            return _options.Adam(self.beta_1, self.beta_2, self.epsilon)
        if self.solver == "adamw":
            return _options.AdamW(self.beta_1, self.beta_2, self.epsilon)
        if self.solver == "rmsprop":
            return _options.RMSProp(eps=self.epsilon)
        if self.solver == "adagrad":
            return _options.Adagrad(self.epsilon)
        if self.momentum > 0:
            return (_options.Nesterov if self.nesterovs_momentum else _options.Momentum)(self.momentum)
        return _options.SGD()

    def _batch(self, n_samples: int) -> int:
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size < 1 or self.batch_size > n_samples:
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be clipped")
        return int(np.clip(self.batch_size, 1, n_samples))

    # ---- training ---------------------------------------------------------------------------

    def _seed(self, rng) -> int:
        if isinstance(self.random_state, numbers.Integral):
            return int(self.random_state)
        return int(rng.randint(np.iinfo(np.int32).max))

    def _train(self, X, y_fit, sample_weight, incremental: bool, first_pass: bool,
               n_outputs: int, loss_code: str, stratify=None, y_original=None):
        """Builds the network on a first pass, trains it, and sets the fitted attributes."""
        rng = check_random_state(self.random_state)
        n_samples, n_features = X.shape
        if first_pass or getattr(self, "model_", None) is None:
            model = Model(n_features, loss=loss_code, seed=self._seed(rng))
            activation = _ACTIVATIONS[self.activation]
            for units in self._hidden():
                model.dense(units, activation)
            model.dense(n_outputs)
            self.model_ = model
            self.n_layers_ = len(self._hidden()) + 2
            self.n_outputs_ = n_outputs
            self.loss_curve_ = []
            self.t_ = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.validation_scores_ = None
                self.best_validation_score_ = None
                self.best_loss_ = np.inf

        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        validation = None
        X_train, y_train, w_train = X, y_fit, sample_weight
        if self.early_stopping:
            arrays = [X, y_fit] + ([sample_weight] if sample_weight is not None else [])
            split = train_test_split(*arrays, random_state=rng, test_size=self.validation_fraction,
                                     stratify=stratify)
            X_train, X_val, y_train, y_val = split[:4]
            w_val = None
            if sample_weight is not None:
                w_train, w_val = split[4], split[5]
            if X_val.shape[0] < 2:
                raise ValueError("The validation set is too small. Increase 'validation_fraction' or the size "
                                 "of your dataset.")
            validation = (X_val, y_val) if w_val is None else (X_val, y_val, w_val)

        batch = self._batch(X_train.shape[0])
        epochs = 1 if incremental else int(self.max_iter)
        # scikit-learn's penalty is alpha/2 * sum(W^2) divided by the batch's weight sum; nncore's
        # is l2 * sum(W^2), so l2 = alpha / (2 * batch weight), the mean weight standing in for
        # each batch's own.
        batch_weight = batch * (float(np.mean(w_train)) if w_train is not None and len(w_train) else 1.0)
        l2 = float(self.alpha) / (2.0 * batch_weight) if batch_weight > 0 else 0.0
        seen = []

        def record(stats):
            seen.append(stats)
            if self.verbose:
                print(f"Iteration {stats.epoch}, loss = {stats.total_loss:.8f}")
                if stats.val_loss is not None:
                    print(f"Validation loss: {stats.val_loss:f}")
                sys.stdout.flush()

        stopping = None if incremental else _options.EarlyStopping(self.n_iter_no_change + 1, float(self.tol))
        history = None
        try:
            history = self.model_.fit(
                X_train, y_train, sample_weight=w_train, epochs=epochs, batch_size=batch,
                optimizer=self._optimizer(), lr=float(self.learning_rate_init),
                l2=l2, l1=float(self.l1), schedule=self.schedule,
                validation=validation, early_stopping=stopping, shuffle=bool(self.shuffle),
                standardize=bool(self.standardize), progress=False, callbacks=[record])
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")

        losses = [s.total_loss for s in seen]
        self.loss_curve_ = list(self.loss_curve_) + losses
        self.n_iter_ = len(seen)
        self.t_ = getattr(self, "t_", 0) + X_train.shape[0] * len(seen)
        if losses:
            self.loss_ = losses[-1]
        if self.early_stopping and validation is not None:
            scores = [self._validation_score(s, validation[1]) for s in seen]
            self.validation_scores_ = list(self.validation_scores_ or []) + scores
            if scores:
                self.best_validation_score_ = max(self.best_validation_score_, max(scores))
        elif losses:
            self.best_loss_ = min(self.best_loss_ if self.best_loss_ is not None else np.inf, min(losses))
        if (history is not None and not incremental and history.stop_reason == "completed"
                and len(seen) == self.max_iter):
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                          "optimization hasn't converged yet.", ConvergenceWarning)
        return self

    # ---- fitted attributes --------------------------------------------------------------------

    def _trainable_layers(self):
        check_is_fitted(self, "model_")
        return [layer for layer in self.model_.layers if layer.trainable]

    @property
    def coefs_(self) -> list:
        """Weight matrices, one (inputs, units) array per layer (copies of the model's)."""
        if getattr(self, "model_", None) is None:
            raise AttributeError("coefs_")
        return [layer.weights for layer in self._trainable_layers()]

    @coefs_.setter
    def coefs_(self, values) -> None:
        layers = self._trainable_layers()
        if len(values) != len(layers):
            raise ValueError(f"coefs_ needs {len(layers)} arrays, got {len(values)}")
        for layer, value in zip(layers, values):
            layer.weights = value

    @property
    def intercepts_(self) -> list:
        """Bias vectors, one per layer (copies of the model's)."""
        if getattr(self, "model_", None) is None:
            raise AttributeError("intercepts_")
        return [layer.biases for layer in self._trainable_layers()]

    @intercepts_.setter
    def intercepts_(self, values) -> None:
        layers = self._trainable_layers()
        if len(values) != len(layers):
            raise ValueError(f"intercepts_ needs {len(layers)} arrays, got {len(values)}")
        for layer, value in zip(layers, values):
            layer.biases = value

    def _inputs(self, X):
        check_is_fitted(self, "model_")
        return _validate_data(self, X, dtype=np.float32, reset=False)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier trained by nncore, with scikit-learn's interface.

    Binary targets get one logistic output, multiclass targets a softmax output, multilabel
    indicator targets one logistic output per label (as in scikit-learn); ``loss="hinge"`` trains
    a multiclass SVM head instead (no ``predict_proba`` then). Parameters are those of
    ``sklearn.neural_network.MLPClassifier`` plus ``loss``, ``l1``, ``schedule`` and
    ``standardize``; see the module docstring.
    """

    _loss_options = ("log_loss", "hinge")

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5,
                 max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False,
                 momentum=0.9, nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 loss="log_loss", l1=0.0, schedule=None, standardize=False):
        super().__init__(hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
                         learning_rate=learning_rate, learning_rate_init=learning_rate_init, power_t=power_t,
                         max_iter=max_iter, shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
                         warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
                         early_stopping=early_stopping, validation_fraction=validation_fraction, beta_1=beta_1,
                         beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun,
                         loss=loss, l1=l1, schedule=schedule, standardize=standardize)

    def fit(self, X, y, sample_weight=None):
        """Trains the network on (X, y) for up to ``max_iter`` epochs; returns self."""
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over (X, y); ``classes`` (every class there will be) is required on the first call."""
        if _check_partial_fit_first_call(self, classes):
            self._binarizer = LabelBinarizer().fit(classes)
            self._first_partial = True
        return self._fit(X, y, sample_weight, incremental=True)

    def _fit(self, X, y, sample_weight, incremental):
        self._check_parameters()
        first_pass = getattr(self, "model_", None) is None or (not self.warm_start and not incremental)
        if incremental and getattr(self, "_first_partial", False):
            first_pass = True
        self._first_partial = False
        X, y = _validate_data(self, X, y, multi_output=True, dtype=np.float32, reset=first_pass)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float32)

        if first_pass and not incremental:
            self._binarizer = LabelBinarizer().fit(y)
        elif self.warm_start and not incremental and set(unique_labels(y)) != set(self.classes_):
            raise ValueError("warm_start can only be used where `y` has the same classes as in the previous "
                             f"call to fit. Previously got {self.classes_}, `y` has {unique_labels(y)}")
        binarizer = self._binarizer
        self.classes_ = binarizer.classes_
        kind = binarizer.y_type_
        if incremental and kind != "multilabel-indicator":
            unknown = np.setdiff1d(unique_labels(y), self.classes_)
            if len(unknown):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes_}. "
                                 f"'y' has {unique_labels(y)}.")
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes in the data, but the "
                             f"data contain only one class: {self.classes_[0]!r}")

        stratify = None
        if kind == "multilabel-indicator":
            if self.loss == "hinge":
                raise ValueError("loss='hinge' does not support multilabel targets; use loss='log_loss'")
            y_fit = binarizer.transform(y).astype(np.float32)
            n_outputs, loss, self.out_activation_ = y_fit.shape[1], "binary_cross_entropy", "logistic"
        else:
            y_fit = np.searchsorted(self.classes_, y).astype(np.int32)
            stratify = y_fit
            if self.loss == "hinge":
                n_outputs, loss, self.out_activation_ = len(self.classes_), "hinge", "identity"
            elif len(self.classes_) == 2:
                n_outputs, loss, self.out_activation_ = 1, "binary_cross_entropy", "logistic"
            else:
                n_outputs, loss, self.out_activation_ = len(self.classes_), "softmax", "softmax"
        if not first_pass and self.model_.output_width != n_outputs:
            raise ValueError(f"the targets need {n_outputs} outputs, the fitted network has {self.model_.output_width}")
        return self._train(X, y_fit, sample_weight, incremental, first_pass, n_outputs, loss, stratify=stratify)

    def _validation_score(self, stats, y_val) -> float:
        return float("nan") if stats.val_accuracy is None else stats.val_accuracy

    def predict(self, X):
        """The predicted classes (labels from ``classes_``; an indicator matrix for multilabel)."""
        X = self._inputs(X)
        if self._binarizer.y_type_ == "multilabel-indicator":
            return (self.model_.predict_proba(X) > 0.5).astype(int)
        return self.classes_[self.model_.classify(X)]

    def _has_proba(self) -> bool:
        return self.loss != "hinge"

    @available_if(_has_proba)
    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``."""
        X = self._inputs(X)
        proba = self.model_.predict_proba(X)
        if proba.shape[1] == 1 and self._binarizer.y_type_ != "multilabel-indicator":
            return np.hstack([1.0 - proba, proba])
        return proba

    @available_if(_has_proba)
    def predict_log_proba(self, X):
        """log(predict_proba(X))."""
        proba = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(proba, out=proba)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor trained by nncore (mean squared error, identity output),
    with the parameters of ``sklearn.neural_network.MLPRegressor`` plus ``l1``, ``schedule`` and
    ``standardize``."""

    _loss_options = ("squared_error",)

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5,
                 max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False,
                 momentum=0.9, nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 loss="squared_error", l1=0.0, schedule=None, standardize=False):
        super().__init__(hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
                         learning_rate=learning_rate, learning_rate_init=learning_rate_init, power_t=power_t,
                         max_iter=max_iter, shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
                         warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
                         early_stopping=early_stopping, validation_fraction=validation_fraction, beta_1=beta_1,
                         beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun,
                         loss=loss, l1=l1, schedule=schedule, standardize=standardize)

    def fit(self, X, y, sample_weight=None):
        """Trains the network on (X, y) for up to ``max_iter`` epochs; returns self."""
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y); returns self."""
        return self._fit(X, y, sample_weight, incremental=True)

    def _fit(self, X, y, sample_weight, incremental):
        self._check_parameters()
        first_pass = getattr(self, "model_", None) is None or (not self.warm_start and not incremental)
        X, y = _validate_data(self, X, y, multi_output=True, y_numeric=True, dtype=np.float32, reset=first_pass)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float32)
        y_fit = np.ascontiguousarray(y.reshape(len(y), -1), dtype=np.float32)
        n_outputs = y_fit.shape[1]
        if not first_pass and self.model_.output_width != n_outputs:
            raise ValueError(f"y has {n_outputs} targets, the fitted network has {self.model_.output_width} outputs")
        self.out_activation_ = "identity"
        return self._train(X, y_fit, sample_weight, incremental, first_pass, n_outputs, "mse")

    def _validation_score(self, stats, y_val) -> float:
        # R^2 from the validation MSE: exact for one output; for several, against their mean variance.
        if stats.val_loss is None:
            return float("nan")
        variance = float(np.var(y_val, axis=0).mean())
        return 1.0 - stats.val_loss / variance if variance > 0 else float("nan")

    def predict(self, X):
        """Predicted targets, shape (n_samples,) for one target, else (n_samples, n_outputs)."""
        X = self._inputs(X)
        out = self.model_.predict(X)
        return out.ravel() if out.shape[1] == 1 else out
