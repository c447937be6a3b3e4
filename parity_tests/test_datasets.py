"""Real data that ships in packages: MovieLens from r-cran-dslabs' R lazy-load database."""
import numpy as np
import pytest

from scratch import datasets


def test_movielens_loads_as_documented():
    ratings = datasets.load_movielens()
    assert set(ratings) == {"userId", "movieId", "rating", "timestamp", "title"}
    assert all(column.shape == (100004,) for column in ratings.values())
    assert ratings["userId"].dtype == np.int64 and ratings["rating"].dtype == np.float64
    assert len(np.unique(ratings["userId"])) == 671 and len(np.unique(ratings["movieId"])) == 9066
    np.testing.assert_array_equal(np.unique(ratings["rating"]), np.arange(1, 11) / 2)
    assert ratings["title"][0] == "Dangerous Minds"
    same_movie = ratings["movieId"] == ratings["movieId"][0]
    assert np.all(ratings["title"][same_movie] == ratings["title"][0])  # one title per film


def test_missing_movielens_says_how_to_install(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get download r-cran-dslabs"):
        datasets.load_movielens(root=tmp_path)


def test_unknown_r_object_is_refused():
    directory = next(d for d in datasets.DSLABS_DIRS if (d / "Rdata.rdx").is_file())
    with pytest.raises(ValueError, match="name: expected one of .*'movielens'.*, got 'netflix'"):
        datasets.read_r_lazyload(directory, "netflix")
