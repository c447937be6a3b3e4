"""Text preprocessing from scratch: normalisation, tokenisation, a vocabulary, TF-IDF.

The pipeline of the NLP project (scratch/projects/nlp/model.py): ``tokenize`` each document, build a
``Vocabulary`` on the training split only, ``encode_batch`` into padded int64 ids for the
transformer, and save the vocabulary beside the weights so prediction reuses it.
``TfidfVectorizer`` is scikit-learn's, rewritten: same arguments, defaults and output
(parity_tests/test_text.py compares the two).
"""
import re
import unicodedata
from collections.abc import Mapping
from itertools import chain
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp

TOKEN_RE = re.compile(r"\w+(?:['’]\w+)*")


def normalize(text):
    """Unicode NFKC, then lowercase, then single spaces.

    NFKC folds compatibility forms (full-width letters, ligatures such as "ﬁ", composed
    and decomposed accents) into one spelling; accents are kept, since they carry meaning
    in most languages ("résumé" and "resume" stay two words).
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected a str, got {type(text).__name__} {text!r:.60}")
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def tokenize(text):
    """The words of ``normalize(text)``: runs of letters, digits or underscores, with
    apostrophes inside a word kept ("don't", "o'clock"); punctuation and spaces separate
    words and are dropped. Unlike scikit-learn's default pattern, one-letter words stay."""
    return TOKEN_RE.findall(normalize(text))


class Vocabulary:
    """Token <-> id mapping with two reserved ids: ``PAD = 0`` (padding) and ``UNK = 1``
    (any token not in the vocabulary).

    ``itos`` lists the tokens by id; ``stoi`` maps each token to its id.
    """

    PAD, UNK = 0, 1
    PAD_TOKEN, UNK_TOKEN = "<pad>", "<unk>"

    def __init__(self, tokens=()):
        self.itos = [self.PAD_TOKEN, self.UNK_TOKEN] + [_check_token(token, "tokens") for token in tokens]
        self.stoi = {token: i for i, token in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            repeated = sorted({token for token in self.itos if self.itos.count(token) > 1})
            raise ValueError(f"tokens: expected distinct tokens other than {self.PAD_TOKEN!r} and "
                             f"{self.UNK_TOKEN!r}, got repeats of {repeated[:5]}")

    @classmethod
    def build(cls, token_lists, min_freq=1, max_size=None):
        """The vocabulary of a tokenised corpus (a list of token lists).

        Keeps the tokens seen at least ``min_freq`` times, the most frequent first; ties in
        frequency are broken by first occurrence in the corpus, so the result is reproducible.
        ``max_size`` caps ``len(vocab)``, PAD and UNK included (so an Embedding of
        ``max_size`` rows fits any vocabulary built with it). A vocabulary of PAD and UNK alone
        would map every text to UNK, so an empty corpus, a ``min_freq`` no token reaches and
        ``max_size`` < 3 are refused.
        """
        if not isinstance(min_freq, (int, np.integer)) or isinstance(min_freq, bool) or min_freq < 1:
            raise ValueError(f"min_freq: expected an int >= 1, got {min_freq!r}")
        if max_size is not None and (not isinstance(max_size, (int, np.integer)) or isinstance(max_size, bool)
                                     or max_size < 3):
            raise ValueError(f"max_size: expected None or an int >= 3 (PAD, UNK and at least one token), got {max_size!r}")
        counts = {}
        for tokens in _check_token_lists(token_lists, "token_lists"):
            for token in tokens:
                counts[token] = counts.get(token, 0) + 1
        counts.pop(cls.UNK_TOKEN, None)  # a literal "<unk>" is unknown by definition
        if cls.PAD_TOKEN in counts:
            raise ValueError(f"token_lists: the token {cls.PAD_TOKEN!r} is reserved for padding; rename it")
        if not counts:
            raise ValueError(f"token_lists: expected at least one token other than {cls.UNK_TOKEN!r}, got an empty "
                             f"corpus; a vocabulary of PAD and UNK alone would map every text to UNK")
        order = sorted(counts, key=lambda token: -counts[token])  # stable: ties keep first occurrence
        kept = [token for token in order if counts[token] >= min_freq]
        if not kept:
            raise ValueError(f"min_freq: expected at most {counts[order[0]]} (the count of the most frequent token, "
                             f"{order[0]!r}), got {min_freq}: no token would be kept")
        return cls(kept if max_size is None else kept[:max_size - 2])

    def __len__(self):
        return len(self.itos)

    def __contains__(self, token):
        return token in self.stoi

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and self.itos == other.itos

    def __repr__(self):
        return f"Vocabulary({len(self)} tokens: {self.itos[:6]}{'...' if len(self) > 6 else ''})"

    def encode(self, tokens):
        """Ids of a token list; tokens not in the vocabulary become UNK."""
        tokens = _check_tokens(tokens, "tokens")
        if self.PAD_TOKEN in tokens:
            raise ValueError(f"tokens: {self.PAD_TOKEN!r} is reserved for padding and cannot be encoded as text")
        return [self.stoi.get(token, self.UNK) for token in tokens]

    def decode(self, ids, skip_pad=True):
        """Tokens of a sequence of ids, PAD ids left out unless ``skip_pad=False``."""
        ids = np.asarray(ids)
        if ids.ndim != 1 or (ids.size and ids.dtype.kind not in "iu"):
            raise TypeError(f"ids: expected a 1-d sequence of ints, got {ids.ndim}-d of dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"ids: expected ids in [0, {len(self)}), got values in [{ids.min()}, {ids.max()}]")
        if skip_pad:
            ids = ids[ids != self.PAD]
        return [self.itos[i] for i in ids.tolist()]

    def encode_batch(self, texts_or_token_lists, max_len):
        """Padded ids of a batch of documents, each a str (tokenised with ``tokenize``) or a token list.

        A document longer than ``max_len`` tokens is cut to its first ``max_len`` tokens;
        the batch is as wide as its longest (cut) document, so ``L <= max_len``. An empty
        document (no tokens) has nothing to classify and raises.

        Returns
        -------
        ids : ndarray (N, L) int64, PAD after each document's tokens
        lengths : ndarray (N,) int64, each document's number of tokens (after the cut)
        """
        if isinstance(texts_or_token_lists, str) or not hasattr(texts_or_token_lists, "__iter__"):
            raise TypeError(f"texts_or_token_lists: expected a list of documents (str or token lists), "
                            f"got {type(texts_or_token_lists).__name__}")
        if not isinstance(max_len, (int, np.integer)) or isinstance(max_len, bool) or max_len < 1:
            raise ValueError(f"max_len: expected an int >= 1, got {max_len!r}")
        encoded = [self.encode(tokenize(doc) if isinstance(doc, str) else doc)[:max_len]
                   for doc in texts_or_token_lists]
        if not encoded:
            raise ValueError("texts_or_token_lists: expected at least one document, got none")
        lengths = np.array([len(doc) for doc in encoded], dtype=np.int64)
        if (lengths == 0).any():
            empty = np.flatnonzero(lengths == 0)
            raise ValueError(f"texts_or_token_lists: documents {empty[:10].tolist()} are empty (no tokens); "
                             f"drop them before encoding")
        ids = np.full((len(encoded), lengths.max()), self.PAD, dtype=np.int64)
        ids[np.arange(lengths.max()) < lengths[:, None]] = np.concatenate(encoded)  # row-major fill
        return ids, lengths

    def state_dict(self, prefix=""):
        """{prefix + 'tokens': the tokens by id as a unicode array}: saves into an .npz without pickle."""
        return {prefix + "tokens": np.array(self.itos, dtype=np.str_)}

    @classmethod
    def from_state_dict(cls, state_dict, prefix=""):
        """The vocabulary saved by ``state_dict(prefix)``; keys outside ``prefix`` are ignored, so a
        model's whole checkpoint can be passed."""
        keys = sorted(key[len(prefix):] for key in state_dict if key.startswith(prefix))
        if keys != ["tokens"]:
            raise ValueError(f"state_dict: expected exactly the key {prefix + 'tokens'!r} under prefix "
                             f"{prefix!r}, got {[prefix + key for key in keys]}")
        tokens = state_dict[prefix + "tokens"]
        if not isinstance(tokens, np.ndarray) or tokens.dtype.kind != "U" or tokens.ndim != 1:
            raise TypeError(f"state_dict[{prefix + 'tokens'!r}]: expected a 1-d unicode array, got "
                            f"{type(tokens).__name__} {getattr(tokens, 'dtype', '')}")
        if tokens[:2].tolist() != [cls.PAD_TOKEN, cls.UNK_TOKEN]:
            raise ValueError(f"state_dict[{prefix + 'tokens'!r}]: expected {cls.PAD_TOKEN!r}, {cls.UNK_TOKEN!r} "
                             f"first, got {tokens[:2].tolist()}")
        return cls(tokens[2:].tolist())



class NotFittedError(ValueError, AttributeError):
    """An estimator used before ``fit`` (scikit-learn's exception of the same name and bases)."""


class TfidfVectorizer:
    """Documents -> a sparse (N, V) matrix of TF-IDF weights, equal to scikit-learn's TfidfVectorizer.

    Same constructor arguments and defaults; the one difference: ``stop_words`` takes None
    or your own list of words. scikit-learn's built-in 'english' list is not copied here,
    so ``stop_words='english'`` is refused.

    The weights: ``tf`` = the count of a term in a document (1 if ``binary``;
    ``1 + log(count)`` if ``sublinear_tf``); ``idf = 1 + log((1 + N) / (1 + df))`` with
    ``smooth_idf`` (``1 + log(N / df)`` without), df = the number of training documents
    that contain the term; each row ``tf * idf`` then scaled to unit ``norm`` ('l2', 'l1'
    or None). The vocabulary is every term whose df lies in [min_df, max_df] (ints are
    counts, floats fractions of N), cut to the ``max_features`` most frequent, sorted
    alphabetically.

    Attributes (after fit): ``vocabulary_`` {term: column}, ``idf_`` (V,) when ``use_idf``.
    """

    def __init__(self, *, input="content", encoding="utf-8", decode_error="strict", strip_accents=None,
                 lowercase=True, preprocessor=None, tokenizer=None, analyzer="word", stop_words=None,
                 token_pattern=r"(?u)\b\w\w+\b", ngram_range=(1, 1), max_df=1.0, min_df=1, max_features=None,
                 vocabulary=None, binary=False, dtype=np.float64, norm="l2", use_idf=True, smooth_idf=True,
                 sublinear_tf=False):
        self.input, self.encoding, self.decode_error = input, encoding, decode_error
        self.strip_accents, self.lowercase, self.preprocessor = strip_accents, lowercase, preprocessor
        self.tokenizer, self.analyzer, self.stop_words, self.token_pattern = tokenizer, analyzer, stop_words, token_pattern
        self.ngram_range, self.max_df, self.min_df, self.max_features = ngram_range, max_df, min_df, max_features
        self.vocabulary, self.binary, self.dtype, self.norm = vocabulary, binary, dtype, norm
        self.use_idf, self.smooth_idf, self.sublinear_tf = use_idf, smooth_idf, sublinear_tf

    def build_analyzer(self):
        """The function document -> list of features (words, word n-grams or character n-grams)."""
        self._check_params()
        if callable(self.analyzer):
            return lambda doc: self.analyzer(self._decode(doc))
        preprocess = self.build_preprocessor()
        if self.analyzer == "char":
            return lambda doc: _ngrams(re.sub(r"\s\s+", " ", preprocess(self._decode(doc))), self.ngram_range)
        if self.analyzer == "char_wb":
            return lambda doc: _char_wb_ngrams(preprocess(self._decode(doc)), self.ngram_range)
        tokenize_doc, stop = self.build_tokenizer(), frozenset(self.stop_words or ())
        return lambda doc: _ngrams([t for t in tokenize_doc(preprocess(self._decode(doc))) if t not in stop],
                                   self.ngram_range, " ".join)

    def build_preprocessor(self):
        if self.preprocessor is not None:
            return self.preprocessor
        strip = {None: None, "ascii": _strip_accents_ascii, "unicode": _strip_accents_unicode}.get(
            self.strip_accents, self.strip_accents)
        if strip is not None and not callable(strip):
            raise ValueError(f"strip_accents: expected None, 'ascii', 'unicode' or a callable, got {strip!r}")
        lower = str.lower if self.lowercase else None
        return lambda doc: _compose(doc, lower, strip)

    def build_tokenizer(self):
        if self.tokenizer is not None:
            return self.tokenizer
        pattern = re.compile(self.token_pattern)
        if pattern.groups > 1:
            raise ValueError(f"token_pattern: expected at most one capturing group, got {pattern.groups} "
                             f"in {self.token_pattern!r}")
        return pattern.findall

    def fit(self, raw_documents, y=None):
        self.fit_transform(raw_documents)
        return self

    def fit_transform(self, raw_documents, y=None):
        """Learn the vocabulary and idf from ``raw_documents``; return their TF-IDF matrix (N, V) csr."""
        fixed = self._fixed_vocabulary()
        rows, cols, counts, terms = self._count(raw_documents, fixed)
        n_docs = self._n_docs
        if fixed is None:
            keep = self._limit_features(n_docs, cols, counts, len(terms))
            entries = keep[cols]
            rows, cols, counts = rows[entries], (np.cumsum(keep) - 1)[cols[entries]], counts[entries]
            terms = [term for term, kept in zip(terms, keep) if kept]
        self.vocabulary_ = {term: i for i, term in enumerate(terms)}
        if self.use_idf:
            df = np.bincount(cols, minlength=len(terms)).astype(self.dtype)
            idf = np.full_like(df, n_docs + int(self.smooth_idf)) / (df + float(self.smooth_idf))
            self.idf_ = np.log(idf) + 1.0
        elif hasattr(self, "idf_"):
            del self.idf_
        return self._weigh(rows, cols, counts, (n_docs, len(terms)))

    def transform(self, raw_documents):
        """TF-IDF matrix (N, V) csr of ``raw_documents`` under the fitted vocabulary and idf."""
        if not hasattr(self, "vocabulary_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet: call fit or "
                                 f"fit_transform before transform")
        rows, cols, counts, _ = self._count(raw_documents, self.vocabulary_)
        return self._weigh(rows, cols, counts, (self._n_docs, len(self.vocabulary_)))

    def get_feature_names_out(self, input_features=None):
        """The terms, by column (an object array, like scikit-learn's)."""
        if not hasattr(self, "vocabulary_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet: call fit first")
        return np.asarray(sorted(self.vocabulary_, key=self.vocabulary_.get), dtype=object)

    def _count(self, raw_documents, vocabulary):
        """Term counts as (rows, cols, counts, terms), entries sorted by (row, column); sets ``_n_docs``.

        Each document is analysed into features in Python (the tokeniser); mapping them to
        ids is one dict lookup per feature; counting, sorting and the CSR layout are NumPy.
        """
        if isinstance(raw_documents, (str, bytes)) or not hasattr(raw_documents, "__iter__"):
            raise TypeError(f"raw_documents: expected an iterable of str documents, got "
                            f"{type(raw_documents).__name__} (wrap a single document in a list)")
        analyze = self.build_analyzer()
        features = [analyze(doc) for doc in raw_documents]
        lengths = np.fromiter(map(len, features), dtype=np.int64, count=len(features))
        flat = chain.from_iterable(features)
        if vocabulary is None:
            first_seen = {}
            ids = np.fromiter((first_seen.setdefault(f, len(first_seen)) for f in flat), np.int64, lengths.sum())
            if not first_seen:
                raise ValueError("raw_documents: empty vocabulary; perhaps the documents are empty or contain "
                                 "only stop words")
            terms = sorted(first_seen)
            alphabetical = np.empty(len(terms), dtype=np.int64)
            alphabetical[np.fromiter(map(first_seen.get, terms), np.int64, len(terms))] = np.arange(len(terms))
            ids = alphabetical[ids]
        else:
            terms = sorted(vocabulary, key=vocabulary.get)
            ids = np.fromiter((vocabulary.get(f, -1) for f in flat), np.int64, lengths.sum())
        doc = np.repeat(np.arange(len(features)), lengths)[ids >= 0]
        keys, counts = np.unique(doc * len(terms) + ids[ids >= 0], return_counts=True)  # sorted by (doc, term)
        counts = np.ones_like(counts) if self.binary else counts
        self._n_docs = len(features)
        return keys // len(terms), keys % len(terms), counts.astype(self.dtype), terms

    def _limit_features(self, n_docs, cols, counts, num_terms):
        """The mask of terms with df in [min_df, max_df], cut to the max_features of highest total count."""
        high = self.max_df if isinstance(self.max_df, Integral) else self.max_df * n_docs
        low = self.min_df if isinstance(self.min_df, Integral) else self.min_df * n_docs
        if high < low:
            raise ValueError(f"max_df ({self.max_df!r}) corresponds to fewer documents than min_df ({self.min_df!r})")
        df = np.bincount(cols, minlength=num_terms)
        keep = (df <= high) & (df >= low)
        if self.max_features is not None and keep.sum() > self.max_features:
            totals = np.bincount(cols, weights=counts, minlength=num_terms).astype(self.dtype)
            # scikit-learn's own call, so equal totals are broken the same way (introsort, not stable)
            best = np.flatnonzero(keep)[(-totals[keep]).argsort()[:self.max_features]]
            keep = np.zeros_like(keep)
            keep[best] = True
        if not keep.any():
            raise ValueError(f"After pruning, no terms remain (min_df={self.min_df!r}, max_df={self.max_df!r}). "
                             f"Try a lower min_df or a higher max_df.")
        return keep

    def _weigh(self, rows, cols, counts, shape):
        """tf -> tf * idf -> rows scaled to unit norm, as a csr matrix of ``shape``."""
        data = np.log(counts) + 1.0 if self.sublinear_tf else counts
        if self.use_idf:
            data = data * self.idf_[cols]
        if self.norm is not None:
            terms = data * data if self.norm == "l2" else np.abs(data)
            norms = np.bincount(rows, weights=terms, minlength=shape[0])  # float64 sums, as scikit-learn's
            norms = np.sqrt(norms) if self.norm == "l2" else norms
            norms[norms == 0] = 1.0  # an empty row stays empty
            data = (data / norms[rows]).astype(self.dtype)
        index_dtype = np.int32 if len(data) < np.iinfo(np.int32).max else np.int64
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=shape[0]))])
        return sp.csr_matrix((data, cols.astype(index_dtype), indptr.astype(index_dtype)), shape=shape)

    def _decode(self, doc):
        if self.input == "filename":
            with open(doc, "rb") as f:
                doc = f.read()
        elif self.input == "file":
            doc = doc.read()
        if isinstance(doc, bytes):
            doc = doc.decode(self.encoding, self.decode_error)
        if not isinstance(doc, str):
            raise TypeError(f"raw_documents: expected str (or bytes) documents, got {type(doc).__name__} {doc!r:.60}")
        return doc

    def _fixed_vocabulary(self):
        """The vocabulary given to the constructor as {term: column}, checked; None when not given.

        As scikit-learn's: a mapping {term: column} with the columns 0..V-1 once each, or an
        iterable of distinct terms (a set is sorted); every term a str, every column an int.
        """
        vocabulary = self.vocabulary
        if vocabulary is None:
            return None
        if isinstance(vocabulary, (str, bytes)) or not hasattr(vocabulary, "__iter__"):
            raise TypeError(f"vocabulary: expected a mapping {{term: column}} or an iterable of str terms, "
                            f"got {type(vocabulary).__name__} {vocabulary!r:.60}")
        terms = list(vocabulary)
        for term in terms:
            if not isinstance(term, str):
                raise TypeError(f"vocabulary: expected str terms, got {type(term).__name__} {term!r:.60}")
        if isinstance(vocabulary, Mapping):
            columns = list(vocabulary.values())
            for column in columns:
                if isinstance(column, bool) or not isinstance(column, Integral):
                    raise TypeError(f"vocabulary: expected int columns, got {type(column).__name__} {column!r:.60}")
            if sorted(columns) != list(range(len(columns))):
                raise ValueError(f"vocabulary: expected the columns 0..{len(columns) - 1} once each, got "
                                 f"{sorted(columns)[:10]}")
            vocabulary = {term: int(column) for term, column in vocabulary.items()}
        else:
            terms = sorted(terms) if isinstance(vocabulary, (set, frozenset)) else terms
            vocabulary = {term: i for i, term in enumerate(terms)}
            if len(vocabulary) != len(terms):
                raise ValueError(f"vocabulary: expected distinct terms, got {len(terms) - len(vocabulary)} repeats")
        if not vocabulary:
            raise ValueError("vocabulary: empty vocabulary passed to fit")
        return vocabulary

    def _check_params(self):
        def is_bool(value):
            return isinstance(value, (bool, np.bool_))

        def is_count(value):
            return isinstance(value, Integral) and not isinstance(value, bool) and value >= 1

        checks = [
            ("input", self.input in ("content", "file", "filename"), "'content', 'file' or 'filename'"),
            ("encoding", isinstance(self.encoding, str), "a str (a codec name)"),
            ("decode_error", self.decode_error in ("strict", "ignore", "replace"), "'strict', 'ignore' or 'replace'"),
            ("analyzer", self.analyzer in ("word", "char", "char_wb") or callable(self.analyzer),
             "'word', 'char', 'char_wb' or a callable"),
            ("preprocessor", self.preprocessor is None or callable(self.preprocessor), "None or a callable"),
            ("tokenizer", self.tokenizer is None or callable(self.tokenizer), "None or a callable"),
            ("token_pattern", isinstance(self.token_pattern, str) or (self.token_pattern is None and (
                self.tokenizer is not None or self.analyzer != "word")), "a str (a regular expression)"),
            ("stop_words", self.stop_words is None or (isinstance(self.stop_words, (list, tuple, set, frozenset))
                                                        and all(isinstance(w, str) for w in self.stop_words)),
             "None or a list of str (the built-in 'english' list of scikit-learn is not copied here)"),
            ("ngram_range", isinstance(self.ngram_range, tuple) and len(self.ngram_range) == 2
             and all(is_count(n) for n in self.ngram_range)
             and self.ngram_range[0] <= self.ngram_range[1], "a tuple (min_n, max_n) of ints, 1 <= min_n <= max_n"),
            ("max_df", _is_df(self.max_df), "a float in [0, 1] or an int >= 1"),
            ("min_df", _is_df(self.min_df), "a float in [0, 1] or an int >= 1"),
            ("max_features", self.max_features is None or is_count(self.max_features), "None or an int >= 1"),
            ("norm", self.norm in ("l1", "l2", None), "'l1', 'l2' or None"),
            ("dtype", self.dtype in (np.float32, np.float64), "np.float32 or np.float64"),
        ] + [(name, is_bool(getattr(self, name)), "True or False")
             for name in ("lowercase", "binary", "use_idf", "smooth_idf", "sublinear_tf")]
        for name, ok, expected in checks:
            if not ok:
                error = TypeError if expected in ("True or False", "None or a callable") else ValueError
                raise error(f"{name}: expected {expected}, got {getattr(self, name)!r}")


def _is_df(value):
    if isinstance(value, Integral) and not isinstance(value, bool):
        return value >= 1
    return isinstance(value, Real) and not isinstance(value, bool) and 0.0 <= value <= 1.0


def _compose(doc, lower, strip):
    doc = lower(doc) if lower else doc
    return strip(doc) if strip else doc


def _strip_accents_ascii(text):
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _strip_accents_unicode(text):
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _ngrams(items, ngram_range, join=None):
    """The contiguous n-grams of ``items`` (a token list, joined by ``join``, or a string) for n in the range."""
    min_n, max_n = ngram_range
    windows = [items[i:i + n] for n in range(min_n, min(max_n, len(items)) + 1) for i in range(len(items) - n + 1)]
    return list(map(join, windows)) if join else windows


def _char_wb_ngrams(text, ngram_range):
    """Character n-grams inside words, each word padded by one space; a word shorter than n counts once whole."""
    grams = []
    for word in text.split():
        padded = f" {word} "
        grams += _ngrams(padded, (ngram_range[0], min(ngram_range[1], len(padded) - 1)))
        if ngram_range[1] >= len(padded):
            grams.append(padded)
    return grams


def _check_token(token, name):
    if not isinstance(token, str):
        raise TypeError(f"{name}: expected str tokens, got {type(token).__name__} {token!r:.60}")
    return token


def _check_tokens(tokens, name):
    if isinstance(tokens, str) or not isinstance(tokens, (list, tuple)):
        raise TypeError(f"{name}: expected a list of str tokens (tokenize the text first), "
                        f"got {type(tokens).__name__} {tokens!r:.60}")
    for token in tokens:
        _check_token(token, name)
    return tokens


def _check_token_lists(token_lists, name):
    if isinstance(token_lists, str) or not hasattr(token_lists, "__iter__"):
        raise TypeError(f"{name}: expected an iterable of token lists, got {type(token_lists).__name__}")
    return [_check_tokens(tokens, f"{name}[{i}]") for i, tokens in enumerate(token_lists)]
