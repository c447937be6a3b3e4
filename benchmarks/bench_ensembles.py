"""Benchmark cases for the ensembles project (Project 14): scratch trees against scikit-learn's.

The "torch" column is the reference twin, scikit-learn's Cython CART (one thread, as it runs
without n_jobs). Cases: a full-depth CART fit on breast_cancer and on digits (the issue's goal:
scratch within 3x of scikit-learn), CART fit and predict against n_samples on digits tiled with
jitter (so the cost's growth shows), a 20-tree random forest, gradient boosting (50 stages of
depth-3 trees: binary on breast_cancer, 10 trees a stage on digits), its staged prediction, and
AdaBoost (SAMME, 50 stumps; AdaBoost.R2 on diabetes, 50 depth-3 trees), and the histogram GBM on Fashion-MNIST as a table (784 pixel
columns; the issue's goal: within 2x of scikit-learn's HistGradientBoosting). Both sides fit the same data
with the same seed and grow the same trees (the parity suite proves it), so the times compare
like with like. ``dtype`` is ignored: trees read X as float32 on both sides.
"""
import numpy as np
from sklearn import datasets
from sklearn.ensemble import HistGradientBoostingClassifier

from reference.projects.ensembles import adaboost as ref_adaboost
from reference.projects.ensembles import boosting as ref_boosting
from reference.projects.ensembles import forest as ref_forest
from reference.projects.ensembles import tree as ref_tree
from scratch.datasets.images import load_fashion_mnist
from scratch.projects.ensembles import adaboost as scr_adaboost
from scratch.projects.ensembles import boosting as scr_boosting
from scratch.projects.ensembles import forest as scr_forest
from scratch.projects.ensembles import hist as scr_hist
from scratch.projects.ensembles import tree as scr_tree

from .core import Case

SIZES = (500, 1000, 2000, 4000, 8000)


def fit_case(name, X, y, size, note="", **params):
    def fit(module):
        return lambda: module.DecisionTreeClassifier(random_state=0, **params).fit(X, y)
    return Case(f"CART fit {name}", size, fit(scr_tree), fit(ref_tree), note=note)


def predict_case(X, y, size):
    scratch = scr_tree.DecisionTreeClassifier(random_state=0).fit(X, y)
    reference = ref_tree.DecisionTreeClassifier(random_state=0).fit(X, y)
    return Case("CART predict digits", size, lambda: scratch.predict(X), lambda: reference.predict(X))


def tiled_digits(n_samples, rng):
    """digits repeated to ``n_samples`` rows, with a little noise so no two rows tie exactly."""
    X, y = datasets.load_digits(return_X_y=True)
    rows = rng.integers(0, len(y), n_samples)
    return X[rows] + rng.uniform(0, 0.5, (n_samples, X.shape[1])), y[rows]


def forest_case(X, y, size, n_estimators=20):
    def fit(module):
        return lambda: module.RandomForestClassifier(n_estimators=n_estimators, random_state=0).fit(X, y)
    return Case(f"random forest fit ({n_estimators} trees)", size, fit(scr_forest), fit(ref_forest))


def boosting_cases(quick):
    """Gradient boosting and AdaBoost fits, and gradient boosting's staged predict, both twins on the same seed."""
    n_stages = 10 if quick else 50
    found = []
    boosting, adaboost = (scr_boosting, ref_boosting), (scr_adaboost, ref_adaboost)
    for name, kind, params, modules in (
            ("breast_cancer", "GradientBoostingClassifier", {"n_estimators": n_stages}, boosting),
            ("digits", "GradientBoostingClassifier", {"n_estimators": n_stages // 5}, boosting),
            ("breast_cancer", "AdaBoostClassifier", {"n_estimators": n_stages}, adaboost),
            ("diabetes", "AdaBoostRegressor", {"n_estimators": n_stages}, adaboost)):
        X, y = getattr(datasets, f"load_{name}")(return_X_y=True)

        def fit(module, kind=kind, params=params, X=X, y=y):
            return lambda: getattr(module, kind)(random_state=0, **params).fit(X, y)
        label = f"{kind} fit {name} ({params['n_estimators']} stages)"
        found.append(Case(label, f"{X.shape[0]} x {X.shape[1]}", fit(modules[0]), fit(modules[1])))
    X, y = datasets.load_breast_cancer(return_X_y=True)
    fitted = [module.GradientBoostingClassifier(n_estimators=n_stages, random_state=0).fit(X, y)
              for module in (scr_boosting, ref_boosting)]
    found.append(Case("GradientBoostingClassifier staged_predict_proba", f"{X.shape[0]} x {X.shape[1]}",
                      lambda: list(fitted[0].staged_predict_proba(X)), lambda: list(fitted[1].staged_predict_proba(X))))
    return found


def cases(dtype=np.float32, quick=False, seed=0):
    rng = np.random.default_rng(seed)
    found = []
    for name in ("breast_cancer", "digits"):
        X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
        found.append(fit_case(name, X, y, f"{X.shape[0]} x {X.shape[1]}", note="full depth; goal <= 3x"))
    X, y = datasets.load_digits(return_X_y=True)
    found.append(predict_case(X, y, f"{X.shape[0]} x {X.shape[1]}"))
    found.append(forest_case(X, y, f"{X.shape[0]} x {X.shape[1]}"))
    for n_samples in SIZES[:2] if quick else SIZES:
        X, y = tiled_digits(n_samples, rng)
        found.append(fit_case("tiled digits", X, y, f"{n_samples} x 64", note="noisy copies; growth with n"))
    return found + boosting_cases(quick) + [hist_case(2000 if quick else 10000)]


def hist_case(n_samples, n_iter=10):
    """HistGradientBoostingClassifier fit on the first n_samples Fashion-MNIST training images as 784 columns."""
    images, labels = load_fashion_mnist("train")
    X, y = images[:n_samples].reshape(n_samples, -1).astype(np.float64), labels[:n_samples]
    params = {"max_iter": n_iter, "random_state": 0, "early_stopping": False}
    return Case(f"HistGradientBoosting fit fashion-mnist ({n_iter} iterations)", f"{n_samples} x 784",
                lambda: scr_hist.HistGradientBoostingClassifier(**params).fit(X, y),
                lambda: HistGradientBoostingClassifier(**params).fit(X, y), note="goal <= 2x")
