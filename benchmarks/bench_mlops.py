"""Benchmark cases for the production pipeline (Project 20).

Serving: the deployable scorer's ``predict`` (what the MLflow pyfunc and the server call) at one
row, a request batch of 50 and a batch of 1,024 rows, scratch (NumPy) against its torch twin (the
shadow), both loaded from the same weights. Monitoring: each drift statistic written from scratch
against SciPy's function (the "torch" column holds the reference twin, SciPy or the pandas port of
Evidently's PSI) on gapminder-sized samples.
"""
import numpy as np

from reference.bridge import twin_pair
from reference.projects.mlops import drift as reference_drift
from reference.projects.mlops import scorer as torch_scorer
from scratch.projects.mlops import drift
from scratch.projects.mlops.scorer import Scorer

from .core import Case

ROWS = (1, 50, 1024)
IN_FEATURES, HIDDEN = 9, (32, 16)  # the gapminder scorer
DRIFT_SIZES = {False: (3486, 2115), True: (800, 500)}  # gapminder's training and monitoring rows
LARGE_KS_SIZES = {False: (200_000, 50_000), True: (20_000, 5_000)}  # past the exact count: the Kolmogorov distribution


def predict_case(rows, dtype, rng):
    model, twin = twin_pair(Scorer, torch_scorer.Scorer, int(rng.integers(1 << 30)), dtype, in_features=IN_FEATURES,
                            hidden_sizes=HIDDEN, num_outputs=1, task="regression")
    X = rng.normal(size=(rows, IN_FEATURES)).astype(dtype)
    return Case("scorer predict (regression, 9 -> 32 -> 16 -> 1)", f"{rows} rows", lambda: model.predict(X), lambda: twin.predict(X))


def drift_case(name, args, size):
    scratch_fn, reference_fn = getattr(drift, name), getattr(reference_drift, name)
    return Case(f"drift: {name} (scratch vs SciPy/Evidently port)", size, lambda: scratch_fn(*args), lambda: reference_fn(*args))


def drift_cases(quick, rng):
    n1, n2 = DRIFT_SIZES[quick]
    reference, current = rng.normal(size=n1), rng.normal(0.3, 1.2, size=n2)
    shares = drift.binned_shares(reference, current, fill_empty=False)
    size = f"{n1} vs {n2}"
    large = [rng.normal(size=n) for n in LARGE_KS_SIZES[quick]]
    return [drift_case(name, args, size) for name, args in (("psi", (reference, current)), ("ks_2samp", (reference, current)),
                                                              ("wasserstein_distance", (reference, current)), ("jensenshannon", shares))] + [
        drift_case("ks_2samp", large, " vs ".join(map(str, LARGE_KS_SIZES[quick])))]


def cases(dtype=np.float32, quick=False, seed=0):
    rng = np.random.default_rng(seed)
    return [predict_case(rows, np.dtype(dtype).type, rng) for rows in ROWS] + drift_cases(quick, rng)
