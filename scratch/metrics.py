"""Classification metrics of the projects, in NumPy (checked against sklearn.metrics)."""
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
