"""Project 1's data: id encoding, validation, the random and per-user time splits (against
naive loops), and the MovieLens loaders (dslabs and the standard files)."""
import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratch.projects.recommender import data as rd


@st.composite
def raw_tables(draw, max_users=12, max_items=15):
    """Raw columns (user ids, item ids, ratings, timestamps) with distinct (user, item) pairs;
    ids are sparse ints or strings, timestamps repeat (ties)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))
    num_users, num_items = draw(st.integers(1, max_users), label="users"), draw(st.integers(1, max_items), label="items")
    cells = rng.permutation(num_users * num_items)[:draw(st.integers(1, num_users * num_items), label="ratings")]
    raw_users = rng.choice(10**6, num_users, replace=False)
    raw_items = rng.choice(10**6, num_items, replace=False)
    if draw(st.booleans(), label="string ids"):
        raw_users = np.char.add("u", raw_users.astype(str))
    ratings = rng.integers(1, 11, cells.size) / 2
    timestamps = rng.integers(0, 20, cells.size)
    return raw_users[cells // num_items], raw_items[cells % num_items], ratings, timestamps


@given(raw_tables())
def test_encoding_round_trips_raw_ids(table):
    user_ids, item_ids, ratings, timestamps = table
    data = rd.Ratings.from_raw(user_ids, item_ids, ratings, timestamps)
    np.testing.assert_array_equal(data.user_ids[data.users], user_ids)
    np.testing.assert_array_equal(data.item_ids[data.items], item_ids)
    assert data.num_users == len(np.unique(user_ids)) and data.num_items == len(np.unique(item_ids))
    assert data.users.dtype == data.items.dtype == data.timestamps.dtype == np.int64 and data.ratings.dtype == np.float64
    np.testing.assert_array_equal(data.encode_users(user_ids), data.users)
    np.testing.assert_array_equal(data.encode_items(item_ids[::-1]), data.items[::-1])
    unknown = np.char.add("z", user_ids.astype(str)) if user_ids.dtype.kind == "U" else user_ids + 10**6
    np.testing.assert_array_equal(data.encode_users(unknown), -1)  # cold start, not an error
    dense = data.to_csr().toarray()
    np.testing.assert_array_equal(dense[data.users, data.items], ratings)
    assert np.count_nonzero(dense) == len(data)


def test_ratings_is_frozen_and_read_only():
    data = rd.Ratings.from_raw([5, 5, 9], [1, 2, 1], [4.0, 3, 5])
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.num_users = 3
    with pytest.raises(ValueError, match="read-only"):
        data.ratings[0] = 1.0
    assert data.rating_scale == (0.5, 5.0) and data.timestamps is None and len(data) == 3


def test_titles_are_kept_per_item():
    data = rd.Ratings.from_raw([1, 2, 2], [30, 10, 30], [4.0, 3, 5], titles=["Heat", "Alien", "Heat"])
    np.testing.assert_array_equal(data.titles, ["Alien", "Heat"])  # items sorted by raw id


GOOD = dict(users=[0, 1], items=[1, 0], ratings=[4.0, 3.5], num_users=2, num_items=2,
            user_ids=[10, 20], item_ids=[7, 8])


@pytest.mark.parametrize("change, error, message", [  # the table's checks are scratch.recommender.check_ratings
    (dict(users=[], items=[], ratings=[]), ValueError, r"ratings: expected at least one rating, got an empty table"),
    (dict(users=[0]), ValueError, r"users, items, ratings: expected one length, got 1, 2, 2"),
    (dict(items=[0.0, 1.0]), ValueError, r"items: expected integer indices, got dtype float64"),
    (dict(users=[0, 2]), ValueError, r"users: expected indices in \[0, 2\), got 2 at position 1"),
    (dict(ratings=[4.0, 5.5]), ValueError, r"ratings: expected values in \[0.5, 5\] \(rating_scale\), got 5.5 at position 1"),
    (dict(users=[1, 1], items=[0, 0]), ValueError, r"users, items: expected each \(user, item\) pair once, got \(1, 0\) 2 times"),
    (dict(rating_scale=(5, 1)), ValueError, r"rating_scale: expected \(low, high\) with low < high, got \(5, 1\)"),
    (dict(user_ids=[10]), ValueError, r"user_ids: expected one entry per index, shape \(2,\), got shape \(1,\)"),
    (dict(item_ids=[7, 7]), ValueError, r"item_ids: expected distinct raw ids, got 1 repeated"),
    (dict(timestamps=[1.5, 2.0]), ValueError, r"timestamps: expected int \(N,\) = \(2,\) or None, got float64 \(2,\)"),
    (dict(titles=["a"]), ValueError, r"titles: expected one entry per index, shape \(2,\), got shape \(1,\)"),
])
def test_bad_ratings_are_refused(change, error, message):
    with pytest.raises(error, match=message):
        rd.Ratings(**{**GOOD, **change})


def test_bad_raw_columns_and_ids_are_refused():
    with pytest.raises(ValueError, match="ratings: expected at least one rating, got empty columns"):
        rd.Ratings.from_raw([], [], [])
    with pytest.raises(ValueError, match=r"user_ids and item_ids: expected two 1-d columns of one length, got shapes \(2,\) and \(1,\)"):
        rd.Ratings.from_raw([1, 2], [3], [4.0, 4.0])
    with pytest.raises(ValueError, match=r"users, items: expected each \(user, item\) pair once"):
        rd.Ratings.from_raw([1, 1], [3, 3], [4.0, 4.0])
    data = rd.Ratings.from_raw([1, 2], [3, 3], [4.0, 4.0])
    with pytest.raises(TypeError, match=r"raw_ids: expected raw ids like \[1, 2\] \(dtype int64\), got dtype <U1"):
        data.encode_users(["1"])


@given(raw_tables(), st.floats(0.05, 0.95), st.integers(0, 2**16))
def test_random_split_partitions_the_ratings(table, fraction, seed):
    data = rd.Ratings.from_raw(*table)
    if round(fraction * len(data)) in (0, len(data)):
        with pytest.raises(ValueError, match="split of .* ratings came out empty"):
            rd.random_split(data, fraction, np.random.default_rng(seed))
        return
    train, test = rd.random_split(data, fraction, np.random.default_rng(seed))
    assert len(test) == round(fraction * len(data)) and len(train) + len(test) == len(data)
    keys = lambda part: set(zip(part.users.tolist(), part.items.tolist(), part.ratings.tolist(), part.timestamps.tolist()))
    assert keys(train) | keys(test) == keys(data) and not keys(train) & keys(test)
    for part in (train, test):  # the whole table's encoding, so indices mean the same in both
        assert part.num_users == data.num_users and part.user_ids is data.user_ids and part.item_ids is data.item_ids
    again, _ = rd.random_split(data, fraction, np.random.default_rng(seed))
    np.testing.assert_array_equal(again.users, train.users)


@given(raw_tables(), st.integers(1, 4))
def test_leave_last_n_matches_a_per_user_loop(table, n):
    data = rd.Ratings.from_raw(*table)
    expected_test = np.zeros(len(data), dtype=bool)
    for user in range(data.num_users):
        rows = np.flatnonzero(data.users == user)
        if rows.size > n:  # a user with n ratings or fewer keeps them all in train
            latest = sorted(rows.tolist(), key=lambda r: (data.timestamps[r], r))[-n:]
            expected_test[latest] = True
    if not expected_test.any():
        with pytest.raises(ValueError, match=rf"leave_last_n\(n={n}\): the test split of {len(data)} ratings came out empty"):
            rd.leave_last_n(data, n)
        return
    train, test = rd.leave_last_n(data, n)
    np.testing.assert_array_equal(test.ratings, data.ratings[expected_test])
    np.testing.assert_array_equal(test.users, data.users[expected_test])
    np.testing.assert_array_equal(train.items, data.items[~expected_test])
    assert set(test.users.tolist()) <= set(train.users.tolist())  # every test user has training ratings
    for user in np.unique(test.users):  # and nothing held out precedes anything trained on
        assert test.timestamps[test.users == user].min() >= train.timestamps[train.users == user].max()


def test_split_arguments_are_checked():
    data = rd.Ratings.from_raw([1, 1, 2], [3, 4, 3], [4.0, 4.0, 1.0])
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"test_fraction: expected a number in \(0, 1\), got 1.0"):
        rd.random_split(data, 1.0, rng)
    with pytest.raises(TypeError, match="rng: expected a numpy.random.Generator, got int"):
        rd.random_split(data, 0.5, 0)
    with pytest.raises(TypeError, match="ratings: expected a Ratings, got dict"):
        rd.leave_last_n({}, 1)
    with pytest.raises(ValueError, match="ratings.timestamps: expected timestamps for a split by time, got None"):
        rd.leave_last_n(data, 1)
    with pytest.raises(ValueError, match="n: expected a positive int, got 0"):
        rd.leave_last_n(dataclasses.replace(data, timestamps=[1, 2, 3]), 0)


@pytest.fixture(scope="module")
def movielens():
    return rd.load_movielens_ratings()


def test_dslabs_movielens_as_ratings(movielens):
    assert (len(movielens), movielens.num_users, movielens.num_items) == (100004, 671, 9066)
    assert movielens.rating_scale == (0.5, 5.0) and movielens.titles.shape == (9066,)
    assert movielens.titles[movielens.encode_items([1])[0]] == "Toy Story"
    train, test = rd.leave_last_n(movielens, 5)
    assert len(test) == 5 * np.sum(np.bincount(movielens.users) > 5)
    assert len(rd.random_split(movielens, 0.1, np.random.default_rng(0))[1]) == 10000


def test_standard_movielens_files(tmp_path):
    (tmp_path / "latest").mkdir()
    (tmp_path / "latest" / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n7,31,4.5,851866703\n")
    (tmp_path / "latest" / "movies.csv").write_text('movieId,title,genres\n31,"Dangerous Minds (1995)",Drama\n1029,"Dumbo, the film",Animation\n')
    data = rd.load_movielens_ratings(tmp_path / "latest" / "ratings.csv")
    assert (len(data), data.num_users, data.num_items, data.rating_scale) == (3, 2, 2, (0.5, 5.0))
    np.testing.assert_array_equal(data.titles, ["Dangerous Minds (1995)", "Dumbo, the film"])
    np.testing.assert_array_equal(data.timestamps, [1260759144, 1260759179, 851866703])
    (tmp_path / "u.data").write_text("196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t5\t881251000\n")
    data = rd.load_movielens_ratings(tmp_path / "u.data")
    assert (len(data), data.rating_scale, data.titles) == (3, (1.0, 5.0), None)
    np.testing.assert_array_equal(data.item_ids[data.items], [242, 302, 302])
    renamed = tmp_path / "mine.tsv"
    renamed.write_text((tmp_path / "u.data").read_text())
    assert len(rd.load_movielens_ratings(renamed)) == 3  # told apart by content too


def test_unreadable_movielens_files_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="path: no file .*nothing.csv; expected MovieLens ratings.csv or u.data"):
        rd.load_movielens_ratings(tmp_path / "nothing.csv")
    (tmp_path / "movies.csv").write_text("movieId,title,genres\n1,Toy Story,Animation\n")
    with pytest.raises(ValueError, match=r"path: expected MovieLens ratings.csv \(header userId,movieId,rating,timestamp\) or u.data"):
        rd.load_movielens_ratings(tmp_path / "movies.csv")
    (tmp_path / "ratings.csv").write_text("user,item,rating\n1,2,3\n")
    with pytest.raises(ValueError, match="path: expected .*ratings.csv to start with the header userId,movieId,rating,timestamp"):
        rd.load_movielens_ratings(tmp_path / "ratings.csv")
    (tmp_path / "u.data").write_text("1\t2\t7\t100\n")
    with pytest.raises(ValueError, match=r"path: .*u.data line 1, column 'rating': expected a rating in \[1, 5\], got '7'"):
        rd.load_movielens_ratings(tmp_path / "u.data")
