"""Permutation importance parity: the scratch function on a scratch model equals scikit-learn's
``permutation_importance`` on scikit-learn's twin model, every repeat of every feature, to the bit
(same seed, same shuffles applied on top of each other, same scores)."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from reference.projects.ensembles import forest as ref_forest
from reference.projects.ensembles import inspection as ref
from reference.projects.ensembles import tree as ref_tree
from scratch.projects.ensembles import forest as scr_forest
from scratch.projects.ensembles import inspection as scr
from scratch.projects.ensembles import tree as scr_tree

from .test_tree import tabular


@given(data=tabular(), regression=st.booleans(), forest=st.booleans(), n_repeats=st.integers(1, 4),
       random_state=st.integers(0, 2**31 - 1))
def test_permutation_importance_is_bit_exact(data, regression, forest, n_repeats, random_state):
    X, y, _ = data
    if regression:
        y = y * 2.5
    kind = ("RandomForest" if forest else "DecisionTree") + ("Regressor" if regression else "Classifier")
    module_scr, module_ref = (scr_forest, ref_forest) if forest else (scr_tree, ref_tree)
    params = {"random_state": 0, "max_depth": 3} | ({"n_estimators": 3} if forest else {})
    scratch = getattr(module_scr, kind)(**params).fit(X, y)
    reference = getattr(module_ref, kind)(**params).fit(X, y)
    a = scr.permutation_importance(scratch, X, y, n_repeats=n_repeats, random_state=random_state)
    b = ref.permutation_importance(reference, X, y, n_repeats=n_repeats, random_state=random_state)
    for name in ("importances", "importances_mean", "importances_std"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
