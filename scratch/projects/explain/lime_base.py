"""What LIME's explainers share (lime's ``LimeBase``): the weighted ridge, the feature selection
and the local model that makes an explanation, for tables (lime_tabular.py) and text
(lime_text.py). Given the interpretable neighbourhood Z (rows: perturbed copies, row 0 the
instance), the model's outputs y and the kernel weights, each label gets its own local model.
"""
from dataclasses import dataclass, field

import numpy as np

SELECTIONS = ("auto", "forward_selection", "highest_weights", "none")


def weighted_ridge(Z, y, weights, alpha):
    """(coef, intercept, weighted R^2) of a ridge fitted with sample weights, the intercept free."""
    total = weights.sum()
    z_mean, y_mean = weights @ Z / total, weights @ y / total
    root = np.sqrt(weights)[:, None]
    Zc, yc = (Z - z_mean) * root, (y - y_mean) * root[:, 0]  # centred and weighted
    gram = Zc.T @ Zc + alpha * np.eye(Z.shape[1])
    coef = np.linalg.solve(gram, Zc.T @ yc) if alpha > 0 else np.linalg.lstsq(Zc, yc, rcond=None)[0]
    intercept = y_mean - z_mean @ coef
    residual = y - (Z @ coef + intercept)
    score = 1.0 - weights @ residual**2 / (weights @ (y - y_mean) ** 2)
    return coef, intercept, score


@dataclass
class Explanation:
    """lime's fields: per label the local model's (feature, weight) pairs by |weight| and its intercept;
    the weighted R^2 (``score``) and the local model's prediction at the row (``local_pred``)."""
    mode: str
    domain_names: list
    local_exp: dict = field(default_factory=dict)
    intercept: dict = field(default_factory=dict)
    score: float = None
    local_pred: np.ndarray = None

    def as_list(self, label=1):
        return [(self.domain_names[j], w) for j, w in self.local_exp[label]]


def cosine_kernel(Z, kernel_width, scale=1.0):
    """sqrt(exp(-d^2 / width^2)) of each copy's cosine distance (times ``scale``) to the full
    instance (all ones); a copy with nothing left is at distance 1, as scikit-learn puts it."""
    kept = Z.sum(axis=1)
    cosine = 1.0 - np.divide(kept, np.sqrt(kept * Z.shape[1]), out=np.zeros_like(kept), where=kept > 0)
    return np.sqrt(np.exp(-(np.clip(cosine, 0.0, 2.0) * scale) ** 2 / kernel_width**2))


def select_features(Z, y, weights, num_features, method):
    """The columns of Z the local model may use: greedy forward selection by weighted R^2 (``auto``
    for up to 6 features), the largest ridge coefficients (``auto`` beyond), or all."""
    if method == "auto":
        method = "forward_selection" if num_features <= 6 else "highest_weights"
    if method == "none":
        return np.arange(Z.shape[1])
    if method == "highest_weights":
        coef = weighted_ridge(Z, y, weights, 0.01)[0] * Z[0]
        return np.argsort(-np.abs(coef), kind="stable")[:num_features]
    chosen = []
    for _ in range(min(num_features, Z.shape[1])):  # greedy: the feature that adds the most weighted R^2
        candidates = [j for j in range(Z.shape[1]) if j not in chosen]
        scores = [weighted_ridge(Z[:, chosen + [j]], y, weights, 0.0)[2] for j in candidates]
        chosen.append(candidates[int(np.argmax(scores))])
    return np.array(chosen)


def explain_with_data(explanation, Z, y, weights, labels, num_features, method):
    """Fill ``explanation`` with each label's ridge (alpha 1) on the selected features."""
    for label in labels:
        used = select_features(Z, y[:, label], weights, num_features, method)
        coef, intercept, score = weighted_ridge(Z[:, used], y[:, label], weights, 1.0)
        order = np.argsort(-np.abs(coef), kind="stable")
        explanation.local_exp[label] = [(int(used[k]), float(coef[k])) for k in order]
        explanation.intercept[label] = float(intercept)
        explanation.score, explanation.local_pred = float(score), np.array([Z[0, used] @ coef + intercept])
    return explanation
