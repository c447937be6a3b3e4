"""Project 18: the three ways of dealing the training set to clients."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratch.projects.federated import data
from twins.parity import seeds


def labels(num_classes, per_class, seed):
    return np.random.default_rng(seed).permutation(np.repeat(np.arange(num_classes), per_class))


def assert_partition(shards, n):
    """Every sample goes to exactly one client."""
    np.testing.assert_array_equal(np.sort(np.concatenate(shards)), np.arange(n))


@settings(max_examples=15)
@given(num_clients=st.integers(1, 30), n=st.integers(30, 300), seed=seeds)
def test_iid_deals_everything_in_near_equal_parts(num_clients, n, seed):
    y = np.random.default_rng(seed).integers(0, 10, n)
    shards = data.iid(y, num_clients, np.random.default_rng(seed))
    assert_partition(shards, n)
    sizes = [len(s) for s in shards]
    assert len(sizes) == num_clients and max(sizes) - min(sizes) <= 1


def test_pathological_is_mcmahans_200_shards_of_sorted_labels():
    """100 clients x 2 shards of a 10-class set of 60 per class: shards of 30 of one label, so each client holds at most 2 labels."""
    y = labels(10, 60, 0)
    shards = data.pathological(y, 100, 2, np.random.default_rng(0))
    assert_partition(shards, len(y))
    assert {len(s) for s in shards} == {6}
    classes_per_client = (data.label_histogram(shards, y, 10) > 0).sum(axis=1)
    assert classes_per_client.max() <= 2 and (classes_per_client == 2).mean() > 0.5


@settings(max_examples=10)
@given(num_clients=st.integers(5, 20), shards_per_client=st.integers(1, 3), seed=seeds)
def test_pathological_shards_hold_one_label_where_the_sort_allows(num_clients, shards_per_client, seed):
    y = labels(5, 40, seed)
    shards = data.pathological(y, num_clients, shards_per_client, np.random.default_rng(seed))
    assert_partition(shards, len(y))
    # with at least as many shards as labels a shard is no longer than a label's run, so it straddles at most
    # one boundary of the sorted labels: at most 2 labels a shard
    assert (data.label_histogram(shards, y, 5) > 0).sum(axis=1).max() <= 2 * shards_per_client


def test_dirichlet_skew_grows_as_alpha_shrinks():
    y = labels(10, 200, 1)
    spread = {}
    for alpha in data.DIRICHLET_ALPHAS:
        shards = data.dirichlet(y, 20, alpha, np.random.default_rng(0))
        assert_partition(shards, len(y))
        histogram = data.label_histogram(shards, y, 10)
        np.testing.assert_array_equal(histogram.sum(axis=0), np.bincount(y))
        spread[alpha] = (histogram / histogram.sum(axis=1, keepdims=True)).max(axis=1).mean()  # the main label's share
    assert spread[0.1] > spread[0.5] > spread[10.0]
    assert spread[10.0] < 0.3 and spread[0.1] > 0.5


@settings(max_examples=10)
@given(alpha=st.floats(0.05, 20), seed=seeds)
def test_dirichlet_follows_the_drawn_shares(alpha, seed):
    """Each class is cut at its shares' cumulative sums: the counts differ from n_c p_ck by at most one."""
    y = labels(4, 50, seed)
    shards = data.dirichlet(y, 5, alpha, np.random.default_rng(seed), min_size=0)
    rng = np.random.default_rng(seed)
    rng.permutation(len(y))
    shares = rng.dirichlet(np.full(5, alpha), size=4)  # the same first draw
    histogram = data.label_histogram(shards, y, 4)
    assert np.abs(histogram.T - 50 * shares).max() <= 1 + 1e-9


def test_splits_repeat_for_a_seed():
    y = labels(10, 30, 2)
    for name in ("iid", "pathological", "dirichlet"):
        first, second = (data.split(name, y, 10, np.random.default_rng(7)) for _ in range(2))
        assert all(np.array_equal(a, b) for a, b in zip(first, second))


def test_an_impossible_dirichlet_minimum_is_refused():
    with pytest.raises(ValueError, match="min_size: no Dirichlet"):
        data.dirichlet(labels(2, 10, 0), 10, 0.1, np.random.default_rng(0), min_size=3)
