"""Project 12's sample-quality measures on feature vectors (never twinned): both twins' samples are
scored by the same code. The features come from a classifier's penultimate layer; with no
pretrained Inception network offline, ours is to be the project-4 CNN trained on Fashion-MNIST, so
the FID here is "FID with our Fashion-MNIST CNN", not comparable with published FIDs.

- ``frechet_distance``: FID (Heusel et al., 2017), the Frechet distance between Gaussians fitted to
  the two feature sets: |mu_r - mu_g|^2 + tr(S_r + S_g - 2 (S_r S_g)^(1/2)).
- ``kernel_distance``: KID (Binkowski et al., 2018), the unbiased MMD^2 with the cubic polynomial
  kernel k(x, y) = (x.y / d + 1)^3: no Gaussian assumption, unbiased at any sample size.
- ``precision_recall``: Kynkaanniemi et al. (2019): precision, the share of generated samples inside
  the real manifold (some real sample's k-NN ball holds it); recall, the share of real samples
  inside the generated one.
"""
import numpy as np
from scipy import linalg


def _check_features(features, name):
    if not isinstance(features, np.ndarray) or features.ndim != 2 or len(features) < 2 or not np.issubdtype(features.dtype, np.floating):
        raise ValueError(f"{name}: expected a float array (samples >= 2, features), got {getattr(features, 'shape', type(features))}")
    if not np.isfinite(features).all():
        raise ValueError(f"{name}: expected finite features, got NaN or inf")
    return features.astype(np.float64)


def frechet_distance(real, generated):
    """FID between two (samples, features) sets; 0 for equal means and covariances."""
    real, generated = _check_features(real, "real"), _check_features(generated, "generated")
    mu_r, mu_g = real.mean(axis=0), generated.mean(axis=0)
    cov_r, cov_g = (np.atleast_2d(np.cov(X, rowvar=False)) for X in (real, generated))  # (d, d), also for d = 1
    root = linalg.sqrtm(cov_r @ cov_g)
    root = root.real  # rounding leaves a tiny imaginary part on a product of two PSD matrices
    return float(np.sum((mu_r - mu_g) ** 2) + np.trace(cov_r + cov_g - 2 * root))


def kernel_distance(real, generated):
    """KID: the unbiased estimate of MMD^2 with k(x, y) = (x.y / d + 1)^3 (the diagonal terms left out)."""
    real, generated = _check_features(real, "real"), _check_features(generated, "generated")
    d, m, n = real.shape[1], len(real), len(generated)
    k_rr = (real @ real.T / d + 1) ** 3
    k_gg = (generated @ generated.T / d + 1) ** 3
    k_rg = (real @ generated.T / d + 1) ** 3
    within_r = (k_rr.sum() - np.trace(k_rr)) / (m * (m - 1))
    within_g = (k_gg.sum() - np.trace(k_gg)) / (n * (n - 1))
    return float(within_r + within_g - 2 * k_rg.mean())


def _knn_radii(features, k):
    """Each sample's distance to its k-th nearest other sample."""
    squared = np.maximum((features ** 2).sum(1)[:, None] + (features ** 2).sum(1)[None] - 2 * features @ features.T, 0)
    return np.sqrt(np.sort(squared, axis=1)[:, k])  # column 0 is the sample itself


def _inside(points, centres, radii):
    """For each point: does any centre's ball (its k-NN radius) hold it?"""
    squared = np.maximum((points ** 2).sum(1)[:, None] + (centres ** 2).sum(1)[None] - 2 * points @ centres.T, 0)
    return (np.sqrt(squared) <= radii[None]).any(axis=1)


def precision_recall(real, generated, k=3):
    """(precision, recall) of Kynkaanniemi et al. 2019 with k-nearest-neighbour manifolds."""
    real, generated = _check_features(real, "real"), _check_features(generated, "generated")
    if not isinstance(k, (int, np.integer)) or not 1 <= k < min(len(real), len(generated)):
        raise ValueError(f"k: expected an int in [1, {min(len(real), len(generated)) - 1}], got {k!r}")
    precision = _inside(generated, real, _knn_radii(real, k)).mean()
    recall = _inside(real, generated, _knn_radii(generated, k)).mean()
    return float(precision), float(recall)
