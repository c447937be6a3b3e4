"""Bad input to the trees, forests and bagging (Project 14), in scikit-learn's wording where it
has one: NaN or inf in X (scratch does not take missing values), one class only, predict before
fit, a wrong number of features, negative sample weights, an unknown criterion, a max_features
out of range, and the other hyperparameters. Each row names the argument, what was expected and
what came.

Where scratch is stricter than scikit-learn 1.9, on purpose: scikit-learn's trees accept NaN
(they learn where missing values go; scratch has no missing-value support and refuses them),
fit one class only to a single leaf, accept negative sample weights, and cap an integer
max_features above n_features silently.
"""
import numpy as np
import pytest
import scipy.sparse

from scratch.projects.ensembles.adaboost import AdaBoostClassifier, AdaBoostRegressor
from scratch.projects.ensembles.boosting import GradientBoostingClassifier, GradientBoostingRegressor
from scratch.projects.ensembles.checks import NotFittedError
from scratch.projects.ensembles.forest import BaggingClassifier, BaggingRegressor, ExtraTreesClassifier, RandomForestClassifier, RandomForestRegressor
from scratch.projects.ensembles.hist import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from scratch.projects.ensembles.stacking import StackingClassifier, StackingRegressor
from scratch.projects.ensembles.tree import DecisionTreeClassifier, DecisionTreeRegressor
from scratch.projects.ensembles.voting import VotingClassifier
from twins.parity import BadInput, assert_bad_input

X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0], [4.0, 1.0], [5.0, 0.0]])
y = np.array([0, 1, 0, 1, 1, 0])
with_nan, with_inf = X.copy(), X.copy()
with_nan[2, 1], with_inf[3, 0] = np.nan, np.inf


class NoWeights:
    """A regressor whose fit takes no sample_weight (the mean of y)."""

    def fit(self, X, y):
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


def fit(estimator, X=X, y=y, **kwargs):
    return lambda: estimator.fit(X, y, **kwargs)


def predict(estimator, data, method="predict"):
    return lambda: getattr(estimator.fit(X, y), method)(data)


CASES = [
    # X
    BadInput("NaN in X", fit(DecisionTreeClassifier(), with_nan), ValueError, "X", r"expected finite values, got nan"),
    BadInput("inf in X", fit(RandomForestClassifier(n_estimators=2), with_inf), ValueError, "X",
             r"expected finite values, got inf"),
    BadInput("beyond float32", fit(DecisionTreeRegressor(), X * 1e300, y), ValueError, "X",
             r"Input X contains infinity or a value too large for dtype\('float32'\)"),
    BadInput("X 1-d", fit(DecisionTreeClassifier(), X[:, 0]), ValueError, "X", r"expected a 2-d array"),
    BadInput("X no rows", fit(DecisionTreeClassifier(), X[:0], y[:0]), ValueError, "X", r"expected at least 1 sample"),
    BadInput("X strings", fit(DecisionTreeClassifier(), X.astype(str)), ValueError, "X", r"expected numbers"),
    BadInput("X sparse", fit(DecisionTreeClassifier(), scipy.sparse.csr_matrix(X)), TypeError, "X",
             r"expected a dense array, got a scipy.sparse"),
    # y
    BadInput("one class only", fit(DecisionTreeClassifier(), X, np.zeros(6)), ValueError, "y",
             r"expected at least 2 classes, got 1 class only .*Classifier can't train when only one class"),
    BadInput("one class only, forest", fit(RandomForestClassifier(n_estimators=2), X, np.ones(6)), ValueError, "y",
             r"1 class only"),
    BadInput("continuous labels", fit(DecisionTreeClassifier(), X, y + 0.5), ValueError, "y",
             r"Unknown label type: continuous"),
    BadInput("y wrong length", fit(DecisionTreeClassifier(), X, y[:4]), ValueError, "y", r"expected 6 labels"),
    BadInput("regression y NaN", fit(DecisionTreeRegressor(), X, np.r_[y[:5], np.nan]), ValueError, "y",
             r"expected finite targets"),
    BadInput("regression y None", fit(BaggingRegressor(), X, None), ValueError, "y", r"expected a target, got None"),
    # sample weights
    BadInput("negative sample weight", fit(DecisionTreeClassifier(), sample_weight=-np.ones(6)), ValueError,
             "sample_weight", r"expected non-negative weights, got -1.0 \(Negative values in data passed to"),
    BadInput("negative weight, forest", fit(RandomForestRegressor(n_estimators=2), X, y * 1.0,
                                            sample_weight=np.r_[np.ones(5), -1.0]), ValueError, "sample_weight",
             r"non-negative"),
    BadInput("all-zero weights", fit(DecisionTreeClassifier(), sample_weight=np.zeros(6)), ValueError,
             "sample_weight", r"expected a positive total weight, got all zeros"),
    BadInput("weights wrong shape", fit(DecisionTreeClassifier(), sample_weight=np.ones(4)), ValueError,
             "sample_weight", r"expected shape \(6,\), got \(4,\)"),
    BadInput("weights NaN", fit(BaggingClassifier(), sample_weight=np.r_[np.ones(5), np.nan]), ValueError,
             "sample_weight", r"expected finite weights"),
    # the fitted state
    BadInput("predict before fit", lambda: DecisionTreeClassifier().predict(X), NotFittedError, "fit",
             r"This DecisionTreeClassifier instance is not fitted yet. Call 'fit'"),
    BadInput("predict_proba before fit", lambda: RandomForestClassifier().predict_proba(X), NotFittedError, "fit",
             r"This RandomForestClassifier instance is not fitted yet"),
    BadInput("predict before fit, bagging", lambda: BaggingRegressor().predict(X), NotFittedError, "fit",
             r"not fitted yet"),
    BadInput("wrong n_features", predict(DecisionTreeClassifier(), X[:, :1]), ValueError, "X",
             r"expected 2 features \(as in fit\), got 1: X has 1 features, but DecisionTreeClassifier is expecting 2"),
    BadInput("wrong n_features, forest", predict(ExtraTreesClassifier(n_estimators=2), np.ones((2, 3)),
                                                 "predict_proba"), ValueError, "X", r"expected 2 features"),
    BadInput("wrong n_features, bagging", predict(BaggingClassifier(n_estimators=2), np.ones((2, 3))), ValueError,
             "X", r"but BaggingClassifier is expecting 2 features"),
    # hyperparameters
    BadInput("unknown criterion", fit(DecisionTreeClassifier(criterion="mse")), ValueError, "criterion",
             r"The 'criterion' parameter of DecisionTreeClassifier must be a str among \{'gini', 'entropy', "
             r"'log_loss'\}. Got 'mse' instead."),
    BadInput("classification criterion for regression", fit(DecisionTreeRegressor(criterion="gini"), X, y * 1.0),
             ValueError, "criterion", r"must be a str among \{'squared_error'\}. Got 'gini'"),
    BadInput("unknown criterion, forest", fit(RandomForestClassifier(criterion="Gini")), ValueError, "criterion",
             r"Got 'Gini' instead"),
    BadInput("max_features 0.0", fit(DecisionTreeClassifier(max_features=0.0)), ValueError, "max_features",
             r"must be an int in the range \[1, inf\), a float in the range \(0.0, 1.0\], a str among "
             r"\{'sqrt', 'log2'\} or None. Got 0.0 instead."),
    BadInput("max_features 1.5", fit(RandomForestClassifier(max_features=1.5)), ValueError, "max_features",
             r"Got 1.5 instead"),
    BadInput("max_features above n_features", fit(DecisionTreeClassifier(max_features=3)), ValueError,
             "max_features", r"expected at most n_features = 2, got 3"),
    BadInput("max_features 'auto'", fit(DecisionTreeClassifier(max_features="auto")), ValueError, "max_features",
             r"Got 'auto' instead"),
    BadInput("bagging max_features above n_features", fit(BaggingClassifier(max_features=5)), ValueError,
             "max_features", r"expected at most n_features = 2, got 5"),
    BadInput("max_depth 0", fit(DecisionTreeClassifier(max_depth=0)), ValueError, "max_depth",
             r"must be an int in the range \[1, inf\) or None. Got 0 instead."),
    BadInput("max_depth a float", fit(DecisionTreeClassifier(max_depth=2.0)), ValueError, "max_depth",
             r"Got 2.0 instead"),
    BadInput("min_samples_split 1", fit(DecisionTreeClassifier(min_samples_split=1)), ValueError,
             "min_samples_split", r"an int in the range \[2, inf\) or a float in the range \(0.0, 1.0\]. Got 1"),
    BadInput("min_samples_leaf 0", fit(DecisionTreeRegressor(min_samples_leaf=0), X, y * 1.0), ValueError,
             "min_samples_leaf", r"Got 0 instead"),
    BadInput("min_weight_fraction_leaf 0.6", fit(DecisionTreeClassifier(min_weight_fraction_leaf=0.6)), ValueError,
             "min_weight_fraction_leaf", r"a float in the range \[0.0, 0.5\]"),
    BadInput("max_leaf_nodes 1", fit(DecisionTreeClassifier(max_leaf_nodes=1)), ValueError, "max_leaf_nodes",
             r"an int in the range \[2, inf\) or None. Got 1"),
    BadInput("ccp_alpha negative", fit(DecisionTreeClassifier(ccp_alpha=-0.1)), ValueError, "ccp_alpha",
             r"Got -0.1 instead"),
    BadInput("min_impurity_decrease a str", fit(DecisionTreeClassifier(min_impurity_decrease="0")), ValueError,
             "min_impurity_decrease", r"Got '0' instead"),
    BadInput("splitter unknown", fit(DecisionTreeClassifier(splitter="greedy")), ValueError, "splitter",
             r"a str among \{'best', 'random'\}. Got 'greedy'"),
    BadInput("random_state a str", fit(DecisionTreeClassifier(random_state="0")), ValueError, "random_state",
             r"Got '0' instead"),
    BadInput("n_estimators 0", fit(RandomForestClassifier(n_estimators=0)), ValueError, "n_estimators",
             r"an int in the range \[1, inf\). Got 0"),
    BadInput("bootstrap 1", fit(RandomForestClassifier(bootstrap=1)), ValueError, "bootstrap",
             r"an instance of 'bool'. Got 1"),
    BadInput("oob without bootstrap", fit(RandomForestClassifier(bootstrap=False, oob_score=True)), ValueError,
             "oob_score", r"Out of bag estimation only available if bootstrap=True"),
    BadInput("oob without bootstrap, bagging", fit(BaggingRegressor(bootstrap=False, oob_score=True), X, y * 1.0),
             ValueError, "oob_score", r"only available if bootstrap=True"),
    BadInput("max_samples 0.0", fit(RandomForestClassifier(max_samples=0.0)), ValueError, "max_samples",
             r"Got 0.0 instead"),
    BadInput("max_samples above n without bootstrap", fit(BaggingClassifier(bootstrap=False, max_samples=10)),
             ValueError, "max_samples", r"expected at most n_samples = 6 without bootstrap, got 10"),
    BadInput("bagging estimator not a tree", fit(BaggingClassifier(estimator="tree")), ValueError, "estimator",
             r"Got 'tree' instead"),
    BadInput("voting unknown", fit(VotingClassifier([("t", DecisionTreeClassifier())], voting="average")), ValueError,
             "voting", r"a str among \{'hard', 'soft'\}. Got 'average'"),
    BadInput("voting no estimators", fit(VotingClassifier([])), ValueError, "estimators",
             r"expected a non-empty list of \(name, estimator\) pairs, got \[\]"),
    BadInput("voting weights length", fit(VotingClassifier([("t", DecisionTreeClassifier())], weights=[1, 2])),
             ValueError, "weights", r"expected 1 weights, one per estimator, got 2"),
    BadInput("hard voting has no probabilities",
             predict(VotingClassifier([("t", DecisionTreeClassifier())]), X, "predict_proba"), AttributeError,
             "voting", r"predict_proba is not available when voting='hard'"),
    BadInput("voting y None", fit(VotingClassifier([("t", DecisionTreeClassifier())]), X, None), ValueError, "y",
             r"requires y to be passed, but the target y is None"),
    BadInput("voting X 1-d", fit(VotingClassifier([("t", DecisionTreeClassifier())]), X[:, 0]), ValueError, "X",
             r"expected a 2-d array"),
    BadInput("voting wrong n_features", predict(VotingClassifier([("t", DecisionTreeClassifier())], voting="soft"),
                                                np.ones((2, 3)), "predict_proba"), ValueError, "X",
             r"but VotingClassifier is expecting 2 features"),
    BadInput("voting predict before fit", lambda: VotingClassifier([("t", DecisionTreeClassifier())]).predict(X),
             NotFittedError, "fit", r"This VotingClassifier instance is not fitted yet"),
    # boosting
    BadInput("GB unknown loss", fit(GradientBoostingClassifier(loss="deviance")), ValueError, "loss",
             r"must be a str among \{'log_loss', 'exponential'\}. Got 'deviance'"),
    BadInput("GB exponential loss, three classes", fit(GradientBoostingClassifier(loss="exponential"), X, y + X[:, 1]),
             ValueError, "loss", r"loss='exponential' is only suitable for a binary classification problem, you "
                                 r"have n_classes=3"),
    BadInput("GB regressor unknown loss", fit(GradientBoostingRegressor(loss="poisson"), X, y * 1.0), ValueError,
             "loss", r"Got 'poisson' instead"),
    BadInput("GB quantile alpha 1", fit(GradientBoostingRegressor(loss="quantile", alpha=1.0), X, y * 1.0),
             ValueError, "alpha", r"a float in the range \(0.0, 1.0\). Got 1.0"),
    BadInput("GB warm start with fewer stages", lambda: GradientBoostingRegressor(n_estimators=3, warm_start=True)
             .fit(X, y * 1.0).set_params(n_estimators=2).fit(X, y * 1.0), ValueError, "n_estimators",
             r"n_estimators=2 must be larger or equal to estimators_.shape\[0\]=3 when warm_start==True"),
    BadInput("GB warm_start 1", fit(GradientBoostingClassifier(warm_start=1)), ValueError, "warm_start",
             r"an instance of 'bool'. Got 1"),
    BadInput("GB classifier init without predict_proba", fit(GradientBoostingClassifier(init=DecisionTreeRegressor())),
             ValueError, "init", r"an object implementing 'fit' and 'predict_proba'"),
    BadInput("GB init without sample weights", fit(GradientBoostingRegressor(init=NoWeights()), X, y * 1.0,
                                                  sample_weight=np.ones(6)), ValueError, "init",
             r"The initial estimator NoWeights does not support sample weights"),
    BadInput("GB negative learning rate", fit(GradientBoostingClassifier(learning_rate=-0.1)), ValueError,
             "learning_rate", r"Got -0.1 instead"),
    BadInput("GB subsample 0", fit(GradientBoostingRegressor(subsample=0.0), X, y * 1.0), ValueError, "subsample",
             r"a float in the range \(0.0, 1.0\]"),
    BadInput("GB n_iter_no_change 0", fit(GradientBoostingClassifier(n_iter_no_change=0)), ValueError,
             "n_iter_no_change", r"Got 0 instead"),
    BadInput("GB init estimator", fit(GradientBoostingClassifier(init="prior")), ValueError, "init",
             r"Got 'prior' instead"),
    BadInput("GB NaN in X", fit(GradientBoostingClassifier(), with_nan), ValueError, "X", r"expected finite values"),
    BadInput("GB one class", fit(GradientBoostingClassifier(), X, np.zeros(6)), ValueError, "y", r"1 class only"),
    BadInput("GB weights leave one class", fit(GradientBoostingClassifier(), sample_weight=(y == 1) * 1.0), ValueError,
             "sample_weight", r"y contains 1 class after sample_weight trimmed classes with zero weights"),
    BadInput("GB negative weight", fit(GradientBoostingRegressor(), X, y * 1.0, sample_weight=-np.ones(6)), ValueError,
             "sample_weight", r"non-negative"),
    BadInput("GB early stopping, a class of one row", fit(GradientBoostingClassifier(n_iter_no_change=2), X,
                                                          np.r_[np.zeros(5), 1]), ValueError, "y",
             r"The least populated classes in y have only 1 member"),
    BadInput("GB predict before fit", lambda: GradientBoostingClassifier().predict_proba(X), NotFittedError, "fit",
             r"This GradientBoostingClassifier instance is not fitted yet"),
    BadInput("GB wrong n_features", predict(GradientBoostingRegressor(n_estimators=2), np.ones((2, 3))), ValueError,
             "X", r"but GradientBoostingRegressor is expecting 2 features"),
    BadInput("AdaBoost learning rate 0", fit(AdaBoostClassifier(learning_rate=0.0)), ValueError, "learning_rate",
             r"a float in the range \(0.0, inf\). Got 0.0"),
    BadInput("AdaBoost y None", fit(AdaBoostClassifier(), X, None), ValueError, "y",
             r"requires y to be passed, but the target y is None"),
    BadInput("AdaBoost predict before fit", lambda: AdaBoostClassifier().predict(X), NotFittedError, "fit",
             r"This AdaBoostClassifier instance is not fitted yet"),
    BadInput("AdaBoost.R2 unknown loss", fit(AdaBoostRegressor(loss="huber"), X, y * 1.0), ValueError, "loss",
             r"must be a str among \{'linear', 'square', 'exponential'\}. Got 'huber'"),
    BadInput("AdaBoost.R2 string targets", fit(AdaBoostRegressor(), X, np.array(list("abcdef"))), ValueError, "y",
             r"expected numbers"),
    BadInput("AdaBoost.R2 predict before fit", lambda: AdaBoostRegressor().predict(X), NotFittedError, "fit",
             r"This AdaBoostRegressor instance is not fitted yet"),
    BadInput("AdaBoost.R2 wrong n_features", predict(AdaBoostRegressor(n_estimators=2), np.ones((2, 3))), ValueError,
             "X", r"but AdaBoostRegressor is expecting 2 features"),
    # histogram gradient boosting
    BadInput("HGB NaN in X (no missing-value support yet)", fit(HistGradientBoostingClassifier(), with_nan), ValueError,
             "X", r"expected finite values, got nan"),
    BadInput("HGB max_bins 256", fit(HistGradientBoostingRegressor(max_bins=256), X, y * 1.0), ValueError, "max_bins",
             r"an int in the range \[2, 255\]. Got 256"),
    BadInput("HGB learning rate 0", fit(HistGradientBoostingClassifier(learning_rate=0.0)), ValueError,
             "learning_rate", r"Got 0.0 instead"),
    BadInput("HGB early_stopping 'yes'", fit(HistGradientBoostingClassifier(early_stopping="yes")), ValueError,
             "early_stopping", r"Got 'yes' instead"),
    BadInput("HGB one class", fit(HistGradientBoostingClassifier(), X, np.ones(6)), ValueError, "y", r"1 class only"),
    BadInput("HGB negative weight", fit(HistGradientBoostingRegressor(), X, y * 1.0, sample_weight=np.r_[np.ones(5), -1.0]),
             ValueError, "sample_weight", r"expected non-negative weights"),
    BadInput("HGB weight on one class only", fit(HistGradientBoostingClassifier(), sample_weight=(y == y[0]) * 1.0),
             ValueError, "sample_weight", r"positive weight on at least 2 classes"),
    BadInput("HGB predict before fit", lambda: HistGradientBoostingRegressor().predict(X), NotFittedError, "fit",
             r"This HistGradientBoostingRegressor instance is not fitted yet"),
    BadInput("HGB wrong n_features", predict(HistGradientBoostingClassifier(max_iter=2, min_samples_leaf=1),
                                             np.ones((2, 3)), "predict_proba"), ValueError, "X", r"expected 2 features"),
    # stacking
    BadInput("stacking cv 1", fit(StackingClassifier([("t", DecisionTreeClassifier())], cv=1)), ValueError, "cv",
             r"an int in the range \[2, inf\) or an instance of 'list'. Got 1"),
    BadInput("stacking no estimators", fit(StackingRegressor([]), X, y * 1.0), ValueError, "estimators",
             r"expected a non-empty list"),
    BadInput("stacking more folds than rows per class", fit(StackingClassifier([("t", DecisionTreeClassifier())],
                                                                              cv=4)), ValueError, "cv",
             r"n_splits=4 cannot be greater than the number of members in each class"),
    BadInput("stacking cv pairs that leave rows out", fit(StackingClassifier([("t", DecisionTreeClassifier())],
                                                                           cv=[(np.arange(3), np.arange(3, 5))])),
             ValueError, "cv", r"whose test rows partition the 6 rows"),
    BadInput("stacking member without sample weights", fit(StackingRegressor([("t", DecisionTreeRegressor())],
                                                                              final_estimator=NoWeights(), cv=2),
                                                            X, y * 1.0, sample_weight=np.ones(6)), TypeError,
             "sample_weight", r"expected estimators whose fit takes sample_weight, got NoWeights"),
    BadInput("stacking y None", fit(StackingRegressor([("t", DecisionTreeRegressor())], cv=2), X, None), ValueError,
             "y", r"requires y to be passed, but the target y is None"),
    BadInput("stacking predict before fit", lambda: StackingClassifier([("t", DecisionTreeClassifier())]).predict(X),
             NotFittedError, "fit", r"This StackingClassifier instance is not fitted yet"),
    BadInput("stacking wrong n_features", predict(StackingRegressor([("t", DecisionTreeRegressor())], cv=2),
                                                  np.ones((2, 3))), ValueError, "X", r"expected 2 features"),
    BadInput("set_params unknown", lambda: DecisionTreeClassifier().set_params(depth=3), ValueError, "depth",
             r"Invalid parameter 'depth' for estimator DecisionTreeClassifier"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_refused_clearly(case):
    assert_bad_input(case)
