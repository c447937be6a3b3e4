"""Project 5's statsmodels yardstick: a SARIMAX fitted on the training part, forecasting the
test span one step ahead (on the actual history) and many steps ahead (on its own forecasts).

Twin of scratch/projects/forecasting/baselines.py, whose naive forecasts it re-exports so both files share names.
"""
import numpy as np
from statsmodels.tsa.statespace.sarimax import SARIMAX

from scratch.plumbing import check_positive_int
from scratch.projects.forecasting.baselines import naive_forecast, seasonal_naive_forecast  # noqa: F401 (twin names)
from scratch.projects.forecasting.data import check_series

# Settings per bundled series that fit in a few seconds on 2 cores.
SARIMAX_SETTINGS = {
    # Weekly with a yearly cycle of 365.25 / 7 weeks: AR(1) on the differences, with drift, plus
    # three Fourier pairs. A seasonal order of 52 would carry ~100 states and fit in minutes;
    # an MA term adds little accuracy for ten times the fitting time.
    "co2": {"order": (1, 1, 0), "trend": "c", "fourier": (365.25 / 7, 3)},
    # Yearly with a ~11-year cycle: an AR(9) with a mean reaches back most of a cycle.
    "sunspots": {"order": (9, 0, 0), "trend": "c"},
    # Yearly level that wanders: a local level, ARIMA(0, 1, 1).
    "nile": {"order": (0, 1, 1)},
}


def fourier_terms(index, period, num_pairs):
    """sin and cos of 2 pi k t / period for k = 1..num_pairs: exogenous seasonality (T, 2 * num_pairs)."""
    angles = 2 * np.pi * np.outer(index, np.arange(1, check_positive_int(num_pairs, "num_pairs") + 1)) / period
    return np.hstack([np.sin(angles), np.cos(angles)])


def sarimax_forecast(train, test, order, seasonal_order=(0, 0, 0, 0), trend=None, fourier=None):
    """Fit a SARIMAX on ``train`` and forecast the span of ``test``.

    Parameters
    ----------
    train : array_like (T_train,)
    test : array_like (T_test,)
        The actual values that follow ``train``: the one-step forecasts condition on them,
        with the parameters fitted on ``train`` (nothing is refitted).
    order, seasonal_order, trend
        statsmodels' SARIMAX arguments.
    fourier : (period, num_pairs) or None
        Add ``fourier_terms`` as exogenous regressors, for long seasons.

    Returns
    -------
    one_step : ndarray (T_test,)
        ``one_step[t]`` forecasts ``test[t]`` from ``train`` and ``test[:t]``.
    multi_step : ndarray (T_test,)
        Forecasts 1..T_test steps ahead from the end of ``train``.
    """
    train, test = check_series(train, "train"), check_series(test, "test")
    series = np.concatenate([train, test])
    exog = None if fourier is None else fourier_terms(np.arange(series.size), *fourier)
    split = train.size
    fitted = SARIMAX(train, exog=None if exog is None else exog[:split], order=order,
                     seasonal_order=seasonal_order, trend=trend).fit(disp=False)
    one_step = fitted.apply(series, exog=exog).predict(start=split, end=series.size - 1)
    multi_step = fitted.forecast(test.size, exog=None if exog is None else exog[split:])
    return np.asarray(one_step), np.asarray(multi_step)


def statsmodels_baseline(name, train, test):
    """``sarimax_forecast`` with the ``SARIMAX_SETTINGS`` of a bundled series ('co2', 'sunspots', 'nile')."""
    if name not in SARIMAX_SETTINGS:
        raise ValueError(f"name: expected one of {tuple(SARIMAX_SETTINGS)}, got {name!r}")
    return sarimax_forecast(train, test, **SARIMAX_SETTINGS[name])
