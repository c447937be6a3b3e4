"""Voting parity: hard and soft votes of scratch trees and forests equal scikit-learn's votes of
its twins, labels and probabilities to the bit, weighted or not (ties go to the first class on
both sides)."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from reference.projects.ensembles import forest as ref_forest
from reference.projects.ensembles import tree as ref_tree
from reference.projects.ensembles import voting as ref
from scratch.projects.ensembles import forest as scr_forest
from scratch.projects.ensembles import tree as scr_tree
from scratch.projects.ensembles import voting as scr

from .test_tree import tabular


def members(tree, forest, seed):
    """Weak, different members, so they disagree and the weights decide."""
    return [("stump", tree.DecisionTreeClassifier(max_depth=1, random_state=seed)),
            ("random tree", tree.DecisionTreeClassifier(max_depth=2, max_features=1, random_state=seed + 1)),
            ("forest", forest.RandomForestClassifier(n_estimators=3, max_depth=2, random_state=seed + 2))]


@given(data=tabular(), voting=st.sampled_from(["hard", "soft"]),
       weights=st.one_of(st.none(), st.lists(st.sampled_from([0.5, 1.0, 2.0, 3.0]), min_size=3, max_size=3)),
       seed=st.integers(0, 2**20))
def test_voting_is_bit_exact(data, voting, weights, seed):
    X, y, sample_weight = data
    labels = np.array(["a", "b", "c", "d"])[y]  # string classes: both encode them
    scratch = scr.VotingClassifier(members(scr_tree, scr_forest, seed), voting, weights).fit(X, labels, sample_weight)
    reference = ref.VotingClassifier(members(ref_tree, ref_forest, seed), voting, weights).fit(X, labels,
                                                                                              sample_weight=sample_weight)
    X_new = X + np.random.default_rng(seed).normal(size=X.shape) * X.std(axis=0)  # rows the members never saw
    for rows in (X, X_new):
        np.testing.assert_array_equal(scratch.predict(rows), reference.predict(rows))
        if voting == "soft":
            np.testing.assert_array_equal(scratch.predict_proba(rows), reference.predict_proba(rows))
