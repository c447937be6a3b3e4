"""scratch.text: the tokeniser and Vocabulary by their properties, TfidfVectorizer against scikit-learn's."""
import io

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from sklearn.feature_extraction import text as sklearn_text

from scratch import datasets, serialization
from scratch.text import NotFittedError, TfidfVectorizer, Vocabulary, normalize, tokenize
from twins.parity import assert_close, tolerance

WORDS = st.sampled_from(["the", "cat", "sat", "on", "mat", "dog", "a", "ran", "zebra", "ox"])
CORPORA = st.lists(st.lists(WORDS, min_size=1, max_size=12), min_size=1, max_size=8)


def test_normalize_and_tokenize_as_documented():
    assert normalize("  Café  ＦＵＬＬ\twidth ﬁle ") == "café full width file"
    assert normalize("cafe\u0301") == normalize("café")  # decomposed and composed accents agree
    assert tokenize("Don't STOP: it's 3.14, a_b!") == ["don't", "stop", "it's", "3", "14", "a_b"]
    assert tokenize(" \n\t ") == []


@given(CORPORA, st.integers(1, 4), st.none() | st.integers(3, 12))
def test_vocabulary_build_keeps_frequent_tokens_in_a_documented_order(corpus, min_freq, max_size):
    flat = [token for tokens in corpus for token in tokens]
    counts = {token: flat.count(token) for token in flat}
    if max(counts.values()) < min_freq:  # no token kept: a vocabulary of PAD and UNK alone is refused
        with pytest.raises(ValueError, match=f"min_freq: expected at most {max(counts.values())} .* no token would be kept"):
            Vocabulary.build(corpus, min_freq=min_freq, max_size=max_size)
        return
    vocab = Vocabulary.build(corpus, min_freq=min_freq, max_size=max_size)
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
    (lambda v: Vocabulary.build([["a"]], max_size=2), ValueError, r"max_size: expected None or an int >= 3 \(PAD, UNK and"),
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


def assert_same_tfidf(ours, theirs, X, X_expected, name):
    """Vocabulary, idf and the matrix (its sparsity pattern and its values) equal to scikit-learn's."""
    assert ours.vocabulary_ == theirs.vocabulary_, f"{name}: vocabulary_ differs"
    np.testing.assert_array_equal(ours.get_feature_names_out(), theirs.get_feature_names_out())
    if theirs.use_idf:
        assert ours.idf_.dtype == theirs.idf_.dtype
        assert_close(ours.idf_, theirs.idf_, f"{name} idf_", *tolerance(theirs.idf_.dtype, "forward"))
    assert sp.issparse(X) and X.format == "csr" and X.dtype == X_expected.dtype and X.has_sorted_indices
    X_expected = X_expected.copy()
    X_expected.sort_indices()  # scikit-learn's fit_transform leaves the columns of a row unordered
    np.testing.assert_array_equal(X.indptr, X_expected.indptr, err_msg=f"{name}: nonzeros per row differ")
    np.testing.assert_array_equal(X.indices, X_expected.indices, err_msg=f"{name}: columns of the nonzeros differ")
    rtol, atol = tolerance(X.dtype, "forward", reduction=X.shape[1])
    assert_close(X.toarray(), X_expected.toarray(), f"{name} dense matrix", rtol, atol)


def fit_both(documents, new_documents, **params):
    ours, theirs = TfidfVectorizer(**params), sklearn_text.TfidfVectorizer(**params)
    try:
        X_expected = theirs.fit_transform(documents)
    except ValueError as error:  # scikit-learn refuses (empty vocabulary, nothing left after pruning): so do we
        with pytest.raises(ValueError):
            ours.fit_transform(documents)
        return str(error)
    assert_same_tfidf(ours, theirs, ours.fit_transform(documents), X_expected, f"fit_transform {params}")
    assert_same_tfidf(ours, theirs, ours.transform(new_documents), theirs.transform(new_documents),
                      f"transform {params}")
    return None


REAL_PARAMS = [
    {},
    dict(ngram_range=(1, 2), min_df=2, max_df=0.5, max_features=3000, sublinear_tf=True),
    dict(stop_words=["the", "of", "to", "and", "in", "said"], binary=True, norm="l1", dtype=np.float32),
    dict(analyzer="char_wb", ngram_range=(2, 4), max_features=2000, smooth_idf=False),
    dict(token_pattern=r"(?u)\b\w+\b", use_idf=False, norm=None, min_df=0.01),
]


@pytest.mark.parametrize("params", REAL_PARAMS, ids=lambda params: ",".join(map(str, params)) or "defaults")
def test_tfidf_equals_sklearn_on_reuters(params):
    texts, _, _ = datasets.load_text_corpus("reuters-r8", "train")
    test_texts, _, _ = datasets.load_text_corpus("reuters-r8", "test")
    assert fit_both(texts[:800], test_texts[:200], **params) is None


def test_tfidf_equals_sklearn_on_20newsgroups_with_an_idf_tie_heavy_max_features():
    texts, _, _ = datasets.load_text_corpus("20newsgroups", "test")
    assert fit_both(texts[:400], texts[400:500], max_features=500, binary=True) is None


RAW_WORDS = st.sampled_from(["The", "cat", "CAT", "sat", "on", "mat", "café", "Cafe", "naïve", "a", "I",
                             "don't", "x-ray", "3.14", "é", "  ", "\n", ",", "!"])
DOCUMENTS = st.lists(st.lists(RAW_WORDS, max_size=10).map(" ".join), min_size=1, max_size=10)
# Mostly loose bounds: a vocabulary pruned to nothing only checks that both refuse.
MAX_DF = st.one_of(st.just(1.0), st.floats(0.5, 1.0), st.integers(1, 8))
MIN_DF = st.one_of(st.just(1), st.floats(0.0, 0.3), st.integers(1, 2))


@pytest.mark.filterwarnings("ignore:The parameter '.*' will not be used:UserWarning")
@given(DOCUMENTS, DOCUMENTS, st.fixed_dictionaries({
    "lowercase": st.booleans(), "strip_accents": st.sampled_from([None, "ascii", "unicode"]),
    "analyzer": st.sampled_from(["word", "char", "char_wb"]),
    "ngram_range": st.tuples(st.integers(1, 3), st.integers(0, 2)).map(lambda r: (r[0], r[0] + r[1])),
    "token_pattern": st.sampled_from([r"(?u)\b\w\w+\b", r"(?u)\b\w+\b", r"(\w+)'?"]),
    "stop_words": st.sampled_from([None, ["the", "on", "a"]]), "max_df": MAX_DF, "min_df": MIN_DF,
    "max_features": st.none() | st.integers(1, 8), "binary": st.booleans(),
    "dtype": st.sampled_from([np.float32, np.float64]), "norm": st.sampled_from(["l2", "l1", None]),
    "use_idf": st.booleans(), "smooth_idf": st.booleans(), "sublinear_tf": st.booleans()}))
def test_tfidf_equals_sklearn_on_generated_texts(documents, new_documents, params):
    fit_both(documents, new_documents, **params)


@pytest.mark.parametrize("vocabulary", [["sat", "cat", "zebra"], {"cat": 1, "sat": 0, "zebra": 2}, {"sat", "cat"}])
def test_tfidf_with_a_given_vocabulary_equals_sklearn(vocabulary):
    documents = ["the cat sat", "the cat", "a zebra ran", "nothing known here"]
    assert fit_both(documents, ["cat cat zebra", ""], vocabulary=vocabulary) is None


def test_empty_documents_give_empty_rows_like_sklearn():
    assert fit_both(["the cat", "", "!!", "cat sat"], ["", "dog"]) is None


@pytest.mark.parametrize("params, documents, error, message", [
    ({}, "the cat sat", TypeError, "raw_documents: expected an iterable of str documents, got str"),
    ({}, ["the cat", 3], TypeError, "raw_documents: expected str .or bytes. documents, got int 3"),
    ({}, ["", "a", "!"], ValueError, "empty vocabulary"),
    ({"stop_words": ["cat", "sat"]}, ["cat sat", "sat"], ValueError, "empty vocabulary"),
    ({"min_df": 2}, ["cat", "sat", "dog"], ValueError, "After pruning, no terms remain"),
    ({"min_df": 2, "max_df": 1}, ["cat", "sat"], ValueError, "max_df .1. corresponds to fewer documents than min_df"),
    ({"stop_words": "english"}, ["cat"], ValueError, "stop_words: expected None or a list of str"),
    ({"ngram_range": (2, 1)}, ["cat"], ValueError, r"ngram_range: expected a tuple \(min_n, max_n\)"),
    ({"norm": "l3"}, ["cat"], ValueError, "norm: expected 'l1', 'l2' or None, got 'l3'"),
    ({"max_df": 1.5}, ["cat"], ValueError, "max_df: expected a float in .0, 1. or an int >= 1, got 1.5"),
    ({"dtype": np.int64}, ["cat"], ValueError, "dtype: expected np.float32 or np.float64"),
    ({"analyzer": "sentence"}, ["cat"], ValueError, "analyzer: expected 'word', 'char', 'char_wb' or a callable"),
    ({"token_pattern": r"(\w)(\w)"}, ["cat"], ValueError, "token_pattern: expected at most one capturing group"),
    ({"vocabulary": ["cat", "cat"]}, ["cat"], ValueError, "vocabulary: expected distinct terms"),
    ({"vocabulary": {"cat": 0, "sat": 2}}, ["cat"], ValueError, r"vocabulary: expected the columns 0..1 once each"),
    ({"vocabulary": []}, ["cat"], ValueError, "vocabulary: empty vocabulary passed to fit"),
])
def test_tfidf_bad_input_is_refused_clearly(params, documents, error, message):
    with pytest.raises(error, match=message):
        TfidfVectorizer(**params).fit_transform(documents)


def test_unfitted_vectorizer_raises_not_fitted_error():
    vectorizer = TfidfVectorizer()
    for call in (lambda: vectorizer.transform(["the cat"]), vectorizer.get_feature_names_out):
        with pytest.raises(NotFittedError, match="This TfidfVectorizer instance is not fitted yet"):
            call()
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)
