"""Project 1: recommender models on (user, item, rating) triples.

Every recommender works on encoded indices (``users`` in [0, num_users), ``items`` in
[0, num_items), float ``ratings``; scratch/recommender_data.py encodes raw ids) and
inherits the ``Recommender`` mixin: ``predict`` (clipped to the rating scale) and
``recommend`` (batched scores, seen items masked, argpartition) from one ``score_all``.

Biased matrix factorisation (Koren, Bell & Volinsky, 2009): r_ui ~ mu + b_u + b_i + p_u . q_i,
trained by mini-batch SGD through scratch/training.py's loop, or by alternating least
squares (closed-form ridge solves for every user, then every item).
Twin of reference/recommender.py: diff the two to see what autograd does.
"""
import numpy as np
from scipy import sparse

from scratch import nn, training
from scratch.plumbing import TrainingConfig, check_positive_int

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


# SGD settings for MovieLens-sized data (test RMSE 0.873 on a random 90/10 split of dslabs'
# 100k ratings, 50 factors; batch 256 with lr 0.5 gets the same in twice the time: most of
# a step is the optimizer's pass over every weight). weight_decay is the optimizer's (coupled
# L2): every step it shrinks every row of every embedding, whether the batch touched it or not. That is gradient
# descent on  mean squared error + weight_decay / 2 * |all weights|^2,  the ridge objective
# that ALS minimises with reg = num_ratings * weight_decay / 2 (3e-4 on 72k ratings: ~11, ALS's
# default 10). A rarely rated item gets few data gradients against the same shrinkage, so it
# stays near the global mean: the prior one wants for sparse rows. The loss is a batch mean,
# so each rating's step is lr / batch_size: hence the large-looking lr.
MF_CONFIG = TrainingConfig(optimizer="sgd", lr=2.0, lr_schedule="cosine", weight_decay=3e-4, batch_size=1024,
                           num_epochs=30, patience=3)


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
        raise ValueError(f"X: expected an int array (B, 2) of [user, item] pairs, got {nn.module._describe(X)}")
    check_ids(X[:, 0], num_users, "X[:, 0] (users)")
    check_ids(X[:, 1], num_items, "X[:, 1] (items)")


class MatrixFactorization(nn.Module, Recommender):
    """X (B, 2) int [user, item] -> (B,) predicted ratings  mu + b_u + b_i + p_u . q_i.

    state_dict: user_factors.weight (num_users, F), item_factors.weight (num_items, F),
    user_bias.weight (num_users, 1), item_bias.weight (num_items, 1) (only if ``biased``),
    global_mean (), the training ratings' mean, set by fit. Factors start N(0, init_std^2),
    biases at 0.
    """

    def __init__(self, num_users, num_items, num_factors=50, biased=True, init_std=0.1, dtype=None, rng=None):
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.num_users, self.num_items = check_positive_int(num_users, "num_users"), check_positive_int(num_items, "num_items")
        self.num_factors, self.biased = check_positive_int(num_factors, "num_factors"), biased
        self.user_factors = nn.Embedding(num_users, num_factors, dtype=dtype, rng=rng)
        self.item_factors = nn.Embedding(num_items, num_factors, dtype=dtype, rng=rng)
        nn.init.normal_(self.user_factors.weight, std=init_std, rng=rng)
        nn.init.normal_(self.item_factors.weight, std=init_std, rng=rng)
        if biased:
            self.user_bias = nn.Embedding(num_users, 1, dtype=dtype, rng=rng)
            self.item_bias = nn.Embedding(num_items, 1, dtype=dtype, rng=rng)
            nn.init.zeros_(self.user_bias.weight)
            nn.init.zeros_(self.item_bias.weight)
        self.register_buffer("global_mean", np.zeros((), dtype=self.user_factors.weight.dtype))

    def forward(self, X):
        check_pairs(X, self.num_users, self.num_items)
        self._P, self._Q = self.user_factors(X[:, 0]), self.item_factors(X[:, 1])  # (B, F) each
        y_hat = (self._P * self._Q).sum(axis=1) + self.global_mean  # (B,)
        if self.biased:
            y_hat = y_hat + self.user_bias(X[:, 0])[:, 0] + self.item_bias(X[:, 1])[:, 0]
        return y_hat

    def backward(self, grad):
        dy = nn.module.check_grad(grad, self._P[:, 0])[:, None]  # (B, 1)
        self.user_factors.backward(dy * self._Q)  # (B, F), scatter-added into the rows used
        self.item_factors.backward(dy * self._P)
        if self.biased:
            self.user_bias.backward(dy)
            self.item_bias.backward(dy)
        return None  # indices have no gradient

    def fit(self, users, items, ratings, num_users=None, num_items=None, rating_scale=(0.5, 5.0), config=MF_CONFIG,
            validation=None, progress=False):
        """Mini-batch SGD on mean squared error with the shared loop; keeps the weights of the best
        loss on ``validation`` (users, items, ratings), or on the training set if None."""
        X, y, X_val, y_val = rating_pairs(self, users, items, ratings, num_users or self.num_users,
                                          num_items or self.num_items, rating_scale, validation, self.global_mean.dtype)
        self.global_mean[...] = y.mean()
        self.history_ = training.fit(self, X, y, X_val, y_val, config, criterion=nn.MSELoss(), progress=progress)
        return self

    def score_all(self, users):
        scores = self.user_factors.weight.data[users] @ self.item_factors.weight.data.T + self.global_mean  # (U, I)
        if self.biased:
            scores += self.user_bias.weight.data[users] + self.item_bias.weight.data.T
        return scores

    def _score_pairs(self, users, items):
        return self.forward(np.stack([users, items], axis=1))


def ridge_solve(rows, cols, targets, design, num_rows, reg):
    """For every row r at once: argmin_x sum over its (r, c) of (targets - design[c] . x)^2 + reg |x|^2.

    The normal equations (sum_c design[c] design[c]^T + reg I) x = sum_c targets design[c] are
    assembled for all rows by two sparse products (each row's Gram matrix is the sum of its
    columns' outer products) and solved by one batched np.linalg.solve on (num_rows, D, D).
    """
    num_cols, D = design.shape
    outer = (design[:, :, None] * design[:, None, :]).reshape(num_cols, D * D)  # (C, D*D)
    member = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(num_rows, num_cols))
    gram = (member @ outer).reshape(num_rows, D, D) + reg * np.eye(D)  # (R, D, D)
    rhs = sparse.csr_matrix((targets, (rows, cols)), shape=(num_rows, num_cols)) @ design  # (R, D)
    return np.linalg.solve(gram, rhs[..., None])[..., 0]  # (R, D)


class ALS(Recommender):
    """Alternating least squares for the same model (``model_``, a MatrixFactorization).

    With the items fixed, each user's [p_u, b_u] is a ridge regression of r_ui - mu - b_i on
    [q_i, 1]; then the same for the items. Each half-step minimises
    sum (r - r_hat)^2 + reg (|P|^2 + |Q|^2 + |b_u|^2 + |b_i|^2) exactly over its block, so the
    objective never rises (``history_`` holds it after every iteration).
    """

    def __init__(self, num_factors=50, reg=10.0, num_iters=10, biased=True, dtype=np.float64, rng=None):
        self.num_factors, self.reg, self.num_iters, self.biased, self.dtype, self.rng = (
            num_factors, reg, num_iters, biased, dtype, rng)

    def fit(self, users, items, ratings, num_users, num_items, rating_scale=(0.5, 5.0)):
        if not self.reg > 0:
            raise ValueError(f"reg: expected a positive number (it keeps every solve well posed), got {self.reg!r}")
        check_positive_int(self.num_iters, "num_iters")
        users, items, ratings = self._remember(users, items, ratings, num_users, num_items, rating_scale)
        model = self.model_ = MatrixFactorization(num_users, num_items, self.num_factors, self.biased, dtype=self.dtype,
                                                  rng=self.rng)
        model.global_mean[...] = ratings.mean()
        centred = (ratings - ratings.mean()).astype(self.dtype)
        self.history_ = []
        for _ in range(self.num_iters):
            self._half_step(model.user_factors, getattr(model, "user_bias", None), users,
                            model.item_factors, getattr(model, "item_bias", None), items, centred)
            self._half_step(model.item_factors, getattr(model, "item_bias", None), items,
                            model.user_factors, getattr(model, "user_bias", None), users, centred)
            self.history_.append(self.objective(users, items, ratings))
        return self

    def _half_step(self, factors, bias, rows, other_factors, other_bias, cols, centred):
        """Solve for (factors, bias) of ``rows`` with the other side fixed."""
        design, targets = other_factors.weight.data, centred
        if self.biased:
            design = np.concatenate([design, np.ones((len(design), 1), design.dtype)], axis=1)  # (C, F+1)
            targets = centred - other_bias.weight.data[cols, 0]
        solution = ridge_solve(rows, cols, targets, design, len(factors.weight.data), self.reg)
        factors.weight.data[...] = solution[:, :self.num_factors]
        if self.biased:
            bias.weight.data[...] = solution[:, self.num_factors:]

    def objective(self, users, items, ratings):
        """sum of squared errors + reg * the squared norm of every learned weight."""
        model = self.model_
        error = model(np.stack([users, items], axis=1)) - ratings
        return float(error @ error + self.reg * sum(float(np.sum(p.data ** 2)) for p in model.parameters()))

    def score_all(self, users):
        return self.model_.score_all(users)

    def _score_pairs(self, users, items):
        return self.model_._score_pairs(users, items)
