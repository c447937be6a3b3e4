"""Recommender baselines: similarities against scikit-learn's cosine_similarity and a direct
Pearson, kNN predictions against the formula evaluated one pair at a time, the truncated SVD
against its scipy twin, popularity and the damped biases against their definitions, recommend's
seen-item masking, and bad input."""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sklearn.metrics.pairwise import cosine_similarity

from reference.projects.recommender import baselines as ref
from scratch.projects.recommender import baselines as rb
from twins.parity import assert_close, seeds, tolerance

from .test_model import random_ratings

TIGHT = tolerance(np.float64, "forward")  # sums of a few products
SOLVE = tolerance(np.float64, "grad")  # through a Gram-matrix eigendecomposition or ARPACK


def ratings_table(seed, num_users, num_items, density):
    """Random half-star ratings with at least one, and the dense (num_users, num_items) table, NaN where missing."""
    rng = np.random.default_rng(seed)
    users, items, ratings = random_ratings(rng, num_users, num_items, density)
    if len(users) == 0:
        users, items, ratings = np.array([0]), np.array([num_items - 1]), np.array([3.5])
    table = np.full((num_users, num_items), np.nan)
    table[users, items] = ratings
    return users, items, ratings, table


sizes = dict(seed=seeds, num_users=st.integers(1, 9), num_items=st.integers(1, 11),
             density=st.sampled_from([0.15, 0.4, 0.8]))


def entity_rows(table, kind):
    return table if kind == "user" else table.T


def direct_pearson(rows):
    """The centred cosine, pair by pair: sum over co-rated (r_e - mu_e)(r_f - mu_f) over the
    norms of each row's own centred ratings; 0 where a norm is 0."""
    centred = rows - np.nanmean(np.where(np.isnan(rows).all(axis=1, keepdims=True), 0.0, rows), axis=1, keepdims=True)
    n = len(rows)
    expected = np.zeros((n, n))
    for e in range(n):
        for f in range(n):
            both = ~np.isnan(rows[e]) & ~np.isnan(rows[f])
            norm_e = np.sqrt(np.nansum(centred[e] ** 2))
            norm_f = np.sqrt(np.nansum(centred[f] ** 2))
            if norm_e > 0 and norm_f > 0:
                expected[e, f] = np.sum(centred[e, both] * centred[f, both]) / (norm_e * norm_f)
    return expected


@given(**sizes, kind=st.sampled_from(["user", "item"]))
def test_similarities_match_sklearn_and_direct_pearson(seed, num_users, num_items, density, kind):
    users, items, ratings, table = ratings_table(seed, num_users, num_items, density)
    rows = entity_rows(table, kind)
    for similarity, expected in (("cosine", cosine_similarity(np.nan_to_num(rows))), ("pearson", direct_pearson(rows))):
        for module in (rb, ref):
            model = module.KNNRecommender(kind, similarity).fit(users, items, ratings, num_users, num_items)
            assert_close(model.similarity_, expected, f"{module.__name__} {kind} {similarity} similarity_", *TIGHT)


def direct_knn(table, similarity, kind, k):
    """The documented kNN formula for every (user, item) pair, one at a time."""
    rows = entity_rows(table, kind)
    global_mean = np.nanmean(table)
    means = np.array([np.nanmean(row) if not np.isnan(row).all() else global_mean for row in rows])
    y_hat = np.empty(rows.shape)
    for e in range(rows.shape[0]):
        for o in range(rows.shape[1]):
            raters = [f for f in range(rows.shape[0]) if f != e and not np.isnan(rows[f, o])]
            nearest = sorted(raters, key=lambda f: (-similarity[e, f], f))[:k]
            nearest = [f for f in nearest if similarity[e, f] > 0]
            weights = np.array([similarity[e, f] for f in nearest])
            deviations = np.array([rows[f, o] - means[f] for f in nearest])
            y_hat[e, o] = means[e] + (weights @ deviations / weights.sum() if nearest else 0.0)
    return y_hat if kind == "user" else y_hat.T


@given(**sizes, kind=st.sampled_from(["user", "item"]), similarity=st.sampled_from(["cosine", "pearson"]),
       k=st.integers(1, 5), min_support=st.sampled_from([1, 2]), budget=st.sampled_from([1, 7, 1 << 22]))
def test_knn_predictions_match_the_formula_pair_by_pair(seed, num_users, num_items, density, kind, similarity, k,
                                                        min_support, budget):
    users, items, ratings, table = ratings_table(seed, num_users, num_items, density)
    with pytest.MonkeyPatch.context() as patch:  # small budgets exercise the blocks
        patch.setattr("scratch.projects.recommender.baselines.NEIGHBOUR_BUDGET", budget)
        model = rb.KNNRecommender(kind, similarity, k, min_support).fit(users, items, ratings, num_users, num_items)
        scores = model.score_all(np.arange(num_users))
        rng = np.random.default_rng(seed)
        query_users, query_items = rng.integers(0, num_users, 20), rng.integers(0, num_items, 20)
        predicted = model.predict(query_users, query_items)
    if min_support > 1:  # pairs with one co-rated other lose their similarity
        present = ~np.isnan(entity_rows(table, kind))
        support = present.astype(int) @ present.T.astype(int)
        assert np.all(model.similarity_[(support > 0) & (support < min_support)] == 0)
    expected = direct_knn(table, model.similarity_, kind, k)
    assert_close(scores, expected, f"{kind} {similarity} k={k} score_all", *TIGHT)
    assert_close(predicted, np.clip(expected[query_users, query_items], 0.5, 5.0), "predict", *TIGHT)


def test_knn_known_values():
    # users 0 and 1 agree on items 0-1, user 2 is opposite; user 0 has not rated item 2
    users, items = np.array([0, 0, 1, 1, 1, 2, 2, 2]), np.array([0, 1, 0, 1, 2, 0, 1, 2])
    ratings = np.array([5.0, 1.0, 4.0, 2.0, 5.0, 1.0, 5.0, 1.0])
    model = rb.KNNRecommender("user", "pearson", k=2).fit(users, items, ratings, 3, 3)
    assert model.similarity_[0, 1] > 0 > model.similarity_[0, 2]  # only user 1 counts for user 0
    np.testing.assert_allclose(model.predict(np.array([0]), np.array([2])), [3.0 + (5.0 - 11 / 3)])
    # users 1 and 2 tie for user 0 (the same norm, the same rating of item 0): k=1 takes the lower index
    users, items = np.array([0, 1, 1, 1, 2, 2, 2]), np.array([0, 0, 1, 2, 0, 1, 2])
    ratings = np.array([4.0, 2.0, 1.0, 3.0, 2.0, 3.0, 1.0])
    model = rb.KNNRecommender("user", "cosine", k=1).fit(users, items, ratings, 3, 3)
    assert model.similarity_[0, 1] == model.similarity_[0, 2]
    np.testing.assert_allclose(model.predict(np.array([0, 0]), np.array([1, 2])), [4.0 + (1.0 - 2.0), 4.0 + (3.0 - 2.0)])


TIE = 1e-6  # singular values closer than TIE * s_1 count as one repeated value


def assert_same_components(components, expected, spectrum):
    """Rows of Vt (f, n) against the twin's: a repeated singular value's rows may be any orthonormal basis
    of their subspace, so each group of tied values compares its projector Vt_g^T Vt_g; the rows of a
    distinct value are unique up to sign (fixed by svd_flip) and compare element by element."""
    group = np.concatenate([[0], np.cumsum(spectrum[:-1] - spectrum[1:] > TIE * spectrum[0])])  # (f,)
    members = group[:, None] == np.arange(group[-1] + 1)  # (f, groups) one-hot
    projectors = [np.einsum("rg,ri,rj->gij", members, rows, rows) for rows in (components, expected)]
    assert_close(*projectors, f"components_ subspaces (singular values {spectrum})", *SOLVE)
    alone = members[:, members.sum(axis=0) == 1].any(axis=1)  # (f,) rows whose value is not repeated
    assert_close(components[alone], expected[alone], "components_ of distinct singular values (signs by svd_flip)", *SOLVE)


@given(**sizes, fraction=st.floats(0, 1), centre=st.sampled_from(["baseline", None]))
def test_truncated_svd_matches_the_scipy_twin(seed, num_users, num_items, density, fraction, centre):
    """Baseline-centred SVD and PureSVD (centre=None, the raw ratings) against ARPACK and a dense SVD."""
    num_users, num_items = num_users + 1, num_items + 1  # ARPACK needs num_factors < min(shape)
    users, items, ratings, _ = ratings_table(seed, num_users, num_items, density)
    ratings = np.random.default_rng(seed).uniform(0.5, 5.0, len(ratings))  # half stars can tie singular values
    num_factors = 1 + int(fraction * (min(num_users, num_items) - 2))
    model = rb.TruncatedSVDRecommender(num_factors, centre).fit(users, items, ratings, num_users, num_items)
    twin = ref.TruncatedSVDRecommender(num_factors, centre).fit(users, items, ratings, num_users, num_items)
    residual = np.zeros((num_users, num_items))
    if centre is None:  # PureSVD decomposes the ratings themselves
        residual[users, items] = ratings
        assert model.global_mean_ == 0 and not model.user_bias_.any() and not model.item_bias_.any()
    else:
        residual[users, items] = ratings - model.global_mean_ - model.user_bias_[users] - model.item_bias_[items]
    spectrum = np.linalg.svd(residual, compute_uv=False)
    assert_close(model.singular_values_, spectrum[:num_factors], "singular_values_ vs numpy svd", *SOLVE)
    assert_close(model.singular_values_, twin.singular_values_, "singular_values_ vs twin", *SOLVE)
    # the rank-f truncation is unique only when s_f > s_(f+1)
    assume(spectrum[num_factors - 1] - spectrum[num_factors] > TIE * spectrum[0])
    assert_close(model.user_factors_ @ model.components_, twin.user_factors_ @ twin.components_, "reconstruction", *SOLVE)
    assert_same_components(model.components_, twin.components_, spectrum[:num_factors])
    assert_close(model.score_all(np.arange(num_users)), twin.score_all(np.arange(num_users)), "score_all", *SOLVE)
    assert_close(model.predict(users, items), np.clip(model.score_all(users)[np.arange(len(users)), items], 0.5, 5.0),
                 "predict vs score_all", *TIGHT)


def test_truncated_svd_full_rank_reconstructs_the_ratings():
    rng = np.random.default_rng(0)
    users, items = np.repeat(np.arange(4), 6), np.tile(np.arange(6), 4)
    ratings = rng.integers(1, 11, 24) / 2
    model = rb.TruncatedSVDRecommender(3).fit(users, items, ratings, 4, 6)
    residual = ratings.reshape(4, 6) - model.global_mean_ - model.user_bias_[:, None] - model.item_bias_
    assert np.linalg.matrix_rank(residual) <= 4
    u, s, vt = np.linalg.svd(residual)
    assert_close(model.user_factors_ @ model.components_, (u[:, :3] * s[:3]) @ vt[:3], "rank-3 reconstruction", *SOLVE)


@given(**sizes)
def test_baseline_and_popularity_follow_their_definitions(seed, num_users, num_items, density):
    users, items, ratings, table = ratings_table(seed, num_users, num_items, density)
    mu, user_bias, item_bias = rb.baseline_estimates(users, items, ratings, num_users, num_items)
    expected_item = np.array([np.nansum(column - mu) / (25 + np.sum(~np.isnan(column))) for column in table.T])
    after_items = table - mu - expected_item
    expected_user = np.array([np.nansum(row) / (10 + np.sum(~np.isnan(row))) for row in after_items])
    assert_close(item_bias, expected_item, "item_bias", *TIGHT)
    assert_close(user_bias, expected_user, "user_bias", *TIGHT)
    counts = np.sum(~np.isnan(table), axis=0)
    by_count = rb.PopularityRecommender().fit(users, items, ratings, num_users, num_items)
    by_mean = rb.PopularityRecommender("mean", damping=5.0).fit(users, items, ratings, num_users, num_items)
    damped = (5.0 * mu + np.nansum(table, axis=0)) / (5.0 + counts)
    np.testing.assert_array_equal(by_count.score_all(np.arange(num_users)), np.tile(counts, (num_users, 1)))
    assert_close(by_mean.score_all(np.arange(num_users))[0], damped, "damped mean", *TIGHT)
    assert_close(by_count.predict(users, items), mu + item_bias[items], "popularity predict", *TIGHT)


MODELS = [rb.PopularityRecommender(), rb.PopularityRecommender("mean"), rb.TruncatedSVDRecommender(2),
          rb.TruncatedSVDRecommender(2, centre=None),
          rb.KNNRecommender("user", "cosine", 3), rb.KNNRecommender("item", "pearson", 3)]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__ + "-" + str(getattr(m, "kind", getattr(m, "by", getattr(m, "centre", "")))))
def test_recommend_excludes_seen_items_and_ranks_by_score(model):
    users, items, ratings, table = ratings_table(7, 8, 12, 0.4)
    model.fit(users, items, ratings, 8, 12)
    warm = np.flatnonzero(~np.isnan(table).all(axis=1))
    k = 12 - int(np.sum(~np.isnan(table), axis=1).max())
    top = model.recommend(warm, k)
    scores = np.where(np.isnan(table[warm]), model.score_all(warm), -np.inf)
    for row, user in enumerate(warm):
        assert np.isnan(table[user, top[row]]).all(), f"user {user} was recommended a seen item"
        left_out = np.setdiff1d(np.arange(12), top[row])
        assert scores[row, top[row]].min() >= scores[row, left_out].max()


@pytest.mark.parametrize("model, message", [
    (rb.KNNRecommender(kind="movie"), r"kind: expected one of \('user', 'item'\), got 'movie'"),
    (rb.KNNRecommender(similarity="jaccard"), r"similarity: expected one of \('cosine', 'pearson'\), got 'jaccard'"),
    (rb.KNNRecommender(k=0), "k: expected a positive int, got 0"),
    (rb.KNNRecommender(min_support=1.5), "min_support: expected a positive int, got 1.5"),
    (rb.TruncatedSVDRecommender(3), r"num_factors: expected an int in \[1, 2\] \(min\(num_users, num_items\) - 1\), got 3"),
    (ref.TruncatedSVDRecommender(0), "num_factors: expected a positive int, got 0"),
    (rb.TruncatedSVDRecommender(1, centre="user"), "centre: expected 'baseline' or None, got 'user'"),
    (rb.PopularityRecommender(by="votes"), r"by: expected one of \('count', 'mean'\), got 'votes'"),
    (rb.PopularityRecommender(damping=-1.0), "damping: expected a finite number >= 0, got -1.0"),
])
def test_bad_arguments_name_the_problem(model, message):
    users, items, ratings = np.array([0, 1, 2]), np.array([0, 1, 3]), np.array([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=message):
        model.fit(users, items, ratings, 3, 4)


@pytest.mark.parametrize("model", MODELS + [ref.KNNRecommender(), ref.TruncatedSVDRecommender(1)],
                         ids=lambda m: type(m).__module__.split(".")[0] + "." + type(m).__name__)
def test_bad_ratings_and_ids_name_the_problem(model):
    users, items = np.array([0, 1, 2]), np.array([0, 1, 3])
    with pytest.raises(ValueError, match=r"ratings: expected values in \[0.5, 5\] \(rating_scale\), got 6.0 at position 2"):
        model.fit(users, items, np.array([1.0, 2.0, 6.0]), 3, 4)
    with pytest.raises(ValueError, match=r"users, items: expected each \(user, item\) pair once"):
        model.fit(np.array([0, 0]), np.array([1, 1]), np.array([1.0, 2.0]), 3, 4)
    with pytest.raises(ValueError, match="ratings: expected at least one rating, got an empty table"):
        model.fit(np.array([], int), np.array([], int), np.array([]), 3, 4)
    with pytest.raises(RuntimeError, match="call fit before predict"):
        type(model)().predict(np.array([0]), np.array([0]))
    model.fit(users, items, np.array([1.0, 2.0, 3.0]), 3, 4)
    with pytest.raises(ValueError, match=r"items: expected indices in \[0, 4\), got 4 at position 0"):
        model.predict(np.array([0]), np.array([4]))
