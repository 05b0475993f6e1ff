"""Optimisers, learning-rate schedules and early stopping as small value objects.

Each can also be named by a string where ``fit`` takes it (``optimizer="adam"``,
``schedule="cosine"``); the objects carry the hyper-parameters. The C library checks every value
and raises ``nncore.BadHyperparameterError`` with the option's name when one is out of range.
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Optional, Sequence, Union

from . import _capi
from ._errors import InvalidArgumentError


class Optimizer:
    """Base class of the update rules."""

    code: int = 0

    def _apply(self, options: _capi.nn_train_options) -> None:
        options.optimizer = self.code


@dataclass(frozen=True)
class SGD(Optimizer):
    """Plain gradient descent: p -= lr * g."""

    code = _capi.NN_OPTIMIZER_SGD


@dataclass(frozen=True)
class Momentum(Optimizer):
    """Momentum (the lecture's and scikit-learn's form): v = mu*v - lr*g; p += v."""

    momentum: float = 0.9
    code = _capi.NN_OPTIMIZER_MOMENTUM

    def _apply(self, options):
        options.optimizer = self.code
        options.momentum = self.momentum


@dataclass(frozen=True)
class Nesterov(Momentum):
    """Nesterov momentum."""

    code = _capi.NN_OPTIMIZER_NESTEROV


@dataclass(frozen=True)
class Adagrad(Optimizer):
    """Adagrad: c += g^2; p -= lr*g / (sqrt(c) + eps)."""

    eps: float = 1e-8
    code = _capi.NN_OPTIMIZER_ADAGRAD

    def _apply(self, options):
        options.optimizer = self.code
        options.epsilon = self.eps


@dataclass(frozen=True)
class RMSProp(Optimizer):
    """RMSProp: c = rho*c + (1 - rho)*g^2; p -= lr*g / (sqrt(c) + eps)."""

    rho: float = 0.9
    eps: float = 1e-8
    code = _capi.NN_OPTIMIZER_RMSPROP

    def _apply(self, options):
        options.optimizer = self.code
        options.rho = self.rho
        options.epsilon = self.eps


@dataclass(frozen=True)
class Adam(Optimizer):
    """Adam with bias correction."""

    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    code = _capi.NN_OPTIMIZER_ADAM

    def _apply(self, options):
        options.optimizer = self.code
        options.beta1 = self.beta1
        options.beta2 = self.beta2
        options.epsilon = self.eps


@dataclass(frozen=True)
class AdamW(Adam):
    """Adam with decoupled weight decay on weights (not biases)."""

    weight_decay: float = 0.01
    code = _capi.NN_OPTIMIZER_ADAMW

    def _apply(self, options):
        super()._apply(options)
        options.weight_decay = self.weight_decay


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov, "adagrad": Adagrad,
              "rmsprop": RMSProp, "adam": Adam, "adamw": AdamW}


def optimizer(spec: Union[str, Optimizer, None]) -> Optimizer:
    """An optimiser object from an object, a name (``"adam"``) or None (SGD)."""
    if spec is None:
        return SGD()
    if isinstance(spec, Optimizer):
        return spec
    if isinstance(spec, str) and spec.lower() in OPTIMIZERS:
        return OPTIMIZERS[spec.lower()]()
    raise InvalidArgumentError(f"unknown optimizer {spec!r}; use one of {sorted(OPTIMIZERS)} or an "
                               "nncore optimizer object such as nncore.Adam(beta1=0.9)")


class Schedule:
    """Base class of the learning-rate schedules (per epoch, over the model's whole life)."""

    code: int = _capi.NN_SCHEDULE_CONSTANT

    def _apply(self, options, keep: list) -> None:
        options.schedule = self.code


@dataclass(frozen=True)
class Constant(Schedule):
    """The same rate every epoch."""

    code = _capi.NN_SCHEDULE_CONSTANT


@dataclass(frozen=True)
class StepDecay(Schedule):
    """Multiply the rate by ``factor`` at each milestone epoch (0-based): the lecture's
    ``StepDecay([30, 60, 90], 0.1)``."""

    milestones: Sequence[int] = ()
    factor: float = 0.1
    code = _capi.NN_SCHEDULE_STEP_DECAY

    def __post_init__(self):
        values = tuple(int(m) for m in self.milestones)
        if any(m < 0 or m > 0xFFFFFFFF for m in values):
            raise InvalidArgumentError(f"StepDecay milestones must be epochs >= 0, got {list(values)}")
        object.__setattr__(self, "milestones", values)

    def _apply(self, options, keep):
        options.schedule = self.code
        array = (ctypes.c_uint32 * len(self.milestones))(*self.milestones)
        keep.append(array)
        options.step_milestones = ctypes.cast(array, ctypes.POINTER(ctypes.c_uint32)) if self.milestones else None
        options.step_milestone_count = len(self.milestones)
        options.step_factor = self.factor


@dataclass(frozen=True)
class ExponentialDecay(Schedule):
    """rate * gamma**epoch."""

    gamma: float = 0.95
    code = _capi.NN_SCHEDULE_EXPONENTIAL

    def _apply(self, options, keep):
        options.schedule = self.code
        options.exponential_gamma = self.gamma


@dataclass(frozen=True)
class CosineDecay(Schedule):
    """Cosine annealing from the rate to rate*minimum over ``period`` epochs."""

    period: int = 100
    minimum: float = 0.0
    code = _capi.NN_SCHEDULE_COSINE

    def _apply(self, options, keep):
        options.schedule = self.code
        options.cosine_period = int(self.period)
        options.cosine_minimum_factor = self.minimum


@dataclass(frozen=True)
class Warmup(Schedule):
    """``epochs`` of linear warm-up in front of another schedule (``then``; constant by default).
    The inner schedule runs on the same absolute epochs, so its milestones keep their meaning."""

    epochs: int = 5
    then: Optional[Schedule] = None

    def _apply(self, options, keep):
        inner = self.then if self.then is not None else Constant()
        if isinstance(inner, Warmup):
            raise InvalidArgumentError("a Warmup cannot wrap another Warmup")
        inner._apply(options, keep)
        options.warmup_epochs = int(self.epochs)


SCHEDULES = {"constant": Constant, "exponential": ExponentialDecay, "cosine": CosineDecay}


def schedule(spec: Union[str, Schedule, None]) -> Schedule:
    """A schedule object from an object, a name (``"cosine"``) or None (constant)."""
    if spec is None:
        return Constant()
    if isinstance(spec, Schedule):
        return spec
    if isinstance(spec, str) and spec.lower() in SCHEDULES:
        return SCHEDULES[spec.lower()]()
    raise InvalidArgumentError(f"unknown schedule {spec!r}; use one of {sorted(SCHEDULES)} or an object "
                               "such as nncore.StepDecay([30, 60, 90], 0.1)")


@dataclass(frozen=True)
class EarlyStopping:
    """Stop when the watched loss (validation loss, or training loss without validation data) has
    not improved by ``min_delta`` for ``patience`` epochs; the best epoch's weights are restored."""

    patience: int = 10
    min_delta: float = 0.0

    def __post_init__(self):
        if int(self.patience) < 1:
            raise InvalidArgumentError(f"early stopping patience must be >= 1, got {self.patience}")


def early_stopping(spec) -> Optional[EarlyStopping]:
    """None/False (off), True (patience 10), an int patience, or an EarlyStopping object."""
    if spec is None or spec is False:
        return None
    if spec is True:
        return EarlyStopping()
    if isinstance(spec, EarlyStopping):
        return spec
    if isinstance(spec, int):
        return EarlyStopping(patience=spec)
    raise InvalidArgumentError(f"early_stopping must be None, True, a patience or nncore.EarlyStopping, got {spec!r}")

