"""Image data sets: scikit-learn's bundled 8x8 digits, and Fashion-MNIST from the IDX files of
the Debian package ``dataset-fashion-mnist`` (or any folder holding the four standard files)."""
import gzip
import os
from pathlib import Path

import numpy as np

from .files import CORRUPT, FASHION_MNIST_REMEDY, as_path, corrupt_file, reading

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path, remedy="replace it with an intact copy"):
    """Read one IDX file (the MNIST container format), gzipped or not, into an ndarray.

    A file that is corrupt, truncated or empty raises a ValueError naming it, what is wrong and
    ``remedy`` (what to do about it).
    """
    path = as_path(path, "path")
    opener = gzip.open if path.suffix == ".gz" else open
    with reading(path, remedy), opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise corrupt_file(path, f"not an IDX file: magic bytes {raw[:4].hex()!r}", remedy)
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = 4 + 4 * ndim + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise corrupt_file(path, f"the header promises shape {shape} ({expected} bytes), the file has {len(raw)} bytes",
                           remedy)
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
    """Images (N, 28, 28) uint8 and labels (N,) int64 in [0, 10) of the 'train' (60k) or 'test' (10k) split.

    A file that is corrupt, truncated or empty, or that holds anything else (another shape or
    type, a label outside the 10 classes), is refused naming the file and how to reinstall it.
    """
    if not isinstance(split, str) or split not in ("train", "test"):
        raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
    root = as_path(root, "root") if root is not None else Path(os.environ.get("FASHION_MNIST_DIR") or FASHION_MNIST_DIR)
    prefix = "train" if split == "train" else "t10k"
    images_path, labels_path = _find(root, f"{prefix}-images-idx3-ubyte"), _find(root, f"{prefix}-labels-idx1-ubyte")
    images = _read_checked(images_path, "images (N, 28, 28) uint8", lambda a: a.ndim == 3 and a.shape[1:] == (28, 28))
    labels = _read_checked(labels_path, "labels (N,) uint8", lambda a: a.ndim == 1)
    outside = labels >= len(FASHION_MNIST_CLASSES)
    if outside.any():
        raise ValueError(f"{labels_path}: expected labels in [0, "
                         f"{len(FASHION_MNIST_CLASSES)}), got {labels[outside][0]} at position {np.argmax(outside)}; "
                         f"{FASHION_MNIST_REMEDY}")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{labels_path}: expected one label per image of {images_path.name} ({images.shape[0]}), "
                         f"got {labels.shape[0]} labels; {FASHION_MNIST_REMEDY}")
    return images, labels.astype(np.int64)


def _read_checked(path, expected, fits):
    """An IDX file of uint8 that ``fits``; ``expected`` says what it should hold."""
    array = read_idx(path, FASHION_MNIST_REMEDY)
    if array.dtype != np.uint8 or not fits(array):
        raise ValueError(f"{path}: expected Fashion-MNIST {expected}, got {array.dtype} {array.shape}; {FASHION_MNIST_REMEDY}")
    return array


def load_digits():
    """scikit-learn's digits: images (1797, 8, 8) float64 in 0..16 and labels (1797,) int64."""
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError as error:
        raise ImportError("the digits data ships with scikit-learn: `pip install scikit-learn`") from error
    with reading("scikit-learn's bundled digits data (sklearn/datasets/data/digits.csv.gz)",
                 "reinstall scikit-learn with `pip install --force-reinstall scikit-learn`", CORRUPT + (ValueError,)):
        bunch = sklearn_digits()
    return bunch.images, bunch.target.astype(np.int64)
