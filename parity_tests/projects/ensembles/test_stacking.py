"""Stacking parity: the out-of-fold meta-features (k-fold, stratified for classifiers, no
shuffling), the refitted members' outputs on new rows, and the meta-learner's predictions equal
scikit-learn's StackingClassifier/Regressor. Members are scratch trees, forests and gradient
boosting (bit-exact twins), so the meta-features are compared to the bit; a tree meta-learner
then predicts the same labels and probabilities to the bit, and the Ridge meta-learner (closed
form here, scikit-learn's Cholesky there) to rounding. Features are continuous (see
test_boosting's docstring on ties).
"""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.projects.ensembles import boosting as ref_boosting
from reference.projects.ensembles import forest as ref_forest
from reference.projects.ensembles import stacking as ref
from reference.projects.ensembles import tree as ref_tree
from scratch.projects.ensembles import boosting as scr_boosting
from scratch.projects.ensembles import forest as scr_forest
from scratch.projects.ensembles import stacking as scr
from scratch.projects.ensembles import tree as scr_tree
from twins.parity import assert_close

SCRATCH, REFERENCE = (scr_tree, scr_forest, scr_boosting, scr), (ref_tree, ref_forest, ref_boosting, ref)


def members(modules, regression, seed):
    tree, forest, boosting, _ = modules
    kind = "Regressor" if regression else "Classifier"
    return [("tree", getattr(tree, f"DecisionTree{kind}")(max_depth=2, random_state=seed)),
            ("forest", getattr(forest, f"RandomForest{kind}")(n_estimators=3, max_depth=3, random_state=seed + 1)),
            ("boosting", getattr(boosting, f"GradientBoosting{kind}")(n_estimators=3, random_state=seed + 2))]


@st.composite
def stacking_data(draw):
    n_classes, cv = draw(st.integers(2, 3)), draw(st.integers(2, 4))
    n = draw(st.integers(n_classes * cv * 2, 50))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X = rng.normal(size=(n, draw(st.integers(1, 4))))
    y = rng.permutation(np.arange(n) % n_classes)  # every class in every training fold
    return X, y, cv


@settings(max_examples=max(10, settings().max_examples // 4))
@given(data=stacking_data(), regression=st.booleans(), passthrough=st.booleans(), weighted=st.booleans(),
       seed=st.integers(0, 2**20))
def test_stacking_is_exact(data, regression, passthrough, weighted, seed):
    """With ``weighted``, sample weights reach every member's fits (a fold's rows' share in each fold) and the
    meta-learner's, as scikit-learn routes them."""
    X, y, cv = data
    X_new = X[::-1] * 0.9 + 0.05
    # integer weights for the classifier: the meta-tree splits the out-of-fold probabilities, which take few values,
    # and with fractional weights the sums over those ties follow introsort's order (see test_boosting's docstring)
    draw = np.random.default_rng(seed)
    weights = draw.uniform(0.5, 2.0, len(y)) if regression else draw.integers(1, 4, len(y)).astype(np.float64)
    weights = {"sample_weight": weights} if weighted else {}
    if regression:
        y = X[:, 0] * 2.0 + np.cos(X[:, -1])
        scratch = scr.StackingRegressor(members(SCRATCH, True, seed), cv=cv, passthrough=passthrough).fit(X, y, **weights)
        reference = ref.StackingRegressor(members(REFERENCE, True, seed), cv=cv, passthrough=passthrough).fit(X, y, **weights)
    else:
        labels = np.array(["x", "y", "z"])[y]
        final = {"max_depth": 3, "random_state": seed}
        scratch = scr.StackingClassifier(members(SCRATCH, False, seed), scr_tree.DecisionTreeClassifier(**final),
                                         cv=cv, passthrough=passthrough).fit(X, labels, **weights)
        reference = ref.StackingClassifier(members(REFERENCE, False, seed), ref_tree.DecisionTreeClassifier(**final),
                                           cv=cv, passthrough=passthrough).fit(X, labels, **weights)
        assert scratch.stack_method_ == reference.stack_method_
        # the meta-learner saw the same out-of-fold features: node for node the same tree
        np.testing.assert_array_equal(scratch.final_estimator_.tree_.threshold, reference.final_estimator_.tree_.threshold)
    for rows in (X, X_new):
        np.testing.assert_array_equal(scratch.transform(rows), reference.transform(rows), err_msg="meta-features")
        if regression:
            assert_close(scratch.predict(rows), reference.predict(rows), "predict", rtol=1e-9, atol=1e-9)
        else:
            np.testing.assert_array_equal(scratch.predict(rows), reference.predict(rows))
            np.testing.assert_array_equal(scratch.predict_proba(rows), reference.predict_proba(rows))


@given(n=st.integers(6, 60), n_splits=st.integers(2, 5), n_classes=st.integers(2, 4), seed=st.integers(0, 2**20))
def test_folds_are_scikit_learns(n, n_splits, n_classes, seed):
    from sklearn.model_selection import KFold, StratifiedKFold

    y = np.random.default_rng(seed).integers(0, n_classes, n)
    y[:n_splits] = 0
    for mine, theirs in zip(scr.kfold_test_rows(n, n_splits), KFold(n_splits).split(np.zeros(n))):
        np.testing.assert_array_equal(mine, theirs[1])
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a class with fewer rows than folds: scikit-learn warns
        for mine, theirs in zip(scr.kfold_test_rows(n, n_splits, y), StratifiedKFold(n_splits).split(np.zeros(n), y)):
            np.testing.assert_array_equal(mine, theirs[1])


@settings(max_examples=max(5, settings().max_examples // 10))
@given(n=st.integers(30, 120), n_features=st.integers(1, 5), seed=st.integers(0, 2**20))
def test_default_meta_learner_for_two_classes_is_scikit_learns_binomial_one(n, n_features, seed):
    """Two classes: scikit-learn's default meta-learner is binomial logistic regression (C = 1); the scratch one is
    softmax with C = 0.5, which is the same model (stacking.py's _final). Fitted to convergence on the same
    features, both give the same probabilities; the stack itself then predicts as scikit-learn's."""
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression

    from scratch.projects.nlp.linear_models import LogisticRegression

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    y = (X @ rng.normal(size=n_features) + rng.normal(0, 1.0, n) > 0).astype(int)
    if len(np.unique(y)) < 2:
        y[:2] = [0, 1]
    ours = LogisticRegression(C=0.5, tol=1e-12, max_iter=2000).fit(X, y)
    theirs = SkLogisticRegression(C=1.0, tol=1e-12, max_iter=2000).fit(X, y)
    assert_close(ours.predict_proba(X), theirs.predict_proba(X), "binomial C = 1 as softmax C = 0.5", rtol=1e-5, atol=1e-6)
    stack = scr.StackingClassifier(members(SCRATCH, False, seed), cv=3).fit(X, y)
    reference = ref.StackingClassifier(members(REFERENCE, False, seed), cv=3).fit(X, y)
    assert stack.final_estimator_.C == 0.5
    assert_close(stack.predict_proba(X), reference.predict_proba(X), "stack with the default meta-learner", rtol=1e-2, atol=2e-3)
