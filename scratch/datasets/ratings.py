"""MovieLens ratings from the Debian package ``r-cran-dslabs``, read from R's lazy-load database
without R (the PyPI package ``rdata`` parses each object)."""
import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from .files import CORRUPT, DSLABS_REMEDY, as_path, corrupt_file, reading

DSLABS_DIRS = (Path(__file__).resolve().parent.parent.parent / ".data/dslabs/usr/lib/R/site-library/dslabs/data",
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
    directory = as_path(directory, "directory")
    # rdata raises many kinds of error on bytes that are not a serialised R object
    unparsable = CORRUPT + (ValueError, NotImplementedError, KeyError, IndexError)

    def parse(raw):  # a bare serialised object: R's .rds layout
        return rdata.conversion.convert(rdata.parser.parse_data(raw, extension=".rds"))

    with reading(directory / "Rdata.rdx", DSLABS_REMEDY, unparsable):
        index = parse(gzip.decompress((directory / "Rdata.rdx").read_bytes()))
    if name not in index["variables"]:
        raise ValueError(f"name: expected one of {sorted(map(str, index['variables']))}, got {name!r}")
    offset, length = (int(x) for x in index["variables"][name])
    with open(directory / "Rdata.rdb", "rb") as f:
        f.seek(offset)
        chunk = f.read(length)
    if len(chunk) != length:
        raise corrupt_file(directory / "Rdata.rdb", f"the index promises {length} bytes at offset {offset} for "
                           f"{name!r}, the file has {len(chunk)}", DSLABS_REMEDY)
    with reading(directory / "Rdata.rdb", DSLABS_REMEDY, unparsable):
        return parse(zlib.decompress(chunk[4:]))


def load_movielens(root=None):
    """MovieLens ratings (100,004 by 671 users of 9,066 films) from the Debian package
    ``r-cran-dslabs``: a dict of arrays ``userId``, ``movieId`` (int64), ``rating`` (float64,
    0.5-5 in half stars), ``timestamp`` (int64 seconds) and ``title`` (str), one entry per rating."""
    candidates = ([as_path(root, "root")] if root is not None
                  else [Path(p) for p in filter(None, [os.environ.get("DSLABS_DIR")])] + list(DSLABS_DIRS))
    directory = next((d for d in candidates if (d / "Rdata.rdx").is_file()), None)
    if directory is None:
        raise FileNotFoundError(
            f"MovieLens: no dslabs data in {', '.join(map(str, candidates))}. Unpack the Debian package without R: "
            f"`apt-get download r-cran-dslabs && dpkg -x r-cran-dslabs_*.deb .data/dslabs` in the project folder "
            f"(or `apt-get install r-cran-dslabs`), or pass root= / set DSLABS_DIR to its data folder.")
    frame = read_r_lazyload(directory, "movielens")
    missing = [name for name in MOVIELENS_COLUMNS + ("title",) if name not in frame]
    if missing:
        raise corrupt_file(directory / "Rdata.rdb", f"the movielens table lacks the columns {missing}", DSLABS_REMEDY)
    columns = {name: _integer_column(frame[name], name, directory) for name in ("userId", "movieId", "timestamp")}
    columns["rating"] = frame["rating"].to_numpy(dtype=np.float64)
    columns["title"] = np.asarray(frame["title"].astype(str), dtype=str)
    return {name: columns[name] for name in MOVIELENS_COLUMNS + ("title",)}


def _integer_column(column, name, directory):
    """An R integer column as int64, exactly: no missing values, no fractions."""
    if column.isna().any():
        raise corrupt_file(directory / "Rdata.rdb", f"column {name!r} has {int(column.isna().sum())} missing values",
                           DSLABS_REMEDY)
    values = column.to_numpy()
    if values.dtype.kind == "f" and not (np.isfinite(values).all() and (values == np.round(values)).all()
                                         and np.abs(values).max() < 2.0 ** 63):
        raise corrupt_file(directory / "Rdata.rdb", f"column {name!r} holds numbers that are not integers", DSLABS_REMEDY)
    if values.dtype.kind not in "iuf":
        raise corrupt_file(directory / "Rdata.rdb", f"column {name!r} has dtype {values.dtype}, not integers", DSLABS_REMEDY)
    return values.astype(np.int64)
