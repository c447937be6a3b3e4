"""Project 20: drift statistics from the field's libraries: SciPy's tests and distances, and
Evidently's PSI binning ported to pandas (``get_binned_data`` and ``_psi`` in
evidently/legacy/calculations/stattests; Evidently itself does not install beside pandas 3).
Twin of scratch/projects/mlops/drift.py: the same names and arguments, the maths by hand there.
"""
import numpy as np
import pandas as pd
from scipy import spatial, stats

from scratch.projects.mlops.drift import CATEGORY_LIMIT, EMPTY_SHARE, check_sample


def fill_zeros(shares):
    """Evidently's floor for empty bins, with np.place as Evidently writes it."""
    shares = shares.copy()
    smallest = min(shares[shares != 0])
    np.place(shares, shares == 0, smallest / 10**6 if smallest <= EMPTY_SHARE else EMPTY_SHARE)
    return shares


def binned_shares(reference, current, categorical=False, fill_empty=True):
    """Evidently's get_binned_data; the categories sorted (Evidently keeps a set's order, which PSI ignores)."""
    reference = pd.Series(check_sample(reference, "reference", numeric=not categorical))
    current = pd.Series(check_sample(current, "current", numeric=not categorical))
    if not categorical and reference.nunique() > CATEGORY_LIMIT:
        bins = np.histogram_bin_edges(pd.concat([reference, current], axis=0).values, bins="sturges")
        ref_shares = np.histogram(reference, bins)[0] / len(reference)
        cur_shares = np.histogram(current, bins)[0] / len(current)
    else:
        keys = sorted(set(reference.dropna().unique()) | set(current.dropna().unique()))
        ref_counts, cur_counts = reference.value_counts(), current.value_counts()
        ref_shares = np.array([ref_counts.get(key, 0) / len(reference) for key in keys])
        cur_shares = np.array([cur_counts.get(key, 0) / len(current) for key in keys])
    if fill_empty:
        ref_shares, cur_shares = fill_zeros(ref_shares), fill_zeros(cur_shares)
    return ref_shares, cur_shares


def psi(reference, current, categorical=False):
    """Population stability index, as Evidently's _psi."""
    ref_shares, cur_shares = binned_shares(reference, current, categorical)
    return float(np.sum((ref_shares - cur_shares) * np.log(ref_shares / cur_shares)))


def ks_2samp(reference, current):
    """scipy.stats.ks_2samp, two-sided, its default method ('auto'): (D, p-value)."""
    result = stats.ks_2samp(check_sample(reference, "reference"), check_sample(current, "current"))
    return float(result.statistic), float(result.pvalue)


def wasserstein_distance(u_values, v_values):
    return float(stats.wasserstein_distance(check_sample(u_values, "u_values"), check_sample(v_values, "v_values")))


def jensenshannon(p, q, base=None):
    return float(spatial.distance.jensenshannon(check_sample(p, "p"), check_sample(q, "q"), base=base))


def chisquare(f_obs, f_exp):
    result = stats.chisquare(check_sample(f_obs, "f_obs"), check_sample(f_exp, "f_exp"))
    return float(result.statistic), float(result.pvalue)


def chi2_sf(x, df):
    return float(stats.chi2.sf(x, df))
