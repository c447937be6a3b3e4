"""Time series bundled with statsmodels (co2, sunspots, nile), and ``fill_gaps`` to interpolate
co2's missing weeks before anything reaches a model."""
import numpy as np

from .files import CORRUPT, reading

SERIES = ("co2", "sunspots", "nile")
SERIES_SPLIT = (0.15, 0.15)


def load_series(name):
    """A series bundled with statsmodels as (values, timestamps), gaps left as NaN.

    - 'co2': weekly (Saturdays) Mauna Loa CO2 in ppm, 1958-03-29 to 2001-12-29; 2,284
      weeks of which 59 are NaN (see ``fill_gaps``); timestamps ``datetime64[D]``.
    - 'sunspots': yearly mean sunspot number, 1700 to 2008 (309 years); ``datetime64[Y]``.
    - 'nile': yearly flow of the Nile at Aswan in 1e8 m^3, 1871 to 1970 (100 years); ``datetime64[Y]``.

    Returns
    -------
    values : ndarray (T,) float64
    timestamps : ndarray (T,) datetime64
    """
    if not isinstance(name, str) or name not in SERIES:
        raise ValueError(f"name: expected one of {SERIES}, got {name!r}")
    try:  # lazily: only this loader needs statsmodels
        from statsmodels import datasets as sm_datasets
    except ImportError as error:
        raise ImportError(f"the {name} series ships with statsmodels: `pip install statsmodels`") from error
    with reading(f"statsmodels' bundled {name} data (statsmodels/datasets/{name})",
                 "reinstall statsmodels with `pip install --force-reinstall statsmodels`", CORRUPT + (ValueError, KeyError)):
        frame = getattr(sm_datasets, name).load_pandas().data
    if name == "co2":
        return np.array(frame["co2"], dtype=np.float64), frame.index.to_numpy().astype("datetime64[D]")
    value_column, year_column = {"sunspots": ("SUNACTIVITY", "YEAR"), "nile": ("volume", "year")}[name]
    years = frame[year_column].to_numpy().astype(np.int64)
    return np.array(frame[value_column], dtype=np.float64), (years - 1970).astype("datetime64[Y]")


def fill_gaps(values, method="linear", edges="raise"):
    """Interpolate the NaN runs of an evenly spaced series, so no NaN reaches a model.

    Parameters
    ----------
    values : array_like (T,)
    method : 'linear'
        Straight line between the known neighbours of each NaN run (by position, which
        assumes even spacing, as co2's weeks are).
    edges : 'raise' or 'extend'
        A NaN run at the start or end has one neighbour only: 'raise' refuses it,
        'extend' repeats the nearest known value.

    Returns
    -------
    filled : ndarray (T,) float64
    missing : ndarray (T,) bool
        The original NaN mask, to leave imputed points out of an evaluation.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"values: expected a non-empty 1-d series, got shape {values.shape}")
    if method != "linear":
        raise ValueError(f"method: expected 'linear', got {method!r}")
    if edges not in ("raise", "extend"):
        raise ValueError(f"edges: expected 'raise' or 'extend', got {edges!r}")
    if np.isinf(values).any():
        raise ValueError(f"values: expected finite numbers or NaN gaps, got inf at {np.flatnonzero(np.isinf(values))[:5].tolist()}")
    missing = np.isnan(values)
    known = np.flatnonzero(~missing)
    if known.size == 0:
        raise ValueError("values: expected at least one known value, got only NaN")
    if edges == "raise" and (missing[0] or missing[-1]):
        raise ValueError(f"values: a NaN run touches an edge (known values span [{known[0]}, {known[-1]}] "
                         f"of {values.size}); trim the series or pass edges='extend'")
    filled = values.copy()
    filled[missing] = np.interp(np.flatnonzero(missing), known, values[known])  # np.interp holds the end values
    return filled, missing
