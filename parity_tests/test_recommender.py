"""Recommender: the shared mixin (recommend, predict, the input validator), matrix
factorisation vs its torch twin (forward, gradients, finite differences, lockstep SGD) and
ALS against a direct least-squares solve."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import reference.recommender as reference_rec
import scratch.recommender as scratch_rec
from scratch.recommender import Recommender, check_ratings

from .harness import assert_close, compare_modules, copy_to_torch, dtypes, finite_difference_check, randomise, seeds

TORCH_DTYPE = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


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
        patch.setattr("scratch.recommender.RECOMMEND_CHUNK", chunk)
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
    np.testing.assert_array_equal(model.predict(np.array([0, 0, 1]), np.array([0, 1, 3])), [5.0, 0.5, 3.0])


def test_recommend_and_predict_errors():
    model = FixedScores(np.zeros((3, 4)))
    with pytest.raises(RuntimeError, match="call fit"):
        model.recommend(0)
    model.fit(np.array([0, 0, 1]), np.array([0, 1, 2]), np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"users: expected indices in \[0, 3\), got 3 at position 1"):
        model.recommend(np.array([0, 3]))
    with pytest.raises(ValueError, match=r"users: expected indices in \[0, 3\), got -1"):
        model.recommend(-1)
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


def twins(num_users, num_items, num_factors, biased, dtype, rng):
    """A scratch MatrixFactorization with every weight and the global mean random, and its torch twin."""
    model = randomise(scratch_rec.MatrixFactorization(num_users, num_items, num_factors, biased, dtype=dtype, rng=rng), rng)
    twin = reference_rec.MatrixFactorization(num_users, num_items, num_factors, biased, dtype=TORCH_DTYPE[np.dtype(dtype)])
    return model, copy_to_torch(model, twin)


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
