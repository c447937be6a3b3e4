"""Project 5's data pipeline for forecasting, in NumPy: windows, time-ordered splits, a
scaler fitted on the training part only, walk-forward folds, recursive and direct
multi-step forecasts, and prediction intervals from validation residuals.

Model-agnostic: a forecaster enters only as a ``predict_one`` callable, so the same
pipeline serves the baselines (baselines.py), statsmodels (reference/projects/forecasting/baselines.py)
and the recurrent networks of model.py.
"""
import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from scratch.plumbing import check_positive_int


def _finite(array, name):
    """``array`` as a float ndarray (ints become float64), refusing NaN/inf and non-numbers."""
    array = np.asarray(array)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise TypeError(f"{name}: expected real numbers, got dtype {array.dtype}")
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        where = np.argwhere(bad)[:5].tolist()
        raise ValueError(f"{name}: expected finite values, got NaN/inf at {where} "
                         f"(fill gaps first, e.g. scratch.datasets.fill_gaps)")
    return array


def check_series(series, name="series"):
    """A non-empty, finite 1-d series (T,) as a float ndarray."""
    series = np.asarray(series)
    if series.ndim != 1 or series.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-d series (T,), got shape {series.shape}")
    return _finite(series, name)


def check_history(history, name="history"):
    """Windows (N, window) or one window (window,) as (2-d float array, was_1d)."""
    history = np.asarray(history)
    if history.ndim not in (1, 2) or history.size == 0:
        raise ValueError(f"{name}: expected a window (window,) or windows (N, window), got shape {history.shape}")
    return _finite(np.atleast_2d(history), name), history.ndim == 1


def check_windows(X, window, name="X"):
    """Refuse anything but a batch of windows (N, window); an ndarray or a tensor."""
    if not hasattr(X, "ndim"):  # a list or a tuple is refused, never cast
        raise TypeError(f"{name}: expected an array of windows (N, {window}), got {type(X).__name__}")
    if X.ndim != 2 or X.shape[1] != window:
        raise ValueError(f"{name}: expected windows of shape (N, {window}), got shape {tuple(X.shape)}")


def check_pairs(X, Y, window, horizon, name="X"):
    """Refuse data a forecaster cannot learn from, before the first step rather than mid-run."""
    if not isinstance(X, np.ndarray) or not np.issubdtype(X.dtype, np.floating):
        raise TypeError(f"{name}: expected a float array (N, {window}), got {type(X).__name__} {getattr(X, 'dtype', '')}")
    check_windows(X, window, name)
    if Y is not None and (not isinstance(Y, np.ndarray) or Y.shape != (len(X), horizon) or Y.dtype != X.dtype):
        raise ValueError(f"targets of {name}: expected {X.dtype} (N, horizon) = ({len(X)}, {horizon}), "
                         f"got {getattr(Y, 'shape', type(Y))} {getattr(Y, 'dtype', '')}")
    for array, label in ((X, name), (Y, f"targets of {name}")):
        bad = np.zeros(0, bool) if array is None else ~np.isfinite(array).all(axis=1)
        if bad.any():
            raise ValueError(f"{label}: contains NaN or inf in rows {np.flatnonzero(bad)[:5].tolist()}")


def _check_fit(series, window, horizon):
    if window + horizon > series.size:
        raise ValueError(f"window: expected window + horizon <= len(series) = {series.size}, "
                         f"got {window} + {horizon}")


def make_windows(series, window, horizon=1, stride=1):
    """Supervised pairs from a series: each input window and the values that follow it.

    Parameters
    ----------
    series : array_like (T,)
    window, horizon, stride : int
        Input length, number of values to predict, and step between window starts.

    Returns
    -------
    X : ndarray (N, window)
        ``X[i] = series[i*stride : i*stride + window]``
    Y : ndarray (N, horizon)
        ``Y[i] = series[i*stride + window : i*stride + window + horizon]``;
        ``N = (T - window - horizon) // stride + 1``.
    """
    series = check_series(series)
    window, horizon = check_positive_int(window, "window"), check_positive_int(horizon, "horizon")
    stride = check_positive_int(stride, "stride")
    _check_fit(series, window, horizon)
    spans = sliding_window_view(series, window + horizon)[::stride]  # (N, window + horizon), a view
    return spans[:, :window].copy(), spans[:, window:].copy()


class SeriesScaler:
    """Standardise with the mean and standard deviation of the training part only.

    scikit-learn's ``StandardScaler`` for one feature: ``fit`` returns self, learned
    attributes end in ``_``, a constant series gets ``scale_ = 1``. ``transform`` applies
    to any shape (a series, windows (N, window), forecasts (N, horizon)).
    """

    def __init__(self, with_mean=True, with_std=True):
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, series):
        """Learn ``mean_``, ``var_``, ``scale_`` and ``n_samples_seen_`` from ``series`` (T,)."""
        series = check_series(series).astype(np.float64)
        mean, var = series.mean(), series.var()
        # sklearn's test for a constant feature: a variance within the rounding error of its computation
        eps, n = np.finfo(np.float64).eps, series.size
        constant = var <= n * eps * var + (n * mean * eps) ** 2
        self.mean_ = float(mean) if self.with_mean else 0.0
        self.var_ = float(var)
        self.scale_ = 1.0 if constant or not self.with_std else float(np.sqrt(var))
        self.n_samples_seen_ = n
        return self

    def _fitted(self):
        if not hasattr(self, "scale_"):
            raise ValueError("SeriesScaler: not fitted yet; call fit(train_series) first")

    def transform(self, X):
        """``(X - mean_) / scale_``, any shape, dtype kept."""
        self._fitted()
        return (_finite(X, "X") - self.mean_) / self.scale_

    def inverse_transform(self, X):
        """``X * scale_ + mean_``: model outputs back in the series' units."""
        self._fitted()
        return _finite(X, "X") * self.scale_ + self.mean_

    def fit_transform(self, series):
        return self.fit(series).transform(series)


def walk_forward_splits(n, initial, step, horizon):
    """Walk-forward (expanding window) folds over ``range(n)``.

    Yields ``(train_end, test_slice)``: fit on ``[0, train_end)``, evaluate on
    ``test_slice = slice(train_end, min(train_end + horizon, n))``, for
    ``train_end = initial, initial + step, ...`` while ``train_end < n``. The last fold
    may be shorter than ``horizon``; with ``step == horizon`` the test slices tile
    ``[initial, n)`` exactly.
    """
    n, initial = check_positive_int(n, "n"), check_positive_int(initial, "initial")
    step, horizon = check_positive_int(step, "step"), check_positive_int(horizon, "horizon")
    if initial >= n:
        raise ValueError(f"initial: expected fewer than n = {n} training points, got {initial}")
    for train_end in range(initial, n, step):
        yield train_end, slice(train_end, min(train_end + horizon, n))


def _check_output(y_hat, num, name):
    y_hat = np.asarray(y_hat)
    if y_hat.shape != (num,):
        raise ValueError(f"{name}: expected predictions of shape ({num},), got {y_hat.shape}")
    return _finite(y_hat, name)


def recursive_forecast(predict_one, history, steps):
    """Multi-step forecast by feeding each one-step prediction back as an input.

    Parameters
    ----------
    predict_one : callable, (N, window) -> (N,)
        The next value after each window.
    history : array_like (window,) or (N, window)
        The last observed values of each series.
    steps : int

    Returns
    -------
    ndarray (steps,) or (N, steps)
    """
    history, was_1d = check_history(history)
    steps = check_positive_int(steps, "steps")
    num, window = history.shape
    buffer = np.concatenate([history, np.empty((num, steps), history.dtype)], axis=1)  # (N, window + steps)
    for t in range(steps):
        buffer[:, window + t] = _check_output(predict_one(buffer[:, t:t + window].copy()), num, "predict_one")
    forecast = buffer[:, window:]
    return forecast[0] if was_1d else forecast


def direct_targets(series, window, horizon):
    """Training data for direct multi-step forecasting: one model per step ahead.

    Each step keeps every window that has a target for it, so nearer steps train on
    more samples than ``make_windows(series, window, horizon)`` would give them.

    Returns
    -------
    list of ``horizon`` pairs (X_h, y_h), h = 1..horizon
        ``X_h`` (T - window - h + 1, window) and ``y_h`` (T - window - h + 1,), with
        ``y_h[i] = series[i + window + h - 1]``. The ``X_h`` are views of one array.
    """
    series = check_series(series)
    window, horizon = check_positive_int(window, "window"), check_positive_int(horizon, "horizon")
    _check_fit(series, window, horizon)
    X = sliding_window_view(series, window).copy()  # (T - window + 1, window)
    count = series.size - window + 1
    return [(X[:count - h], series[window + h - 1:].copy()) for h in range(1, horizon + 1)]


def direct_forecast(predictors, history):
    """Stack the forecasts of per-step models: ``predictors[h]`` maps (N, window) -> (N,).

    Returns ndarray (len(predictors),) or (N, len(predictors)), like ``recursive_forecast``.
    """
    history, was_1d = check_history(history)
    if len(predictors) == 0:
        raise ValueError("predictors: expected one callable per step ahead, got none")
    forecast = np.stack([_check_output(predict(history), len(history), f"predictors[{h}]")
                         for h, predict in enumerate(predictors)], axis=-1)  # (N, horizon)
    return forecast[0] if was_1d else forecast


def residual_intervals(residuals, level=0.9):
    """Prediction-interval offsets from validation residuals, by empirical quantiles.

    Parameters
    ----------
    residuals : array_like (N,) or (N, horizon)
        ``y_true - y_hat`` on held-out data (never the training fit, which is too kind).
    level : float in (0, 1)
        Nominal coverage.

    Returns
    -------
    lower, upper : float or ndarray (horizon,)
        The ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of each column:
        the interval of a new forecast ``y_hat`` is ``[y_hat + lower, y_hat + upper]``.
    """
    residuals = np.asarray(residuals)
    if residuals.ndim not in (1, 2) or residuals.shape[0] == 0 or residuals.size == 0:
        raise ValueError(f"residuals: expected a non-empty (N,) or (N, horizon) array, got shape {residuals.shape}")
    residuals = _finite(residuals, "residuals")
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ValueError(f"level: expected a coverage in (0, 1), got {level!r}")
    lower, upper = np.quantile(residuals, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return lower, upper
