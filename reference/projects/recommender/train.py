"""Sparse SGD for biased matrix factorisation, the classic way (Funk, 2006; Koren, Bell &
Volinsky, 2009; scikit-surprise's SVD): each mini-batch moves, and regularises, only the rows
its ratings touch. A batch of B ratings minimises

    mean_b (r_hat_b - r_b)^2 + reg * mean_b (|p_u|^2 + |q_i|^2 + b_u^2 + b_i^2),

so a film rated once is shrunk once per epoch, not at every step as the optimizer's dense
weight decay of model.fit does, and a step costs O(B * factors) instead of O(all weights).
The rows are gathered with sparse=True: autograd's gradient of each table is then a sparse
tensor holding the touched rows only, and torch.optim.SGD updates just those.
Twin of scratch/projects/recommender/train.py, which writes that gradient by hand.
"""
import time

import numpy as np
import torch
import torch.nn.functional as F

from scratch.plumbing import EarlyStopping, check_finite, minibatches, progress_range
from scratch.projects.recommender.base import rating_pairs
from scratch.projects.recommender.config import SPARSE_SGD_CONFIG


def gathered_tables(model, X):
    """(embedding, index) for each table a rating reads: factors, then biases if the model has them."""
    users, items = X[:, 0], X[:, 1]
    tables = [(model.user_factors, users), (model.item_factors, items)]
    return tables + ([(model.user_bias, users), (model.item_bias, items)] if model.biased else [])


def sgd_step(model, X, y, optimizer, reg):
    """One batch: forward, the loss, autograd's sparse gradients, the optimizer's update."""
    tables = gathered_tables(model, X)
    P, Q, *biases = [F.embedding(index, table.weight, sparse=True) for table, index in tables]  # (B, F), (B, F), (B, 1), (B, 1)
    y_hat = model.global_mean + (P * Q).sum(axis=1) + sum(b[:, 0] for b in biases)  # (B,)
    error = y_hat - y
    penalty = sum((row ** 2).sum(axis=1) for row in (P, Q, *biases))  # (B,)
    loss = torch.mean(error ** 2) + reg * torch.mean(penalty)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


@torch.no_grad()
def validation_loss(model, X, y):
    return float(torch.mean((model(X) - y) ** 2))


def fit(model, users, items, ratings, num_users=None, num_items=None, rating_scale=(0.5, 5.0), config=SPARSE_SGD_CONFIG,
        validation=None, progress=False):
    """Train ``model`` (a MatrixFactorization) by sparse SGD; keep the weights of the best mean squared
    error on ``validation`` (users, items, ratings), or on the training set if None. Returns the model,
    its history in ``history_``."""
    X, y, X_val, y_val = rating_pairs(model, users, items, ratings, model.num_users if num_users is None else num_users,
                                      model.num_items if num_items is None else num_items, rating_scale, validation,
                                      model.global_mean.numpy().dtype)
    model.global_mean.fill_(float(y.mean()))
    X, y, X_val, y_val = (torch.from_numpy(a) for a in (X, y, X_val, y_val))
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
    rng = np.random.default_rng(config.seed)  # batch order only: the same on both twins
    stopper = EarlyStopping(config.patience)
    history = {"train_loss": [], "val_loss": [], "epoch_time": []}
    epochs = progress_range(1, config.num_epochs + 1, progress=progress, desc="torch MF (sparse SGD)", unit="epoch")
    for epoch in epochs:
        start, total_loss = time.perf_counter(), 0.0
        for step, idx in enumerate(minibatches(len(X), config.batch_size, rng)):
            loss = sgd_step(model, X[idx], y[idx], optimizer, config.reg)
            check_finite(loss, epoch, step)
            total_loss += loss * len(idx)
        history["epoch_time"].append(time.perf_counter() - start)
        history["train_loss"].append(total_loss / len(X))
        history["val_loss"].append(validation_loss(model, X_val, y_val))
        if stopper.step(history["val_loss"][-1], epoch):
            best_state = {key: value.clone() for key, value in model.state_dict().items()}
        if stopper.should_stop:
            break
    best_epoch = stopper.require_best(history["val_loss"][-1], "check the ratings")
    model.load_state_dict(best_state)
    model.history_ = dict(history, best_epoch=best_epoch)
    return model
