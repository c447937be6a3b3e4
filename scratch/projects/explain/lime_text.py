"""LIME for text (Ribeiro, Singh & Guestrin 2016): explain a classifier's prediction for one
document by removing words. Each perturbed copy drops a random number of the document's distinct
words (every occurrence of each), the classifier reads all copies in one batch, and a weighted
ridge on "is word w still there?" gives each word its weight. Copies are weighted by the kernel
sqrt(exp(-d^2 / 25^2)) of their cosine distance (x 100) to the full document.

Draws come from one ``numpy.random.RandomState(random_state)`` in lime's order (the number of
words each copy drops, then each copy's words), so an explanation equals lime's for the same
seed: those draws are one call per copy (a RandomState permutation cannot be batched); the
classifier and the regression see every copy at once. Twin of
reference/projects/explain/lime_text.py (lime's ``LimeTextExplainer``).
"""
import re

import numpy as np

from scratch.projects.explain.lime_base import SELECTIONS, Explanation, cosine_kernel, explain_with_data


class IndexedString:
    """The document cut into words and separators (kept, so a copy reads like the original); ``words``
    are the distinct words in order of appearance, ``word_of[t]`` the word id of token t (-1: separator)."""

    def __init__(self, text, split_expression=r"\W+"):
        splitter = re.compile(rf"({split_expression})|$")
        self.tokens = np.array([s for s in splitter.split(text) if s], dtype=object)
        self.text = text
        ids = {}
        self.word_of = np.array([-1 if splitter.match(token) else ids.setdefault(token, len(ids))
                                 for token in self.tokens], dtype=np.intp)
        self.words = list(ids)

    def keeping(self, Z):
        """The text of each copy: Z (S, words) says which words stay; separators always do."""
        kept = (self.word_of[None, :] < 0) | Z[:, np.maximum(self.word_of, 0)].astype(bool)  # (S, tokens)
        return ["".join(self.tokens[row]) for row in kept]


class LimeTextExplainer:
    def __init__(self, kernel_width=25, feature_selection="auto", split_expression=r"\W+", random_state=None):
        if feature_selection not in SELECTIONS:
            raise ValueError(f"feature_selection: expected one of {SELECTIONS}, got {feature_selection!r}")
        self.kernel_width, self.feature_selection = float(kernel_width), feature_selection
        self.split_expression = split_expression
        self.random_state = np.random.RandomState(random_state)

    def explain_instance(self, text_instance, classifier_fn, labels=(1,), num_features=10, num_samples=5000):
        if not isinstance(text_instance, str):
            raise TypeError(f"text_instance: expected a str, got {type(text_instance).__name__}")
        document = IndexedString(text_instance, self.split_expression)
        d = len(document.words)
        if d == 0:
            raise ValueError(f"text_instance: expected at least one word, got {text_instance!r}")
        drops = self.random_state.randint(1, d + 1, num_samples - 1)
        Z = np.ones((num_samples, d))
        for i, size in enumerate(drops, start=1):  # lime's draws, copy by copy (see the docstring)
            Z[i, self.random_state.permutation(d)[:size]] = 0.0
        y = np.asarray(classifier_fn(document.keeping(Z)), dtype=np.float64)  # (S, classes)
        if y.ndim != 2 or len(y) != num_samples or not np.isfinite(y).all():
            raise ValueError(f"classifier_fn: expected finite class probabilities of shape ({num_samples}, classes), "
                             f"got shape {y.shape}")
        weights = cosine_kernel(Z, self.kernel_width, scale=100.0)  # lime's text distance is the cosine x 100
        return explain_with_data(Explanation("classification", document.words), Z, y, weights, labels, num_features,
                                 self.feature_selection)
