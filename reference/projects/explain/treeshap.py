"""TreeSHAP, the reference: shap's ``TreeExplainer`` (its C++ implementation of Lundberg et al.
2020) under the scratch class's name and arguments, on scikit-learn's trees and forests.
Twin of scratch/projects/explain/treeshap.py.
"""
import numpy as np
import shap


class TreeExplainer:
    def __init__(self, model, data=None, feature_perturbation="auto"):
        self._explainer = shap.TreeExplainer(model, data, feature_perturbation=feature_perturbation)
        self.feature_perturbation = self._explainer.feature_perturbation
        self.expected_value = self._explainer.expected_value

    def shap_values(self, X):
        return np.asarray(self._explainer.shap_values(X, check_additivity=False))
