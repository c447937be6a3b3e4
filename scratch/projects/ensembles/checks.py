"""Project 14's input checks, shared by every estimator (never twinned): hyperparameters, X, y,
sample weights and the fitted state, refused in scikit-learn's wording where it has one.

Each message reads ``"<argument>: expected <what>, got <what came>"`` and then carries
scikit-learn's sentence in brackets, so its estimator checks (which match on its words) and a
reader both recognise it. X and y are converted as ``check_array`` converts them by
``scratch.validation``'s ``check_features`` / ``check_target`` (one implementation of those conventions in the repo).
"""
import numbers

import numpy as np
import scipy.sparse

from scratch.text import NotFittedError
from scratch.validation import check_column, check_features, check_sample_weight, check_target

__all__ = [
    "HasMethods",
    "Interval",
    "InvalidParameterError",
    "NotFittedError",
    "Options",
    "check_X",
    "check_class_weights",
    "check_classes",
    "check_fitted",
    "check_random_state",
    "check_sample_weight",
    "check_y",
    "resolve_max_features",
    "validate_params",
]


class InvalidParameterError(ValueError, TypeError):
    """A hyperparameter outside its allowed values (scikit-learn's class of the same name)."""


class Interval:
    """Numbers of ``kind`` (int or float) in [low, high], open at an end where ``closed`` says."""

    def __init__(self, kind, low, high, closed="both"):
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def __contains__(self, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral if self.kind is int else numbers.Real):
            return False
        if self.kind is float and isinstance(value, numbers.Integral):
            return False  # scikit-learn reads an int as a count, never as a fraction
        low_ok = self.low is None or (value >= self.low if self.closed in ("both", "left") else value > self.low)
        high_ok = self.high is None or (value <= self.high if self.closed in ("both", "right") else value < self.high)
        return low_ok and high_ok

    def __str__(self):
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        low = "-inf" if self.low is None else self.low
        high = "inf" if self.high is None else self.high
        return f"{'an int' if self.kind is int else 'a float'} in the range {left}{low}, {high}{right}"


class Options:
    """One of a fixed set of values (strings, or None)."""

    def __init__(self, *values):
        self.values = values

    def __contains__(self, value):
        return any(value is option or (isinstance(value, str) and value == option) for option in self.values)

    def __str__(self):
        return f"a str among {{{', '.join(repr(v) for v in self.values if v is not None)}}}"


class HasMethods:
    """Any object with these methods (an estimator handed in as a parameter)."""

    def __init__(self, *methods):
        self.methods = methods

    def __contains__(self, value):
        return not isinstance(value, str) and all(callable(getattr(value, name, None)) for name in self.methods)

    def __str__(self):
        return f"an object implementing {' and '.join(repr(name) for name in self.methods)}"


def validate_params(estimator, constraints):
    """Every ``constraints[name]`` (a list of Interval/Options/type) checked on ``estimator.name``."""
    for name, allowed in constraints.items():
        value = getattr(estimator, name)
        if any(value in rule if not isinstance(rule, type) else isinstance(value, rule) for rule in allowed):
            continue
        words = [f"an instance of '{rule.__name__}'" if isinstance(rule, type) else str(rule) for rule in allowed
                 if not isinstance(rule, Options) or any(v is not None for v in rule.values)]
        if any(isinstance(rule, Options) and None in rule.values for rule in allowed):
            words.append("None")  # scikit-learn names None last
        expected = ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]
        raise InvalidParameterError(f"{name}: expected {expected}, got {value!r} (The '{name}' parameter of "
                                    f"{type(estimator).__name__} must be {expected}. Got {value!r} instead.)")


def check_X(X, estimator, n_features=None, float32=True):
    """X as a C-contiguous float32 array (n_samples, n_features), as the trees read it (``float32`` False:
    checked but left in its float type, for meta-estimators whose members read it their own way)."""
    if scipy.sparse.issparse(X):
        raise TypeError(f"X: expected a dense array, got a scipy.sparse {type(X).__name__} (Sparse data was passed "
                        f"for X, but dense data is required. Use '.toarray()' to convert to a dense numpy array.)")
    X = check_features(X, "X", n_features=n_features, estimator=type(estimator).__name__)
    if not float32:
        return X
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    if not np.isfinite(X32).all():  # finite float64 beyond float32's range
        raise ValueError(f"X: expected values within float32's range, got {np.max(np.abs(X))} (Input X contains "
                         f"infinity or a value too large for dtype('float32').)")
    return X32


def check_y(y, n_samples):
    """A regression target: (n_samples,) finite float64."""
    if y is None:
        raise ValueError("y: expected a target, got None (requires y to be passed, but the target y is None)")
    y = check_column(y, n_samples, "targets")
    if y.dtype.kind not in "biufO":
        raise ValueError(f"y: expected numbers, got dtype {y.dtype} (Unknown label type: not numbers)")
    try:
        y = y.astype(np.float64)
    except (TypeError, ValueError) as error:  # an object array holding something that is not a number
        raise ValueError(f"y: expected numbers, got an object array that does not convert: {error} (Unknown label "
                         f"type)") from None
    if not np.isfinite(y).all():
        raise ValueError("y: expected finite targets, got NaN or inf (Input y contains NaN or infinity.)")
    return y


def check_classes(y, n_samples):
    """(classes_, encoded y) of class labels; at least two classes."""
    classes, encoded = np.unique(check_target(y, n_samples), return_inverse=True)
    if len(classes) < 2:
        raise ValueError(f"y: expected at least 2 classes, got 1 class only ({classes[0]!r}): Classifier can't train "
                         f"when only one class is present.")
    return classes, encoded


def check_class_weights(labels, sample_weight):
    """Refuse weights that leave positive weight on fewer than two of the encoded ``labels``' classes."""
    if sample_weight is not None and np.count_nonzero(np.bincount(labels, sample_weight)) < 2:
        raise ValueError("sample_weight: expected positive weight on at least 2 classes, got 1 (y contains 1 "
                         "class after sample_weight trimmed classes with zero weights)")


def check_fitted(estimator, attribute):
    if not hasattr(estimator, attribute):
        raise NotFittedError(f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with "
                             f"appropriate arguments before using this estimator.")


def check_random_state(random_state):
    """A numpy RandomState from None, an int or a RandomState (scikit-learn's seeding, which the trees follow)."""
    if random_state is None:
        return np.random.mtrand._rand
    if isinstance(random_state, np.random.RandomState):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return np.random.RandomState(int(random_state))
    raise ValueError(f"random_state: expected None, an int or a numpy RandomState, got {random_state!r}")


def resolve_max_features(max_features, n_features):
    """The number of features drawn at each split, as scikit-learn resolves ``max_features``."""
    if max_features is None:
        return n_features
    if max_features == "sqrt":
        return max(1, int(np.sqrt(n_features)))
    if max_features == "log2":
        return max(1, int(np.log2(n_features)))
    if isinstance(max_features, numbers.Integral):
        if max_features > n_features:
            raise ValueError(f"max_features: expected at most n_features = {n_features}, got {max_features} "
                             f"(max_features must be in (0, n_features])")
        return int(max_features)
    return max(1, int(max_features * n_features))
