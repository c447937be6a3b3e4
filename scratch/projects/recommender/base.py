"""What every Project 1 recommender shares, scratch and torch twins alike (never twinned):
the checks on a ratings table, and the ``Recommender`` mixin.

Every recommender works on encoded indices (``users`` in [0, num_users), ``items`` in
[0, num_items), float ``ratings``; data.py encodes raw ids) and inherits ``Recommender``:
``predict`` (clipped to the rating scale) and ``recommend`` (batched scores, seen items
masked, argpartition) from one ``score_all``.
"""
import numpy as np
from scipy import sparse

from scratch.nn.module import _describe
from scratch.plumbing import check_positive_int

RECOMMEND_CHUNK = 1024  # users scored at once: bounds recommend's memory to chunk x num_items


UNKNOWN_USER = -1  # Ratings.encode_users' index for a raw id the training data never saw: cold start


def check_ids(ids, count, name):
    """Integer ids in [0, count) as an int64 array (any shape); a clear ValueError otherwise."""
    ids = np.asarray(ids)
    if not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"{name}: expected integer indices, got dtype {ids.dtype}")
    bad = (ids < 0) | (ids >= count)
    if bad.any():
        position = np.argwhere(bad)[0]
        raise ValueError(f"{name}: expected indices in [0, {count}), got {ids[tuple(position)]} at position "
                         f"{tuple(int(p) for p in position) if ids.ndim > 1 else int(position[0])}")
    return ids.astype(np.int64, copy=False)


def check_rating_scale(rating_scale):
    if (not isinstance(rating_scale, (tuple, list)) or len(rating_scale) != 2
            or not all(np.isfinite(v) for v in rating_scale) or not rating_scale[0] < rating_scale[1]):
        raise ValueError(f"rating_scale: expected (low, high) with low < high, got {rating_scale!r}")
    return float(rating_scale[0]), float(rating_scale[1])


def check_ratings(users, items, ratings, num_users, num_items, rating_scale=(0.5, 5.0)):
    """The one validator of a ratings table: returns (users int64, items int64, ratings float64).

    Refuses, naming the argument, what was expected and what came: an empty table, arrays of
    different lengths or ranks, ids out of range, non-finite ratings or ratings outside the
    scale, and a (user, item) pair that appears more than once.
    """
    num_users, num_items = check_positive_int(num_users, "num_users"), check_positive_int(num_items, "num_items")
    low, high = check_rating_scale(rating_scale)
    users, items, ratings = np.asarray(users), np.asarray(items), np.asarray(ratings)
    for name, array in (("users", users), ("items", items), ("ratings", ratings)):
        if array.ndim != 1:
            raise ValueError(f"{name}: expected a 1-d array, got shape {array.shape}")
    if not len(users) == len(items) == len(ratings):
        raise ValueError(f"users, items, ratings: expected one length, got {len(users)}, {len(items)}, {len(ratings)}")
    if len(ratings) == 0:
        raise ValueError("ratings: expected at least one rating, got an empty table")
    users, items = check_ids(users, num_users, "users"), check_ids(items, num_items, "items")
    if not (np.issubdtype(ratings.dtype, np.floating) or np.issubdtype(ratings.dtype, np.integer)):
        raise ValueError(f"ratings: expected real numbers, got dtype {ratings.dtype}")
    ratings = ratings.astype(np.float64, copy=False)
    outside = ~((ratings >= low) & (ratings <= high))  # NaN is outside too
    if outside.any():
        position = int(np.flatnonzero(outside)[0])
        raise ValueError(f"ratings: expected values in [{low:g}, {high:g}] (rating_scale), got {ratings[position]} "
                         f"at position {position}")
    pairs = users * num_items + items
    unique, first, counts = np.unique(pairs, return_index=True, return_counts=True)
    if len(unique) < len(pairs):
        position = first[np.argmax(counts > 1)]
        raise ValueError(f"users, items: expected each (user, item) pair once, got ({users[position]}, "
                         f"{items[position]}) {counts.max()} times (and {np.sum(counts > 1)} duplicated pair(s) in all)")
    return users, items, ratings


class Recommender:
    """What every recommender shares once fit has called ``_remember``:

    - ``seen_``: scipy.sparse CSR (num_users, num_items) holding the training ratings;
      its stored entries are the seen (user, item) pairs;
    - ``rating_scale_``, ``num_users_``, ``num_items_``;
    - ``popularity_``: item indices, most rated first (ties by index), the cold-start ranking.

    Subclasses implement ``score_all(users) -> (U, num_items)`` and may override
    ``_score_pairs`` with something cheaper than a row of every item per pair.
    """

    def _remember(self, users, items, ratings, num_users, num_items, rating_scale):
        users, items, ratings = check_ratings(users, items, ratings, num_users, num_items, rating_scale)
        self.num_users_, self.num_items_ = int(num_users), int(num_items)
        self.rating_scale_ = check_rating_scale(rating_scale)
        self.seen_ = sparse.csr_matrix((ratings, (users, items)), shape=(num_users, num_items))
        self.popularity_ = np.argsort(-np.bincount(items, minlength=num_items), kind="stable")
        return users, items, ratings

    def _check_fitted(self):
        if not hasattr(self, "seen_"):
            raise RuntimeError(f"{type(self).__name__}: call fit before predict or recommend")

    def score_all(self, users):
        """(U,) user indices -> (U, num_items) scores, higher is better."""
        raise NotImplementedError(f"{type(self).__name__} has no score_all")

    def _score_pairs(self, users, items):
        """Scores of (users[b], items[b]); by default one score_all row per distinct user."""
        distinct, row = np.unique(users, return_inverse=True)
        return self.score_all(distinct)[row, items]

    def predict(self, users, items):
        """(B,), (B,) -> (B,) predicted ratings, clipped to ``rating_scale_``."""
        self._check_fitted()
        users, items = check_ids(users, self.num_users_, "users"), check_ids(items, self.num_items_, "items")
        if users.shape != items.shape or users.ndim != 1:
            raise ValueError(f"users, items: expected two 1-d arrays of one length, got {users.shape} and {items.shape}")
        return np.clip(np.asarray(self._score_pairs(users, items), dtype=np.float64), *self.rating_scale_)

    def recommend(self, users, k=10, exclude_seen=True):
        """The top-``k`` item indices, best first: an int user -> (k,), an array (U,) -> (U, k).

        ``exclude_seen`` masks the user's training items. Cold start: a user with no
        training ratings has no evidence of taste, so gets the popularity ranking
        (``popularity_[:k]``) whatever the model's scores; so does the user index -1, which
        ``Ratings.encode_users`` gives a raw id the training data never saw. ``k`` larger than the number
        of candidate items (the catalogue, less the most items any of these users has
        seen) raises a ValueError.
        """
        self._check_fitted()
        single = np.ndim(users) == 0
        users = np.atleast_1d(users)
        unknown = users == UNKNOWN_USER
        users = check_ids(np.where(unknown, 0, users), self.num_users_, "users")  # unknown ones scored as 0, then replaced
        if users.ndim != 1:
            raise ValueError(f"users: expected an int or a 1-d array of user indices, got shape {users.shape}")
        counts = np.where(unknown, 0, np.diff(self.seen_.indptr)[users])
        candidates = self.num_items_ - (int(counts.max(initial=0)) if exclude_seen else 0)
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= candidates:
            raise ValueError(f"k: expected an int in [1, {candidates}] (the candidate items"
                             f"{', less the seen ones' if exclude_seen else ''}), got {k!r}")
        top = np.empty((len(users), k), dtype=np.int64)
        for start in range(0, len(users), RECOMMEND_CHUNK):
            chunk = users[start:start + RECOMMEND_CHUNK]
            scores = np.asarray(self.score_all(chunk))  # (C, num_items)
            scores = scores.astype(np.result_type(scores.dtype, np.float32))  # a float copy we may mask
            if exclude_seen:
                seen = self.seen_[chunk]
                scores[np.repeat(np.arange(len(chunk)), np.diff(seen.indptr)), seen.indices] = -np.inf
            best = np.argpartition(-scores, k - 1, axis=1)[:, :k]  # (C, k) unordered
            order = np.argsort(-np.take_along_axis(scores, best, axis=1), axis=1, kind="stable")
            top[start:start + len(chunk)] = np.take_along_axis(best, order, axis=1)
        top[counts == 0] = self.popularity_[:k]
        return top[0] if single else top


def rating_pairs(model, users, items, ratings, num_users, num_items, rating_scale, validation, dtype):
    """Check and remember the training table; return X (N, 2) [user, item], y (N,) ratings in the
    model's dtype, and the same for ``validation`` ((users, items, ratings), or the training set)."""
    if (num_users, num_items) != (model.num_users, model.num_items):
        raise ValueError(f"num_users, num_items: expected the model's ({model.num_users}, {model.num_items}), "
                         f"got ({num_users}, {num_items})")
    users, items, ratings = model._remember(users, items, ratings, num_users, num_items, rating_scale)
    X, y = np.stack([users, items], axis=1), ratings.astype(dtype)
    if validation is None:
        return X, y, X, y
    val_users, val_items, val_ratings = check_ratings(*validation, num_users, num_items, rating_scale)
    return X, y, np.stack([val_users, val_items], axis=1), val_ratings.astype(dtype)


def check_pairs(X, num_users, num_items):
    if not isinstance(X, np.ndarray) or X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X: expected an int array (B, 2) of [user, item] pairs, got {_describe(X)}")
    check_ids(X[:, 0], num_users, "X[:, 0] (users)")
    check_ids(X[:, 1], num_items, "X[:, 1] (items)")
