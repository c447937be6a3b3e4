"""Project 1: recommender models on (user, item, rating) triples.

Biased matrix factorisation (Koren, Bell & Volinsky, 2009): r_ui ~ mu + b_u + b_i + p_u . q_i,
trained by mini-batch SGD through scratch/training.py's loop, or by alternating least
squares (closed-form ridge solves for every user, then every item). ``predict`` and
``recommend`` come from the Recommender mixin (base.py): they only need ``score_all``.
Twin of reference/projects/recommender/model.py: diff the two to see what autograd does.
"""
import numpy as np
from scipy import sparse

from scratch import nn, training
from scratch.plumbing import check_bool, check_positive_int, check_real, check_rng
from scratch.projects.recommender.base import Recommender, check_pairs, rating_pairs
from scratch.projects.recommender.config import MF_CONFIG


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

    def backward(self, grad, input_grad=True):
        P = nn.module.require_forward(self, getattr(self, "_P", None))  # (B, F)
        dy = nn.module.check_grad(grad, P[:, 0])[:, None]  # (B, 1)
        self.user_factors.backward(dy * self._Q)  # (B, F), scatter-added into the rows used
        self.item_factors.backward(dy * P)
        if self.biased:
            self.user_bias.backward(dy)
            self.item_bias.backward(dy)
        return None  # indices have no gradient

    def fit(self, users, items, ratings, num_users=None, num_items=None, rating_scale=(0.5, 5.0), config=MF_CONFIG,
            validation=None, progress=False):
        """Mini-batch SGD on mean squared error with the shared loop; keeps the weights of the best
        loss on ``validation`` (users, items, ratings), or on the training set if None."""
        num_users = self.num_users if num_users is None else check_positive_int(num_users, "num_users")  # 0 is not None
        num_items = self.num_items if num_items is None else check_positive_int(num_items, "num_items")
        X, y, X_val, y_val = rating_pairs(self, users, items, ratings, num_users, num_items, rating_scale, validation,
                                          self.global_mean.dtype)
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
        check_positive_int(self.num_factors, "num_factors")
        check_real(self.reg, "reg", 0, np.inf, low_open=True, high_open=True,
                   expected="a positive number (finite: it keeps every solve well posed)")
        check_positive_int(self.num_iters, "num_iters")
        check_bool(self.biased, "biased")
        check_rng(self.rng)
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
