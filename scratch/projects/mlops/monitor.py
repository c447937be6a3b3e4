"""Project 20's drift monitor (never twinned): every drift statistic per feature between a
reference sample (the training data) and a current one (the served requests), Evidently's
thresholds for the verdicts, and the retraining trigger."""
import numpy as np

from scratch.projects.mlops import drift
from scratch.projects.mlops.config import MonitorConfig


def feature_drift(reference, current, categorical=False, config=None):
    """Every statistic for one feature, and whether it drifted (by PSI for a numerical feature,
    the chi-square test for a categorical one, as Evidently's defaults for data this size)."""
    config = MonitorConfig() if config is None else config
    ref_shares, cur_shares = drift.binned_shares(reference, current, categorical, fill_empty=False)
    row = {"psi": drift.psi(reference, current, categorical), "jensenshannon": drift.jensenshannon(ref_shares, cur_shares)}
    if categorical:  # Evidently's chi-square: the reference's counts scaled to the current sample are expected
        expected = ref_shares * len(current)
        if (expected == 0).any():  # a category the reference never saw: drift by definition
            row["chi2_statistic"], row["chi2_p_value"] = float("inf"), 0.0
        elif len(expected) == 1:
            row["chi2_statistic"], row["chi2_p_value"] = 0.0, 1.0
        else:
            row["chi2_statistic"], row["chi2_p_value"] = drift.chisquare(cur_shares * len(current), expected)
        row["drifted"] = bool(row["chi2_p_value"] < config.p_value_threshold)
    else:
        reference, current = np.asarray(reference, np.float64), np.asarray(current, np.float64)
        row["ks_statistic"], row["ks_p_value"] = drift.ks_2samp(reference, current)
        spread = reference.std()
        row["wasserstein"] = drift.wasserstein_distance(reference, current)
        row["wasserstein_normed"] = row["wasserstein"] / spread if spread > 0 else float("inf")
        row["drifted"] = bool(row["psi"] >= config.psi_threshold)
    return row


def drift_report(reference, current, names, categorical=(), config=None):
    """{feature name: feature_drift row} for the columns of two (rows, features) arrays, and the share drifted."""
    reference, current = np.asarray(reference), np.asarray(current)
    if reference.ndim != 2 or current.ndim != 2 or reference.shape[1] != current.shape[1] or reference.shape[1] != len(names):
        raise ValueError(f"current: expected (rows, {len(names)}) arrays like reference, got {reference.shape} and {current.shape}")
    features = {name: feature_drift(reference[:, i], current[:, i], name in categorical, config) for i, name in enumerate(names)}
    return {"features": features, "drift_share": sum(row["drifted"] for row in features.values()) / len(names)}


def should_retrain(report, live_error=None, config=None):
    """(retrain?, the reasons): the share of drifted features at or above ``drift_share``, or the live error above its bound."""
    config = MonitorConfig() if config is None else config
    reasons = []
    if report["drift_share"] >= config.drift_share:
        drifted = [name for name, row in report["features"].items() if row["drifted"]]
        reasons.append(f"{report['drift_share']:.0%} of features drifted ({', '.join(drifted)})")
    if live_error is not None and live_error > config.max_live_error:
        reasons.append(f"live error {live_error:.4g} above {config.max_live_error:.4g}")
    return bool(reasons), reasons
