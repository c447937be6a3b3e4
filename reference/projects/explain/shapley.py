"""Shapley values, the reference: shap's explainers under the scratch classes' names and
arguments, each interventional over the whole background (shap's ``Independent`` masker, with
``max_samples`` raised to the background's size: by default it keeps 100 rows). KernelSHAP runs
without its L1 feature selection, so that it solves the same weighted least squares.
Twin of scratch/projects/explain/shapley.py.
"""
import numpy as np
import shap


def independent(data):
    return shap.maskers.Independent(data, max_samples=len(data))


class Explainer:
    def __init__(self, model, data):
        self.model, self.data = model, np.asarray(data, dtype=np.float64)
        base = np.asarray(model(self.data), dtype=np.float64).mean(axis=0)
        self.expected_value = float(base) if base.ndim == 0 else base


class ExactExplainer(Explainer):
    def shap_values(self, X):
        return shap.ExactExplainer(self.model, independent(self.data))(X, silent=True).values


class PermutationExplainer(Explainer):
    def shap_values(self, X, npermutations=10, rng=None):
        """shap draws its orders from NumPy's global generator, seeded here from ``rng``."""
        seed = None if rng is None else int(rng.integers(2**31))
        explainer = shap.PermutationExplainer(self.model, independent(self.data), seed=seed)
        return explainer(X, max_evals=npermutations * (2 * X.shape[1] + 1), silent=True).values


class KernelExplainer(Explainer):
    def shap_values(self, X, nsamples="auto", rng=None):
        """shap draws the sampled coalitions from NumPy's global generator, whatever ``rng`` is."""
        explainer = shap.KernelExplainer(self.model, self.data)
        return np.asarray(explainer.shap_values(X, nsamples=nsamples, l1_reg=False, silent=True))


class LinearExplainer:
    def __init__(self, model, data):
        self._explainer = shap.LinearExplainer(model, np.asarray(data, dtype=np.float64))
        self.expected_value = self._explainer.expected_value

    def shap_values(self, X):
        return self._explainer.shap_values(X)
