"""Project 1's ranking metrics against scikit-learn (NDCG, and MAP over the whole catalogue
as label ranking average precision), naive per-user loops, and hand-computed cases."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import sparse
from sklearn.metrics import label_ranking_average_precision_score, ndcg_score

from scratch import metrics


@st.composite
def rankings(draw, graded=False, every_user_relevant=True):
    """(scores (U, I) without ties, the ranking they give, relevance gains (U, I), k)."""
    num_users, num_items = draw(st.integers(1, 8), label="users"), draw(st.integers(2, 30), label="items")
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))
    scores = np.stack([rng.permutation(num_items) for _ in range(num_users)]).astype(np.float64)
    density = draw(st.floats(0.05, 0.9), label="density")
    gains = (rng.random((num_users, num_items)) < density) * (rng.integers(1, 5, (num_users, num_items)) if graded else 1)
    if every_user_relevant:
        empty = np.flatnonzero(gains.sum(axis=1) == 0)
        gains[empty, rng.integers(0, num_items, empty.size)] = 1
    elif not gains.any():
        gains[0, 0] = 1
    return scores, np.argsort(-scores, axis=1), gains.astype(np.float64), draw(st.integers(1, num_items), label="k")


def naive_metrics(ranking, gains, k):
    """Per-user loops, straight from the textbook definitions; users without relevant items skipped."""
    precision, recall, hit, average_precision = [], [], [], []
    for row, gain in zip(ranking, gains):
        relevant = set(np.flatnonzero(gain).tolist())
        if not relevant:
            continue
        hits = [item in relevant for item in row[:k]]
        precision.append(sum(hits) / k)
        recall.append(sum(hits) / len(relevant))
        hit.append(float(any(hits)))
        running = [sum(hits[:i + 1]) / (i + 1) for i in range(k) if hits[i]]
        average_precision.append(sum(running) / min(k, len(relevant)))
    return {"precision": np.mean(precision), "recall": np.mean(recall), "hit_rate": np.mean(hit),
            "map": np.mean(average_precision)}


@given(rankings(graded=True))
def test_ndcg_equals_sklearn_ndcg_score(case):
    scores, ranking, gains, k = case
    expected = ndcg_score(gains, scores, k=k)
    assert metrics.ndcg_at_k(ranking, sparse.csr_matrix(gains), k) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@given(rankings())
def test_map_over_the_catalogue_equals_sklearn_label_ranking_average_precision(case):
    scores, ranking, gains, _ = case
    num_items = gains.shape[1]
    expected = label_ranking_average_precision_score(gains > 0, scores)
    assert metrics.average_precision_at_k(ranking, sparse.csr_matrix(gains), num_items) == pytest.approx(expected, rel=1e-12)


@given(rankings(every_user_relevant=False))
def test_binary_metrics_match_naive_loops_for_lists_and_sparse_input(case):
    _, ranking, gains, k = case
    expected = naive_metrics(ranking, gains, k)
    as_lists = [np.flatnonzero(row) for row in gains]
    for relevant in (as_lists, sparse.csr_matrix(gains), sparse.coo_matrix(gains)):
        got = metrics.ranking_report(ranking, relevant, k, gains.shape[1])
        for name, value in expected.items():
            assert got[f"{name}@{k}"] == pytest.approx(value, rel=1e-12), name
        assert got[f"coverage@{k}"] == len(np.unique(ranking[:, :k])) / gains.shape[1]


@given(rankings(graded=True, every_user_relevant=False))
def test_users_without_relevant_items_are_left_out(case):
    _, ranking, gains, k = case
    evaluated = gains.sum(axis=1) > 0
    for name, metric in metrics.RANKING_METRICS.items():
        everyone = metric(ranking, sparse.csr_matrix(gains), k)
        assert everyone == pytest.approx(metric(ranking[evaluated], sparse.csr_matrix(gains[evaluated]), k), rel=1e-12), name


def test_hand_computed_case():
    ranking = np.array([[3, 1, 4, 0, 2], [0, 1, 2, 3, 4]])
    relevant = [np.array([1, 2]), np.array([4])]
    # user 0: hit at position 2 of 3; user 1: its one relevant item is ranked 5th
    assert metrics.precision_at_k(ranking, relevant, 3) == pytest.approx((1 / 3 + 0) / 2)
    assert metrics.recall_at_k(ranking, relevant, 3) == pytest.approx((1 / 2 + 0) / 2)
    assert metrics.hit_rate_at_k(ranking, relevant, 3) == 0.5
    assert metrics.average_precision_at_k(ranking, relevant, 3) == pytest.approx((1 / 2 / 2 + 0) / 2)
    discount = 1 / np.log2([2, 3, 4])
    assert metrics.ndcg_at_k(ranking, relevant, 3) == pytest.approx((discount[1] / (discount[0] + discount[1]) + 0) / 2)
    assert metrics.ndcg_at_k(ranking, relevant, 5) == pytest.approx(
        ((1 / np.log2(3) + 1 / np.log2(6)) / (1 + 1 / np.log2(3)) + 1 / np.log2(6)) / 2)
    assert metrics.catalogue_coverage(ranking, 10, k=2) == 0.3  # {3, 1} and {0, 1}
    assert metrics.catalogue_coverage(ranking, 5) == 1.0


def test_graded_gains_change_ndcg_only():
    ranking = np.array([[0, 1, 2]])
    binary, graded = sparse.csr_matrix([[0, 1.0, 1.0]]), sparse.csr_matrix([[0, 1.0, 3.0]])
    assert metrics.precision_at_k(ranking, binary, 2) == metrics.precision_at_k(ranking, graded, 2)
    assert metrics.ndcg_at_k(ranking, graded, 3) < metrics.ndcg_at_k(ranking, binary, 3)


@pytest.mark.parametrize("recommended, relevant, k, message", [
    (np.array([[0, 1]]), [np.array([1])], 3, r"k: expected at most the 2 items ranked per user, got 3"),
    (np.array([[0, 1]]), [np.array([1])], 0, r"k: expected a positive int, got 0"),
    (np.array([[0, 1]]), [np.array([1])], True, r"k: expected a positive int, got True"),
    (np.array([0, 1]), [np.array([1])], 1, r"recommended: expected int item indices \(users, ranked items\)"),
    (np.array([[0.0, 1.0]]), [np.array([1])], 1, r"recommended: expected int item indices"),
    (np.array([[1, 1, 2]]), [np.array([1])], 3, r"recommended: expected distinct items in each user's top 3, got repeats in rows \[0\]"),
    (np.array([[0, 7]]), sparse.csr_matrix(np.ones((1, 5))), 2, r"recommended: expected item indices in \[0, 5\), got range \[0, 7\]"),
    (np.array([[0, 1]]), [np.array([1]), np.array([0])], 1, r"relevant: expected one array of items per row of recommended \(1\), got 2"),
    (np.array([[0, 1]]), sparse.csr_matrix(np.ones((2, 2))), 1, r"relevant: expected a \(users, items\) = \(1, 2\) matrix, got \(2, 2\)"),
    (np.array([[0, 1]]), [np.array([])], 1, r"relevant: expected at least one user with a relevant item, got none"),
    (np.array([[0, 1]]), sparse.csr_matrix([[0, -1.0]]), 1, r"relevant: expected finite non-negative gains"),
])
def test_bad_input_is_refused_with_a_clear_message(recommended, relevant, k, message):
    with pytest.raises(ValueError, match=message):
        metrics.ndcg_at_k(recommended, relevant, k)


def test_bad_relevant_items_and_coverage_arguments():
    with pytest.raises(ValueError, match=r"relevant: expected item indices in \[0, 3\), got int64 in \[0, 9\]"):
        metrics.recall_at_k(np.array([[0, 1]]), [np.array([0, 9])], 1, num_items=3)
    with pytest.raises(ValueError, match=r"num_items: expected a positive int, got 0"):
        metrics.catalogue_coverage(np.array([[0, 1]]), 0)
    with pytest.raises(ValueError, match=r"k: expected an int in \[1, 2\] or None, got 3"):
        metrics.catalogue_coverage(np.array([[0, 1]]), 5, k=3)
    with pytest.raises(ValueError, match=r"recommended: expected item indices in \[0, 2\), got range \[0, 4\]"):
        metrics.catalogue_coverage(np.array([[0, 4]]), 2)
