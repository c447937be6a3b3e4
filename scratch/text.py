"""Text preprocessing from scratch: normalisation, tokenisation, a vocabulary, TF-IDF.

The pipeline of the NLP project (scratch/nlp.py): ``tokenize`` each document, build a
``Vocabulary`` on the training split only, ``encode_batch`` into padded int64 ids for the
transformer, and save the vocabulary beside the weights so prediction reuses it.
``TfidfVectorizer`` is scikit-learn's, rewritten: same arguments, defaults and output
(parity_tests/test_text.py compares the two).
"""
import re
import unicodedata

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
        ``max_size`` rows fits any vocabulary built with it).
        """
        if not isinstance(min_freq, (int, np.integer)) or isinstance(min_freq, bool) or min_freq < 1:
            raise ValueError(f"min_freq: expected an int >= 1, got {min_freq!r}")
        if max_size is not None and (not isinstance(max_size, (int, np.integer)) or isinstance(max_size, bool)
                                     or max_size < 2):
            raise ValueError(f"max_size: expected None or an int >= 2 (PAD and UNK included), got {max_size!r}")
        counts = {}
        for tokens in _check_token_lists(token_lists, "token_lists"):
            for token in tokens:
                counts[token] = counts.get(token, 0) + 1
        counts.pop(cls.UNK_TOKEN, None)  # a literal "<unk>" is unknown by definition
        if cls.PAD_TOKEN in counts:
            raise ValueError(f"token_lists: the token {cls.PAD_TOKEN!r} is reserved for padding; rename it")
        order = sorted(counts, key=lambda token: -counts[token])  # stable: ties keep first occurrence
        kept = [token for token in order if counts[token] >= min_freq]
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
