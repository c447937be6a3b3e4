"""LIME, tabular and text. Tabular: scratch against lime's ``LimeTabularExplainer`` with the same ``random_state``:
the same features in the same order, equal weights, intercept, score (weighted R^2) and local
prediction, and the same bin names. Hypothesis draws the data (continuous columns, some with
ties, and integer-coded categorical ones), classification or regression, the discretiser, the
feature selection (auto, forward, highest weights, none), the number of features and samples.
Text: scratch against lime's ``LimeTextExplainer`` with the same ``random_state``, on drawn
documents (repeated words, punctuation): the same words in the same order, equal weights,
intercept, score and local prediction. Images: scratch against lime's ``LimeImageExplainer`` with
scratch's grid superpixels handed to both, the same ``random_state``."""
import re

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from reference.projects.explain import lime_image as ref_image
from reference.projects.explain import lime_tabular as ref
from reference.projects.explain import lime_text as ref_text
from scratch.projects.explain import lime_image as scr_image
from scratch.projects.explain import lime_tabular as scr
from scratch.projects.explain import lime_text as scr_text
from twins.parity import assert_close, seeds, tolerance

EXACT = tolerance(np.float64, "grad")  # ridge solves on both sides


def assert_same_local_exp(ours, theirs, name):
    """The same features with equal weights, listed by |weight| alike. Features whose weights tie
    (columns that always move together get equal ridge weights) may come in either order: their
    order is float rounding, so it is compared through the |weight| at each position."""
    ours, theirs = [(str(k), w) for k, w in ours], [(str(k), w) for k, w in theirs]
    assert sorted(k for k, _ in ours) == sorted(k for k, _ in theirs), f"{name}: features chosen differently"
    lookup = dict(theirs)
    assert_close(np.array([w for _, w in ours]), np.array([lookup[k] for k, _ in ours]), f"{name} by feature", *EXACT)
    assert_close(np.abs([w for _, w in ours]), np.abs([w for _, w in theirs]), f"{name} |weight| by position", *EXACT)


@st.composite
def lime_problems(draw):
    rng = np.random.default_rng(draw(seeds))
    n, F = draw(st.integers(20, 80)), draw(st.integers(2, 8))
    X = rng.normal(size=(n, F)) * rng.uniform(0.5, 5, F)
    categorical = sorted(draw(st.sets(st.integers(0, F - 1), max_size=2)))
    X[:, categorical] = rng.integers(0, 3, (n, len(categorical)))
    if draw(st.booleans()):
        X = np.round(X, 0)  # ties at the quartiles
    W = rng.normal(size=F)
    mode = draw(st.sampled_from(["classification", "regression"]))

    def predict(Z):
        p = 1 / (1 + np.exp(-np.tanh(Z) @ W))
        return np.column_stack([1 - p, p]) if mode == "classification" else np.tanh(Z) @ W + 0.3 * Z[:, 0] * Z[:, -1]
    settings = {"mode": mode, "categorical_features": categorical,
                "discretizer": draw(st.sampled_from(["quartile", "decile"])),
                "feature_selection": draw(st.sampled_from(["auto", "forward_selection", "highest_weights", "none"])),
                "random_state": draw(st.integers(0, 2**31 - 1))}
    call = {"num_features": draw(st.integers(1, F)), "num_samples": draw(st.integers(20, 300))}
    return X, X[draw(st.integers(0, n - 1))], predict, settings, call


@given(lime_problems())
def test_lime_tabular_equals_lime(problem):
    X, row, predict, settings, call = problem
    ours = scr.LimeTabularExplainer(X, **settings).explain_instance(row, predict, **call)
    theirs = ref.LimeTabularExplainer(X, **settings).explain_instance(row, predict, **call)
    for label in theirs.local_exp:
        assert_same_local_exp(ours.local_exp[label], theirs.local_exp[label], f"local_exp[{label}]")
    for label in theirs.intercept:
        assert_close(np.asarray(ours.intercept[label]), np.asarray(theirs.intercept[label]), f"intercept[{label}]", *EXACT)
    assert_close(np.asarray(ours.score), np.asarray(theirs.score), "score", *EXACT)
    assert_close(np.asarray(ours.local_pred), np.asarray(theirs.local_pred), "local_pred", *EXACT)
    assert sorted(name for name, _ in ours.as_list(1)) == sorted(name for name, _ in theirs.as_list(1)), "bin names"


@st.composite
def text_problems(draw):
    """A document of words from a small vocabulary with punctuation and repeats, a word-weight
    classifier, the selection, the number of features and samples, the seed."""
    rng = np.random.default_rng(draw(seeds))
    vocabulary = ["oil", "price", "rose", "wheat", "exports", "fell", "bank", "cut", "rates", "the", "Oil", "grain"]
    n_words = draw(st.integers(1, 14))
    words = rng.choice(vocabulary, n_words)
    separators = rng.choice([" ", ", ", "; ", ". ", " - "], n_words)
    document = "".join(w + s for w, s in zip(words, separators)).strip() + draw(st.sampled_from(["", "!", "."]))
    weight = dict(zip(vocabulary, rng.normal(size=len(vocabulary))))

    def classify(texts):
        scores = np.array([sum(weight[w] for w in re.findall(r"\w+", text)) for text in texts])
        p = 1 / (1 + np.exp(-scores))
        return np.column_stack([1 - p, p])
    settings = {"feature_selection": draw(st.sampled_from(["auto", "forward_selection", "highest_weights", "none"])),
                "random_state": draw(st.integers(0, 2**31 - 1))}
    call = {"num_features": draw(st.integers(1, 8)), "num_samples": draw(st.integers(10, 200))}
    return document, classify, settings, call


@given(text_problems())
def test_lime_text_equals_lime(problem):
    document, classify, settings, call = problem
    ours = scr_text.LimeTextExplainer(**settings).explain_instance(document, classify, **call)
    theirs = ref_text.LimeTextExplainer(**settings).explain_instance(document, classify, **call)
    assert_same_local_exp(ours.as_list(1), theirs.as_list(1), "word weights")
    assert_close(np.asarray(ours.intercept[1]), np.asarray(theirs.intercept[1]), "intercept", *EXACT)
    assert_close(np.asarray(ours.score), np.asarray(theirs.score), "score", *EXACT)
    assert_close(np.asarray(ours.local_pred), np.asarray(theirs.local_pred), "local_pred", *EXACT)


@given(seeds, st.integers(4, 10), st.sampled_from([2, 3, 4]), st.sampled_from([None, 0.0, -1.0]),
       st.sampled_from([None, 1, 3]), st.sampled_from(["auto", "forward_selection", "highest_weights", "none"]),
       st.integers(5, 60))
def test_lime_image_equals_lime_with_the_same_superpixels(seed, size, block, hide_color, top_labels, selection,
                                                           num_samples):
    """Grey or colour images, scratch's grid superpixels handed to both, every hide colour and label choice."""
    rng = np.random.default_rng(seed)
    image = rng.normal(size=(size, size) if seed % 2 else (size, size, 3))
    W = rng.normal(size=(size * size * 3, 4))

    def classify(batch):
        z = batch.reshape(len(batch), -1) @ W
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    call = {"hide_color": hide_color, "top_labels": top_labels, "num_samples": num_samples, "num_features": 5,
            "segmentation_fn": lambda image: scr_image.grid_segments(image, block)}
    ours = scr_image.LimeImageExplainer(feature_selection=selection, random_state=seed % 1000).explain_instance(
        image, classify, **call)
    theirs = ref_image.LimeImageExplainer(feature_selection=selection, random_state=seed % 1000).explain_instance(
        image, classify, **call)
    assert sorted(ours.local_exp) == sorted(theirs.local_exp)
    for label in theirs.local_exp:
        assert_same_local_exp(ours.local_exp[label], theirs.local_exp[label], f"superpixel weights[{label}]")
        assert_close(np.asarray(ours.intercept[label]), np.asarray(theirs.intercept[label]), "intercept", *EXACT)
    assert_close(np.asarray(ours.score), np.asarray(theirs.score), "score", *EXACT)
    assert_close(np.asarray(ours.local_pred), np.asarray(theirs.local_pred), "local_pred", *EXACT)
