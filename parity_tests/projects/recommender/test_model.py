"""Recommender: the shared mixin (recommend, predict, the input validator), matrix
factorisation vs its torch twin (forward, gradients, finite differences, lockstep SGD) and
ALS against a direct least-squares solve."""
import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from reference.projects.recommender import model as reference_rec
from scratch.plumbing import TrainingConfig
from scratch.projects.recommender import model as scratch_rec
from scratch.projects.recommender.base import Recommender, check_ratings
from twins.parity import assert_close, assert_lockstep, compare_modules, copy_to_torch, dtypes, finite_difference_check, make_twins, randomise, seeds, tolerance


class FixedScores(Recommender):
    """A recommender whose scores are a given (num_users, num_items) table."""

    def __init__(self, table):
        self.table = table

    def fit(self, users, items, ratings, rating_scale=(0.5, 5.0)):
        self._remember(users, items, ratings, *self.table.shape, rating_scale)
        return self

    def score_all(self, users):
        return self.table[users]


def random_ratings(rng, num_users, num_items, density=0.3, scale=(0.5, 5.0)):
    """Distinct (user, item) pairs with half-star ratings; some users may have none."""
    mask = rng.random((num_users, num_items)) < density
    users, items = np.nonzero(mask)
    ratings = rng.integers(int(2 * scale[0]), int(2 * scale[1]) + 1, len(users)) / 2
    return users.astype(np.int64), items.astype(np.int64), ratings


@given(seed=seeds, num_users=st.integers(1, 12), num_items=st.integers(2, 15), k=st.integers(1, 15),
       exclude_seen=st.booleans(), chunk=st.sampled_from([1, 3, 1024]))
def test_recommend_matches_a_full_sort(seed, num_users, num_items, k, exclude_seen, chunk):
    with pytest.MonkeyPatch.context() as patch:  # small chunks exercise the batching
        patch.setattr("scratch.projects.recommender.base.RECOMMEND_CHUNK", chunk)
        check_recommend(seed, num_users, num_items, k, exclude_seen)


def check_recommend(seed, num_users, num_items, k, exclude_seen):
    rng = np.random.default_rng(seed)
    table = rng.permutation(num_users * num_items).reshape(num_users, num_items).astype(np.float64)  # no ties
    users, items, ratings = random_ratings(rng, num_users, num_items)
    if len(users) == 0:
        users, items, ratings = np.array([0]), np.array([0]), np.array([3.0])
    model = FixedScores(table).fit(users, items, ratings)
    seen = np.zeros((num_users, num_items), bool)
    seen[users, items] = True
    candidates = num_items - (seen.sum(axis=1).max() if exclude_seen else 0)
    if k > candidates:
        with pytest.raises(ValueError, match=r"k: expected an int in \[1, "):
            model.recommend(np.arange(num_users), k, exclude_seen)
        return
    top = model.recommend(np.arange(num_users), k, exclude_seen)
    assert top.shape == (num_users, k) and top.dtype == np.int64
    popularity = np.argsort(-np.bincount(items, minlength=num_items), kind="stable")
    for user in range(num_users):
        if not seen[user].any():  # cold start: the popularity ranking
            np.testing.assert_array_equal(top[user], popularity[:k])
            continue
        scores = np.where(seen[user] & exclude_seen, -np.inf, table[user])
        np.testing.assert_array_equal(top[user], np.argsort(-scores, kind="stable")[:k])
        np.testing.assert_array_equal(model.recommend(user, k, exclude_seen), top[user])
        if exclude_seen:
            assert not seen[user, top[user]].any()


def test_recommend_state_and_predict_clip():
    table = np.array([[9.0, -3.0, 4.0, 1.0], [0.0, 2.0, 1.0, 3.0], [1.0, 2.0, 3.0, 4.0]])
    users, items, ratings = np.array([0, 0, 1, 1]), np.array([0, 2, 2, 3]), np.array([4.0, 1.5, 2.0, 5.0])
    model = FixedScores(table).fit(users, items, ratings)
    assert model.seen_.shape == (3, 4) and model.seen_.nnz == 4 and model.seen_[0, 2] == 1.5
    np.testing.assert_array_equal(model.popularity_, [2, 0, 3, 1])
    np.testing.assert_array_equal(model.recommend(0, 2), [3, 1])
    np.testing.assert_array_equal(model.recommend(0, 2, exclude_seen=False), [0, 2])
    np.testing.assert_array_equal(model.recommend(2, 3), [2, 0, 3])  # user 2 rated nothing: popularity
    np.testing.assert_array_equal(model.recommend(np.array([-1, 0]), 2), [[2, 0], [3, 1]])  # -1: an unknown raw id
    np.testing.assert_array_equal(model.predict(np.array([0, 0, 1]), np.array([0, 1, 3])), [5.0, 0.5, 3.0])


def test_recommend_and_predict_errors():
    model = FixedScores(np.zeros((3, 4)))
    with pytest.raises(RuntimeError, match="call fit"):
        model.recommend(0)
    model.fit(np.array([0, 0, 1]), np.array([0, 1, 2]), np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"users: expected indices in \[0, 3\), got 3 at position 1"):
        model.recommend(np.array([0, 3]))
    with pytest.raises(ValueError, match=r"users: expected indices in \[0, 3\), got -2"):
        model.recommend(-2)
    with pytest.raises(ValueError, match=r"users: expected indices in \[0, 3\), got -1"):
        model.predict(np.array([-1]), np.array([0]))
    with pytest.raises(ValueError, match=r"k: expected an int in \[1, 2\] \(the candidate items, less the seen ones\), got 3"):
        model.recommend(np.array([0, 2]), k=3)
    with pytest.raises(ValueError, match=r"k: expected an int in \[1, 4\] \(the candidate items\), got 5"):
        model.recommend(0, k=5, exclude_seen=False)
    with pytest.raises(ValueError, match=r"k: .* got 0"):
        model.recommend(0, k=0)
    with pytest.raises(ValueError, match=r"items: expected indices in \[0, 4\), got 4"):
        model.predict(np.array([0]), np.array([4]))
    with pytest.raises(ValueError, match="users: expected integer indices, got dtype float64"):
        model.predict(np.array([0.0]), np.array([1]))
    with pytest.raises(ValueError, match=r"users, items: expected two 1-d arrays of one length, got \(2,\) and \(1,\)"):
        model.predict(np.array([0, 1]), np.array([1]))


@pytest.mark.parametrize("users, items, ratings, message", [
    ([], [], [], "ratings: expected at least one rating, got an empty table"),
    ([0, 1], [0], [1.0, 2.0], "users, items, ratings: expected one length, got 2, 1, 2"),
    ([[0]], [0], [1.0], r"users: expected a 1-d array, got shape \(1, 1\)"),
    ([0, 5], [0, 1], [1.0, 2.0], r"users: expected indices in \[0, 3\), got 5 at position 1"),
    ([0, 1], [-1, 1], [1.0, 2.0], r"items: expected indices in \[0, 4\), got -1 at position 0"),
    ([0, 1], [0, 1], [1.0, 5.5], r"ratings: expected values in \[0.5, 5\] \(rating_scale\), got 5.5 at position 1"),
    ([0, 1], [0, 1], [np.nan, 2.0], r"ratings: expected values in \[0.5, 5\] \(rating_scale\), got nan at position 0"),
    ([0, 1, 0], [2, 1, 2], [1.0, 2.0, 3.0], r"users, items: expected each \(user, item\) pair once, got \(0, 2\) 2 times"),
    ([0.0], [0], [1.0], "users: expected integer indices, got dtype float64"),
    ([0], [0], ["a"], "ratings: expected real numbers, got dtype <U1"),
])
def test_check_ratings_names_the_problem(users, items, ratings, message):
    with pytest.raises(ValueError, match=message):
        check_ratings(np.array(users), np.array(items), np.array(ratings), 3, 4)


def test_check_ratings_arguments():
    one = (np.array([0]), np.array([0]), np.array([1.0]))
    with pytest.raises(ValueError, match="num_users: expected a positive int, got 0"):
        check_ratings(*one, 0, 4)
    with pytest.raises(ValueError, match=r"rating_scale: expected \(low, high\) with low < high, got \(5, 1\)"):
        check_ratings(*one, 3, 4, rating_scale=(5, 1))
    users, items, ratings = check_ratings(np.array([2], np.int32), np.array([3], np.int16), np.array([4]), 3, 4)
    assert (users.dtype, items.dtype, ratings.dtype) == (np.int64, np.int64, np.float64)


def twins(num_users, num_items, num_factors, biased, dtype, rng, scale=1.0):
    """A scratch MatrixFactorization with every weight and the global mean random, and its torch twin."""
    return make_twins(scratch_rec.MatrixFactorization, reference_rec.MatrixFactorization, int(rng.integers(2**32)), dtype,
                      scale, num_users=num_users, num_items=num_items, num_factors=num_factors, biased=biased)


def pairs_with_repeats(rng, num_users, num_items, batch):
    """(B, 2) [user, item] drawn from few users and items, so rows repeat: the scatter-add case."""
    return np.stack([rng.integers(0, num_users, batch), rng.integers(0, num_items, batch)], axis=1)


@given(num_users=st.integers(1, 6), num_items=st.integers(1, 6), num_factors=st.integers(1, 5),
       batch=st.integers(1, 20), biased=st.booleans(), dtype=dtypes, seed=seeds)
def test_matrix_factorization_matches_torch(num_users, num_items, num_factors, batch, biased, dtype, seed):
    rng = np.random.default_rng(seed)
    model, twin = twins(num_users, num_items, num_factors, biased, dtype, rng)
    assert list(model.state_dict()) == list(twin.state_dict())
    X = pairs_with_repeats(rng, num_users, num_items, batch)
    compare_modules(model, twin, (X,), rng, "MatrixFactorization", reduction=batch * num_factors)


@given(num_factors=st.integers(1, 4), biased=st.booleans(), seed=seeds)
def test_matrix_factorization_finite_differences(num_factors, biased, seed):
    rng = np.random.default_rng(seed)
    model = randomise(scratch_rec.MatrixFactorization(4, 5, num_factors, biased, dtype=np.float64, rng=rng), rng)
    finite_difference_check(model, (pairs_with_repeats(rng, 4, 5, 12),), rng)


@given(batch_size=st.integers(1, 16), weight_decay=st.sampled_from([0.0, 1e-3, 0.1]), biased=st.booleans(),
       optimizer=st.sampled_from(["sgd", "adam"]), seed=seeds)
def test_lockstep_training_matches_torch(batch_size, weight_decay, biased, optimizer, seed):
    rng = np.random.default_rng(seed)
    users, items, ratings = random_ratings(rng, 5, 7, density=0.5)
    assume(len(ratings) > 0)
    model, twin = twins(5, 7, 3, biased, np.float64, rng, scale=0.3)
    config = TrainingConfig(optimizer=optimizer, lr=0.02, weight_decay=weight_decay, batch_size=batch_size, num_epochs=3,
                            seed=seed)
    model.fit(users, items, ratings, config=config)
    twin.fit(users, items, ratings, config=config)
    assert_lockstep(model.history_, twin.history_, model, twin, *tolerance(np.float64, "train"))
    np.testing.assert_allclose(model.predict(users, items), twin.predict(users, items), rtol=1e-8)
    np.testing.assert_array_equal(model.recommend(np.arange(5), 2, False), twin.recommend(np.arange(5), 2, False))


def test_matrix_factorization_fit_predict_recommend():
    rng = np.random.default_rng(0)
    users, items, ratings = random_ratings(rng, 30, 20, density=0.4)
    config = TrainingConfig(optimizer="sgd", lr=0.1, batch_size=32, num_epochs=40, patience=40, lr_schedule="constant")
    model = scratch_rec.MatrixFactorization(30, 20, 4, rng=rng).fit(users, items, ratings, config=config)
    assert model.global_mean == pytest.approx(ratings.mean())
    assert model.history_["train_loss"][-1] < 0.7 * model.history_["train_loss"][0]  # it learns
    y_hat = model.predict(users, items)
    assert y_hat.min() >= 0.5 and y_hat.max() <= 5.0
    raw = model(np.stack([users, items], axis=1))
    np.testing.assert_allclose(y_hat, np.clip(raw, 0.5, 5.0))
    np.testing.assert_allclose(model.score_all(users)[np.arange(len(users)), items], raw, rtol=1e-5)
    top = model.recommend(np.arange(30), 5)
    assert not model.seen_.toarray()[np.arange(30)[:, None], top].any()


def test_matrix_factorization_errors():
    model = scratch_rec.MatrixFactorization(3, 4, 2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"X: expected an int array \(B, 2\) of \[user, item\] pairs, got ndarray of shape \(3,\)"):
        model(np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"X\[:, 1\] \(items\): expected indices in \[0, 4\), got 4 at position 1"):
        model(np.array([[0, 1], [2, 4]]))
    with pytest.raises(ValueError, match=r"num_users, num_items: expected the model's \(3, 4\), got \(5, 4\)"):
        model.fit(np.array([0]), np.array([0]), np.array([1.0]), num_users=5)
    with pytest.raises(ValueError, match=r"ratings: expected values in \[1, 5\]"):
        model.fit(np.array([0]), np.array([0]), np.array([0.5]), rating_scale=(1, 5))
    with pytest.raises(ValueError, match="num_factors: expected a positive int, got 0"):
        scratch_rec.MatrixFactorization(3, 4, 0)
    with pytest.raises(ValueError, match=r"items: expected indices in \[0, 4\), got 9"):
        model.fit(np.array([0]), np.array([0]), np.array([1.0]), validation=(np.array([0]), np.array([9]), np.array([1.0])))


@given(num_rows=st.integers(1, 6), num_cols=st.integers(1, 8), D=st.integers(1, 5), density=st.floats(0.0, 1.0),
       reg=st.floats(1e-3, 10.0), seed=seeds)
def test_ridge_solve_matches_least_squares(num_rows, num_cols, D, density, reg, seed):
    rng = np.random.default_rng(seed)
    rows, cols = np.nonzero(rng.random((num_rows, num_cols)) < density)
    targets, design = rng.standard_normal(len(rows)), rng.standard_normal((num_cols, D))
    solution = scratch_rec.ridge_solve(rows, cols, targets, design, num_rows, reg)
    torch_solution = reference_rec.ridge_solve(rows, cols, torch.from_numpy(targets), torch.from_numpy(design), num_rows, reg)
    assert_close(solution, torch_solution, "ridge_solve vs torch", *tolerance(np.float64, "forward"))
    for row in range(num_rows):  # the same ridge problem as one stacked least-squares system
        A = np.vstack([design[cols[rows == row]], np.sqrt(reg) * np.eye(D)])
        b = np.concatenate([targets[rows == row], np.zeros(D)])
        expected = np.linalg.lstsq(A, b, rcond=None)[0]
        assert_close(solution[row], expected, f"ridge_solve row {row} vs lstsq", 1e-8, 1e-10)


@given(biased=st.booleans(), seed=seeds, data=st.data())
def test_als_step_matches_torch_and_never_raises_the_objective(biased, seed, data):
    rng = np.random.default_rng(seed)
    users, items, ratings = random_ratings(rng, 6, 9, density=0.4)
    assume(len(ratings) > 1)
    als = scratch_rec.ALS(num_factors=3, reg=0.5, num_iters=3, biased=biased, rng=rng).fit(users, items, ratings, 6, 9)
    assert all(b <= a * (1 + 1e-12) for a, b in zip(als.history_, als.history_[1:])), als.history_
    twin_als = reference_rec.ALS(num_factors=3, reg=0.5, biased=biased)
    twin_als.model_ = copy_to_torch(als.model_, reference_rec.MatrixFactorization(6, 9, 3, biased, dtype=torch.float64))
    centred = ratings - ratings.mean()
    bias = (lambda model, name: getattr(model, name, None))
    for twin, model, array in ((als, als.model_, centred), (twin_als, twin_als.model_, torch.from_numpy(centred))):
        with torch.no_grad():  # one more iteration on both twins from the same state
            twin._half_step(model.user_factors, bias(model, "user_bias"), users, model.item_factors, bias(model, "item_bias"), items, array)
            twin._half_step(model.item_factors, bias(model, "item_bias"), items, model.user_factors, bias(model, "user_bias"), users, array)
    for key, value in twin_als.model_.state_dict().items():
        assert_close(als.model_.state_dict()[key], value, f"ALS step: {key}", *tolerance(np.float64, "train"))
    assert als.predict(users, items).shape == users.shape
    candidates = 9 - int(np.sum(users == 0))  # user 0's unseen items
    if candidates == 0:
        with pytest.raises(ValueError, match=r"k: expected an int in \[1, 0\]"):
            als.recommend(0, 1)
        return
    k = data.draw(st.integers(1, candidates), label="k")
    top = als.recommend(0, k)
    assert top.shape == (k,) and not np.isin(top, items[users == 0]).any()


def test_als_errors_and_fit_quality():
    rng = np.random.default_rng(1)
    with pytest.raises(ValueError, match="reg: expected a positive number"):
        scratch_rec.ALS(reg=0.0).fit(np.array([0]), np.array([0]), np.array([1.0]), 1, 1)
    with pytest.raises(ValueError, match="num_iters: expected a positive int, got 0"):
        scratch_rec.ALS(num_iters=0).fit(np.array([0]), np.array([0]), np.array([1.0]), 1, 1)
    true_users, true_items = rng.standard_normal((40, 2)), rng.standard_normal((30, 2))
    users, items, _ = random_ratings(rng, 40, 30, density=0.5)
    ratings = np.clip(3 + np.sum(true_users[users] * true_items[items], axis=1), 0.5, 5.0)  # rank-2 ratings
    als = scratch_rec.ALS(num_factors=2, reg=0.1, num_iters=20, rng=rng).fit(users, items, ratings, 40, 30)
    assert np.sqrt(np.mean((als.predict(users, items) - ratings) ** 2)) < 0.25
