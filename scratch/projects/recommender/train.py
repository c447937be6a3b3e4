"""Sparse SGD for biased matrix factorisation, the classic way (Funk, 2006; Koren, Bell &
Volinsky, 2009; scikit-surprise's SVD): each mini-batch moves, and regularises, only the rows
its ratings touch. A batch of B ratings minimises

    mean_b (r_hat_b - r_b)^2 + reg * mean_b (|p_u|^2 + |q_i|^2 + b_u^2 + b_i^2),

so a film rated once is shrunk once per epoch, not at every step as the optimizer's dense
weight decay of model.fit does, and a step costs O(B * factors) instead of O(all weights).
The gradient is written by hand, then scatter-added into the touched rows.
Twin of reference/projects/recommender/train.py, where autograd computes sparse embedding
gradients and torch.optim.SGD applies them.
"""
import time

import numpy as np

from scratch.nn.sparse import scatter_add_rows
from scratch.plumbing import EarlyStopping, check_finite, minibatches, progress_range
from scratch.projects.recommender.base import rating_pairs
from scratch.projects.recommender.config import SPARSE_SGD_CONFIG


def gathered_tables(model, X):
    """(embedding, index) for each table a rating reads: factors, then biases if the model has them."""
    users, items = X[:, 0], X[:, 1]
    tables = [(model.user_factors, users), (model.item_factors, items)]
    return tables + ([(model.user_bias, users), (model.item_bias, items)] if model.biased else [])


def sparse_step(weight, index, grad, lr):
    """weight[index] -= lr * grad, repeated indices adding up: only the touched rows change."""
    touched, position = np.unique(index, return_inverse=True)
    weight[touched] -= lr * scatter_add_rows(position, grad, len(touched))


def sgd_step(model, X, y, lr, reg):
    """One batch: forward, the loss, the gradient of every gathered row, the sparse update."""
    tables = gathered_tables(model, X)
    P, Q, *biases = [table.weight.data[index] for table, index in tables]  # (B, F), (B, F), (B, 1), (B, 1)
    y_hat = model.global_mean + (P * Q).sum(axis=1) + sum(b[:, 0] for b in biases)  # (B,)
    error = y_hat - y
    penalty = sum((row ** 2).sum(axis=1) for row in (P, Q, *biases))  # (B,)
    loss = np.mean(error ** 2) + reg * np.mean(penalty)
    dy_hat = (2 / len(y)) * error[:, None]  # (B, 1)
    grads = [dy_hat * Q, dy_hat * P] + [dy_hat] * len(biases)  # the data term; P's gradient uses Q and back
    for (table, index), row, grad in zip(tables, (P, Q, *biases), grads):
        sparse_step(table.weight.data, index, grad + (2 * reg / len(y)) * row, lr)  # + the penalty's
    return float(loss)


def validation_loss(model, X, y):
    return float(np.mean((model(X) - y) ** 2))


def fit(model, users, items, ratings, num_users=None, num_items=None, rating_scale=(0.5, 5.0), config=SPARSE_SGD_CONFIG,
        validation=None, progress=False):
    """Train ``model`` (a MatrixFactorization) by sparse SGD; keep the weights of the best mean squared
    error on ``validation`` (users, items, ratings), or on the training set if None. Returns the model,
    its history in ``history_``."""
    X, y, X_val, y_val = rating_pairs(model, users, items, ratings, model.num_users if num_users is None else num_users,
                                      model.num_items if num_items is None else num_items, rating_scale, validation,
                                      model.global_mean.dtype)
    model.global_mean[...] = y.mean()
    rng = np.random.default_rng(config.seed)  # batch order only: the same on both twins
    stopper = EarlyStopping(config.patience)
    history = {"train_loss": [], "val_loss": [], "epoch_time": []}
    epochs = progress_range(1, config.num_epochs + 1, progress=progress, desc="scratch MF (sparse SGD)", unit="epoch")
    for epoch in epochs:
        start, total_loss = time.perf_counter(), 0.0
        for step, idx in enumerate(minibatches(len(X), config.batch_size, rng)):
            loss = sgd_step(model, X[idx], y[idx], config.lr, config.reg)
            check_finite(loss, epoch, step)
            total_loss += loss * len(idx)
        history["epoch_time"].append(time.perf_counter() - start)
        history["train_loss"].append(total_loss / len(X))
        history["val_loss"].append(validation_loss(model, X_val, y_val))
        if stopper.step(history["val_loss"][-1], epoch):
            best_state = model.state_dict()
        if stopper.should_stop:
            break
    best_epoch = stopper.require_best(history["val_loss"][-1], "check the ratings")
    model.load_state_dict(best_state)
    model.history_ = dict(history, best_epoch=best_epoch)
    return model
