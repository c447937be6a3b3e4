"""The sparse SGD loop twins (train.py): lockstep against torch's sparse embedding gradients, the
hand-written step against finite differences of the batch loss, and only touched rows moving."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.projects.recommender import model as torch_model
from reference.projects.recommender import train as torch_train
from scratch.projects.recommender import model as scratch_model
from scratch.projects.recommender import train
from scratch.projects.recommender.config import SparseSGDConfig
from twins.parity import FINITE_DIFFERENCE, BadInput, assert_bad_input, assert_close, assert_lockstep, dtypes, make_twins, seeds, tolerance

from .test_model import random_ratings


def mf_twins(num_users, num_items, num_factors, biased, dtype, seed):
    return make_twins(scratch_model.MatrixFactorization, torch_model.MatrixFactorization, seed, dtype, 0.3,
                      num_users=num_users, num_items=num_items, num_factors=num_factors, biased=biased)


@settings(max_examples=25)
@given(batch_size=st.integers(1, 40), reg=st.sampled_from([0.0, 0.05, 0.5]), biased=st.booleans(), dtype=dtypes, seed=seeds)
def test_lockstep_with_torch_sparse_gradients(batch_size, reg, biased, dtype, seed):
    """Same weights, batches, lr and penalty for 3 epochs: the same losses and weights."""
    rng = np.random.default_rng(seed)
    users, items, ratings = random_ratings(rng, 6, 9, density=0.6)
    model, twin = mf_twins(6, 9, 3, biased, dtype, seed)
    config = SparseSGDConfig(lr=0.05, reg=reg, batch_size=batch_size, num_epochs=3, patience=3, seed=seed)
    train.fit(model, users, items, ratings, config=config)
    torch_train.fit(twin, users, items, ratings, config=config)
    assert_lockstep(model.history_, twin.history_, model, twin, *tolerance(dtype, "train", reduction=len(ratings)))
    np.testing.assert_allclose(model.predict(users, items), twin.predict(users, items), rtol=1e-4 if dtype == np.float32 else 1e-10)


def batch_loss(model, X, y, reg):
    """The objective sgd_step descends, written out plainly: the batch-mean squared error plus the
    batch-mean penalty of the gathered rows."""
    rows = [table.weight.data[index] for table, index in train.gathered_tables(model, X)]
    y_hat = model.global_mean + (rows[0] * rows[1]).sum(axis=1) + sum(b[:, 0] for b in rows[2:])
    return np.mean((y_hat - y) ** 2) + reg * np.mean(sum((row ** 2).sum(axis=1) for row in rows))


@given(biased=st.booleans(), seed=seeds)
def test_the_hand_written_step_is_the_gradient_of_the_batch_loss(biased, seed):
    """(weights before - after) / lr against float64 central differences of the batch loss, on
    every entry of every table: rows the batch did not touch must not move at all."""
    rng = np.random.default_rng(seed)
    model = mf_twins(4, 5, 2, biased, np.float64, seed)[0]
    X = np.stack([rng.integers(0, 4, 7), rng.integers(0, 5, 7)], axis=1)  # repeated users and items
    y = rng.uniform(0.5, 5.0, 7)
    lr, reg, eps = 0.1, 0.3, FINITE_DIFFERENCE["eps"]
    tables = [table.weight.data for table, _ in train.gathered_tables(model, X)]
    before = [w.copy() for w in tables]
    numeric = []
    for weight in tables:
        grad = np.zeros_like(weight)
        for index in np.ndindex(weight.shape):
            original = weight[index]
            weight[index] = original + eps
            plus = batch_loss(model, X, y, reg)
            weight[index] = original - eps
            minus = batch_loss(model, X, y, reg)
            weight[index] = original
            grad[index] = (plus - minus) / (2 * eps)
        numeric.append(grad)
    loss = train.sgd_step(model, X, y, lr, reg)
    assert loss == pytest.approx(batch_loss_of(before, model, X, y, reg), rel=1e-12)
    for name, old, weight, grad in zip(("user_factors", "item_factors", "user_bias", "item_bias"), before, tables, numeric):
        assert_close((old - weight) / lr, grad, f"step of {name}", FINITE_DIFFERENCE["rtol"], FINITE_DIFFERENCE["atol"])


def batch_loss_of(weights, model, X, y, reg):
    """batch_loss with the tables set to ``weights`` (restored after)."""
    tables = [table.weight.data for table, _ in train.gathered_tables(model, X)]
    current = [w.copy() for w in tables]
    for table, weight in zip(tables, weights):
        table[...] = weight
    try:
        return batch_loss(model, X, y, reg)
    finally:
        for table, weight in zip(tables, current):
            table[...] = weight


def test_a_real_run_learns_and_keeps_the_best_epoch():
    rng = np.random.default_rng(0)
    users, items, ratings = random_ratings(rng, 30, 20, density=0.4)
    model = scratch_model.MatrixFactorization(30, 20, 4, rng=rng)
    train.fit(model, users, items, ratings, config=SparseSGDConfig(lr=0.5, reg=0.01, batch_size=32, num_epochs=40, patience=40))
    history = model.history_
    assert history["train_loss"][-1] < 0.7 * history["train_loss"][0]
    assert history["best_epoch"] == 1 + int(np.argmin(history["val_loss"]))


CASES = [
    BadInput("lr zero", lambda: SparseSGDConfig(lr=0), ValueError, "lr", r"expected a positive number, got 0"),
    BadInput("lr a string", lambda: SparseSGDConfig(lr="1"), TypeError, "lr", r"expected a positive number, got str '1'"),
    BadInput("lr NaN", lambda: SparseSGDConfig(lr=float("nan")), ValueError, "lr", r"expected a positive number, got nan"),
    BadInput("lr infinite", lambda: SparseSGDConfig(lr=float("inf")), ValueError, "lr", r"expected a positive number, got inf"),
    BadInput("seed negative", lambda: SparseSGDConfig(seed=-1), ValueError, "seed", r"expected an int >= 0, got -1"),
    BadInput("reg negative", lambda: SparseSGDConfig(reg=-0.1), ValueError, "reg", r"expected a non-negative number, got -0.1"),
    BadInput("batch_size a bool", lambda: SparseSGDConfig(batch_size=True), ValueError, "batch_size", r"expected a positive int, got True"),
    BadInput("num_epochs zero", lambda: SparseSGDConfig(num_epochs=0), ValueError, "num_epochs", r"expected a positive int, got 0"),
    BadInput("a table of another size", lambda: train.fit(scratch_model.MatrixFactorization(3, 4, 2), [0], [1], [3.0], num_users=5),
             ValueError, "num_users", r"expected the model's \(3, 4\), got \(5, 4\)"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case):
    assert_bad_input(case)
