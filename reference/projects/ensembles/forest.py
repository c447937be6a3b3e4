"""Bagged trees, the reference: scikit-learn's forests and bagging under the scratch classes'
names and constructor arguments. Twin of scratch/projects/ensembles/forest.py.
"""
from sklearn import ensemble


def _forest_init(cls, **defaults):
    """A constructor with the scratch forest's arguments and defaults, handing them to scikit-learn's."""
    def __init__(self, n_estimators=100, criterion=defaults["criterion"], max_depth=None, min_samples_split=2,
                 min_samples_leaf=1, min_weight_fraction_leaf=0.0, max_features=defaults["max_features"],
                 max_leaf_nodes=None, min_impurity_decrease=0.0, bootstrap=defaults["bootstrap"], oob_score=False,
                 random_state=None, ccp_alpha=0.0, max_samples=None):
        cls.__init__(self, n_estimators=n_estimators, criterion=criterion, max_depth=max_depth,
                     min_samples_split=min_samples_split, min_samples_leaf=min_samples_leaf,
                     min_weight_fraction_leaf=min_weight_fraction_leaf, max_features=max_features,
                     max_leaf_nodes=max_leaf_nodes, min_impurity_decrease=min_impurity_decrease, bootstrap=bootstrap,
                     oob_score=oob_score, random_state=random_state, ccp_alpha=ccp_alpha, max_samples=max_samples)
    return __init__


class RandomForestClassifier(ensemble.RandomForestClassifier):
    __init__ = _forest_init(ensemble.RandomForestClassifier, criterion="gini", max_features="sqrt", bootstrap=True)


class ExtraTreesClassifier(ensemble.ExtraTreesClassifier):
    __init__ = _forest_init(ensemble.ExtraTreesClassifier, criterion="gini", max_features="sqrt", bootstrap=False)


class RandomForestRegressor(ensemble.RandomForestRegressor):
    __init__ = _forest_init(ensemble.RandomForestRegressor, criterion="squared_error", max_features=1.0,
                            bootstrap=True)


class BaggingClassifier(ensemble.BaggingClassifier):
    def __init__(self, estimator=None, n_estimators=10, max_samples=None, max_features=1.0, bootstrap=True,
                 bootstrap_features=False, oob_score=False, random_state=None):
        super().__init__(estimator=estimator, n_estimators=n_estimators,
                         max_samples=max_samples, max_features=max_features, bootstrap=bootstrap,
                         bootstrap_features=bootstrap_features, oob_score=oob_score, random_state=random_state)


class BaggingRegressor(ensemble.BaggingRegressor):
    def __init__(self, estimator=None, n_estimators=10, max_samples=None, max_features=1.0, bootstrap=True,
                 bootstrap_features=False, oob_score=False, random_state=None):
        super().__init__(estimator=estimator, n_estimators=n_estimators,
                         max_samples=max_samples, max_features=max_features, bootstrap=bootstrap,
                         bootstrap_features=bootstrap_features, oob_score=oob_score, random_state=random_state)
