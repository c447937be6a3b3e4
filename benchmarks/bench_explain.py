"""Benchmark cases for the explain project (Project 19): time per explanation, scratch against
the field's libraries (the "torch" column is the reference twin: shap's C++ TreeExplainer, shap's
Kernel and Exact explainers, lime). Cases: TreeSHAP on a 20-tree forest (breast cancer),
path-dependent and interventional; TreeSHAP on 20-stage gradient boosting (breast cancer's
log-odds, and wine's three classes, one ensemble per class); KernelSHAP with every coalition (diabetes, M = 10); exact
Shapley at growing M on a smooth function, so the 2^M cost shows; LIME on one row. Both sides
explain the same model and rows and give the same values (the parity suite proves it).
``dtype`` is ignored: explanations run in float64 (trees read float32 values).
"""
import numpy as np
from sklearn import datasets

from reference.projects.ensembles import boosting as ref_boosting
from reference.projects.ensembles import forest as ref_forest
from reference.projects.explain import lime_tabular as ref_lime
from reference.projects.explain import shapley as ref_shapley
from reference.projects.explain import treeshap as ref_treeshap
from scratch.projects.ensembles import boosting as scr_boosting
from scratch.projects.ensembles import forest as scr_forest
from scratch.projects.explain import lime_tabular as scr_lime
from scratch.projects.explain import shapley as scr_shapley
from scratch.projects.explain import treeshap as scr_treeshap

from .core import Case


def tree_cases(quick):
    X, y = datasets.load_breast_cancer(return_X_y=True)
    params = {"n_estimators": 20, "max_depth": 8, "random_state": 0}
    scratch, reference = scr_forest.RandomForestClassifier(**params).fit(X, y), ref_forest.RandomForestClassifier(**params).fit(X, y)
    rows, background = X[:20 if quick else 100], X[-50:]
    found = [Case("TreeSHAP path-dependent (20 trees)", f"{len(rows)} rows x 30",
                  lambda: scr_treeshap.TreeExplainer(scratch).shap_values(rows),
                  lambda: ref_treeshap.TreeExplainer(reference).shap_values(rows))]
    rows = rows[:10]
    found.append(Case("TreeSHAP interventional (20 trees)", f"{len(rows)} rows x 50 bg",
                      lambda: scr_treeshap.TreeExplainer(scratch, background).shap_values(rows),
                      lambda: ref_treeshap.TreeExplainer(reference, background).shap_values(rows)))
    return found + boosting_cases(quick)


def boosting_cases(quick):
    params = {"n_estimators": 20, "max_depth": 3, "random_state": 0}
    found = []
    for name, loader in (("binary log-odds", datasets.load_breast_cancer), ("3 classes", datasets.load_wine)):
        X, y = loader(return_X_y=True)
        scratch = scr_boosting.GradientBoostingClassifier(**params).fit(X, y)
        reference = ref_boosting.GradientBoostingClassifier(**params).fit(X, y)
        rows, background = X[:20 if quick else 100], X[-50:]
        found.append(Case(f"TreeSHAP path-dependent, boosting ({name})", f"{len(rows)} rows x {X.shape[1]}",
                          lambda s=scratch, r=rows: scr_treeshap.TreeExplainer(s).shap_values(r),
                          lambda m=reference, r=rows: ref_treeshap.TreeExplainer(m).shap_values(r)))
        rows = rows[:10]
        found.append(Case(f"TreeSHAP interventional, boosting ({name})", f"{len(rows)} rows x 50 bg",
                          lambda s=scratch, r=rows, b=background: scr_treeshap.TreeExplainer(s, b).shap_values(r),
                          lambda m=reference, r=rows, b=background: ref_treeshap.TreeExplainer(m, b).shap_values(r)))
    return found


def smooth(M, seed=0):
    W = np.random.default_rng(seed).normal(size=(M, 8))
    return lambda Z: np.tanh(Z @ W).sum(axis=1)


def cases(dtype=np.float64, quick=False, seed=0):
    rng = np.random.default_rng(seed)
    found = tree_cases(quick)
    X, _ = datasets.load_diabetes(return_X_y=True)
    f, background, rows = smooth(10), X[:20], X[-5:]
    found.append(Case("KernelSHAP, every coalition", "5 rows x 20 bg, M=10",
                      lambda f=f, b=background, r=rows: scr_shapley.KernelExplainer(f, b).shap_values(r),
                      lambda f=f, b=background, r=rows: ref_shapley.KernelExplainer(f, b).shap_values(r)))
    for M in (4, 8) if quick else (4, 6, 8, 10, 12):
        f, background, rows = smooth(M), rng.normal(size=(10, M)), rng.normal(size=(2, M))
        found.append(Case("exact Shapley", f"M={M} (2^M={2**M})",
                          lambda f=f, b=background, r=rows: scr_shapley.ExactExplainer(f, b).shap_values(r),
                          lambda f=f, b=background, r=rows: ref_shapley.ExactExplainer(f, b).shap_values(r),
                          note="2 rows x 10 bg"))
    W = rng.normal(size=X.shape[1])
    predict = lambda Z: Z @ W
    found.append(Case("LIME tabular, one row", "1000 samples, M=10",
                      lambda: scr_lime.LimeTabularExplainer(X, "regression", random_state=0).explain_instance(
                          X[0], predict, num_samples=1000),
                      lambda: ref_lime.LimeTabularExplainer(X, "regression", random_state=0).explain_instance(
                          X[0], predict, num_samples=1000)))
    return found
