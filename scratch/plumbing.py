"""The plumbing that both twins' training loops share: the run settings, mini-batches,
validation split, early stopping, and the guards against bad data and a diverging loss.
The loops themselves are twins: scratch/training.py and reference/training.py."""
import math
import numbers
from dataclasses import dataclass

import numpy as np

OPTIMIZER_NAMES = ("sgd", "adam", "adamw", "rmsprop")


def check_int(value, name, minimum=1):
    """``value`` as an int if it is an integer (not a bool) >= ``minimum``; a ValueError naming ``name``
    otherwise, whatever came (a float, a str, None): one message, "expected a positive int"."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        expected = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{name}: expected {expected}, got {value!r}")
    return int(value)


def check_positive_int(value, name):
    """``value`` as an int if it is a positive integer (not a bool); a ValueError naming ``name`` otherwise."""
    return check_int(value, name, 1)


def check_real(value, name, low=-math.inf, high=math.inf, low_open=False, high_open=False, expected=None):
    """``value`` as a float if it is a real number (an int or float, not a bool) in the interval from
    ``low`` to ``high`` (open at an end when ``*_open``); ``expected`` words the interval in the message.

    A TypeError naming ``name`` when it is not a number (a str such as "10", None, a bool), a
    ValueError when it is NaN or outside the interval.
    """
    interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    expected = expected or f"a number in {interval}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected {expected}, got {type(value).__name__} {value!r}")
    above = low < value if low_open else low <= value
    below = value < high if high_open else value <= high
    if not (above and below):  # NaN fails both
        raise ValueError(f"{name}: expected {expected}, got {value!r}")
    return float(value)


def check_bool(value, name):
    """``value`` as a bool if it is one (Python's or NumPy's); a TypeError naming ``name`` otherwise (1 is not True here)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def check_rng(rng, name="rng", optional=True):
    """A numpy.random.Generator (or None when ``optional``); a TypeError naming ``name`` otherwise."""
    if not (isinstance(rng, np.random.Generator) or (optional and rng is None)):
        expected = "a numpy.random.Generator" + (" or None" if optional else "")
        raise TypeError(f"{name}: expected {expected}, got {type(rng).__name__}")
    return rng


LR_SCHEDULES = ("constant", "cosine")


@dataclass
class TrainingConfig:
    """How to train, whatever the model: both twins read the same one."""
    optimizer: str = "adam"
    lr: float = 1e-3
    lr_schedule: str = "cosine"
    weight_decay: float = 0.0
    batch_size: int = 128
    num_epochs: int = 30
    patience: int = 5
    seed: int = 0

    def __post_init__(self):
        if not isinstance(self.optimizer, str) or self.optimizer not in OPTIMIZER_NAMES:
            raise ValueError(f"optimizer: expected one of {list(OPTIMIZER_NAMES)}, got {self.optimizer!r}")
        if not isinstance(self.lr_schedule, str) or self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule: expected one of {list(LR_SCHEDULES)}, got {self.lr_schedule!r}")
        for name in ("batch_size", "num_epochs", "patience"):
            setattr(self, name, check_positive_int(getattr(self, name), name))  # True is not 1 here
        self.lr = check_real(self.lr, "lr", 0, math.inf, low_open=True, high_open=True, expected="a finite positive number")
        self.weight_decay = check_real(self.weight_decay, "weight_decay", 0, math.inf, high_open=True,
                                       expected="a finite number >= 0")
        self.seed = check_int(self.seed, "seed", 0)


def minibatches(num_samples, batch_size, rng=None):
    """Index arrays covering range(num_samples) in batches; shuffled when ``rng`` is given."""
    num_samples, batch_size = check_int(num_samples, "num_samples", 0), check_positive_int(batch_size, "batch_size")
    check_rng(rng)
    order = rng.permutation(num_samples) if rng is not None else np.arange(num_samples)
    for start in range(0, num_samples, batch_size):
        yield order[start:start + batch_size]


def progress_range(*range_args, progress, **bar):
    """``range(*range_args)``, shown as a tqdm bar (``bar``: its desc, unit, ...) when ``progress`` is true.
    tqdm is imported only then: NumPy stays scratch's one dependency for a run without bars."""
    steps = range(*range_args)
    if not progress:
        return steps
    from tqdm.auto import tqdm
    return tqdm(steps, **bar)


def check_finite(loss, epoch, step):
    """Stop a run whose loss went NaN/inf, naming where, instead of training on garbage."""
    if not math.isfinite(loss):
        raise FloatingPointError(
            f"training loss became {loss} at epoch {epoch}, step {step}: the run diverged "
            f"(try a smaller lr, or check the inputs for NaN/inf)")


class EarlyStopping:
    """Track the best validation loss; ``should_stop`` once ``patience`` epochs bring no improvement."""

    def __init__(self, patience=5, min_delta=0.0):
        self.patience = check_positive_int(patience, "patience")
        self.min_delta = check_real(min_delta, "min_delta", 0, math.inf, high_open=True, expected="a finite number >= 0")
        self.best, self.best_epoch, self.bad_epochs = math.inf, -1, 0

    def step(self, val_loss, epoch):
        """Record an epoch's validation loss; True if it is the best so far."""
        if val_loss < self.best - self.min_delta:
            self.best, self.best_epoch, self.bad_epochs = val_loss, epoch, 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def should_stop(self):
        return self.bad_epochs >= self.patience

    def require_best(self, last_loss, remedy):
        """The best epoch, whose weights the loop restores; a FloatingPointError saying ``remedy`` when
        no validation loss was ever finite (no epoch's weights can be kept)."""
        if self.best_epoch < 0:
            raise FloatingPointError(f"validation loss was never finite (last: {last_loss}), so no epoch's weights can be "
                                     f"kept: {remedy}")
        return self.best_epoch


def validation_split(X, y, fraction, rng):
    """A shuffled (X_train, y_train, X_val, y_val) split; the validation part never trains."""
    check_real(fraction, "fraction", 0, 1, low_open=True, high_open=True)
    check_rng(rng, optional=False)
    if len(X) != len(y):
        raise ValueError(f"X and y: expected one sample count, got {len(X)} and {len(y)}")
    order = rng.permutation(len(X))
    cut = len(X) - max(1, round(fraction * len(X)))
    return X[order[:cut]], y[order[:cut]], X[order[cut:]], y[order[cut:]]


def chronological_split(series, val_fraction, test_fraction):
    """Cut a series (or its timestamps) into contiguous train, validation and test parts.

    In time order, never shuffled: a window of the test part only ever follows the
    training data. A non-zero fraction gets at least one point.

    Parameters
    ----------
    series : array_like (T, ...)
        Any array split along its first axis; not checked for NaN, so timestamps and
        raw series split alike.
    val_fraction, test_fraction : float in [0, 1)

    Returns
    -------
    train, val, test : ndarray (T_train, ...), (T_val, ...), (T_test, ...)
        Views of ``series``; ``T_val = round(val_fraction * T)`` and likewise for test.
    """
    series = np.asarray(series)
    if series.ndim < 1:
        raise ValueError(f"series: expected an array with a time axis, got shape {series.shape}")
    total = len(series)
    sizes = [0 if f == 0 else max(1, round(f * total))
             for f in (check_real(val_fraction, "val_fraction", 0, 1, high_open=True),
                       check_real(test_fraction, "test_fraction", 0, 1, high_open=True))]
    train_size = total - sum(sizes)
    if train_size < 1:
        raise ValueError(f"val_fraction and test_fraction: expected them to leave a training part of "
                         f"the {total} points, got {val_fraction} + {test_fraction} taking {sum(sizes)}")
    return series[:train_size], series[train_size:train_size + sizes[0]], series[train_size + sizes[0]:]


def stratified_holdout(y, fraction, rng):
    """A boolean mask selecting ``fraction`` of each class of ``y`` (at least one per class)."""
    check_real(fraction, "fraction", 0, 1, low_open=True, high_open=True)
    check_rng(rng, optional=False)
    mask = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        take = max(1, round(fraction * len(members)))
        mask[rng.choice(members, size=take, replace=False)] = True
    return mask


def check_dataset(X, y, num_classes, name="X"):
    """Refuse data a classifier cannot learn from, before the first step rather than mid-run.
    X holds float features, or integer token ids (documents, length) for a text model, which
    checks their range itself."""
    if not isinstance(X, np.ndarray) or X.ndim < 2 or not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)):
        raise ValueError(f"{name}: expected a float array (samples, features...), got {getattr(X, 'shape', type(X))} "
                         f"{getattr(X, 'dtype', '')} (or integer token ids (documents, length))")
    finite = np.isfinite(X).reshape(len(X), -1).all(axis=1) if np.issubdtype(X.dtype, np.floating) else np.ones(len(X), bool)
    if not finite.all():
        raise ValueError(f"{name}: contains NaN or inf in rows {np.flatnonzero(~finite)[:5].tolist()}")
    if not isinstance(y, np.ndarray) or y.shape != (len(X),) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels of {name}: expected {len(X)} integer class labels, got {getattr(y, 'shape', type(y))} {getattr(y, 'dtype', '')}")
    if len(y) and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"labels of {name}: expected classes in [0, {num_classes}), got range [{y.min()}, {y.max()}]")
