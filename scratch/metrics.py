"""The projects' metrics in NumPy (checked against sklearn.metrics): classification, the
forecast errors of Project 5 (MAE, RMSE, sMAPE, MASE), and the ranking metrics of Project 1's
recommenders (precision, recall, NDCG, MAP, hit rate at k; catalogue coverage)."""
import numbers

import numpy as np
from scipy import sparse

from scratch.plumbing import check_positive_int


def _labels(y_true, y_pred, num_classes=None):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred: expected two 1-d arrays of one length, got {y_true.shape} and {y_pred.shape}")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if not np.issubdtype(y.dtype, np.integer):
            raise TypeError(f"{name}: expected integer class labels, got dtype {y.dtype}")
        if y.size and (y.min() < 0 or (num_classes is not None and y.max() >= num_classes)):
            raise ValueError(f"{name}: labels must lie in [0, {num_classes}), got range [{y.min()}, {y.max()}]")
    return y_true, y_pred


def accuracy(y_true, y_pred):
    y_true, y_pred = _labels(y_true, y_pred)
    return float(np.mean(y_true == y_pred)) if y_true.size else float("nan")


def confusion_matrix(y_true, y_pred, num_classes):
    """counts[i, j] = samples of true class i predicted as j (sklearn's orientation)."""
    y_true, y_pred = _labels(y_true, y_pred, num_classes)
    return np.bincount(y_true * num_classes + y_pred, minlength=num_classes**2).reshape(num_classes, num_classes)


def per_class_accuracy(y_true, y_pred, num_classes):
    """Recall of each class: the diagonal of the confusion matrix over its row sums."""
    counts = confusion_matrix(y_true, y_pred, num_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.diag(counts) / counts.sum(axis=1)


def _real(y, name):
    """``y`` as float64, refusing non-numbers and NaN/inf."""
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.number) or y.dtype == bool:
        raise TypeError(f"{name}: expected real numbers, got dtype {y.dtype}")
    if not np.isfinite(y).all():
        raise ValueError(f"{name}: expected finite values, got NaN/inf at {np.argwhere(~np.isfinite(y))[:5].tolist()}")
    return y.astype(np.float64)


def _errors(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(f"y_true and y_pred: expected two non-empty arrays of one shape, got {y_true.shape} and {y_pred.shape}")
    return _real(y_true, "y_true"), _real(y_pred, "y_pred")


def mae(y_true, y_pred, axis=None):
    """Mean absolute error over all elements, or per column with ``axis=0`` (per step ahead)."""
    y_true, y_pred = _errors(y_true, y_pred)
    return np.mean(np.abs(y_true - y_pred), axis=axis)


def rmse(y_true, y_pred, axis=None):
    """Root mean squared error over all elements, or per column with ``axis=0``."""
    y_true, y_pred = _errors(y_true, y_pred)
    return np.sqrt(np.mean((y_true - y_pred) ** 2, axis=axis))


def smape(y_true, y_pred, axis=None):
    """Symmetric MAPE in percent, in [0, 200]: mean of 200 |y - y_hat| / (|y| + |y_hat|), with 0/0 := 0."""
    y_true, y_pred = _errors(y_true, y_pred)
    denominator = np.abs(y_true) + np.abs(y_pred)
    ratio = np.divide(np.abs(y_true - y_pred), denominator, out=np.zeros_like(denominator), where=denominator > 0)
    return 200 * np.mean(ratio, axis=axis)


def mase(y_true, y_pred, y_train, season=1, axis=None):
    """Mean absolute scaled error (Hyndman & Koehler, 2006): the MAE over the in-sample
    MAE of the seasonal-naive forecast on the training series ``y_train`` (T,).

    Below 1: better than repeating the value one ``season`` earlier was on the training data.
    """
    y_train = np.asarray(y_train)
    if y_train.ndim != 1:
        raise ValueError(f"y_train: expected a 1-d training series, got shape {y_train.shape}")
    if isinstance(season, bool) or not isinstance(season, (int, np.integer)) or not 1 <= season < len(y_train):
        raise ValueError(f"season: expected an int in [1, len(y_train) = {len(y_train)}), got {season!r}")
    y_train = _real(y_train, "y_train")
    scale = np.mean(np.abs(y_train[season:] - y_train[:-season]))
    if scale == 0:
        raise ValueError(f"y_train: expected a series that changes over season = {season}, got a seasonal-naive MAE of 0")
    return mae(y_true, y_pred, axis=axis) / scale


def _relevance_matrix(relevant, num_users, num_items):
    """``relevant`` as a canonical csr (num_users, num_items) of positive gains.

    Accepts a csr-convertible sparse matrix (nonzero = relevant, the value its gain) or a
    sequence of ``num_users`` int arrays (the relevant items of each user, gain 1).
    """
    if sparse.issparse(relevant):
        matrix = sparse.csr_matrix(relevant, dtype=np.float64)
        if matrix.shape != (num_users, num_items):
            raise ValueError(f"relevant: expected a (users, items) = ({num_users}, {num_items}) matrix, got {matrix.shape}")
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        if (matrix.data < 0).any() or not np.isfinite(matrix.data).all():
            raise ValueError("relevant: expected finite non-negative gains, got negative or NaN/inf entries")
        return matrix
    if len(relevant) != num_users:
        raise ValueError(f"relevant: expected one array of items per row of recommended ({num_users}), got {len(relevant)}")
    lengths = np.array([np.size(row) for row in relevant], dtype=np.int64)  # a loop over users, not ratings
    columns = np.concatenate([np.asarray(row).reshape(-1) for row in relevant] or [np.zeros(0, np.int64)])
    if columns.size and (not np.issubdtype(columns.dtype, np.integer) or columns.min() < 0 or columns.max() >= num_items):
        raise ValueError(f"relevant: expected item indices in [0, {num_items}), got {columns.dtype} in "
                         f"[{columns.min()}, {columns.max()}]")
    matrix = sparse.csr_matrix((np.ones(columns.size), (np.repeat(np.arange(num_users), lengths), columns.astype(np.int64))),
                               shape=(num_users, num_items))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0  # an item listed twice is still one relevant item
    return matrix


def _ranking(recommended, relevant, k, num_items):
    """(gains (U, k) of the top-k recommendations, relevance csr, users with a relevant item)."""
    check_positive_int(k, "k")
    recommended = np.asarray(recommended)
    if recommended.ndim != 2 or not np.issubdtype(recommended.dtype, np.integer):
        raise ValueError(f"recommended: expected int item indices (users, ranked items), got {recommended.dtype} {recommended.shape}")
    if recommended.shape[1] < k:
        raise ValueError(f"k: expected at most the {recommended.shape[1]} items ranked per user, got {k}")
    top = recommended[:, :k].astype(np.int64)
    if num_items is None:  # the relevance matrix's width, or the largest index anywhere
        num_items = relevant.shape[1] if sparse.issparse(relevant) else 1 + max(
            [int(top.max(initial=-1))] + [int(np.max(row, initial=-1)) for row in relevant])
    if top.size and (top.min() < 0 or top.max() >= num_items):
        raise ValueError(f"recommended: expected item indices in [0, {num_items}), got range [{top.min()}, {top.max()}]")
    ordered = np.sort(top, axis=1)
    repeats = np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))
    if repeats.size:
        raise ValueError(f"recommended: expected distinct items in each user's top {k}, got repeats in rows {repeats[:5].tolist()}")
    matrix = _relevance_matrix(relevant, len(top), num_items)
    evaluated = np.diff(matrix.indptr) > 0
    if not evaluated.any():
        raise ValueError("relevant: expected at least one user with a relevant item, got none")
    # gain of (user, item): look its key up among the csr's sorted keys user * num_items + item
    keys = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr)) * num_items + matrix.indices
    wanted = (np.arange(len(top), dtype=np.int64)[:, None] * num_items + top).reshape(-1)
    position = np.searchsorted(keys, wanted).clip(0, max(keys.size - 1, 0))
    found = keys[position] == wanted
    gains = np.where(found, matrix.data[position], 0.0).reshape(top.shape)
    return gains, matrix, evaluated


def _per_user_mean(values, evaluated):
    return float(np.mean(values[evaluated]))


def precision_at_k(recommended, relevant, k=10, num_items=None):
    """Mean over users of (relevant items among the top k) / k.

    Ranking metrics share one convention:

    - ``recommended`` (U, >=k) int: item indices ranked best first, one row per user, as
      ``Recommender.recommend(users, k, exclude_seen=True)`` returns them, so the items the
      user rated in training are never ranked (they would inflate every metric).
    - ``relevant``: that user's held-out items (the test split), either a list of U int
      arrays, or a scipy.sparse matrix (U, num_items) whose nonzero entries are relevant
      (their values are the gains NDCG uses; the other metrics only look at nonzero), e.g.
      ``test.to_csr()[users]``.
    - Users with no relevant item are left out of the mean (nothing to find); at least one
      user must have one.
    """
    gains, _, evaluated = _ranking(recommended, relevant, k, num_items)
    return _per_user_mean((gains > 0).sum(axis=1) / k, evaluated)


def recall_at_k(recommended, relevant, k=10, num_items=None):
    """Mean over users of (relevant items among the top k) / (number of relevant items)."""
    gains, matrix, evaluated = _ranking(recommended, relevant, k, num_items)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _per_user_mean((gains > 0).sum(axis=1) / np.diff(matrix.indptr), evaluated)


def hit_rate_at_k(recommended, relevant, k=10, num_items=None):
    """Fraction of users with at least one relevant item among their top k."""
    gains, _, evaluated = _ranking(recommended, relevant, k, num_items)
    return _per_user_mean((gains > 0).any(axis=1).astype(np.float64), evaluated)


def average_precision_at_k(recommended, relevant, k=10, num_items=None):
    """MAP@k: mean over users of sum_i precision@i * rel_i / min(k, number relevant),
    i over the top-k positions, rel_i = 1 if the item at position i is relevant."""
    gains, matrix, evaluated = _ranking(recommended, relevant, k, num_items)
    hits = (gains > 0).astype(np.float64)
    precision_at_i = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _per_user_mean((precision_at_i * hits).sum(axis=1) / np.minimum(k, np.diff(matrix.indptr)), evaluated)


def ndcg_at_k(recommended, relevant, k=10, num_items=None):
    """Mean over users of DCG@k / ideal DCG@k, DCG = sum_i gain_i / log2(i + 1), i = 1..k.

    Linear gains (the values of ``relevant``; 1 for a list of arrays) and log2 discounts:
    scikit-learn's ``ndcg_score(y_true, y_score, k=k)`` on the same inputs, when ``y_score``
    ranks the items as ``recommended`` does (no ties) and every user has a relevant item
    (sklearn scores a user with none as 0; here that user is left out).
    """
    gains, matrix, evaluated = _ranking(recommended, relevant, k, num_items)
    discount = 1 / np.log2(np.arange(2, k + 2))
    dcg = gains @ discount
    # ideal: each user's own gains sorted descending, the first k kept, without densifying
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    order = np.lexsort((-matrix.data, rows))
    rank = np.arange(order.size) - matrix.indptr[rows[order]]
    keep = rank < k
    ideal = np.bincount(rows[order][keep], weights=matrix.data[order][keep] * discount[rank[keep]], minlength=matrix.shape[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        return _per_user_mean(dcg / ideal, evaluated)


def catalogue_coverage(recommended, num_items, k=None):
    """Fraction of the catalogue's ``num_items`` items that appear in anyone's top ``k``
    (all columns of ``recommended`` when k is None)."""
    check_positive_int(num_items, "num_items")
    recommended = np.asarray(recommended)
    if recommended.ndim != 2 or not np.issubdtype(recommended.dtype, np.integer) or recommended.size == 0:
        raise ValueError(f"recommended: expected a non-empty int array (users, ranked items), got {recommended.dtype} {recommended.shape}")
    if k is not None and (isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= recommended.shape[1]):
        raise ValueError(f"k: expected an int in [1, {recommended.shape[1]}] or None, got {k!r}")
    top = recommended[:, :k]
    if top.min() < 0 or top.max() >= num_items:
        raise ValueError(f"recommended: expected item indices in [0, {num_items}), got range [{top.min()}, {top.max()}]")
    return np.unique(top).size / num_items


RANKING_METRICS = {"precision": precision_at_k, "recall": recall_at_k, "ndcg": ndcg_at_k,
                   "map": average_precision_at_k, "hit_rate": hit_rate_at_k}


def ranking_report(recommended, relevant, k, num_items):
    """Every ranking metric at ``k`` in one dict (keys like 'ndcg@10', 'coverage@10')."""
    report = {f"{name}@{k}": metric(recommended, relevant, k, num_items) for name, metric in RANKING_METRICS.items()}
    report[f"coverage@{k}"] = catalogue_coverage(recommended, num_items, k)
    return report
