"""TreeSHAP (Lundberg et al. 2020, "From local explanations to global understanding with
explainable AI for trees"): exact Shapley values of tree ensembles in polynomial time, in both
of its meanings of "a feature left out".

- ``tree_path_dependent``: a left-out feature follows both branches, weighted by the training
  rows (``weighted_n_node_samples``) that went each way. One walk down each tree carries, for
  every path from the root, the weights of the coalition sizes that reach it (EXTEND adds a
  split, UNWIND takes one back out); a leaf then hands each feature on its path its share.
  O(leaves x depth^2) per tree, for all instances at once: the walk is over nodes, and every
  path quantity is an array over the instances.
- ``interventional``: the Shapley values of v(S) = E_b f(x_S, b_~S) over a background, as the
  exact explainer would give, without enumerating coalitions. For one instance x and one
  background row b, a leaf is reached exactly when the features A where the path follows x are
  in S and the features B where it follows b are not; that game gives each feature of A
  (|A|-1)! |B|! / (|A|+|B|)! of the leaf's value and takes |A|! (|B|-1)! / (|A|+|B|)! from each
  of B. One walk per tree carries every (instance, background row) pair that reaches each node.

An ensemble is a list of trees with weights and an offset (``TreeEnsemble``): a forest is its
trees with weight 1/n_trees; gradient boosting is one ensemble per raw output (``boosted``): the
stage trees of that output, weight ``learning_rate``, offset ``init_raw_``; multiclass boosting
gives one per class and (n, M, K) values, as shap gives a multi-output model's. Twin of reference/projects/explain/treeshap.py (shap's ``TreeExplainer``, C++).
"""
from math import factorial

import numpy as np

from scratch.projects.explain.checks import check_data, check_X

LEAF = -1


class TreeEnsemble:
    """``trees``: fitted ``tree_`` objects (scikit-learn's node arrays); the model's output is
    ``offset + sum_t weights[t] * tree_t.value[leaf(x)]``, one column per output."""

    def __init__(self, trees, weights, offset=0.0):
        self.trees, self.weights = list(trees), np.asarray(weights, dtype=np.float64)
        self.n_outputs = self.trees[0].value.shape[2]
        self.offset = np.broadcast_to(np.asarray(offset, dtype=np.float64), (self.n_outputs,))

    @property
    def n_features(self):
        return self.trees[0].n_features

    @classmethod
    def of(cls, model):
        """A scratch (or scikit-learn) tree, forest or extra trees as an ensemble; an ensemble as itself."""
        if isinstance(model, cls):
            return model
        if hasattr(model, "tree_"):
            return cls([model.tree_], [1.0])
        if hasattr(model, "init_raw_"):
            per_class = boosted(model)
            if len(per_class) != 1:
                raise ValueError(f"model: expected one tree per stage (regression or two classes), got "
                                 f"{len(per_class)} per stage (one ensemble per class: boosted(model))")
            return per_class[0]
        if hasattr(model, "estimators_") and all(hasattr(tree, "tree_") for tree in model.estimators_):
            if getattr(model, "estimators_features_", None) is not None:
                raise TypeError("model: expected trees on every feature, got a bagging ensemble that draws features")
            return cls([tree.tree_ for tree in model.estimators_], [1.0 / len(model.estimators_)] * len(model.estimators_))
        raise TypeError(f"model: expected a fitted decision tree or forest (with tree_ or estimators_), got "
                        f"{type(model).__name__}")

    def predict(self, X):
        """(n, K): the model's output, computed from the node arrays as the trees compare (float32 x)."""
        return self.offset + sum(w * tree.value[leaves(tree, X), 0, :] for tree, w in zip(self.trees, self.weights))


def boosted(model):
    """Gradient boosting as one ensemble per raw output (one per class for multiclass, else one):
    output k = init_raw_[k] + learning_rate * sum of stage trees [:, k]."""
    if model.init_raw_ is None:
        raise ValueError(f"model: expected gradient boosting that starts from a constant (init None or 'zero'), got "
                         f"init={type(model.init).__name__}: its per-row start is not a tree to explain")
    stages = np.asarray(model.estimators_)  # (n_stages, trees per stage)
    init = np.broadcast_to(np.asarray(model.init_raw_, dtype=np.float64), (stages.shape[1],))
    return [TreeEnsemble([tree.tree_ for tree in stages[:, k]], [model.learning_rate] * len(stages), init[k])
            for k in range(stages.shape[1])]


def leaves(tree, X):
    """The leaf each row of X (float64 holding float32 values) reaches: one step per level for all rows."""
    node = np.zeros(len(X), dtype=np.intp)
    inner = tree.children_left[node] != LEAF
    while inner.any():
        n = node[inner]
        left = X[inner, tree.feature[n]] <= tree.threshold[n]
        node[inner] = np.where(left, tree.children_left[n], tree.children_right[n])
        inner = tree.children_left[node] != LEAF
    return node


class TreeExplainer:
    def __init__(self, model, data=None, feature_perturbation="auto"):
        if feature_perturbation not in ("auto", "tree_path_dependent", "interventional"):
            raise ValueError(f"feature_perturbation: expected 'auto', 'tree_path_dependent' or 'interventional', "
                             f"got {feature_perturbation!r}")
        if feature_perturbation == "interventional" and data is None:
            raise ValueError("data: expected a background to intervene with, got None "
                             "(feature_perturbation='interventional')")
        # multiclass boosting: one ensemble per class, each one column of the values
        self.ensembles = boosted(model) if hasattr(model, "init_raw_") else [TreeEnsemble.of(model)]
        self.n_features = self.ensembles[0].n_features
        self.feature_perturbation = feature_perturbation
        if feature_perturbation == "auto":
            self.feature_perturbation = "tree_path_dependent" if data is None else "interventional"
        # a regressor's values are (n, M), a classifier's (n, M, K), as shap gives them; boosting's raw
        # output (log-odds for two classes) is one column unless there are more classes
        boosting = hasattr(model, "init_raw_")
        self._single = (len(self.ensembles) == 1 if boosting else not hasattr(model, "classes_")) and \
            self.ensembles[0].n_outputs == 1
        if self.feature_perturbation == "interventional":
            self.data = as_float32(check_X(check_data(data), self.n_features, "data"))
            base = np.concatenate([ensemble.predict(self.data).mean(axis=0) for ensemble in self.ensembles])
        else:
            self.data = None
            base = np.concatenate([ensemble.offset + sum(w * tree_mean(tree) for tree, w in
                                                         zip(ensemble.trees, ensemble.weights))
                                   for ensemble in self.ensembles])
        self.expected_value = float(base[0]) if self._single else base

    def shap_values(self, X):
        X = as_float32(check_X(X, self.n_features))
        explain = path_dependent if self.data is None else (lambda tree, X: interventional(tree, X, self.data))
        phi = np.concatenate([sum(w * explain(tree, X) for tree, w in zip(ensemble.trees, ensemble.weights))
                              for ensemble in self.ensembles], axis=2)  # (n, M, K)
        return phi[..., 0] if self._single else phi


def as_float32(X):
    """X as the trees read it: float32 values, compared in float64."""
    return X.astype(np.float32).astype(np.float64)


def tree_mean(tree):
    """E f under the training rows: the leaves' values weighted by the rows that reached them."""
    leaf = tree.children_left == LEAF
    cover = tree.weighted_n_node_samples
    return (tree.value[leaf, 0, :] * cover[leaf, None]).sum(axis=0) / cover[0]


# --- path-dependent ----------------------------------------------------------------------------

def path_dependent(tree, X):
    """(n, M, K) for one tree. The path holds, per element, its feature, the fraction of training
    rows that pass its splits (``zero``: the feature left out) and, per instance, whether the
    instance passes them (``one``: the feature kept) and the coalition-size weights ``w``."""
    n = len(X)
    phi = np.zeros((n, X.shape[1], tree.value.shape[2]))
    path = Path(np.empty(0, dtype=np.intp), np.empty(0), np.empty((n, 0)), np.empty((n, 0)))
    walk(tree, X, phi, 0, path, 1.0, np.ones(n), -1)
    return phi


class Path:
    def __init__(self, feature, zero, one, w):
        self.feature, self.zero, self.one, self.w = feature, zero, one, w  # (D,), (D,), (n, D), (n, D)

    def extend(self, zero, one, feature):
        """Add a split: the size weights of the coalitions that keep or drop it (EXTEND)."""
        d = len(self.feature)  # elements before this one
        w = np.concatenate([self.w, np.zeros((len(one), 1))], axis=1)
        if d == 0:
            w[:, 0] = 1.0
        for i in range(d - 1, -1, -1):  # a coalition of size i + 1 keeping the split, of size i dropping it
            w[:, i + 1] += one * w[:, i] * (i + 1) / (d + 1)
            w[:, i] = zero * w[:, i] * (d - i) / (d + 1)
        return Path(np.append(self.feature, feature), np.append(self.zero, zero),
                    np.concatenate([self.one, one[:, None]], axis=1), w)

    def unwind(self, k):
        """The path without element k, as if it had never been extended with it (UNWIND)."""
        d = len(self.feature) - 1
        one, zero = self.one[:, k], self.zero[k]
        w = self.w.copy()
        carry = w[:, d].copy()
        kept = one != 0
        safe_one = np.where(kept, one, 1.0)
        for i in range(d - 1, -1, -1):
            previous = w[:, i].copy()
            w[:, i] = np.where(kept, carry * (d + 1) / ((i + 1) * safe_one), w[:, i] * (d + 1) / (zero * (d - i)))
            carry = np.where(kept, previous - w[:, i] * zero * (d - i) / (d + 1), carry)
        keep = np.arange(d + 1) != k
        return Path(self.feature[keep], self.zero[keep], self.one[:, keep], w[:, :d])

    def unwound_sums(self):
        """(n, D): for every element at once, the total weight of the path with it unwound."""
        d = len(self.feature) - 1
        one, zero = self.one, self.zero[None, :]  # (n, D), (1, D)
        kept = one != 0
        safe_one, safe_zero = np.where(kept, one, 1.0), np.where(zero != 0, zero, 1.0)
        carry = np.repeat(self.w[:, d:d + 1], len(self.feature), axis=1)  # (n, D)
        total = np.zeros_like(one)
        for i in range(d - 1, -1, -1):
            step = carry * (d + 1) / ((i + 1) * safe_one)
            dropped = np.where(zero != 0, self.w[:, i:i + 1] / safe_zero * (d + 1) / (d - i), 0.0)
            total += np.where(kept, step, dropped)
            carry = np.where(kept, self.w[:, i:i + 1] - step * zero * (d - i) / (d + 1), carry)
        return total


def walk(tree, X, phi, node, path, zero, one, feature):
    """Recursive TreeSHAP from ``node``, reached through a split on ``feature`` that keeps ``zero`` of
    the training rows and ``one`` (n,) of each instance."""
    path = path.extend(zero, one, feature)
    left, right = tree.children_left[node], tree.children_right[node]
    if left == LEAF:
        share = path.unwound_sums()[:, 1:] * (path.one[:, 1:] - path.zero[None, 1:])  # (n, D - 1), past the root
        np.add.at(phi, (slice(None), path.feature[1:]), share[:, :, None] * tree.value[node, 0, None, None, :])
        return
    split = tree.feature[node]
    incoming_zero, incoming_one = 1.0, np.ones(len(X))
    seen = np.flatnonzero(path.feature == split)
    if len(seen):  # a feature split on again: undo its earlier split and redo it with both fractions
        incoming_zero, incoming_one = path.zero[seen[0]], path.one[:, seen[0]]
        path = path.unwind(seen[0])
    goes_left = X[:, split] <= tree.threshold[node]
    cover = tree.weighted_n_node_samples
    walk(tree, X, phi, left, path, incoming_zero * cover[left] / cover[node], incoming_one * goes_left, split)
    walk(tree, X, phi, right, path, incoming_zero * cover[right] / cover[node], incoming_one * ~goes_left, split)


# --- interventional ----------------------------------------------------------------------------

def interventional(tree, X, data):
    """(n, M, K) for one tree: the mean over background rows of each (x, b) pair's Shapley values."""
    n, B, M = len(X), len(data), X.shape[1]
    pair_x, pair_b = np.repeat(np.arange(n), B), np.tile(np.arange(B), n)  # (n B,)
    side = np.zeros((n * B, M), dtype=np.int8)  # 0: not split on yet, or x and b agreed; 1: x's way (in S); 2: b's
    phi = np.zeros((n, M, tree.value.shape[2]))
    descend(tree, X, data, phi, 0, pair_x, pair_b, side)
    return phi / B


def descend(tree, X, data, phi, node, pair_x, pair_b, side):
    left, right = tree.children_left[node], tree.children_right[node]
    if left == LEAF:
        in_s, out_s = side == 1, side == 2  # (P, M)
        a, b = in_s.sum(axis=1), out_s.sum(axis=1)  # (P,)
        fact = np.array([factorial(k) for k in range(X.shape[1] + 1)], dtype=np.float64)
        gain = fact[np.maximum(a - 1, 0)] * fact[b] / fact[a + b]  # each feature of A: (|A|-1)! |B|! / (|A|+|B|)!
        loss = fact[a] * fact[np.maximum(b - 1, 0)] / fact[a + b]
        share = in_s * gain[:, None] - out_s * loss[:, None]  # (P, M)
        np.add.at(phi, pair_x, share[:, :, None] * tree.value[node, 0, None, None, :])
        return
    f, threshold = tree.feature[node], tree.threshold[node]
    x_left, b_left = X[pair_x, f] <= threshold, data[pair_b, f] <= threshold
    decided = side[:, f]
    goes_left = np.where(decided == 2, b_left, x_left)  # f decided for b: b's way; for x, or x and b agree: x's
    split = (decided == 0) & (x_left != b_left)  # both ways: x's branch with f in S, b's with f out
    for child, on_left in ((left, True), (right, False)):
        stay = ~split & (goes_left == on_left)
        as_x = split & (x_left == on_left)
        as_b = split & (b_left == on_left)
        rows = np.concatenate([np.flatnonzero(stay), np.flatnonzero(as_x), np.flatnonzero(as_b)])
        if len(rows) == 0:
            continue
        child_side = side[rows]
        child_side[stay.sum():stay.sum() + as_x.sum(), f] = 1
        child_side[stay.sum() + as_x.sum():, f] = 2
        descend(tree, X, data, phi, child, pair_x[rows], pair_b[rows], child_side)
