"""The projects' metrics in NumPy (checked against sklearn.metrics): classification, and the
forecast errors of Project 5 (MAE, RMSE, sMAPE, MASE)."""
import numpy as np


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
