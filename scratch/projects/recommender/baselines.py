"""Project 1's non-factorisation recommenders: popularity, truncated SVD and k-nearest-neighbour
collaborative filtering, all on scipy.sparse rating matrices and all vectorised.

Each inherits the ``Recommender`` mixin (predict, recommend) of base.py.
Twin of reference/projects/recommender/baselines.py, which swaps in scipy's ``svds`` for the SVD and
scikit-learn's ``cosine_similarity`` for the similarities.

The baseline predictor (Koren, "Factorization meets the neighborhood", KDD 2008, section 2.1)
is shared: r_hat(u, i) = mu + b_u + b_i with damped means
    b_i = sum_{u in R(i)} (r_ui - mu) / (ITEM_DAMPING + |R(i)|)
    b_u = sum_{i in R(u)} (r_ui - mu - b_i) / (USER_DAMPING + |R(u)|).
"""
import numpy as np
from scipy import sparse

from scratch.plumbing import check_positive_int, check_real
from scratch.projects.recommender.base import Recommender

ITEM_DAMPING, USER_DAMPING = 25.0, 10.0  # Koren's lambda_2, lambda_3 for the Netflix data
NEIGHBOUR_BUDGET = 1 << 22  # (query, candidate) cells scored at once: bounds kNN memory


def baseline_estimates(users, items, ratings, num_users, num_items, item_damping=ITEM_DAMPING,
                       user_damping=USER_DAMPING):
    """Global mean, user biases (num_users,) and item biases (num_items,) of the damped baseline."""
    mu = ratings.mean()
    item_bias = np.bincount(items, ratings - mu, num_items) / (item_damping + np.bincount(items, minlength=num_items))
    residual = ratings - mu - item_bias[items]
    user_bias = np.bincount(users, residual, num_users) / (user_damping + np.bincount(users, minlength=num_users))
    return mu, user_bias, item_bias


def check_choice(value, choices, name):
    if not isinstance(value, str) or value not in choices:  # an array would compare elementwise
        raise ValueError(f"{name}: expected one of {choices}, got {value!r}")
    return value


class PopularityRecommender(Recommender):
    """The baseline every model must beat: the same ranking for every user.

    ``by="count"`` ranks items by their number of training ratings (the usual top-k baseline);
    ``by="mean"`` by the damped mean rating mu + b_i (``damping`` pseudo-ratings of the global
    mean, so an item with two 5-star ratings does not outrank a well-loved classic).
    ``predict`` is the damped mean mu + b_i either way: a rating, not a count.
    """

    def __init__(self, by="count", damping=ITEM_DAMPING):
        self.by, self.damping = by, damping

    def fit(self, users, items, ratings, num_users, num_items, rating_scale=(0.5, 5.0)):
        check_choice(self.by, ("count", "mean"), "by")
        check_real(self.damping, "damping", 0, np.inf, high_open=True, expected="a finite number >= 0")
        users, items, ratings = self._remember(users, items, ratings, num_users, num_items, rating_scale)
        self.global_mean_, _, self.item_bias_ = baseline_estimates(users, items, ratings, num_users, num_items,
                                                                   item_damping=self.damping)
        self.count_ = np.bincount(items, minlength=num_items)
        return self

    def score_all(self, users):
        scores = self.count_ if self.by == "count" else self.global_mean_ + self.item_bias_
        return np.broadcast_to(scores.astype(np.float64), (len(users), self.num_items_))  # (U, num_items)

    def _score_pairs(self, users, items):
        return self.global_mean_ + self.item_bias_[items]


def svd_flip(U, Vt):
    """A sign convention that makes the SVD unique (as scikit-learn's ``svd_flip`` with
    ``u_based_decision=False``): the largest-magnitude entry of each row of Vt is positive."""
    signs = np.sign(Vt[np.arange(len(Vt)), np.argmax(np.abs(Vt), axis=1)])
    signs[signs == 0] = 1.0
    return U * signs, Vt * signs[:, None]


class TruncatedSVDRecommender(Recommender):
    """Rank-``num_factors`` SVD of the ratings less the baseline mu + b_u + b_i (Sarwar et al., 2000).

    The residual matrix holds r_ui - mu - b_u - b_i at the rated pairs and 0 elsewhere (an
    unrated pair is assumed to sit at its baseline), so the scores are
        r_hat(u, i) = mu + b_u + b_i + sum_f U_uf s_f Vt_fi
    with U s = ``user_factors_`` and Vt = ``components_`` (scikit-learn's names). Centring by
    biases rather than by user means also removes the item effect, which the SVD would
    otherwise spend its first factor on.

    ``centre=None`` decomposes the raw ratings instead, zeros at the unrated pairs: PureSVD
    (Cremonesi et al., 2010), a poor rating predictor but a strong top-N ranker, because an
    unrated film scores low and the factors learn which films a user rates at all.
    """

    def __init__(self, num_factors=10, centre="baseline"):
        self.num_factors = num_factors
        self.centre = centre

    def fit(self, users, items, ratings, num_users, num_items, rating_scale=(0.5, 5.0)):
        if not (self.centre is None or (isinstance(self.centre, str) and self.centre == "baseline")):
            raise ValueError(f"centre: expected 'baseline' or None, got {self.centre!r}")
        users, items, ratings = self._remember(users, items, ratings, num_users, num_items, rating_scale)
        largest = min(num_users, num_items) - 1  # ARPACK's limit, kept in both twins
        if check_positive_int(self.num_factors, "num_factors") > largest:
            raise ValueError(f"num_factors: expected an int in [1, {largest}] (min(num_users, num_items) - 1), "
                             f"got {self.num_factors}")
        if self.centre == "baseline":
            self.global_mean_, self.user_bias_, self.item_bias_ = baseline_estimates(users, items, ratings, num_users, num_items)
        else:
            self.global_mean_, self.user_bias_, self.item_bias_ = 0.0, np.zeros(num_users), np.zeros(num_items)
        residual = ratings - self.global_mean_ - self.user_bias_[users] - self.item_bias_[items]
        residual = sparse.csr_matrix((residual, (users, items)), shape=(num_users, num_items))
        U, s, Vt = self._truncated_svd(residual, self.num_factors)  # (num_users, f), (f,), (f, num_items)
        U, Vt = svd_flip(U, Vt)
        self.singular_values_, self.user_factors_, self.components_ = s, U * s, Vt
        return self

    def _truncated_svd(self, residual, num_factors):
        """Top singular triplets from the eigenvectors of the smaller Gram matrix: A A^T = U s^2 U^T
        (671 x 671 for MovieLens, a fraction of a second where a dense SVD of the 671 x 9066
        matrix takes many), then s and Vt from W = U^T A = s Vt, whose row norms are more
        accurate than the square roots of small eigenvalues."""
        A = residual.T.tocsr() if residual.shape[0] > residual.shape[1] else residual  # (short, long)
        _, eigenvectors = np.linalg.eigh((A @ A.T).toarray())  # ascending eigenvalues
        U = eigenvectors[:, ::-1][:, :num_factors]  # (short, f)
        W = (A.T @ U).T  # (f, long) = s Vt
        s = np.linalg.norm(W, axis=1)
        Vt = W / np.where(s > 0, s, 1.0)[:, None]
        order = np.argsort(-s, kind="stable")  # the row norms may reorder near-equal eigenvalues
        U, s, Vt = U[:, order], s[order], Vt[order]
        return (Vt.T, s, U.T) if A is not residual else (U, s, Vt)

    def score_all(self, users):
        baseline = self.global_mean_ + self.user_bias_[users, None] + self.item_bias_  # (U, num_items)
        return baseline + self.user_factors_[users] @ self.components_

    def _score_pairs(self, users, items):
        interaction = np.einsum("bf,fb->b", self.user_factors_[users], self.components_[:, items])
        return self.global_mean_ + self.user_bias_[users] + self.item_bias_[items] + interaction


def centre_rows(rows):
    """Subtract from each stored entry its row's mean over the stored entries (missing stay 0)."""
    counts = np.diff(rows.indptr)
    means = np.divide(np.asarray(rows.sum(axis=1)).ravel(), counts, out=np.zeros(rows.shape[0]), where=counts > 0)
    centred = rows.copy()
    centred.data -= np.repeat(means, counts)
    return centred


class KNNRecommender(Recommender):
    """Neighbourhood collaborative filtering, user-based or item-based (``kind``).

    Call the rows of the rating matrix *entities* (users, or items with ``kind="item"``) and
    its columns *others*. With s the similarity of two entities and mu_e an entity's mean
    rating, entity e's rating of other o is predicted by the mean-centred weighted average
        r_hat(e, o) = mu_e + sum_{f in N} s(e, f) (r(f, o) - mu_f) / sum_{f in N} s(e, f),
    where N holds the ``k`` entities most similar to e that rated o (ties: lowest index first),
    less those with s <= 0 (as Surprise's KNNWithMeans). When N is empty (nobody similar rated
    o) the prediction falls back to mu_e; an entity without ratings has mu_e = the global mean.

    ``similarity="cosine"`` is the cosine of the raw rating rows, missing ratings as 0: equal to
    scikit-learn's ``cosine_similarity``. ``"pearson"`` is the cosine of the mean-centred rows
    (each row less its own mean over its ratings, missing still 0), the "centred cosine" form of
    Pearson's correlation (Leskovec, Rajaraman & Ullman, Mining of Massive Datasets, 9.3.3):
    the products sum over co-rated others, the norms over each entity's own ratings.
    Pairs with fewer than ``min_support`` co-rated others get similarity 0.
    ``similarity_`` is the dense (entities x entities) matrix, for the heat map.
    """

    def __init__(self, kind="user", similarity="cosine", k=40, min_support=1):
        self.kind, self.similarity, self.k, self.min_support = kind, similarity, k, min_support

    def fit(self, users, items, ratings, num_users, num_items, rating_scale=(0.5, 5.0)):
        check_choice(self.kind, ("user", "item"), "kind")
        check_choice(self.similarity, ("cosine", "pearson"), "similarity")
        check_positive_int(self.k, "k")
        check_positive_int(self.min_support, "min_support")
        users, items, ratings = self._remember(users, items, ratings, num_users, num_items, rating_scale)
        rows = self.seen_ if self.kind == "user" else self.seen_.T.tocsr()  # (entities, others)
        counts = np.diff(rows.indptr)
        sums = np.asarray(rows.sum(axis=1)).ravel()
        self.entity_mean_ = np.where(counts > 0, sums / np.maximum(counts, 1), ratings.mean())
        self.similarity_ = self._cosine(centre_rows(rows) if self.similarity == "pearson" else rows)
        if self.min_support > 1:
            present = rows.copy()
            present.data[:] = 1.0
            support = (present @ present.T).tocoo()  # co-rated others per pair of entities
            weak = support.data < self.min_support
            self.similarity_[support.row[weak], support.col[weak]] = 0.0
        self._columns = rows.tocsc()  # column o lists the entities that rated o, by index
        self._columns.sort_indices()
        self._deviations = self._columns.data - self.entity_mean_[self._columns.indices]  # r(f, o) - mu_f
        return self

    def _cosine(self, rows):
        """(n, d) sparse -> (n, n) dense cosine similarities; an all-zero row has similarity 0."""
        unit = rows.tocsr(copy=True)
        unit.sort_indices()  # an orderly product: its toarray runs ~10x faster than from unsorted rows
        norms = np.sqrt(np.asarray(unit.multiply(unit).sum(axis=1)).ravel())
        unit.data *= np.repeat(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0), np.diff(unit.indptr))
        return (unit @ unit.T).toarray()

    def _neighbourhood(self, entities, others):
        """Predictions for the (entities[q], others[q]) pairs, (Q,) -> (Q,).

        Queries are sorted by their number of candidates (the entities that rated the other)
        and scored in blocks of at most NEIGHBOUR_BUDGET (query, candidate) cells, padded to
        the block's widest query.
        """
        columns = self._columns
        counts = np.diff(columns.indptr)[others]
        order = np.argsort(counts, kind="stable")
        y_hat = self.entity_mean_[entities]
        start = 0
        while start < len(order):
            most = NEIGHBOUR_BUDGET // max(1, int(counts[order[start]]))  # widths only grow from here
            widths = np.maximum(counts[order[start:start + most]], 1)
            cells = widths * np.arange(1, len(widths) + 1)  # padded cells if the block stopped here
            block = order[start:start + max(1, int(np.searchsorted(cells, NEIGHBOUR_BUDGET, side="right")))]
            y_hat[block] += self._weighted_deviation(entities[block], others[block], counts[block])
            start += len(block)
        return y_hat

    def _weighted_deviation(self, entities, others, counts):
        """sum s (r - mu_f) / sum s over each query's top-k positive neighbours; 0 when none."""
        width = max(1, int(counts.max()))
        slot = np.arange(width)
        valid = slot < counts[:, None]  # (n, width)
        position = np.where(valid, self._columns.indptr[others][:, None] + slot, 0)
        neighbours = self._columns.indices[position]  # (n, width)
        weights = self.similarity_[entities[:, None], neighbours]
        weights = np.where(valid & (neighbours != entities[:, None]), np.maximum(weights, 0.0), 0.0)
        if width > self.k:
            kth = -np.partition(-weights, self.k - 1, axis=1)[:, self.k - 1:self.k]  # (n, 1) k-th largest
            ties = weights == kth
            room = self.k - np.sum(weights > kth, axis=1, keepdims=True)
            weights = np.where((weights > kth) | (ties & (np.cumsum(ties, axis=1) <= room)), weights, 0.0)
        numerator = np.sum(weights * self._deviations[position], axis=1)
        denominator = weights.sum(axis=1)
        return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)

    def _score_pairs(self, users, items):
        return self._neighbourhood(users, items) if self.kind == "user" else self._neighbourhood(items, users)

    def score_all(self, users):
        users, items = np.repeat(users, self.num_items_), np.tile(np.arange(self.num_items_), len(users))
        return self._score_pairs(users, items).reshape(-1, self.num_items_)  # (U, num_items)
