"""MovieLens ratings from the Debian package ``r-cran-dslabs``, read from R's lazy-load database
without R (the PyPI package ``rdata`` parses each object)."""
import gzip
import os
import zlib
from pathlib import Path

import numpy as np

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
