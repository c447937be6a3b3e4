"""Bad input to the explainers (Project 19): a background with another number of features, too
many features to enumerate (the message says what to use instead), a model whose output is NaN
or inf or has the wrong length, LIME categorical columns holding floats, gradient attributions on
a model without an input gradient (no backward; token ids), and unknown options. Each row names
the argument, what was expected and what came."""
from types import SimpleNamespace

import numpy as np
import pytest

from scratch.projects.ensembles.boosting import GradientBoostingRegressor
from scratch.projects.ensembles.tree import DecisionTreeRegressor
from scratch.projects.explain.attribution import IntegratedGradients, Saliency
from scratch.projects.explain.lime_image import LimeImageExplainer
from scratch.projects.explain.lime_tabular import LimeTabularExplainer
from scratch.projects.explain.lime_text import LimeTextExplainer
from scratch.projects.explain.shapley import ExactExplainer, KernelExplainer, LinearExplainer, PermutationExplainer
from scratch.projects.explain.treeshap import TreeEnsemble, TreeExplainer
from scratch.projects.mlp.model import MLP
from scratch.projects.nlp.model import TransformerClassifier
from twins.parity import BadInput, assert_bad_input

rng = np.random.default_rng(0)
data, X = rng.normal(size=(6, 3)), rng.normal(size=(2, 3))


def total(Z):
    return Z.sum(axis=1)


def nan_above_one(Z):
    return np.where(Z[:, 0] > 1.0, np.nan, Z.sum(axis=1))


def shap_values(explainer, X=X, **kwargs):
    return lambda: explainer.shap_values(X, **kwargs)


tree = DecisionTreeRegressor(max_depth=2).fit(data, data[:, 0])
mlp = MLP(3, [4], 2, rng=np.random.default_rng(0), dtype=np.float64)
transformer = TransformerClassifier(vocab_size=10, num_classes=2, d_model=8, nhead=2, num_layers=1, dim_feedforward=8,
                                    max_len=6, rng=np.random.default_rng(0))
floats_as_categories = np.column_stack([data, np.linspace(0.0, 1.0, 6)])

CASES = [
    BadInput("X with another number of features than the background", shap_values(ExactExplainer(total, data), X[:, :2]),
             ValueError, "X", r"expected 3 features \(the background's\), got 2"),
    BadInput("kernel X with more features than the background", shap_values(KernelExplainer(total, data), np.ones((1, 4))),
             ValueError, "X", r"expected 3 features \(the background's\), got 4"),
    BadInput("tree background with another number of features", lambda: TreeExplainer(tree, data[:, :2]),
             ValueError, "data", r"expected 3 features \(the background's\), got 2"),
    BadInput("too many features to enumerate", shap_values(ExactExplainer(total, np.zeros((2, 16))), np.ones((1, 16))),
             ValueError, "X", r"expected at most 15 features for exact enumeration .* got 16; use KernelExplainer or "
                              r"PermutationExplainer instead"),
    BadInput("a NaN model output", lambda: ExactExplainer(nan_above_one, data * 0.1).shap_values(X + 5.0), ValueError,
             "model", r"expected finite outputs, got nan"),
    BadInput("a NaN output on the background", lambda: KernelExplainer(nan_above_one, data + 5.0), ValueError, "model",
             r"expected finite outputs, got nan for input row 0"),
    BadInput("an output of the wrong length", lambda: ExactExplainer(lambda Z: Z[:1, 0], data), ValueError, "model",
             r"expected an output of shape \(6,\) or \(6, K\) for 6 rows, got shape \(1,\)"),
    BadInput("NaN in the background", lambda: ExactExplainer(total, np.where(data > 1, np.nan, data)), ValueError, "data",
             r"expected finite values, got nan"),
    BadInput("a 1-d X", shap_values(PermutationExplainer(total, data), X[0]), ValueError, "X", r"expected a 2-d array"),
    BadInput("npermutations of 0", shap_values(PermutationExplainer(total, data), npermutations=0), ValueError,
             "npermutations", r"expected an int >= 1, got 0"),
    BadInput("nsamples of 1", shap_values(KernelExplainer(total, data), nsamples=1), ValueError, "nsamples",
             r"expected 'auto' or an int >= 2, got 1"),
    BadInput("linear coef of the wrong width", lambda: LinearExplainer((np.ones(4), 0.0), data), ValueError, "model",
             r"expected coef of shape \(3,\) or \(K, 3\) for the background's features, got \(4,\)"),
    BadInput("TreeExplainer on a model without trees", lambda: TreeExplainer(mlp), TypeError, "model",
             r"expected a fitted decision tree or forest .* got MLP"),
    BadInput("multiclass boosting as one TreeEnsemble (TreeExplainer takes one per class)",
             lambda: TreeEnsemble.of(SimpleNamespace(estimators_=np.array([[tree, tree, tree]], dtype=object),
                                                   learning_rate=0.1, init_raw_=np.zeros(3))),
             ValueError, "model", r"expected one tree per stage \(regression or two classes\), got 3 per stage"),
    BadInput("boosting from an init estimator", lambda: TreeExplainer(GradientBoostingRegressor(
        n_estimators=2, init=DecisionTreeRegressor(max_depth=1)).fit(np.eye(4), np.arange(4.0))), ValueError, "model",
             r"expected gradient boosting that starts from a constant .* got init=DecisionTreeRegressor"),
    BadInput("interventional without a background", lambda: TreeExplainer(tree, feature_perturbation="interventional"),
             ValueError, "data", r"expected a background to intervene with, got None"),
    BadInput("an unknown feature_perturbation", lambda: TreeExplainer(tree, data, "conditional"), ValueError,
             "feature_perturbation", r"expected 'auto', 'tree_path_dependent' or 'interventional', got 'conditional'"),
    BadInput("LIME categorical features given as floats",
             lambda: LimeTabularExplainer(floats_as_categories, categorical_features=[3]), ValueError,
             "categorical_features", r"expected integer category codes in column 3, got 0.2 \(a float"),
    BadInput("LIME unknown feature selection", lambda: LimeTabularExplainer(data, feature_selection="lasso"), ValueError,
             "feature_selection", r"expected one of \('auto', 'forward_selection', 'highest_weights', 'none'\), got 'lasso'"),
    BadInput("LIME row of the wrong length",
             lambda: LimeTabularExplainer(data, random_state=0).explain_instance(X[0, :2], lambda Z: Z), ValueError,
             "data_row", r"expected shape \(3,\), got \(2,\)"),
    BadInput("LIME classifier without probabilities",
             lambda: LimeTabularExplainer(data, random_state=0).explain_instance(X[0], total, num_samples=20), ValueError,
             "predict_fn", r"expected class probabilities \(rows, classes\), got shape \(20,\)"),
    BadInput("LIME text given a list", lambda: LimeTextExplainer().explain_instance(["a", "b"], lambda t: t),
             TypeError, "text_instance", r"expected a str, got list"),
    BadInput("LIME text without a word", lambda: LimeTextExplainer().explain_instance(" ;. ", lambda t: t),
             ValueError, "text_instance", r"expected at least one word, got ' ;. '"),
    BadInput("LIME text classifier without probabilities",
             lambda: LimeTextExplainer(random_state=0).explain_instance("oil price", lambda t: np.ones(len(t)),
                                                                        num_samples=5),
             ValueError, "classifier_fn", r"expected finite class probabilities of shape \(5, classes\), got shape \(5,\)"),
    BadInput("LIME image of rank 4", lambda: LimeImageExplainer().explain_instance(np.zeros((1, 1, 8, 8)), lambda b: b),
             ValueError, "image", r"expected \(H, W\) or \(H, W, channels\), got shape \(1, 1, 8, 8\)"),
    BadInput("LIME image segmentation with gaps in its ids",
             lambda: LimeImageExplainer().explain_instance(np.zeros((4, 4)), lambda b: b,
                                                           segmentation_fn=lambda image: np.full((4, 4), 3)),
             ValueError, "segmentation_fn", r"expected an \(4, 4\) array of ids 0..S-1, got shape \(4, 4\) with ids \[3\]"),
    BadInput("saliency on a model without an input gradient (a plain function)",
             lambda: Saliency(total).attribute(X, target=0), TypeError, "forward_func",
             r"expected a scratch module whose backward returns the input gradient, got function without a backward"),
    BadInput("saliency on token ids (backward returns None)",
             lambda: Saliency(transformer).attribute(np.ones((1, 4), dtype=np.int64), target=0),
             TypeError, "forward_func", r"expected backward to return the input gradient, got None from TransformerClassifier"),
    BadInput("integrated gradients on token ids",
             lambda: IntegratedGradients(transformer).attribute(np.ones((1, 4), dtype=np.int64), target=0, n_steps=2),
             TypeError, "inputs", r"expected floating-point inputs to interpolate from the baseline, got int64"),
    BadInput("a target past the classes", lambda: Saliency(mlp).attribute(X, target=2), ValueError, "target",
             r"expected class indices in \[0, 2\) for outputs of shape \(2, 2\), got \[2, 2\]"),
    BadInput("an unknown quadrature", lambda: IntegratedGradients(mlp).attribute(X, target=0, method="simpson"),
             ValueError, "method", r"expected 'gausslegendre' or one of .* got 'simpson'"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_named(case):
    assert_bad_input(case)
