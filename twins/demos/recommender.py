"""Project 1 demo: recommenders on MovieLens (the dslabs table, 100k ratings).

Every model (biased matrix factorisation by SGD, scratch and its torch twin from the same
initial weights; ALS; truncated SVD and PureSVD; user- and item-based kNN; popularity) is fitted twice:
on a random 90/10 split, scored by RMSE and MAE of its predicted ratings, and on a time
split (each user's last ``LAST_N`` ratings held out), scored by the ranking metrics of its
top-10 recommendations among the films the user has not rated in training (every held-out
film counts as relevant). Figures: validation RMSE per epoch of the twins, test RMSE against
the number of factors, user-user similarities of the most active users and item-item
similarities of the most rated films, a PCA map of the item factors with titles; ratings
per second of one SGD epoch (the curriculum's loop, vectorised scratch, torch). Writes PNGs, metrics.json and report.md.
"""
import dataclasses
import time

import numpy as np
from sklearn.decomposition import PCA
from sklearn.metrics.pairwise import cosine_similarity

from benchmarks import bench_recommender
from benchmarks import core as bench_core
from reference.bridge import twin_pair
from reference.projects.recommender import model as torch_recommender
from reference.projects.recommender import train as torch_train
from scratch import metrics
from scratch.projects.recommender import model as scratch_recommender
from scratch.projects.recommender import train as scratch_train
from scratch.projects.recommender.base import Recommender
from scratch.projects.recommender.baselines import KNNRecommender, PopularityRecommender, TruncatedSVDRecommender, centre_rows
from scratch.projects.recommender.config import MF_CONFIG, SPARSE_SGD_CONFIG
from scratch.projects.recommender.data import Ratings, leave_last_n, load_movielens_ratings, random_split
from twins import plots
from twins.demos.common import QUICK_EPOCHS, run_datasets, save_report

K, LAST_N, TEST_FRACTION, VALIDATION_FRACTION = 10, 5, 0.1, 0.05
NUM_FACTORS, FACTOR_GRID = 50, (2, 5, 10, 20, 50, 100)
PURE_SVD_FACTORS = 50  # PureSVD (uncentred ratings) ranks best near 50 factors on the time split
ALS_ITERS, SEED = 10, 0
SHOWN_FILMS = 15  # the most rated films on the similarity heat map and named on the factor map
MAP_FILMS = 400  # the most rated films on the PCA map of item factors (the first SHOWN_FILMS named)
SAMPLE_USERS = 60  # 'movielens-sample': a quick run (the command line's test) on these users' ratings only


def load(name):
    """'movielens': the dslabs table; 'movielens-sample': the ratings of SAMPLE_USERS users drawn
    at random, re-encoded (films nobody of them rated drop out)."""
    data = load_movielens_ratings()
    if name == "movielens":
        return data
    keep = np.isin(data.users, np.random.default_rng(SEED).choice(data.num_users, SAMPLE_USERS, replace=False))
    return Ratings.from_raw(data.user_ids[data.users[keep]], data.item_ids[data.items[keep]], data.ratings[keep],
                            data.timestamps[keep], data.titles[data.items[keep]], data.rating_scale)


def mf_twins(data, config, num_factors=NUM_FACTORS, dtype=np.float32):
    """A scratch MatrixFactorization and its torch twin holding the same initial weights."""
    return twin_pair(scratch_recommender.MatrixFactorization, torch_recommender.MatrixFactorization, config.seed, dtype,
                     num_users=data.num_users, num_items=data.num_items, num_factors=num_factors)


def columns(part):
    return part.users, part.items, part.ratings


def fit_mf(model, train, config, progress):
    """Fit on train less a random validation part, which picks the epoch (the test part stays unseen)."""
    fit_part, validation = random_split(train, VALIDATION_FRACTION, np.random.default_rng(config.seed))
    return model.fit(*columns(fit_part), train.num_users, train.num_items, train.rating_scale, config=config,
                     validation=columns(validation), progress=progress)


def fit_sparse_mf(model, train, train_module, config, progress):
    """Sparse SGD (train.py) on train less the same random validation part as fit_mf."""
    fit_part, validation = random_split(train, VALIDATION_FRACTION, np.random.default_rng(config.seed))
    return train_module.fit(model, *columns(fit_part), train.num_users, train.num_items, train.rating_scale, config=config,
                            validation=columns(validation), progress=progress)


class SurpriseSVD(Recommender):
    """scikit-surprise's SVD (Funk's per-rating SGD, its defaults but NUM_FACTORS factors), the peer
    users know, behind the Recommender mixin: its learned biases and factors are mapped back to
    our user and item indices (a user or film it never saw keeps zeros)."""

    def __init__(self, num_factors=NUM_FACTORS, seed=SEED):
        self.num_factors, self.seed = num_factors, seed

    def fit(self, users, items, ratings, num_users, num_items, rating_scale):
        import pandas as pd
        import surprise

        users, items, ratings = self._remember(users, items, ratings, num_users, num_items, rating_scale)
        table = pd.DataFrame({"user": users, "item": items, "rating": ratings})
        trainset = surprise.Dataset.load_from_df(table, surprise.Reader(rating_scale=rating_scale)).build_full_trainset()
        svd = surprise.SVD(n_factors=self.num_factors, random_state=self.seed).fit(trainset)
        inner_users = np.array([trainset.to_raw_uid(u) for u in trainset.all_users()])
        inner_items = np.array([trainset.to_raw_iid(i) for i in trainset.all_items()])
        self.mean_ = trainset.global_mean
        self.user_bias_, self.item_bias_ = np.zeros(num_users), np.zeros(num_items)
        self.user_factors_, self.item_factors_ = np.zeros((num_users, self.num_factors)), np.zeros((num_items, self.num_factors))
        self.user_bias_[inner_users], self.user_factors_[inner_users] = svd.bu, svd.pu
        self.item_bias_[inner_items], self.item_factors_[inner_items] = svd.bi, svd.qi
        return self

    def score_all(self, users):
        return self.mean_ + self.user_bias_[users, None] + self.item_bias_ + self.user_factors_[users] @ self.item_factors_.T


def estimators(data, config, num_epochs, progress):
    """name -> a function fitting a fresh model on a training split (popularity first)."""
    iters = ALS_ITERS if num_epochs is None else min(ALS_ITERS, num_epochs)
    sparse_config = SPARSE_SGD_CONFIG if num_epochs is None else dataclasses.replace(SPARSE_SGD_CONFIG, num_epochs=num_epochs)

    def plain(build):
        return lambda train: build().fit(*columns(train), train.num_users, train.num_items, train.rating_scale)

    def twin(side):
        return lambda train: fit_mf(mf_twins(data, config)[side], train, config, progress)

    def sparse_twin(side):
        module = (scratch_train, torch_train)[side]
        return lambda train: fit_sparse_mf(mf_twins(data, sparse_config)[side], train, module, sparse_config, progress)

    return {"popularity": plain(PopularityRecommender),
            "truncated SVD (10)": plain(lambda: TruncatedSVDRecommender(num_factors=10)),
            f"PureSVD ({PURE_SVD_FACTORS})": plain(lambda: TruncatedSVDRecommender(PURE_SVD_FACTORS, centre=None)),
            "user kNN (pearson)": plain(lambda: KNNRecommender("user", "pearson", k=40)),
            "item kNN (cosine)": plain(lambda: KNNRecommender("item", "cosine", k=40)),
            "ALS": plain(lambda: scratch_recommender.ALS(NUM_FACTORS, num_iters=iters, rng=np.random.default_rng(SEED))),
            "scratch MF (SGD)": twin(0), "torch MF (SGD)": twin(1),
            "scratch MF (sparse SGD)": sparse_twin(0), "torch MF (sparse SGD)": sparse_twin(1),
            f"surprise SVD ({NUM_FACTORS})": plain(SurpriseSVD)}


def rating_errors(model, test):
    y_hat = model.predict(test.users, test.items)
    return {"rmse": float(metrics.rmse(test.ratings, y_hat)), "mae": float(metrics.mae(test.ratings, y_hat))}


def ranking_scores(model, test, num_items):
    """The ranking metrics at K over the users with held-out ratings, all held-out films relevant."""
    users = np.unique(test.users)
    relevant = test.to_csr()[users]
    relevant.data[:] = 1.0
    return metrics.ranking_report(model.recommend(users, K), relevant, K, num_items)


def model_table(data, splits, config, num_epochs, progress):
    """One row per model: rating errors on the random split, ranking metrics on the time split, fit time."""
    (train, test), (train_time, test_time) = splits
    table, fitted = {}, {}
    for name, fit in estimators(data, config, num_epochs, progress).items():
        start = time.perf_counter()
        fitted[name] = fit(train)
        row = {"fit_seconds": time.perf_counter() - start, **rating_errors(fitted[name], test)}
        table[name] = {**row, **ranking_scores(fit(train_time), test_time, data.num_items)}
    return table, fitted


def factor_study(data, split, config):
    """Test RMSE of scratch MF (SGD) and ALS against the number of factors."""
    train, test = split
    curves = {"scratch MF (SGD)": [], "ALS": []}
    for num_factors in FACTOR_GRID:
        model = scratch_recommender.MatrixFactorization(data.num_users, data.num_items, num_factors, dtype=np.float32,
                                                        rng=np.random.default_rng(config.seed))
        curves["scratch MF (SGD)"].append(rating_errors(fit_mf(model, train, config, False), test)["rmse"])
        als = scratch_recommender.ALS(num_factors, num_iters=min(ALS_ITERS, config.num_epochs), rng=np.random.default_rng(SEED))
        curves["ALS"].append(rating_errors(als.fit(*columns(train), data.num_users, data.num_items), test)["rmse"])
    return curves


def user_map(data, train, mf, out_dir):
    """Similarities of the most active users: their rating rows (raw and mean-centred, i.e. Pearson
    as the user kNN uses it) and their MF factors."""
    counts = np.bincount(train.users, minlength=data.num_users)
    shown = np.argsort(-counts, kind="stable")[:SHOWN_FILMS]
    rows = train.to_csr()[shown]  # (users, films)
    grids = {"rating rows (cosine)": cosine_similarity(rows), "rating rows, centred (Pearson)": cosine_similarity(centre_rows(rows)),
             "MF user factors": cosine_similarity(mf.user_factors.weight.data[shown])}
    plots.similarity_heatmaps(grids, [f"user {data.user_ids[u]} ({counts[u]})" for u in shown], out_dir / "user_similarity.png",
                              f"similarity of the {SHOWN_FILMS} most active users (ratings in brackets)")
    return {name: float(grid[~np.eye(len(shown), dtype=bool)].mean()) for name, grid in grids.items()}


def item_maps(data, train, mf, out_dir):
    """Similarities of the most rated films (ratings vs MF factors) and a PCA map of the item factors."""
    counts = np.bincount(train.items, minlength=data.num_items)
    shown = np.argsort(-counts, kind="stable")[:SHOWN_FILMS]
    labels = [title[:28] for title in data.titles[shown]]
    rating_columns = train.to_csr().T.tocsr()[shown]  # (films, users)
    factors = mf.item_factors.weight.data
    grids = {"rating columns": cosine_similarity(rating_columns), "MF item factors": cosine_similarity(factors[shown])}
    plots.similarity_heatmaps(grids, labels, out_dir / "item_similarity.png",
                              f"cosine similarity of the {SHOWN_FILMS} most rated films")
    frequent = np.argsort(-counts, kind="stable")[:MAP_FILMS]  # rarely rated films' factors stay near the origin
    points = PCA(n_components=2, random_state=SEED).fit_transform(factors[frequent])
    plots.embedding_map(points, {i: title[:28] for i, title in enumerate(data.titles[shown])},
                        out_dir / "item_factors_pca.png",
                        f"item factors of scratch MF, PCA to 2-d (the {len(frequent)} most rated films)")
    return {"films": labels, "mean_similarity": {name: float(grid[~np.eye(len(shown), dtype=bool)].mean())
                                                 for name, grid in grids.items()}}


def run_dataset(name, out_dir, num_epochs=None, study=True, progress=True, quick=False):
    data = load("movielens-sample" if quick else name)
    config = MF_CONFIG if num_epochs is None else dataclasses.replace(MF_CONFIG, num_epochs=num_epochs)
    splits = (random_split(data, TEST_FRACTION, np.random.default_rng(SEED)), leave_last_n(data, LAST_N))
    table, fitted = model_table(data, splits, config, num_epochs, progress)
    histories = {f"{side} MF{kind}": fitted[f"{side} MF ({kind.strip() or 'SGD'})"].history_
                 for side in ("scratch", "torch") for kind in ("", " sparse SGD")}
    for kind, suffix, title in (("", "", "biased MF, dense SGD"), (" sparse SGD", "_sparse", "biased MF, sparse SGD (train.py)")):
        plots.curves({f"{side} {part}": (np.arange(1, len(h[f"{part}_loss"]) + 1), np.sqrt(h[f"{part}_loss"]))
                      for side in ("scratch", "torch") for h in [histories[f"{side} MF{kind}"]] for part in ("train", "val")},
                     out_dir / f"rmse_epochs{suffix}.png", f"{title}: scratch vs torch, same initial weights",
                     "epoch", "RMSE (train: the penalised objective)" if kind else "RMSE")
    test_users, test_items = splits[0][1].users, splits[0][1].items

    def prediction_gap(kind):
        scratch, torch_twin = fitted[f"scratch MF ({kind})"], fitted[f"torch MF ({kind})"]
        return float(np.max(np.abs(scratch.predict(test_users, test_items) - torch_twin.predict(test_users, test_items))))

    report = {"dataset": name, "config": dataclasses.asdict(config), "k": K, "last_n": LAST_N,
              "ratings": {"all": len(data), "random_test": len(splits[0][1]), "time_test": len(splits[1][1]),
                          "time_test_users": int(np.unique(splits[1][1].users).size)},
              "models": table, "histories": histories,
              "sparse_sgd_config": dataclasses.asdict(SPARSE_SGD_CONFIG),
              "twin_prediction_gap": prediction_gap("SGD"), "sparse_twin_prediction_gap": prediction_gap("sparse SGD"),
              "items": item_maps(data, splits[0][0], fitted["scratch MF (SGD)"], out_dir),
              "users_mean_similarity": user_map(data, splits[0][0], fitted["scratch MF (SGD)"], out_dir)}
    mf, popularity = table["scratch MF (SGD)"], table["popularity"]
    ndcg = f"ndcg@{K}"
    report["targets"] = {"mf_rmse_at_most_0.90": mf["rmse"] <= 0.90,
                         "mf_ndcg_above_popularity": mf[ndcg] > popularity[ndcg],
                         "puresvd_ndcg_above_popularity": table[f"PureSVD ({PURE_SVD_FACTORS})"][ndcg] > popularity[ndcg]}
    if study:
        report["factor_study"] = {"factors": list(FACTOR_GRID), "test_rmse": factor_study(data, splits[0], config)}
        plots.curves({model: (FACTOR_GRID, rmse) for model, rmse in report["factor_study"]["test_rmse"].items()},
                     out_dir / "rmse_factors.png", "test RMSE on the random split against the number of factors",
                     "factors", "RMSE", logx=True)
    report["performance"] = performance(out_dir, quick=num_epochs is not None)
    return report


def performance(out_dir, quick):
    """Ratings per second of one SGD epoch over 100k ratings, 50 factors (benchmarks/bench_recommender.py):
    the curriculum's per-rating loop, the vectorised scratch loops (dense fit, sparse train.py), torch's."""
    rng = np.random.default_rng(SEED)
    cases = {"": bench_recommender.sgd_epoch_case(np.float32, rng, quick),
             "sparse_": bench_recommender.sparse_sgd_epoch_case(np.float32, rng, quick)}
    results = {prefix: bench_core.run_case(case, repeats=1 if quick else 3, threads=1 if quick else None)
               for prefix, case in cases.items()}
    bench_core.plot(list(results.values()), out_dir / "sgd_epoch_speed.png", "one SGD epoch of biased MF (float32)")
    return {f"{prefix}{impl}_ratings_per_second": bench_recommender.NUM_RATINGS / (ms / 1e3)
            for prefix, result in results.items() for impl, ms in result.times_ms.items()}


def markdown(report):
    """The model table as markdown."""
    columns_shown = ["rmse", "mae"] + [f"{m}@{report['k']}" for m in ("precision", "recall", "ndcg", "map", "hit_rate", "coverage")]
    lines = ["| model | " + " | ".join(columns_shown) + " | fit s |", "|---" * (len(columns_shown) + 2) + "|"]
    for model, row in report["models"].items():
        lines.append(f"| {model} | " + " | ".join(f"{row[c]:.4f}" for c in columns_shown) + f" | {row['fit_seconds']:.1f} |")
    return "\n".join(lines)


def run(out_dir, dataset_names=("movielens",), num_epochs=None, study=True, compare_sklearn=False, progress=True, quick=False):
    """``num_epochs`` caps SGD epochs and ALS iterations (and shortens the timing);
    ``compare_sklearn`` is accepted for the command line's sake (the baselines are the peers).
    ``quick``: the sampled users' ratings ('movielens-sample'), QUICK_EPOCHS epochs, no factor study."""
    if quick:
        num_epochs, study = QUICK_EPOCHS if num_epochs is None else num_epochs, False
    out_dir, report = run_datasets(out_dir, dataset_names,
                                   lambda name, out: run_dataset(name, out, num_epochs, study, progress, quick))
    (out_dir / "report.md").write_text("\n\n".join(f"## {name}\n\n{markdown(result)}" for name, result in report.items()) + "\n")
    return save_report(out_dir, report)


def summary(report):
    lines = []
    for name, result in report.items():
        ratings = result["ratings"]
        lines.append(f"{name}: RMSE/MAE on a random {ratings['random_test']}-rating test split; ranking at k={result['k']} "
                     f"on each user's last {result['last_n']} ratings ({ratings['time_test_users']} users)")
        lines.append(markdown(result))
        targets = result["targets"]
        lines.append(f"targets: scratch MF RMSE <= 0.90: {targets['mf_rmse_at_most_0.90']}; NDCG@{result['k']} above "
                     f"popularity: scratch MF {targets['mf_ndcg_above_popularity']}, PureSVD "
                     f"{targets['puresvd_ndcg_above_popularity']}; twin prediction gap {result['twin_prediction_gap']:.1e}")
        lines.append("one SGD epoch, ratings/s: " + ", ".join(f"{key.removesuffix('_ratings_per_second').replace('_', ' ')} {rate:,.0f}"
                                                                for key, rate in result["performance"].items()))
    return "\n".join(lines)
