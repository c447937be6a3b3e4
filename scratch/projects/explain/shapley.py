"""Shapley values (Shapley 1953; Lundberg & Lee 2017): each feature's fair share of
f(x) - E f(background), the average of its marginal contribution v(S + i) - v(S) over the
coalitions S of the other features, weighted |S|! (M - |S| - 1)! / M!.

All four estimators are interventional: v(S) averages the model over a background with the
features outside S taken from the background (scratch/projects/explain/checks.py). They differ in
which coalitions they evaluate:
- ``ExactExplainer``: all 2^M, then the weighted sum above (M <= 15);
- ``PermutationExplainer``: the M + 1 prefixes of random feature orders, each with its reverse
  (antithetic: a feature early in one order is late in the other, which cancels much of the noise);
- ``KernelExplainer``: KernelSHAP, a weighted least-squares fit of v(S) by an additive model whose
  weights, the Shapley kernel (M - 1) / (C(M, |S|) |S| (M - |S|)), make the fit's coefficients the
  Shapley values; coalition sizes are enumerated in complementary pairs while the budget lasts and
  the rest are sampled; the efficiency constraint is substituted into the regression;
- ``LinearExplainer``: a linear model's closed form, coef * (x - mean(background)).
Every estimator explains all instances at once. Twin of reference/projects/explain/shapley.py
(shap's explainers under these names).
"""
import warnings
from itertools import combinations

import numpy as np
from scipy.special import comb

from scratch.projects.explain.checks import MAX_EXACT_FEATURES, as_output, check_data, check_X, coalition_values, model_output


def shapley_weight(size, M):
    """|S|! (M - |S| - 1)! / M!: the weight of a coalition of ``size`` features without feature i."""
    return 1.0 / (M * comb(M - 1, size))


class Explainer:
    """A model (a callable (rows, M) -> (rows,) or (rows, K)) explained against a background ``data``."""

    def __init__(self, model, data):
        self.model, self.data = model, check_data(data)
        self._single = np.ndim(model(self.data[:1])) == 1  # a 1-d output is explained as (n, M), not (n, M, 1)
        self._base = model_output(model, self.data).mean(axis=0)  # (K,)
        self.expected_value = float(self._base[0]) if self._single else self._base

    def _instances(self, X):
        return check_X(X, self.data.shape[1])


class ExactExplainer(Explainer):
    def shap_values(self, X):
        X = self._instances(X)
        M = X.shape[1]
        if M > MAX_EXACT_FEATURES:
            raise ValueError(f"X: expected at most {MAX_EXACT_FEATURES} features for exact enumeration (2^M "
                             f"coalitions), got {M}; use KernelExplainer or PermutationExplainer instead")
        codes = np.arange(2**M)
        masks = ((codes[:, None] >> np.arange(M)) & 1).astype(bool)  # (2^M, M): bit i of the code is feature i
        v = coalition_values(self.model, X, self.data, masks)  # (n, 2^M, K)
        weight = shapley_weight(np.minimum(masks.sum(axis=1), M - 1), M)  # (2^M,); the full coalition is never read
        phi = np.empty((X.shape[0], M, v.shape[2]))
        for i in range(M):  # per feature, one sum over the 2^(M-1) coalitions without it
            without = codes[(codes >> i) & 1 == 0]
            phi[:, i] = np.einsum("c,nck->nk", weight[without], v[:, without | (1 << i)] - v[:, without])
        return as_output(phi, self._single or phi.shape[2] == 1)  # shap's Explainer API drops a lone output column


class PermutationExplainer(Explainer):
    def shap_values(self, X, npermutations=10, rng=None):
        """The mean marginal contribution over ``npermutations`` random orders and their reverses."""
        X = self._instances(X)
        M = X.shape[1]
        if not isinstance(npermutations, (int, np.integer)) or npermutations < 1:
            raise ValueError(f"npermutations: expected an int >= 1, got {npermutations!r}")
        rng = np.random.default_rng() if rng is None else rng
        orders = np.argsort(rng.random((npermutations, M)), axis=1)
        orders = np.concatenate([orders, orders[:, ::-1]])  # (P, M), P = 2 npermutations: antithetic pairs
        rank = np.argsort(orders, axis=1)  # (P, M): where each feature comes in each order
        prefixes = rank[:, None, :] < np.arange(M + 1)[None, :, None]  # (P, M + 1, M): the first j features
        masks, where = np.unique(prefixes.reshape(-1, M), axis=0, return_inverse=True)  # each coalition once
        v = coalition_values(self.model, X, self.data, masks)[:, where.ravel()]  # (n, P (M + 1), K)
        v = v.reshape(X.shape[0], len(orders), M + 1, -1)
        gain = v[:, :, 1:] - v[:, :, :-1]  # (n, P, M, K): what the j-th feature of each order adds
        phi = np.take_along_axis(gain, rank[None, :, :, None], axis=2)  # (n, P, M, K) by feature
        return as_output(phi.mean(axis=1), self._single or phi.shape[3] == 1)


def kernel_coalitions(M, nsamples, rng):
    """(masks (C, M) bool, weights (C,)): the coalitions KernelSHAP evaluates and their kernel weights.

    Sizes s and M - s share the kernel's mass; a pair of sizes is enumerated whole while the budget
    left, times its share of the mass left, covers its C(M, s) coalitions and their complements;
    the coalitions of the remaining sizes are drawn (a size by its mass, then a uniform subset, with
    its complement), duplicates merged into one coalition of greater weight, and all drawn weights
    scaled to the mass those sizes hold. The empty and full coalitions are not regressed on: the
    efficiency constraint carries them.
    """
    nsamples = min(2 * M + 2**11 if nsamples == "auto" else nsamples, 2**M - 2)
    sizes = np.arange(1, M // 2 + 1)  # 1 .. ceil((M - 1) / 2)
    paired = sizes <= (M - 1) // 2  # the middle size of an even M is its own complement
    mass = (M - 1) / (sizes * (M - sizes)) * np.where(paired, 2.0, 1.0)
    mass /= mass.sum()
    masks, weights, left, remaining, full = [], [], nsamples, mass.copy(), 0
    for s, pair in zip(sizes, paired):  # the sizes, at most M / 2 of them
        count = comb(M, s) * (2 if pair else 1)
        if left * remaining[s - 1] / count < 1.0 - 1e-8:
            break
        full, left = full + 1, left - count
        if remaining[s - 1] < 1.0:
            remaining /= 1.0 - remaining[s - 1]
        chosen = np.array(list(combinations(range(M), s)))  # (C(M, s), s)
        mask = np.zeros((len(chosen), M), dtype=bool)
        mask[np.arange(len(chosen))[:, None], chosen] = True
        masks += [mask, ~mask] if pair else [mask]
        weights.append(np.full(len(chosen) * (2 if pair else 1), mass[s - 1] / comb(M, s) / (2 if pair else 1)))
    if full < len(sizes) and left > 0:
        draw_mass = mass[full:] / np.where(paired[full:], 2.0, 1.0)  # a paired draw yields two coalitions
        drawn_sizes = rng.choice(sizes[full:], size=-(-int(left) // 2), p=draw_mass / draw_mass.sum())
        mask = np.argsort(rng.random((len(drawn_sizes), M)), axis=1) < drawn_sizes[:, None]  # uniform subsets
        mask = np.concatenate([mask, ~mask[drawn_sizes <= (M - 1) // 2]])
        mask, counts = np.unique(mask, axis=0, return_counts=True)
        masks.append(mask)
        weights.append(counts * mass[full:].sum() / counts.sum())
    return np.concatenate(masks), np.concatenate(weights)


class KernelExplainer(Explainer):
    def shap_values(self, X, nsamples="auto", rng=None):
        """KernelSHAP with ``nsamples`` coalitions ("auto": 2M + 2048); all of them when 2^M - 2 fit."""
        X = self._instances(X)
        M = X.shape[1]
        if nsamples != "auto" and (not isinstance(nsamples, (int, np.integer)) or nsamples < 2):
            raise ValueError(f"nsamples: expected 'auto' or an int >= 2, got {nsamples!r}")
        gap = model_output(self.model, X) - self._base  # (n, K): f(x) - E f, what the values must add up to
        if M == 1:
            return as_output(gap[:, None, :], self._single)
        rng = np.random.default_rng() if rng is None else rng
        masks, weights = kernel_coalitions(M, nsamples, rng)  # (C, M), (C,)
        y = coalition_values(self.model, X, self.data, masks) - self._base  # (n, C, K)
        # efficiency: phi_M = gap - sum(phi_1..M-1), substituted so the last feature leaves the regression
        Z = masks[:, :-1].astype(np.float64) - masks[:, -1:]  # (C, M - 1)
        target = y - masks[None, :, -1, None] * gap[:, None, :]  # (n, C, K)
        ZW = Z * weights[:, None]
        rhs = np.einsum("cm,nck->mnk", ZW, target)  # (M - 1, n, K)
        try:
            w = np.linalg.solve(Z.T @ ZW, rhs.reshape(M - 1, -1))
        except np.linalg.LinAlgError:  # too few distinct coalitions to pin every feature down
            warnings.warn(f"nsamples: {nsamples} coalitions leave the regression singular; the least-norm "
                          f"solution is used (raise nsamples)", UserWarning, stacklevel=2)
            root = np.sqrt(weights)[:, None]
            w = np.linalg.lstsq(Z * root, np.moveaxis(target, 1, 0).reshape(len(Z), -1) * root, rcond=None)[0]
        w = w.reshape(rhs.shape).transpose(1, 0, 2)  # (n, M - 1, K)
        phi = np.concatenate([w, (gap - w.sum(axis=1))[:, None, :]], axis=1)  # (n, M, K)
        return as_output(phi, self._single)


class LinearExplainer:
    """A linear model ``(coef, intercept)``, coef (M,) or (K, M), explained against ``data``."""

    def __init__(self, model, data):
        coef, intercept = model
        self.data = check_data(data)
        self.coef = np.asarray(coef, dtype=np.float64)
        if self.coef.shape[-1] != self.data.shape[1] or self.coef.ndim not in (1, 2):
            raise ValueError(f"model: expected coef of shape ({self.data.shape[1]},) or (K, {self.data.shape[1]}) "
                             f"for the background's features, got {self.coef.shape}")
        self.mean = self.data.mean(axis=0)  # (M,)
        self.expected_value = self.coef @ self.mean + np.asarray(intercept, dtype=np.float64)

    def shap_values(self, X):
        X = check_X(X, self.data.shape[1])
        centred = X - self.mean  # (n, M)
        return centred * self.coef if self.coef.ndim == 1 else centred[:, :, None] * self.coef.T[None]  # (n, M[, K])
