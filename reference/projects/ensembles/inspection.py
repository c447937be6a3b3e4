"""Permutation importance, the reference: scikit-learn's ``permutation_importance`` with the scratch
function's arguments. Twin of scratch/projects/ensembles/inspection.py.
"""
from sklearn import inspection
from sklearn.metrics import r2_score  # noqa: F401  (the scratch module's other public name)


def permutation_importance(estimator, X, y, n_repeats=5, random_state=None):
    return inspection.permutation_importance(estimator, X, y, n_repeats=n_repeats, random_state=random_state)
