"""Benchmark cases for the recommender project (curriculum Project 1).

One SGD epoch of biased matrix factorisation over 100,000 ratings with 50 factors, on a
MovieLens-shaped synthetic table (671 users, 9,066 items, as dslabs' movielens; nothing to
load): the curriculum's per-rating Python loop (``naive``), the vectorised scratch twin and
the torch twin, both through the project's fit loop (mini-batches of MF_CONFIG.batch_size,
SGD with momentum and weight decay), and through the sparse SGD loop (train.py: only the
touched rows move). Then the embedding scatter-add alone, and ``recommend(all users, k=10)``.
"""
import dataclasses

import numpy as np
import torch

from reference.bridge import twin_pair
from reference.projects.recommender import model as torch_recommender
from reference.projects.recommender import train as torch_train
from scratch import nn
from scratch.projects.recommender import model as scratch_recommender
from scratch.projects.recommender import train as scratch_train
from scratch.projects.recommender.config import SPARSE_SGD_CONFIG

from .core import Case

NUM_USERS, NUM_ITEMS, NUM_RATINGS, NUM_FACTORS = 671, 9066, 100_000, 50


def naive_sgd_epoch(user_factors, item_factors, users, items, ratings, learning_rate=0.01, reg_param=0.1):
    """TEACHING VERSION, kept slow on purpose: the curriculum's CollaborativeFiltering.fit inner
    loop, one rating at a time in Python (no biases, float64 as it was). Each step reads two rows,
    makes a dot product and updates both rows: ~10 small NumPy calls per rating."""
    for u, i, r in zip(users, items, ratings):
        error = r - np.dot(user_factors[u], item_factors[i])
        user_factors[u] += learning_rate * (error * item_factors[i] - reg_param * user_factors[u])
        item_factors[i] += learning_rate * (error * user_factors[u] - reg_param * item_factors[i])


def synthetic_ratings(rng, num_ratings=NUM_RATINGS):
    """Distinct (user, item) pairs with half-star ratings, as many as MovieLens' dslabs table."""
    pairs = rng.choice(NUM_USERS * NUM_ITEMS, num_ratings, replace=False)
    return pairs // NUM_ITEMS, pairs % NUM_ITEMS, rng.integers(1, 11, num_ratings) / 2


def twins(dtype, rng):
    return twin_pair(scratch_recommender.MatrixFactorization, torch_recommender.MatrixFactorization,
                     int(rng.integers(1 << 30)), dtype, num_users=NUM_USERS, num_items=NUM_ITEMS, num_factors=NUM_FACTORS)


def sgd_epoch_case(dtype, rng, quick):
    users, items, ratings = synthetic_ratings(rng)
    model, twin = twins(dtype, rng)
    config = dataclasses.replace(scratch_recommender.MF_CONFIG, num_epochs=1)
    validation = (users[:64], items[:64], ratings[:64])
    naive_count = 5_000 if quick else 20_000
    P, Q = rng.normal(0, 0.1, (NUM_USERS, NUM_FACTORS)), rng.normal(0, 0.1, (NUM_ITEMS, NUM_FACTORS))
    return Case(f"MF SGD epoch ({NUM_FACTORS} factors)", f"{NUM_RATINGS:,} ratings, b{config.batch_size}",
                lambda: model.fit(users, items, ratings, config=config, validation=validation),
                lambda: twin.fit(users, items, ratings, config=config, validation=validation),
                naive=lambda: naive_sgd_epoch(P, Q, users[:naive_count], items[:naive_count], ratings[:naive_count]),
                naive_scale=NUM_RATINGS / naive_count,
                note=f"fit loop, validation on 64; naive: curriculum per-rating loop on {naive_count:,}, scaled")


def sparse_sgd_epoch_case(dtype, rng, quick):
    """One epoch of the sparse SGD loop (train.py): only the rows a batch touches move."""
    users, items, ratings = synthetic_ratings(rng)
    model, twin = twins(dtype, rng)
    config = dataclasses.replace(SPARSE_SGD_CONFIG, num_epochs=1)
    validation = (users[:64], items[:64], ratings[:64])
    naive_count = 5_000 if quick else 20_000
    P, Q = rng.normal(0, 0.1, (NUM_USERS, NUM_FACTORS)), rng.normal(0, 0.1, (NUM_ITEMS, NUM_FACTORS))
    return Case(f"MF sparse SGD epoch ({NUM_FACTORS} factors)", f"{NUM_RATINGS:,} ratings, b{config.batch_size}",
                lambda: scratch_train.fit(model, users, items, ratings, config=config, validation=validation),
                lambda: torch_train.fit(twin, users, items, ratings, config=config, validation=validation),
                naive=lambda: naive_sgd_epoch(P, Q, users[:naive_count], items[:naive_count], ratings[:naive_count]),
                naive_scale=NUM_RATINGS / naive_count,
                note=f"train.py: sparse row updates; naive: curriculum per-rating loop on {naive_count:,}, scaled")


def embedding_backward_case(dtype, rng, batch=256):
    """The scatter-add at the heart of the epoch: Embedding(9066, 50) backward of a batch."""
    layer = nn.Embedding(NUM_ITEMS, NUM_FACTORS, dtype=dtype, rng=rng)
    twin = torch.nn.Embedding(NUM_ITEMS, NUM_FACTORS, dtype=torch.float64 if dtype == np.float64 else torch.float32)
    index = rng.integers(0, NUM_ITEMS, batch)
    grad = rng.standard_normal((batch, NUM_FACTORS)).astype(dtype)
    torch_index, torch_grad = torch.from_numpy(index), torch.from_numpy(grad)

    def scratch_step():
        layer.zero_grad()
        layer(index)
        layer.backward(grad)

    def torch_step():
        twin.zero_grad()
        twin(torch_index).backward(torch_grad)

    return Case(f"Embedding({NUM_ITEMS}, {NUM_FACTORS}) fwd+bwd", f"b{batch}", scratch_step, torch_step,
                note="unique + bincount over the touched rows vs torch's embedding_backward")


def recommend_case(dtype, rng, k=10):
    users, items, ratings = synthetic_ratings(rng)
    model, twin = twins(dtype, rng)
    for m in (model, twin):
        m._remember(users, items, ratings, NUM_USERS, NUM_ITEMS, (0.5, 5.0))
    everyone = np.arange(NUM_USERS)
    return Case(f"recommend(all users, k={k})", f"{NUM_USERS} x {NUM_ITEMS}", lambda: model.recommend(everyone, k),
                lambda: twin.recommend(everyone, k), note="scores + seen mask + argpartition; shared mixin")


def cases(dtype=np.float32, quick=False, seed=0):
    """The recommender's benchmark cases, built with fresh weights and data from ``seed``."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    return [sgd_epoch_case(dtype, rng, quick), sparse_sgd_epoch_case(dtype, rng, quick), embedding_backward_case(dtype, rng),
            recommend_case(dtype, rng)]
