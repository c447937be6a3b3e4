"""Project 1: recommender models on (user, item, rating) triples.

Biased matrix factorisation (Koren, Bell & Volinsky, 2009): r_ui ~ mu + b_u + b_i + p_u . q_i,
built from torch.nn.Embedding and trained by mini-batch SGD through reference/training.py's
loop, or by alternating least squares (torch.linalg.solve on every user's, then every
item's, ridge system). ``predict`` and ``recommend`` come from the Recommender mixin
(scratch/projects/recommender/base.py): they only need ``score_all``.
Twin of scratch/projects/recommender/model.py: the same names, arguments and state_dict keys.
"""
import numpy as np
import torch
from torch import nn

from reference import training
from scratch.plumbing import check_bool, check_positive_int, check_real
from scratch.projects.recommender.base import Recommender, check_pairs, rating_pairs
from scratch.projects.recommender.config import MF_CONFIG


class MatrixFactorization(nn.Module, Recommender):
    """X (B, 2) int [user, item] -> (B,) predicted ratings  mu + b_u + b_i + p_u . q_i."""

    def __init__(self, num_users, num_items, num_factors=50, biased=True, init_std=0.1, dtype=None):
        super().__init__()
        self.num_users, self.num_items = check_positive_int(num_users, "num_users"), check_positive_int(num_items, "num_items")
        self.num_factors, self.biased = check_positive_int(num_factors, "num_factors"), biased
        self.user_factors = nn.Embedding(num_users, num_factors, dtype=dtype)
        self.item_factors = nn.Embedding(num_items, num_factors, dtype=dtype)
        nn.init.normal_(self.user_factors.weight, std=init_std)
        nn.init.normal_(self.item_factors.weight, std=init_std)
        if biased:
            self.user_bias = nn.Embedding(num_users, 1, dtype=dtype)
            self.item_bias = nn.Embedding(num_items, 1, dtype=dtype)
            nn.init.zeros_(self.user_bias.weight)
            nn.init.zeros_(self.item_bias.weight)
        self.register_buffer("global_mean", torch.zeros((), dtype=self.user_factors.weight.dtype))

    def forward(self, X):
        check_pairs(X.numpy(), self.num_users, self.num_items)
        P, Q = self.user_factors(X[:, 0]), self.item_factors(X[:, 1])  # (B, F) each
        y_hat = (P * Q).sum(axis=1) + self.global_mean  # (B,)
        if self.biased:
            y_hat = y_hat + self.user_bias(X[:, 0])[:, 0] + self.item_bias(X[:, 1])[:, 0]
        return y_hat

    def fit(self, users, items, ratings, num_users=None, num_items=None, rating_scale=(0.5, 5.0), config=MF_CONFIG,
            validation=None, progress=False):
        """Mini-batch SGD on mean squared error with the shared loop; keeps the weights of the best
        loss on ``validation`` (users, items, ratings), or on the training set if None."""
        num_users = self.num_users if num_users is None else check_positive_int(num_users, "num_users")  # 0 is not None
        num_items = self.num_items if num_items is None else check_positive_int(num_items, "num_items")
        X, y, X_val, y_val = rating_pairs(self, users, items, ratings, num_users, num_items, rating_scale, validation,
                                          self.global_mean.numpy().dtype)
        self.global_mean.fill_(float(y.mean()))
        self.history_ = training.fit(self, X, y, X_val, y_val, config, criterion=nn.MSELoss(), progress=progress)
        return self

    @torch.no_grad()
    def score_all(self, users):
        users = torch.from_numpy(np.asarray(users))
        scores = self.user_factors.weight[users] @ self.item_factors.weight.T + self.global_mean  # (U, I)
        if self.biased:
            scores += self.user_bias.weight[users] + self.item_bias.weight.T
        return scores.numpy()

    @torch.no_grad()
    def _score_pairs(self, users, items):
        return self.forward(torch.from_numpy(np.stack([users, items], axis=1))).numpy()


def ridge_solve(rows, cols, targets, design, num_rows, reg):
    """For every row r at once: argmin_x sum over its (r, c) of (targets - design[c] . x)^2 + reg |x|^2.

    The normal equations are assembled for all rows by two sparse products and solved by one
    batched torch.linalg.solve on (num_rows, D, D).
    """
    num_cols, D = design.shape
    outer = (design[:, :, None] * design[:, None, :]).reshape(num_cols, D * D)  # (C, D*D)
    index = torch.from_numpy(np.stack([rows, cols]))
    member = torch.sparse_coo_tensor(index, torch.ones(len(rows), dtype=design.dtype), (num_rows, num_cols), check_invariants=True)
    gram = (member @ outer).reshape(num_rows, D, D) + reg * torch.eye(D, dtype=design.dtype)  # (R, D, D)
    rhs = torch.sparse_coo_tensor(index, targets, (num_rows, num_cols), check_invariants=True) @ design  # (R, D)
    return torch.linalg.solve(gram, rhs)  # (R, D)


class ALS(Recommender):
    """Alternating least squares for the same model (``model_``, a MatrixFactorization)."""

    def __init__(self, num_factors=50, reg=10.0, num_iters=10, biased=True, dtype=torch.float64):
        self.num_factors, self.reg, self.num_iters, self.biased, self.dtype = num_factors, reg, num_iters, biased, dtype

    @torch.no_grad()
    def fit(self, users, items, ratings, num_users, num_items, rating_scale=(0.5, 5.0)):
        check_positive_int(self.num_factors, "num_factors")
        check_real(self.reg, "reg", 0, np.inf, low_open=True, high_open=True,
                   expected="a positive number (finite: it keeps every solve well posed)")
        check_positive_int(self.num_iters, "num_iters")
        check_bool(self.biased, "biased")
        users, items, ratings = self._remember(users, items, ratings, num_users, num_items, rating_scale)
        model = self.model_ = MatrixFactorization(num_users, num_items, self.num_factors, self.biased, dtype=self.dtype)
        model.global_mean.fill_(ratings.mean())
        centred = torch.from_numpy(ratings - ratings.mean()).to(self.dtype)
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
        design, targets = other_factors.weight, centred
        if self.biased:
            design = torch.cat([design, torch.ones(len(design), 1, dtype=design.dtype)], dim=1)  # (C, F+1)
            targets = centred - other_bias.weight[torch.from_numpy(cols), 0]
        solution = ridge_solve(rows, cols, targets, design, len(factors.weight), self.reg)
        factors.weight.copy_(solution[:, :self.num_factors])
        if self.biased:
            bias.weight.copy_(solution[:, self.num_factors:])

    @torch.no_grad()
    def objective(self, users, items, ratings):
        """sum of squared errors + reg * the squared norm of every learned weight."""
        model = self.model_
        error = model(torch.from_numpy(np.stack([users, items], axis=1))) - torch.from_numpy(ratings)
        return float(error @ error + self.reg * sum(float((p ** 2).sum()) for p in model.parameters()))

    def score_all(self, users):
        return self.model_.score_all(users)

    def _score_pairs(self, users, items):
        return self.model_._score_pairs(users, items)
