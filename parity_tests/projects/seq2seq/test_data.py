"""Project 17's scores: the batched edit distance equals the textbook recurrence, the banded nearest-spelling
search equals a brute-force scan, and the word/phoneme error rates on hand-worked cases."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratch.projects.seq2seq import data

words = st.text(alphabet="abcd", min_size=0, max_size=7)


@settings(max_examples=30)
@given(pairs=st.lists(st.tuples(words, words), min_size=1, max_size=40))
def test_batched_edit_distance_equals_the_recurrence(pairs):
    sources, targets = zip(*pairs)
    expected = [data.edit_distance(a, b) for a, b in pairs]
    np.testing.assert_array_equal(data.edit_distances(list(sources), list(targets)), expected)


def brute_force_nearest(words, train_words, dictionary):
    """Every candidate scanned: smallest (distance, length gap, position) among same-first-letter words."""
    out = []
    for word in words:
        pool = [w for w in train_words if w[0] == word[0]] or list(train_words)
        keys = [(data.edit_distance(word, w), abs(len(w) - len(word)), i) for i, w in enumerate(pool)]
        out.append(dictionary[pool[min(keys)[2]]][0])
    return out


@settings(max_examples=25)
@given(train=st.lists(st.text(alphabet="abc", min_size=1, max_size=6), min_size=1, max_size=25, unique=True),
       queries=st.lists(st.text(alphabet="abcd", min_size=1, max_size=7), min_size=1, max_size=10))
def test_banded_nearest_spelling_equals_a_brute_force_scan(train, queries):
    dictionary = {word: [[word.upper()]] for word in train}
    assert data.nearest_spelling(queries, train, dictionary) == brute_force_nearest(queries, train, dictionary)


def test_data_split_and_scores():
    dictionary = {word: [["P"]] for word in (f"w{i}" for i in range(200))}
    train, val, test = data.split_words(dictionary, seed=0)
    assert (len(train), len(val), len(test)) == (180, 10, 10)
    assert not (set(train) & set(val) or set(train) & set(test) or set(val) & set(test))
    assert set(train) | set(val) | set(test) == set(dictionary) and data.split_words(dictionary, seed=0)[2] == test
    references = [[["K", "AE1", "T"]], [["T", "AH0", "M", "EY1", "T", "OW2"], ["T", "AH0", "M", "AA1", "T", "OW2"]]]
    assert data.error_rates([["K", "AE1", "T"], ["T", "AH0", "M", "AA1", "T", "OW2"]], references) == (0.0, 0.0)
    wer, per = data.error_rates([["K", "AE1"], ["T", "AH0", "M", "AA1", "T", "OW2"]], references)
    assert wer == 50.0 and per == pytest.approx(100 / 9)  # one deletion over 3 + 6 reference phonemes
    assert data.edit_distance("kitten", "sitting") == 3
    sources, targets = data.synthetic_task("sort", 5, np.random.default_rng(0))
    assert all(sorted(s) == list(t) for s, t in zip(sources, targets))
    dictionary = {"cat": [["K", "AE1", "T"]], "cats": [["K", "AE1", "T", "S"]], "dog": [["D", "AO1", "G"]]}
    assert data.nearest_spelling(["cap", "dot"], ["cat", "dog"], dictionary) == [["K", "AE1", "T"], ["D", "AO1", "G"]]


def test_error_rates_need_a_reference_per_word():
    with pytest.raises(ValueError, match="references: expected at least one pronunciation"):
        data.error_rates([["K"]], [[]])
    with pytest.raises(ValueError, match="targets: expected one per source"):
        data.edit_distances(["ab"], [])
