"""Project 1's non-factorisation recommenders with the libraries doing the linear algebra:
scipy's ARPACK ``svds`` for the truncated SVD, scikit-learn's ``cosine_similarity`` for the
neighbourhoods. Twin of scratch/projects/recommender/baselines.py: the same classes, the same fit and
predictions, with only the two steps a library can do swapped in.
"""
import numpy as np
from scipy.sparse.linalg import svds
from sklearn.metrics.pairwise import cosine_similarity

from scratch.projects.recommender import baselines as scratch
from scratch.projects.recommender.baselines import PopularityRecommender, baseline_estimates  # noqa: F401 (twin names)


class TruncatedSVDRecommender(scratch.TruncatedSVDRecommender):
    __doc__ = scratch.TruncatedSVDRecommender.__doc__

    def _truncated_svd(self, residual, num_factors):
        if residual.count_nonzero() == 0:  # every rating on its baseline: ARPACK cannot start
            return np.zeros((residual.shape[0], num_factors)), np.zeros(num_factors), np.eye(num_factors, residual.shape[1])
        # ARPACK (Lanczos) on the sparse matrix; a fixed start vector makes it reproducible
        start = np.random.default_rng(0).uniform(-1, 1, min(residual.shape))
        U, s, Vt = svds(residual, k=num_factors, tol=0, v0=start)
        order = np.argsort(-s, kind="stable")  # svds returns ascending singular values
        return U[:, order], s[order], Vt[order]


class KNNRecommender(scratch.KNNRecommender):
    __doc__ = scratch.KNNRecommender.__doc__

    def _cosine(self, rows):
        return cosine_similarity(rows)  # dense (n, n) from a sparse (n, d)
