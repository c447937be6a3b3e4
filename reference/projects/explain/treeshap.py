"""TreeSHAP, the reference: shap's ``TreeExplainer`` (its C++ implementation of Lundberg et al.
2020) under the scratch class's name and arguments, on scikit-learn's trees, forests and gradient
boosting. Twin of scratch/projects/explain/treeshap.py.

shap 0.51 refuses a multiclass ``GradientBoostingClassifier`` ("only supported for binary
classification right now"); its raw output for class k is the initial raw prediction plus the
learning rate times the stage trees ``estimators_[:, k]``, so each class is handed to shap as a
model of its own (shap's dictionary format: the trees' node arrays, values times the learning
rate, that offset) and the values are stacked on the last axis, (n, M, K), as shap gives a
multi-output model's.
"""
import numpy as np
import shap


class TreeExplainer:
    def __init__(self, model, data=None, feature_perturbation="auto"):
        models = per_class(model) if hasattr(model, "init_") and model.estimators_.shape[1] > 1 else [model]
        self._explainers = [shap.TreeExplainer(m, data, feature_perturbation=feature_perturbation) for m in models]
        self.feature_perturbation = self._explainers[0].feature_perturbation
        values = [e.expected_value for e in self._explainers]
        self.expected_value = values[0] if len(values) == 1 else np.array([np.ravel(v)[0] for v in values])

    def shap_values(self, X):
        phi = [np.asarray(e.shap_values(X, check_additivity=False)) for e in self._explainers]
        return phi[0] if len(phi) == 1 else np.stack(phi, axis=-1)


def per_class(model):
    """A multiclass scikit-learn gradient boosting as one shap model per class (raw output)."""
    init = model._raw_predict_init(np.zeros((1, model.n_features_in_), dtype=np.float32))[0]  # (K,)
    return [{"trees": [tree_dict(tree.tree_, model.learning_rate) for tree in model.estimators_[:, k]],
             "base_offset": init[k], "tree_output": "raw_value", "input_dtype": np.float32}
            for k in range(model.estimators_.shape[1])]


def tree_dict(tree, scaling):
    """One scikit-learn tree in shap's dictionary format, as shap reads a scikit-learn tree itself."""
    return {"children_left": tree.children_left, "children_right": tree.children_right,
            "children_default": tree.children_left, "features": tree.feature,
            "thresholds": tree.threshold.astype(np.float64), "values": tree.value[:, 0, :] * scaling,
            "node_sample_weight": tree.weighted_n_node_samples.astype(np.float64)}
