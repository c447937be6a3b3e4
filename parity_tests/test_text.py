"""scratch.text: the tokeniser and Vocabulary by their properties, TfidfVectorizer against scikit-learn's."""
import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratch import serialization
from scratch.text import Vocabulary, normalize, tokenize

WORDS = st.sampled_from(["the", "cat", "sat", "on", "mat", "dog", "a", "ran", "zebra", "ox"])
CORPORA = st.lists(st.lists(WORDS, min_size=1, max_size=12), min_size=1, max_size=8)


def test_normalize_and_tokenize_as_documented():
    assert normalize("  Café  ＦＵＬＬ\twidth ﬁle ") == "café full width file"
    assert normalize("cafe\u0301") == normalize("café")  # decomposed and composed accents agree
    assert tokenize("Don't STOP: it's 3.14, a_b!") == ["don't", "stop", "it's", "3", "14", "a_b"]
    assert tokenize(" \n\t ") == []


@given(CORPORA, st.integers(1, 4), st.none() | st.integers(2, 12))
def test_vocabulary_build_keeps_frequent_tokens_in_a_documented_order(corpus, min_freq, max_size):
    vocab = Vocabulary.build(corpus, min_freq=min_freq, max_size=max_size)
    flat = [token for tokens in corpus for token in tokens]
    counts = {token: flat.count(token) for token in flat}
    assert vocab.itos[:2] == ["<pad>", "<unk>"] and vocab.stoi["<pad>"] == Vocabulary.PAD == 0
    assert vocab.stoi["<unk>"] == Vocabulary.UNK == 1
    expected = sorted((t for t in counts if counts[t] >= min_freq), key=lambda t: (-counts[t], flat.index(t)))
    assert vocab.itos[2:] == expected[:None if max_size is None else max_size - 2]
    assert max_size is None or len(vocab) <= max_size
    assert all(vocab.stoi[token] == i for i, token in enumerate(vocab.itos))


@given(CORPORA, st.lists(st.sampled_from(["the", "cat", "unseen", "words"]), min_size=1, max_size=6))
def test_encode_maps_unknown_words_to_unk_and_decode_inverts_known_ones(corpus, tokens):
    vocab = Vocabulary.build(corpus)
    ids = vocab.encode(tokens)
    assert ids == [vocab.stoi[t] if t in vocab else Vocabulary.UNK for t in tokens]
    assert vocab.decode(ids) == [t if t in vocab else "<unk>" for t in tokens]


@given(CORPORA, st.integers(1, 15))
def test_encode_batch_pads_cuts_and_reports_lengths(corpus, max_len):
    vocab = Vocabulary.build(corpus[: len(corpus) // 2 + 1])
    ids, lengths = vocab.encode_batch(corpus, max_len=max_len)
    assert ids.dtype == np.int64 and lengths.dtype == np.int64
    np.testing.assert_array_equal(lengths, [min(len(tokens), max_len) for tokens in corpus])
    assert ids.shape == (len(corpus), lengths.max())
    for row, length, tokens in zip(ids, lengths, corpus):
        assert row[:length].tolist() == vocab.encode(tokens[:max_len])
        assert (row[length:] == Vocabulary.PAD).all() and (row[:length] != Vocabulary.PAD).all()


def test_encode_batch_tokenizes_strings():
    vocab = Vocabulary.build([tokenize("The cat sat.")])
    ids, lengths = vocab.encode_batch(["the CAT!", "Sat, cat, sat on it"], max_len=3)
    np.testing.assert_array_equal(ids, [[vocab.stoi["the"], vocab.stoi["cat"], 0],
                                        [vocab.stoi["sat"], vocab.stoi["cat"], vocab.stoi["sat"]]])
    np.testing.assert_array_equal(lengths, [2, 3])


@given(CORPORA)
def test_vocabulary_round_trips_through_an_npz_checkpoint(corpus):
    vocab = Vocabulary.build(corpus)
    buffer = io.BytesIO()
    serialization.save({"head.weight": np.ones((2, 3)), **vocab.state_dict(prefix="vocab.")}, buffer)
    buffer.seek(0)
    loaded = Vocabulary.from_state_dict(serialization.load(buffer), prefix="vocab.")
    assert loaded == vocab and loaded.stoi == vocab.stoi


@pytest.mark.parametrize("call, error, message", [
    (lambda v: Vocabulary.build("the cat"), TypeError, "token_lists: expected an iterable of token lists, got str"),
    (lambda v: Vocabulary.build(["the cat"]), TypeError, r"token_lists\[0\]: expected a list of str tokens"),
    (lambda v: Vocabulary.build([["a", 3]]), TypeError, r"token_lists\[0\]: expected str tokens, got int 3"),
    (lambda v: Vocabulary.build([["a"]], min_freq=0), ValueError, "min_freq: expected an int >= 1, got 0"),
    (lambda v: Vocabulary.build([["a"]], max_size=1), ValueError, "max_size: expected None or an int >= 2"),
    (lambda v: Vocabulary.build([["<pad>"]]), ValueError, "'<pad>' is reserved for padding"),
    (lambda v: v.encode("the cat"), TypeError, "tokens: expected a list of str tokens .tokenize the text first."),
    (lambda v: v.decode([0, 7]), ValueError, r"ids: expected ids in \[0, 4\), got values in \[0, 7\]"),
    (lambda v: v.decode([0.5]), TypeError, "ids: expected a 1-d sequence of ints"),
    (lambda v: v.encode_batch(["the", "  ,;"], max_len=4), ValueError, r"documents \[1\] are empty"),
    (lambda v: v.encode_batch([], max_len=4), ValueError, "expected at least one document, got none"),
    (lambda v: v.encode_batch("the cat", max_len=4), TypeError, "texts_or_token_lists: expected a list"),
    (lambda v: v.encode_batch(["the"], max_len=0), ValueError, "max_len: expected an int >= 1, got 0"),
    (lambda v: Vocabulary.from_state_dict({"tokens": np.array(["<unk>", "<pad>"])}), ValueError,
     "expected '<pad>', '<unk>' first"),
    (lambda v: Vocabulary.from_state_dict({"tokens": np.array(["<pad>"]), "extra": np.zeros(1)}), ValueError,
     r"expected exactly the key 'tokens' under prefix '', got \['extra', 'tokens'\]"),
    (lambda v: Vocabulary.from_state_dict({"tokens": np.arange(3)}), TypeError, "expected a 1-d unicode array"),
    (lambda v: normalize(b"bytes"), TypeError, "text: expected a str, got bytes"),
])
def test_bad_input_is_refused_clearly(call, error, message):
    vocab = Vocabulary.build([["the", "cat"]])
    with pytest.raises(error, match=message):
        call(vocab)
