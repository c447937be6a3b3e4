"""The plumbing of Project 17's sequence-to-sequence transformer that both twins share: the token
vocabularies (three reserved ids: padding, begin, end), batches of padded ids for teacher forcing, the
run settings, Vaswani et al.'s warm-up then inverse-square-root learning-rate multiplier (for a
LambdaLR on either side), the argument checks and the checkpoint layout (the weights, then
``src_vocab.*``, ``tgt_vocab.*`` and ``architecture.*`` entries, in one .npz).
Used by the model.py twins of scratch/projects/seq2seq and reference/projects/seq2seq alike.
"""
import numbers
from dataclasses import dataclass

import numpy as np

from scratch.plumbing import check_positive_int, check_real

PAD, BOS, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<s>", "</s>")
ARCHITECTURE = ("src_vocab_size", "tgt_vocab_size", "d_model", "nhead", "num_encoder_layers", "num_decoder_layers",
                "dim_feedforward", "dropout", "max_len", "tie_embeddings", "norm_first")


class TokenVocabulary:
    """Tokens (characters, phonemes, digits) <-> ids 3, 4, ...; ids 0, 1, 2 are PAD, BOS and EOS. There is
    no unknown token: a token outside the vocabulary is an error naming it (so a misspelt input is
    never silently read as something else)."""

    def __init__(self, tokens):
        tokens = [str(token) for token in tokens]
        if len(set(tokens)) != len(tokens) or set(tokens) & set(SPECIALS) or not tokens:
            raise ValueError(f"tokens: expected distinct tokens other than {SPECIALS}, got {tokens[:8]}...")
        self.itos = list(SPECIALS) + tokens
        self.stoi = {token: i for i, token in enumerate(self.itos)}

    def __len__(self):
        return len(self.itos)

    def __eq__(self, other):
        return isinstance(other, TokenVocabulary) and self.itos == other.itos

    def encode(self, sequences, name="sequences", bos=False, eos=False):
        """(N, L) int64 ids of N token sequences, right-padded with PAD; BOS first / EOS last if asked."""
        if isinstance(sequences, str) or not all(isinstance(seq, (str, list, tuple)) for seq in sequences):
            raise TypeError(f"{name}: expected a list of token sequences (strings or lists of tokens), got {sequences!r:.80}")
        rows = []
        for index, sequence in enumerate(sequences):
            if len(sequence) == 0:
                raise ValueError(f"{name}: expected non-empty sequences, got an empty one at index {index}")
            unknown = [token for token in sequence if token not in self.stoi or token in SPECIALS]
            if unknown:
                raise ValueError(f"{name}: expected tokens of the vocabulary {''.join(self.itos[3:])[:60]!r}..., got "
                                 f"{unknown[0]!r} in {sequence!r} (index {index})")
            rows.append([BOS] * bos + [self.stoi[token] for token in sequence] + [EOS] * eos)
        ids = np.full((len(rows), max(map(len, rows), default=1)), PAD, dtype=np.int64)
        for index, row in enumerate(rows):
            ids[index, :len(row)] = row
        return ids

    def decode(self, ids):
        """The token lists of (N, L) ids, each cut at its first EOS or PAD."""
        out = []
        for row in np.asarray(ids):
            stop = np.flatnonzero((row == EOS) | (row == PAD))
            out.append([self.itos[i] for i in row[:stop[0] if stop.size else len(row)]])
        return out

    def state_dict(self, prefix):
        return {f"{prefix}tokens": np.array(self.itos[3:])}


def teacher_forcing_batch(src_vocab, tgt_vocab, sources, targets):
    """src (N, S) ids, tgt_in (N, T) = BOS + target, tgt_out (N, T) = target + EOS: position t of the decoder
    reads the true tokens before t and is scored on token t."""
    src = src_vocab.encode(sources, "sources")
    tgt = tgt_vocab.encode(targets, "targets", bos=True, eos=True)
    tgt_in, tgt_out = tgt[:, :-1].copy(), tgt[:, 1:].copy()
    tgt_in[tgt_in == EOS] = PAD  # the EOS of a shorter row is nobody's input
    return src, tgt_in, tgt_out


def inverse_sqrt_schedule(d_model, warmup):
    """Vaswani et al. (2017), eq. 3, as a LambdaLR multiplier of step s (0-based, so step s + 1 in the
    paper): d_model^-0.5 * min((s + 1)^-0.5, (s + 1) warmup^-1.5). Linear warm-up, then 1/sqrt(step)."""
    check_positive_int(d_model, "d_model")
    check_positive_int(warmup, "warmup")

    def multiplier(step):
        step += 1
        return d_model ** -0.5 * min(step ** -0.5, step * warmup ** -1.5)
    return multiplier


@dataclass
class Seq2SeqConfig:
    """The architecture and the training settings of a run; both twins read the same one. ``lr`` is the
    schedule's scale factor (the peak lr is lr * (d_model * warmup)^-0.5)."""
    d_model: int = 128
    nhead: int = 4
    num_encoder_layers: int = 3
    num_decoder_layers: int = 3
    dim_feedforward: int = 256
    dropout: float = 0.1
    max_len: int = 40
    tie_embeddings: bool = True
    norm_first: bool = False
    label_smoothing: float = 0.1
    lr: float = 1.0
    warmup: int = 400
    batch_size: int = 64
    num_epochs: int = 10
    seed: int = 0

    def __post_init__(self):
        for name in ("d_model", "nhead", "num_encoder_layers", "num_decoder_layers", "dim_feedforward", "max_len", "warmup",
                     "batch_size", "num_epochs"):
            check_positive_int(getattr(self, name), name)
        check_real(self.label_smoothing, "label_smoothing", 0, 1, high_open=True)
        check_real(self.dropout, "dropout", 0, 1, high_open=True)

    def architecture(self, src_vocab_size, tgt_vocab_size):
        return {"src_vocab_size": src_vocab_size, "tgt_vocab_size": tgt_vocab_size, "d_model": self.d_model, "nhead": self.nhead,
                "num_encoder_layers": self.num_encoder_layers, "num_decoder_layers": self.num_decoder_layers,
                "dim_feedforward": self.dim_feedforward, "dropout": self.dropout, "max_len": self.max_len,
                "tie_embeddings": self.tie_embeddings, "norm_first": self.norm_first}


def check_architecture(src_vocab_size, tgt_vocab_size, d_model, nhead, max_len):
    for name, value in (("src_vocab_size", src_vocab_size), ("tgt_vocab_size", tgt_vocab_size), ("d_model", d_model),
                        ("nhead", nhead), ("max_len", max_len)):
        check_positive_int(value, name)
    if min(src_vocab_size, tgt_vocab_size) <= EOS:
        raise ValueError(f"src_vocab_size, tgt_vocab_size: expected more than the 3 reserved ids, got {src_vocab_size}, {tgt_vocab_size}")
    if d_model % nhead:
        raise ValueError(f"d_model: expected a multiple of nhead={nhead}, got {d_model}")


def check_ids(ids, vocab_size, max_len, name):
    """ids (N, L): integers in [0, vocab_size), 1 <= L <= max_len, no row starting with padding."""
    array = np.asarray(ids)
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name}: expected an integer array of token ids (N, L), got shape {array.shape} dtype {array.dtype}")
    if not 1 <= array.shape[1] <= max_len:
        raise ValueError(f"{name}: expected a length in [1, max_len={max_len}], got shape {array.shape}")
    if array.size and (array.min() < 0 or array.max() >= vocab_size):
        raise ValueError(f"{name}: expected token ids in [0, {vocab_size}), got values in [{array.min()}, {array.max()}]")
    if array.size and (array[:, 0] == PAD).any():
        raise ValueError(f"{name}: expected every row to start with a token, got padding first in rows "
                         f"{np.flatnonzero(array[:, 0] == PAD)[:5].tolist()}")
    return array


def check_decoding(beam_width, max_len, length_penalty=1.0):
    for name, value in (("beam_width", beam_width), ("max_len", max_len)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
            raise ValueError(f"{name}: expected a positive int, got {value!r}")
    check_real(length_penalty, "length_penalty")


def checkpoint(state_dict, src_vocab, tgt_vocab, architecture):
    """One flat dict of arrays: the weights, then src_vocab.*, tgt_vocab.* and architecture.* entries."""
    for name, vocab in (("src_vocab", src_vocab), ("tgt_vocab", tgt_vocab)):
        if len(vocab) != architecture[f"{name}_size"]:
            raise ValueError(f"{name}: expected {architecture[f'{name}_size']} tokens (the model's {name}_size), got {len(vocab)}")
    return {**state_dict, **src_vocab.state_dict("src_vocab."), **tgt_vocab.state_dict("tgt_vocab."),
            **{f"architecture.{key}": np.asarray(value) for key, value in architecture.items()}}


def split_checkpoint(state, path):
    """The inverse of :func:`checkpoint`: (weights, src vocabulary, tgt vocabulary, architecture). A file
    whose vocabularies do not match its embeddings' sizes is refused naming ``path``."""
    architecture = {key.partition(".")[2]: value.item() for key, value in state.items() if key.startswith("architecture.")}
    missing = sorted(set(ARCHITECTURE) - set(architecture))
    if missing or "src_vocab.tokens" not in state or "tgt_vocab.tokens" not in state:
        raise ValueError(f"{path}: expected the architecture.* and vocabulary entries of seq2seq.save, missing {missing or 'a vocabulary'}")
    vocabs = [TokenVocabulary(state[f"{name}.tokens"].tolist()) for name in ("src_vocab", "tgt_vocab")]
    for name, vocab in zip(("src_vocab", "tgt_vocab"), vocabs):
        if len(vocab) != architecture[f"{name}_size"]:
            raise ValueError(f"{path}: {name} holds {len(vocab)} tokens, but the model's {name}_size is "
                             f"{architecture[f'{name}_size']}: the vocabulary does not match the weights")
    weights = {key: value for key, value in state.items() if not key.startswith(("src_vocab.", "tgt_vocab.", "architecture."))}
    return weights, *vocabs, architecture
