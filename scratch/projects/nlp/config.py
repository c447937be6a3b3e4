"""The plumbing of Project 3's text classifier that both twins share: its run settings, the
checks on its architecture and on padded token ids, and its checkpoint layout (the weights,
then ``vocab.*`` and ``architecture.*`` entries, in one .npz).
Used by the model.py twins of scratch/projects/nlp and reference/projects/nlp alike.
"""
from dataclasses import dataclass

import numpy as np

from scratch.plumbing import TrainingConfig, check_positive_int
from scratch.text import Vocabulary

# TransformerClassifier's constructor arguments that a checkpoint records (both twins take the same)
ARCHITECTURE = ("vocab_size", "num_classes", "d_model", "nhead", "num_layers", "dim_feedforward", "dropout", "max_len",
                "pad_id", "norm_first", "activation")


def check_architecture(vocab_size, num_classes, d_model, nhead, num_layers, dim_feedforward, max_len, pad_id):
    for name, value in (("vocab_size", vocab_size), ("num_classes", num_classes), ("d_model", d_model), ("nhead", nhead),
                        ("num_layers", num_layers), ("dim_feedforward", dim_feedforward), ("max_len", max_len)):
        check_positive_int(value, name)
    if d_model % nhead:
        raise ValueError(f"d_model: expected a multiple of nhead={nhead}, got {d_model}")
    if not 0 <= pad_id < vocab_size:
        raise ValueError(f"pad_id: expected an id in [0, vocab_size={vocab_size}), got {pad_id!r}")


def check_token_ids(X, vocab_size, max_len, pad_id, name="X"):
    """X (N, L) integer token ids in [0, vocab_size), L <= max_len, no document only padding.
    Accepts a torch tensor too (read through NumPy without a copy)."""
    ids = np.asarray(X)
    if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"{name}: expected an integer array of token ids (documents, length), got shape {ids.shape} "
                        f"dtype {ids.dtype}")
    if not 1 <= ids.shape[1] <= max_len:
        raise ValueError(f"{name}: expected a length in [1, max_len={max_len}], got shape {ids.shape}")
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        bad = ids[(ids < 0) | (ids >= vocab_size)].flat[0]
        raise ValueError(f"{name}: token id {bad} is out of range [0, vocab_size={vocab_size})")
    empty = np.flatnonzero(np.all(ids == pad_id, axis=1))
    if empty.size:
        raise ValueError(f"{name}: rows {empty[:5].tolist()} are empty documents (only the padding id {pad_id}); "
                         f"every document needs at least one token")


@dataclass
class ClassifierConfig(TrainingConfig):
    """The architecture and the training settings of a run; both twins read the same one."""
    d_model: int = 64
    nhead: int = 4
    num_layers: int = 2
    dim_feedforward: int = 128
    dropout: float = 0.1
    max_len: int = 256

    def architecture(self):
        return dict(d_model=self.d_model, nhead=self.nhead, num_layers=self.num_layers,
                    dim_feedforward=self.dim_feedforward, dropout=self.dropout, max_len=self.max_len)


def checkpoint(state_dict, vocab, architecture):
    """One flat dict of arrays: the weights as they are, then vocab.* and architecture.* entries."""
    if len(vocab) != architecture["vocab_size"]:
        raise ValueError(f"vocab: expected the training vocabulary of vocab_size={architecture['vocab_size']} "
                         f"tokens, got {len(vocab)}")
    return {**state_dict, **vocab.state_dict("vocab."),
            **{f"architecture.{key}": np.asarray(value) for key, value in architecture.items()}}


def split_checkpoint(state, path="checkpoint"):
    """The inverse of :func:`checkpoint`: (weights, Vocabulary, architecture dict, the weights' dtype).

    A checkpoint that nlp.save did not write (an architecture entry missing or unknown, weights of
    mixed or non-float dtypes) is refused naming ``path``, before any model is built."""
    architecture = {key.partition(".")[2]: value.item() for key, value in state.items() if key.startswith("architecture.")}
    missing, unknown = sorted(set(ARCHITECTURE) - set(architecture)), sorted(set(architecture) - set(ARCHITECTURE))
    if missing or unknown:
        raise ValueError(f"{path}: expected the architecture.* entries {list(ARCHITECTURE)} beside the weights, "
                         f"missing {missing}, unknown {unknown}; write the checkpoint with nlp.save")
    weights = {key: value for key, value in state.items() if not key.startswith(("vocab.", "architecture."))}
    dtypes = sorted({str(value.dtype) for value in weights.values()})
    if dtypes not in (["float32"], ["float64"]):
        raise ValueError(f"{path}: expected weights of one dtype, float32 or float64, got dtypes {dtypes}; "
                         f"write the checkpoint with nlp.save")
    try:
        vocab = Vocabulary.from_state_dict(state, "vocab.")
    except (TypeError, ValueError) as error:
        raise type(error)(f"{path}: {error}; write the checkpoint with nlp.save") from error
    return weights, vocab, architecture, np.dtype(dtypes[0])


def check_weights(weights, expected_keys, path="checkpoint"):
    """The checkpoint's weights have exactly the keys of the model its architecture builds."""
    missing = [key for key in expected_keys if key not in weights]
    unexpected = [key for key in weights if key not in expected_keys]
    if missing or unexpected:
        raise ValueError(f"{path}: expected the weights of the architecture it records, missing {missing}, "
                         f"unexpected {unexpected}; write the checkpoint with nlp.save")


# The settings tuned for each data set (``twins run nlp``).
CONFIGS = {
    "reuters-r8": ClassifierConfig(d_model=64, nhead=4, num_layers=2, dim_feedforward=128, dropout=0.1, max_len=96,
                                   lr=1e-3, batch_size=32, num_epochs=8, patience=3),
    "20newsgroups": ClassifierConfig(d_model=64, nhead=4, num_layers=2, dim_feedforward=128, dropout=0.1, max_len=96,
                                     lr=1e-3, batch_size=32, num_epochs=8, patience=3),
    # sentiment: 1,392 Slovene news comments for training, negative/neutral/positive in equal parts
    "slo-opinion": ClassifierConfig(d_model=64, nhead=4, num_layers=2, dim_feedforward=128, dropout=0.1, max_len=96,
                                    lr=1e-3, batch_size=32, num_epochs=12, patience=3),
}
