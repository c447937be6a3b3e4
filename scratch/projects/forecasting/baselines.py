"""Project 5's yardsticks: the naive and seasonal-naive forecasts that a model must beat.

Twin of reference/projects/forecasting/baselines.py, whose statsmodels SARIMAX is the stronger yardstick.
Both take windows of history, like ``predict_one`` in data.py.
"""
import numpy as np

from scratch.plumbing import check_positive_int
from scratch.projects.forecasting.data import check_history


def naive_forecast(history, steps=1):
    """Repeat the last observed value.

    Parameters
    ----------
    history : array_like (window,) or (N, window)
    steps : int

    Returns
    -------
    ndarray (steps,) or (N, steps)
    """
    return seasonal_naive_forecast(history, season=1, steps=steps)


def seasonal_naive_forecast(history, season, steps=1):
    """Repeat the last observed season: step h forecasts ``history[..., -season + (h % season)]``.

    Parameters
    ----------
    history : array_like (window,) or (N, window), window >= season
    season : int
        Period in samples (52 for weekly data with a yearly cycle); 1 is the naive forecast.
    steps : int

    Returns
    -------
    ndarray (steps,) or (N, steps)
    """
    history, was_1d = check_history(history)
    season, steps = check_positive_int(season, "season"), check_positive_int(steps, "steps")
    if season > history.shape[1]:
        raise ValueError(f"season: expected at most the window length {history.shape[1]}, got {season}")
    forecast = history[:, -season + np.arange(steps) % season]  # (N, steps)
    return forecast[0] if was_1d else forecast
