"""TextGCN's graph (Yao, Mao & Luo, AAAI 2019): one graph of a corpus's documents and words, built
vectorised (shared by both twins, never twinned).

- Nodes: every document (train, then test: transductive, the test documents are in the graph
  unlabelled), then every vocabulary word; no features (the identity, never built: GCNConv's x=None).
- Document-word edges, both ways, weighted by TF-IDF: the word's count in the document times
  log(documents / documents holding the word), the paper's idf (project 3's vectorizer counts and
  gives 1 + log(N / df) without smoothing; its 1 is taken off).
- Word-word edges by positive pointwise mutual information over sliding windows of ``window``
  tokens (a shorter document is one window): PMI(i, j) = log(#W(i, j) #W / (#W(i) #W(j))), with
  #W(i) the windows holding word i and #W(i, j) those holding both; pairs with PMI <= 0 get no edge.
- Self-loops are gcn_norm's (weight 1), as the paper's A + I.
"""
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from scratch.plumbing import check_positive_int, check_real
from scratch.text import TfidfVectorizer, tokenize

from .data import Graph

WINDOW = 20
MIN_COUNT = 5  # the paper drops words seen fewer than 5 times in the corpus


@dataclass
class TextGraph(Graph):
    """A Graph whose first ``num_docs`` nodes are documents (``y`` their class) and the rest words
    (``y`` = -1, never in a mask); ``x`` is None (identity features); ``is_test`` marks test documents."""
    num_docs: int = 0
    is_test: np.ndarray = None
    vocabulary: list = field(default_factory=list)

    def masks(self, rng, val_fraction=0.1):
        """(train, val, test) node masks: ``val_fraction`` of the train documents held out at random."""
        check_real(val_fraction, "val_fraction", 0, 1, low_open=True, high_open=True, expected="a fraction in (0, 1)")
        train_docs = np.flatnonzero(~self.is_test[:self.num_docs])
        held = rng.permutation(train_docs)[:max(1, round(val_fraction * len(train_docs)))]
        train, val, test = (np.zeros(self.num_nodes, bool) for _ in range(3))
        train[train_docs], val[held] = True, True
        train[held] = False
        test[np.flatnonzero(self.is_test)] = True
        return train, val, test


def vocabulary(token_lists, min_count=MIN_COUNT, stop_words=()):
    """The sorted words seen at least ``min_count`` times in the corpus, ``stop_words`` left out."""
    counts = Counter(token for tokens in token_lists for token in tokens)
    stop = frozenset(stop_words)
    return sorted(word for word, count in counts.items() if count >= min_count and word not in stop)


def encode(token_lists, stoi):
    """(ids, lengths): every document's in-vocabulary word ids concatenated, and each one's length."""
    kept = [[stoi[token] for token in tokens if token in stoi] for tokens in token_lists]
    lengths = np.fromiter(map(len, kept), np.int64, len(kept))
    return np.fromiter((i for doc in kept for i in doc), np.int64, int(lengths.sum())), lengths


def ranges(sizes):
    """Within-range offsets 0..size-1 of every range, concatenated: (sum(sizes),)."""
    return np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)


def window_matrix(ids, lengths, num_words, window=WINDOW):
    """The binary (windows, words) matrix: row w marks the words window w holds. A document of L > window
    tokens gives L - window + 1 windows sliding by one token; a shorter one (not empty) is one window."""
    count = np.where(lengths > 0, np.maximum(lengths - window + 1, 1), 0)  # (D,) windows per document
    doc_start = np.cumsum(lengths) - lengths
    start = np.repeat(doc_start, count) + ranges(count)  # (W,) first token of each window
    size = np.repeat(np.minimum(lengths, window), count)  # (W,) tokens in each window
    rows = np.repeat(np.arange(len(start)), size)
    tokens = np.repeat(start, size) + ranges(size)
    matrix = sparse.csr_matrix((np.ones(len(rows)), (rows, ids[tokens])), shape=(len(start), num_words))
    matrix.data[:] = 1  # a word twice in a window counts once
    return matrix


def ppmi(windows):
    """(rows, cols, weights) of the word pairs i != j with positive PMI over the window matrix's rows."""
    total = windows.shape[0]
    per_word = np.asarray(windows.sum(axis=0)).ravel()  # (V,) #W(i)
    together = (windows.T @ windows).tocoo()  # (V, V) #W(i, j), symmetric
    pair = together.row != together.col
    rows, cols, joint = together.row[pair], together.col[pair], together.data[pair]
    pmi = np.log(joint * total / (per_word[rows] * per_word[cols]))
    keep = pmi > 0
    return rows[keep], cols[keep], pmi[keep]


def tfidf(texts, words):
    """The (documents, words) sparse matrix of count x log(D / df), from project 3's vectorizer."""
    options = {"vocabulary": words, "token_pattern": r"\S+", "lowercase": False, "norm": None}
    counts = TfidfVectorizer(use_idf=False, **options).fit_transform(texts)
    idf = TfidfVectorizer(smooth_idf=False, **options).fit(texts).idf_ - 1.0  # 1 + log(D / df) less its 1
    weights = (counts @ sparse.diags(idf)).tocoo()
    weights.eliminate_zeros()  # a word in every document has idf 0: no edge
    return weights


def build(train_texts, y_train, test_texts, y_test, class_names, name="reuters-r8", window=WINDOW, min_count=MIN_COUNT,
          stop_words=(), dtype=np.float64):
    """The TextGraph of a corpus: documents tokenised by project 3's ``tokenize`` (train then test),
    the vocabulary over both, TF-IDF document-word and PPMI word-word edges, both directions."""
    window, min_count = check_positive_int(window, "window"), check_positive_int(min_count, "min_count")
    for texts, y, split in ((train_texts, y_train, "train"), (test_texts, y_test, "test")):
        if len(texts) != len(y):
            raise ValueError(f"y_{split}: expected one label per {split} document ({len(texts)}), got {len(y)}")
    token_lists = [tokenize(text) for text in list(train_texts) + list(test_texts)]
    words = vocabulary(token_lists, min_count, stop_words)
    if not words:
        raise ValueError(f"min_count: expected a value that leaves some words (seen at least min_count times, stop words "
                         f"aside), got {min_count}, which leaves none")
    stoi = {word: i for i, word in enumerate(words)}
    num_docs = len(token_lists)
    ids, lengths = encode(token_lists, stoi)
    word_rows, word_cols, pmi = ppmi(window_matrix(ids, lengths, len(words), window))
    doc_words = tfidf([" ".join(tokens) for tokens in token_lists], stoi)
    docs, doc_word = doc_words.row, num_docs + doc_words.col
    source = np.concatenate([docs, doc_word, num_docs + word_rows])
    target = np.concatenate([doc_word, docs, num_docs + word_cols])
    weight = np.concatenate([doc_words.data, doc_words.data, pmi]).astype(dtype)
    y = np.concatenate([y_train, y_test, np.full(len(words), -1)]).astype(np.int64)
    is_test = np.zeros(num_docs + len(words), bool)
    is_test[len(y_train):num_docs] = True
    return TextGraph(name, None, np.stack([source, target]).astype(np.int64), weight, y, list(class_names),
                     num_docs=num_docs, is_test=is_test, vocabulary=words)
