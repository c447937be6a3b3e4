"""Project 1's data: explicit ratings encoded as integer indices, their validation, the
random and per-user time splits, and the MovieLens loaders.

Every recommender works on indices: ``users`` in [0, num_users), ``items`` in [0, num_items);
validation is scratch.recommender's ``check_ratings``, the one validator the models use too.
``Ratings`` keeps the raw id of each index (``user_ids``, ``item_ids``), so a split keeps the
encoding of the whole table (a test index means the same user as a training index), and
``encode_users`` / ``encode_items`` turn raw ids into indices at predict time.
"""
import csv
import numbers
import re
import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from scratch.datasets.files import as_path, reading
from scratch.plumbing import check_positive_int
from scratch.projects.recommender.base import check_rating_scale, check_ratings

MOVIELENS_SCALE = (0.5, 5.0)  # half stars: dslabs and ratings.csv
MOVIELENS_100K_SCALE = (1.0, 5.0)  # whole stars: u.data
RATINGS_CSV_HEADER = ["userId", "movieId", "rating", "timestamp"]
U_DATA_COLUMNS = ["user id", "item id", "rating", "timestamp"]  # ML-100K's README names
MOVIELENS_FILE_REMEDY = "replace it with an intact copy from the MovieLens release"
_INTEGER = re.compile(r"\s*[+-]?\d+\s*")  # what np.loadtxt parses as an int (no '1_000', no '1.0')


def _encode(raw, known, name):
    """The index of each raw id in ``known``, -1 where it is unknown."""
    raw = np.asarray(raw)
    if raw.size and (raw.dtype.kind in "US") != (known.dtype.kind in "US"):
        raise TypeError(f"{name}: expected raw ids like {known[:3].tolist()} (dtype {known.dtype}), got dtype {raw.dtype}")
    order = np.argsort(known, kind="stable")
    position = np.searchsorted(known[order], raw).clip(0, known.size - 1)
    return np.where(known[order][position] == raw, order[position], -1).astype(np.int64)


@dataclass(frozen=True)
class Ratings:
    """Explicit ratings as encoded indices, one entry per (user, item) pair.

    Attributes
    ----------
    users, items : ndarray (N,) int64
        Indices in [0, num_users) and [0, num_items).
    ratings : ndarray (N,) float64
        Within ``rating_scale``.
    num_users, num_items : int
    user_ids, item_ids : ndarray (num_users,), (num_items,)
        The raw id of each index (distinct).
    rating_scale : (float, float)
    timestamps : ndarray (N,) int64 or None
        Seconds; needed by ``leave_last_n``.
    titles : ndarray (num_items,) str or None
        A title per item index.
    """
    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray
    num_users: int
    num_items: int
    user_ids: np.ndarray = field(repr=False)
    item_ids: np.ndarray = field(repr=False)
    rating_scale: tuple = MOVIELENS_SCALE
    timestamps: np.ndarray = field(default=None, repr=False)
    titles: np.ndarray = field(default=None, repr=False)

    def __post_init__(self):
        users, items, ratings = check_ratings(self.users, self.items, self.ratings, self.num_users,
                                              self.num_items, self.rating_scale)
        fixed = {"users": users, "items": items, "ratings": ratings,
                 "rating_scale": check_rating_scale(self.rating_scale)}
        for name, size in (("user_ids", self.num_users), ("item_ids", self.num_items), ("titles", self.num_items)):
            ids = getattr(self, name)
            if ids is None and name == "titles":
                continue
            ids = np.asarray(ids)
            if ids.shape != (size,):
                raise ValueError(f"{name}: expected one entry per index, shape ({size},), got shape {ids.shape}")
            if name != "titles" and np.unique(ids).size != size:
                raise ValueError(f"{name}: expected distinct raw ids, got {size - np.unique(ids).size} repeated")
            fixed[name] = ids
        if self.timestamps is not None:
            timestamps = np.asarray(self.timestamps)
            if timestamps.shape != ratings.shape or not np.issubdtype(timestamps.dtype, np.integer):
                raise ValueError(f"timestamps: expected int (N,) = ({ratings.size},) or None, "
                                 f"got {timestamps.dtype} {timestamps.shape}")
            fixed["timestamps"] = timestamps.astype(np.int64)
        for name, value in fixed.items():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False  # frozen all the way down: splits share these arrays' encoding
            object.__setattr__(self, name, value)

    @classmethod
    def from_raw(cls, user_ids, item_ids, ratings, timestamps=None, titles=None, rating_scale=MOVIELENS_SCALE):
        """Encode raw id columns (any sortable ids, one entry per rating) into indices.

        Indices follow the sorted raw ids. ``titles`` (N,) gives a title per rating; the
        first title seen for an item is kept.
        """
        user_ids, item_ids = np.asarray(user_ids), np.asarray(item_ids)
        if user_ids.ndim != 1 or item_ids.shape != user_ids.shape:
            raise ValueError(f"user_ids and item_ids: expected two 1-d columns of one length, "
                             f"got shapes {user_ids.shape} and {item_ids.shape}")
        if user_ids.size == 0:
            raise ValueError("ratings: expected at least one rating, got empty columns")
        known_users, users = np.unique(user_ids, return_inverse=True)
        known_items, first, items = np.unique(item_ids, return_index=True, return_inverse=True)
        if titles is not None:
            titles = np.asarray(titles)
            if titles.shape != item_ids.shape:
                raise ValueError(f"titles: expected one per rating, shape {item_ids.shape}, got {titles.shape}")
            titles = titles[first]
        return cls(users, items, ratings, known_users.size, known_items.size, known_users, known_items,
                   rating_scale, timestamps, titles)

    def __len__(self):
        return self.ratings.size

    def subset(self, selection):
        """The ratings picked by a boolean mask or an index array, with the same encoding."""
        timestamps = None if self.timestamps is None else self.timestamps[selection]
        return replace(self, users=self.users[selection], items=self.items[selection],
                       ratings=self.ratings[selection], timestamps=timestamps)

    def encode_users(self, raw_ids):
        """Indices of raw user ids; an unknown id gives -1 rather than an error.

        -1 is a cold-start user: ``Recommender.recommend`` gives it ``model.popularity_[:k]``,
        the ranking a known user without training ratings gets; ``predict`` refuses it.
        """
        return _encode(raw_ids, self.user_ids, "raw_ids")

    def encode_items(self, raw_ids):
        """Indices of raw item ids; an unknown id gives -1 (an item no model has seen)."""
        return _encode(raw_ids, self.item_ids, "raw_ids")

    def to_csr(self):
        """scipy.sparse csr (num_users, num_items) holding the ratings."""
        from scipy import sparse
        return sparse.csr_matrix((self.ratings, (self.users, self.items)), shape=(self.num_users, self.num_items))


def _split(ratings, test, how):
    """(train, test) from a boolean test mask; refuses an empty part."""
    for part, mask in (("train", ~test), ("test", test)):
        if not mask.any():
            raise ValueError(f"{how}: the {part} split of {len(ratings)} ratings came out empty")
    return ratings.subset(~test), ratings.subset(test)


def random_split(ratings, test_fraction, rng):
    """(train, test): ``round(test_fraction * N)`` ratings drawn at random for test.

    Both keep the full encoding; a user or item whose ratings all land in test is cold start
    for the models.
    """
    if not isinstance(ratings, Ratings):
        raise TypeError(f"ratings: expected a Ratings, got {type(ratings).__name__}")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, numbers.Real) or not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction: expected a number in (0, 1), got {test_fraction!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
    test = np.zeros(len(ratings), dtype=bool)
    test[rng.permutation(len(ratings))[:round(test_fraction * len(ratings))]] = True
    return _split(ratings, test, f"random_split(test_fraction={test_fraction})")


def leave_last_n(ratings, n=1):
    """(train, test): each user's ``n`` latest ratings (by timestamp) held out for test.

    A user with ``n`` ratings or fewer keeps all of them in train (nothing would be left
    to learn them from), so every test user also has training ratings. Ties in time keep
    the table's order: the later row counts as later.
    """
    if not isinstance(ratings, Ratings):
        raise TypeError(f"ratings: expected a Ratings, got {type(ratings).__name__}")
    check_positive_int(n, "n")
    if ratings.timestamps is None:
        raise ValueError("ratings.timestamps: expected timestamps for a split by time, got None")
    order = np.lexsort((ratings.timestamps, ratings.users))  # by user, then time; stable
    sorted_users = ratings.users[order]
    counts = np.bincount(ratings.users, minlength=ratings.num_users)
    start = np.cumsum(counts) - counts  # first position of each user in ``order``
    from_end = counts[sorted_users] - (np.arange(len(ratings)) - start[sorted_users])  # 1 = the latest
    test = np.zeros(len(ratings), dtype=bool)
    test[order] = (from_end <= n) & (counts[sorted_users] > n)
    return _split(ratings, test, f"leave_last_n(n={n})")


def _movielens_file(path):
    """'csv' or 'tab' by file name, else by the first line; a clear error otherwise."""
    if not path.is_file():
        raise FileNotFoundError(f"path: no file {path}; expected MovieLens ratings.csv or u.data")
    with open(path, encoding="latin-1") as f:
        first = f.readline().rstrip("\r\n")
    if path.name == "ratings.csv" or first.split(",") == RATINGS_CSV_HEADER:
        if first.split(",") != RATINGS_CSV_HEADER:
            raise ValueError(f"path: expected {path} to start with the header {','.join(RATINGS_CSV_HEADER)}, got {first[:80]!r}")
        return "csv"
    fields = first.split("\t")
    if path.name == "u.data" or (len(fields) == 4 and all(f.strip().lstrip("-").isdigit() for f in fields)):
        return "tab"
    raise ValueError(f"path: expected MovieLens ratings.csv (header {','.join(RATINGS_CSV_HEADER)}) or u.data "
                     f"(userId, itemId, rating, timestamp separated by tabs, no header), got {path} starting {first[:80]!r}")


def _titles_beside(path, kind):
    """{raw item id: title} from movies.csv or u.item in the same folder, if there; a file that is
    there but unreadable, or holds a row without an integer id and a title, is refused by line."""
    name, delimiter, encoding = ("movies.csv", ",", "utf-8") if kind == "csv" else ("u.item", "|", "latin-1")
    titles_file = path.parent / name
    if not titles_file.is_file():
        return None
    with reading(titles_file, MOVIELENS_FILE_REMEDY), open(titles_file, encoding=encoding, newline="") as f:
        rows = list(csv.reader(f, delimiter=delimiter))
    first = 2 if kind == "csv" else 1  # the line number of the first title row
    numbered = [(line, row) for line, row in enumerate(rows[first - 1:], start=first) if row]  # blank lines hold nothing
    for line, row in numbered:  # one pass over the films, not the ratings
        if len(row) < 2 or not _INTEGER.fullmatch(row[0]):
            raise ValueError(f"path: {titles_file} line {line}: expected an integer film id and a title, got {row[:2]!r}")
    titles = {int(row[0]): row[1] for _, row in numbered}
    if len(titles) != len(numbered):
        raise ValueError(f"path: {titles_file}: expected one title per film id, got {len(numbered) - len(titles)} "
                         f"repeated ids")
    return titles


def _read_ratings(path, kind):
    """The four columns of a MovieLens ratings file, ids and timestamps parsed as int64 directly
    (never through float64, which merges ids above 2**53 and cuts fractions); the first row that
    does not hold (int, int, rating in the scale, int) is refused by file, line and column."""
    delimiter, skip, scale = (",", 1, MOVIELENS_SCALE) if kind == "csv" else ("\t", 0, MOVIELENS_100K_SCALE)
    columns = RATINGS_CSV_HEADER if kind == "csv" else U_DATA_COLUMNS
    dtype = [(column, np.float64 if column == "rating" else np.int64) for column in columns]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": refused below, by name
            table = np.loadtxt(path, dtype=dtype, delimiter=delimiter, skiprows=skip, ndmin=1, comments=None,
                               encoding="latin-1")
    except ValueError as error:
        raise _first_bad_row(path, delimiter, skip, columns, scale) or ValueError(f"path: {path}: {error}") from None
    if table.size == 0:
        raise ValueError(f"path: expected ratings in {path}, got no data rows")
    rating = table[columns[2]]
    if not ((rating >= scale[0]) & (rating <= scale[1])).all():  # NaN is outside too
        raise _first_bad_row(path, delimiter, skip, columns, scale)
    return (table[column] for column in columns), scale


def _first_bad_row(path, delimiter, skip, columns, scale):
    """The ValueError for the first line that does not hold (int, int, rating in ``scale``, int), or None.

    A Python pass over the lines, only ever run once the fast parse has failed, to say where.
    """
    with open(path, encoding="latin-1", newline="") as f:
        for line, text in enumerate(f, start=1):
            if line <= skip or not text.strip():
                continue
            fields = text.rstrip("\r\n").split(delimiter)
            if len(fields) != len(columns):
                return ValueError(f"path: {path} line {line}: expected {len(columns)} fields ({', '.join(columns)}), "
                                  f"got {len(fields)}: {text.strip()[:80]!r}")
            for column, field in zip(columns, fields):
                expected = _field_problem(column, field, scale)
                if expected:
                    return ValueError(f"path: {path} line {line}, column {column!r}: expected {expected}, got {field!r}")
    return None


def _field_problem(column, field, scale):
    """What ``field`` should have been, or None if it is fine."""
    if column == "rating":
        try:
            value = float(field)
        except ValueError:
            value = np.nan
        return None if scale[0] <= value <= scale[1] else f"a rating in [{scale[0]:g}, {scale[1]:g}]"
    if not _INTEGER.fullmatch(field) or not -2 ** 63 <= int(field) < 2 ** 63:
        return "an integer in the int64 range"
    return None


def load_movielens_ratings(path=None):
    """MovieLens as ``Ratings`` (with timestamps and titles).

    ``path=None``: the dslabs table (100,004 ratings, 671 users, 9,066 films, half stars;
    ``scratch.datasets.load_movielens``). A path: the standard ``ratings.csv`` (header
    userId,movieId,rating,timestamp; half stars) or ``u.data`` (ML-100K: tab-separated, no
    header, whole stars 1-5), told apart by name or first line; titles come from
    ``movies.csv`` / ``u.item`` beside it when present.

    Ids and timestamps are read as int64 directly: a fraction, NaN, a number beyond int64 or a
    row of the wrong width is refused naming the file, line and column; so is a rating outside
    the scale and a file that is corrupt or has no data rows.
    """
    if path is None:
        from scratch.datasets import load_movielens
        table = load_movielens()
        return Ratings.from_raw(table["userId"], table["movieId"], table["rating"], table["timestamp"], table["title"])
    path = as_path(path, "path")
    kind = _movielens_file(path)
    with reading(path, MOVIELENS_FILE_REMEDY):
        (users, items, ratings, timestamps), scale = _read_ratings(path, kind)
    lookup = _titles_beside(path, kind)
    titles = None
    if lookup is not None:
        known, inverse = np.unique(items, return_inverse=True)
        titles = np.array([lookup.get(i, "") for i in known.tolist()])[inverse]  # a loop over films, not ratings
    return Ratings.from_raw(users, items, ratings, timestamps, titles, rating_scale=scale)
