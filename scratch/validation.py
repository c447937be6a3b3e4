"""Input checks on scikit-learn's conventions, shared by the non-neural estimators (Projects 3, 14
and 15): X converted as ``check_array`` converts it (``check_features``), y as a classifier's
targets (``check_target``), sample weights (``check_sample_weight``), and scikit-learn's two warnings under their names. Anything that cannot
be converted is refused naming the argument, what was expected and what came; the messages carry
scikit-learn's wording too, so its estimator checks recognise them.
"""
import numbers
import warnings

import numpy as np
import scipy.sparse

_KEPT_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class DataConversionWarning(UserWarning):
    """Input converted with a warning, as scikit-learn's warning of the same name (a column-vector y)."""


class ConvergenceWarning(UserWarning):
    """The solver stopped at ``max_iter`` before converging, as scikit-learn's warning of the same name."""


def check_features(X, name="X", n_features=None, non_negative=False, estimator="this estimator"):
    """X converted the way scikit-learn's ``check_array`` converts it: a 2-d float array, or CSR for
    any scipy.sparse matrix or array.

    Array-likes (lists, pandas frames, anything with ``__array__``) become arrays; integer, bool
    and numeric object arrays become float64, as scikit-learn does (integers beyond 2**53 round
    there too); float32 and float64 are kept. Refused, naming ``name`` with what was expected and
    what came: strings, complex numbers, an array that is not 2-d, no samples, no features, NaN
    or inf, a negative value when ``non_negative``, a feature count other than ``n_features``
    (fit's). Messages carry scikit-learn's wording too, so its estimator checks recognise them.
    """
    if scipy.sparse.issparse(X):
        X = X.tocsr()
    else:
        try:
            X = np.asarray(X)
        except ValueError as error:  # a ragged list
            raise ValueError(f"{name}: expected a 2-d array-like (samples, features), got {error}") from None
        if X.ndim != 2:
            raise ValueError(f"{name}: expected a 2-d array (samples, features), got {X.ndim}-d shape {X.shape}. "
                             f"Reshape your data either using array.reshape(-1, 1) if your data has a single "
                             f"feature or array.reshape(1, -1) if it contains a single sample.")
    X = _as_float(X, name)
    for axis, what in enumerate(("sample", "feature")):
        if X.shape[axis] < 1:
            raise ValueError(f"{name}: expected at least 1 {what}, got 0 {what}(s) (shape={X.shape}) while a "
                             f"minimum of 1 is required.")
    values = X.data if scipy.sparse.issparse(X) else X.ravel()
    finite = np.isfinite(values)
    if not finite.all():
        first = int(np.argmin(finite))
        row = np.searchsorted(X.indptr, first, side="right") - 1 if scipy.sparse.issparse(X) else first // X.shape[1]
        raise ValueError(f"{name}: expected finite values, got {values[first]} in row {row} "
                         f"({np.sum(~finite)} entries NaN or inf)")
    if non_negative and values.size and values.min() < 0:
        raise ValueError(f"{name}: expected non-negative counts or frequencies, got a minimum of {values.min()} "
                         f"(Negative values in data passed to {estimator})")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{name}: expected {n_features} features (as in fit), got {X.shape[1]}: X has "
                         f"{X.shape[1]} features, but {estimator} is expecting {n_features} features as input")
    return X


def _as_float(X, name):
    """X's numbers as float32/float64 (kept) or float64 (converted from ints, bools, numeric objects)."""
    kind = X.dtype.kind
    if kind == "c":
        raise ValueError(f"{name}: expected real numbers, got dtype {X.dtype} (Complex data not supported)")
    if kind in "USV":
        raise ValueError(f"{name}: expected numbers, got dtype {X.dtype} (strings or bytes); encode them first "
                         f"(a TfidfVectorizer turns documents into numbers)")
    if kind not in "biufO":
        raise TypeError(f"{name}: expected numbers, got dtype {X.dtype}")
    if X.dtype in _KEPT_FLOATS:
        return X
    try:
        return X.astype(np.float64)
    except (TypeError, ValueError) as error:  # an object array holding something that is not a number
        raise type(error)(f"{name}: expected numbers, got an object array that does not convert: {error}") from None


def check_column(y, n_samples, what):
    """y as a 1-d array of ``n_samples`` ``what`` (labels, targets): a column vector (n_samples, 1) is
    raveled with a DataConversionWarning, as scikit-learn does; any other shape is refused."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn("A column-vector y was passed when a 1d array was expected. Please change the shape of y "
                      "to (n_samples, ), for example using ravel().", DataConversionWarning, stacklevel=4)
        y = y[:, 0]
    if y.shape != (n_samples,):
        raise ValueError(f"y: expected {n_samples} {what} (one per row of X), got shape {y.shape}")
    return y


def check_target(y, n_samples):
    """y as a 1-d array of ``n_samples`` class labels, scikit-learn's conventions.

    Labels are ints, bools, str, or floats that hold whole numbers (a float y with a fraction is
    a regression target: 'Unknown label type: continuous'). A column vector (n_samples, 1) is
    raveled with a DataConversionWarning, as scikit-learn does. Refused, naming y: None, NaN,
    inf, complex numbers, an object array that is not all str, any other shape.
    """
    if y is None:
        raise ValueError("y: expected class labels, got None (this estimator requires y to be passed, but the "
                         "target y is None)")
    if scipy.sparse.issparse(y):
        raise TypeError("y: expected a 1-d array-like of class labels, got a scipy.sparse matrix")
    y = check_column(y, n_samples, "labels")
    kind = y.dtype.kind
    if kind == "c":
        raise ValueError(f"y: expected class labels, got dtype {y.dtype} (Complex data not supported)")
    if kind == "f":
        for bad, what in ((np.isnan(y), "NaN"), (np.isinf(y), "infinity")):
            if bad.any():
                raise ValueError(f"y: expected class labels, got {what} at position {int(np.argmax(bad))} "
                                 f"(Input y contains {what})")
        fractional = y != np.round(y)
        if fractional.any():
            position = int(np.argmax(fractional))
            raise ValueError(f"y: expected discrete class labels, got continuous values such as {y[position]} at "
                             f"position {position} (Unknown label type: continuous): a regression target, not classes")
    elif kind == "O":
        # the one Python pass over the labels: what an object array holds is only known element by element
        kinds = {type(label).__name__ for label in y.tolist()}
        if kinds - {"str"}:
            raise ValueError(f"y: expected class labels of one kind, got an object array holding {sorted(kinds)} "
                             f"(Unknown label type: unknown); pass ints or str")
    elif kind not in "biuUS":
        raise TypeError(f"y: expected class labels (ints, whole floats, bools or str), got dtype {y.dtype}")
    return y


def check_labels(X, y):
    """y (n_samples,) class labels (see ``check_target``) -> (classes_, class index of each sample)."""
    return np.unique(check_target(y, X.shape[0]), return_inverse=True)


def check_sample_weight(sample_weight, n_samples):
    """(n_samples,) float64 weights: ones when None; finite and non-negative, not all zero."""
    if sample_weight is None:
        return np.ones(n_samples)
    if isinstance(sample_weight, numbers.Real) and not isinstance(sample_weight, bool):
        return np.full(n_samples, float(sample_weight))
    weights = np.asarray(sample_weight)
    if weights.shape != (n_samples,):
        raise ValueError(f"sample_weight: expected shape ({n_samples},), got {weights.shape} "
                         f"(sample_weight.shape == {weights.shape}, expected ({n_samples},)!)")
    if weights.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight: expected numbers, got dtype {weights.dtype}")
    weights = weights.astype(np.float64)
    if not np.isfinite(weights).all():
        raise ValueError("sample_weight: expected finite weights, got NaN or inf (Input sample_weight contains NaN "
                         "or infinity.)")
    if (weights < 0).any():
        raise ValueError(f"sample_weight: expected non-negative weights, got {weights.min()} (Negative values in data "
                         f"passed to `sample_weight`)")
    if not (weights > 0).any():
        raise ValueError("sample_weight: expected a positive total weight, got all zeros (Sample weights must "
                         "contain at least one non-zero number.)")
    return weights
