"""Bad input to Project 17 (seq2seq): words outside the source alphabet, empty words, masks of the wrong
shape or dtype, decoding widths and lengths <= 0, checkpoints whose vocabulary does not fit the weights."""
import numpy as np
import pytest

from scratch import nn, serialization
from scratch.projects.seq2seq import decoding
from scratch.projects.seq2seq import model as seq2seq
from scratch.projects.seq2seq.config import TokenVocabulary, checkpoint
from scratch.projects.seq2seq.data import SOURCE_ALPHABET
from twins.parity import BadInput, assert_bad_input

LETTERS, DIGITS = TokenVocabulary(SOURCE_ALPHABET), TokenVocabulary("0123456789")
MODEL = seq2seq.Seq2SeqTransformer(len(LETTERS), len(DIGITS), d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                                   dim_feedforward=8, max_len=6, rng=np.random.default_rng(0))
SRC = LETTERS.encode(["cat", "a"], "words")
LAYER = nn.TransformerDecoderLayer(4, 2, 8, batch_first=True)
TGT, MEMORY = np.zeros((2, 3, 4), dtype=np.float32), np.zeros((2, 5, 4), dtype=np.float32)


def _tampered_checkpoint(tmp_dir):
    """A checkpoint whose target vocabulary lost a token: it no longer fits the output layer."""
    state = checkpoint(MODEL.state_dict(), LETTERS, DIGITS, MODEL.architecture)
    state["tgt_vocab.tokens"] = state["tgt_vocab.tokens"][:-1]
    path = tmp_dir / "tampered.npz"
    serialization.save(state, path)
    return path


def load_tampered():
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as tmp:
        seq2seq.load(_tampered_checkpoint(Path(tmp)))


CASES = [
    BadInput("a character outside the source alphabet", lambda: LETTERS.encode(["café"], "words"), ValueError, "words",
             r"expected tokens of the vocabulary .* got 'é' in 'café' \(index 0\)"),
    BadInput("a digit in a word", lambda: LETTERS.encode(["r2d2"], "words"), ValueError, "words", r"got '2' in 'r2d2'"),
    BadInput("an empty word", lambda: LETTERS.encode(["ok", ""], "words"), ValueError, "words",
             r"expected non-empty sequences, got an empty one at index 1"),
    BadInput("a bare string for a list of words", lambda: LETTERS.encode("cat", "words"), TypeError, "words",
             r"expected a list of token sequences"),
    BadInput("tgt_mask of the wrong shape", lambda: LAYER(TGT, MEMORY, tgt_mask=np.zeros((3, 5), dtype=bool)), ValueError,
             "tgt_mask", r"expected shape \(3, 3\) or \(4, 3, 3\), got \(3, 5\)"),
    BadInput("memory_mask of the wrong dtype", lambda: LAYER(TGT, MEMORY, memory_mask=np.zeros((3, 5), dtype=np.int8)), TypeError,
             "memory_mask", r"expected a bool or float32 ndarray, got ndarray of shape \(3, 5\) and dtype int8"),
    BadInput("memory_key_padding_mask of the wrong shape",
             lambda: LAYER(TGT, MEMORY, memory_key_padding_mask=np.zeros((2, 3), dtype=bool)), ValueError,
             "memory_key_padding_mask", r"expected shape \(2, 5\), got \(2, 3\)"),
    BadInput("tgt_key_padding_mask of float64 in a float32 layer",
             lambda: LAYER(TGT, MEMORY, tgt_key_padding_mask=np.zeros((2, 3))), TypeError, "tgt_key_padding_mask",
             r"expected a bool or float32 ndarray, got ndarray of shape \(2, 3\) and dtype float64"),
    BadInput("memory of another batch size", lambda: LAYER(TGT, MEMORY[:1]), ValueError, "memory", r"expected batch size 2"),
    BadInput("beam width 0", lambda: decoding.beam_search(MODEL, SRC, 0, 5), ValueError, "beam_width",
             r"expected a positive int, got 0"),
    BadInput("beam width -2", lambda: decoding.beam_search(MODEL, SRC, -2, 5), ValueError, "beam_width", r"got -2"),
    BadInput("max length 0", lambda: decoding.greedy_decode(MODEL, SRC, 0), ValueError, "max_len", r"expected a positive int, got 0"),
    BadInput("max length -1 in a beam search", lambda: decoding.beam_search(MODEL, SRC, 2, -1), ValueError, "max_len", r"got -1"),
    BadInput("max length beyond the positional table", lambda: decoding.greedy_decode(MODEL, SRC, 7), ValueError, "max_len",
             r"expected at most the model's max_len=6 \(its positional table\), got 7"),
    BadInput("a source id outside the vocabulary", lambda: MODEL(np.array([[3, 40]]), np.array([[1]])), ValueError, "src",
             r"expected token ids in \[0, 32\), got values in \[3, 40\]"),
    BadInput("a source row of padding first", lambda: decoding.greedy_decode(MODEL, np.array([[0, 4]]), 3), ValueError, "src",
             r"expected every row to start with a token"),
    BadInput("float ids", lambda: MODEL(SRC.astype(float), np.array([[1], [1]])), TypeError, "src",
             r"expected an integer array of token ids"),
    BadInput("fewer target rows than sources", lambda: MODEL(SRC, np.array([[1, 4]])), ValueError, "tgt", r"expected 2 rows"),
    BadInput("a checkpoint written with the wrong vocabulary",
             lambda: checkpoint(MODEL.state_dict(), LETTERS, LETTERS, MODEL.architecture), ValueError, "tgt_vocab",
             r"expected 13 tokens \(the model's tgt_vocab_size\), got 32"),
    BadInput("a checkpoint whose vocabulary does not match its weights", load_tampered, ValueError, "tgt_vocab",
             r"tampered.npz: tgt_vocab holds 12 tokens, but the model's tgt_vocab_size is 13"),
    BadInput("length penalty not a number", lambda: decoding.beam_search(MODEL, SRC, 2, 3, length_penalty="long"), TypeError,
             "length_penalty", r""),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_named(case):
    assert_bad_input(case)
