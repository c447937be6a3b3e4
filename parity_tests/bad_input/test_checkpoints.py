"""Bad checkpoints: files that are not a scratch .npz (empty, truncated, corrupt, a .npy, pickled
objects), state_dicts that are not a mapping of arrays, and Project 3's checkpoints that nlp.save did
not write (an architecture entry or a weight missing or extra, mixed dtypes), read by either twin.
Each names the file or the key and says what to do. A new checkpoint reader joins by rows."""
import io
import tempfile
from pathlib import Path

import numpy as np
import pytest

from reference.projects.nlp import model as torch_nlp
from scratch import nn, serialization
from scratch.projects.nlp import model as scratch_nlp
from scratch.text import Vocabulary
from twins.parity import BadInput, assert_bad_input


def good_checkpoint():
    """The bytes of a small state_dict written by serialization.save."""
    buffer = io.BytesIO()
    serialization.save(nn.Linear(3, 2, rng=np.random.default_rng(0)).state_dict(), buffer)
    return buffer.getvalue()


def corrupted(data):
    data = bytearray(data)
    data[60:80] = b"x" * 20  # inside the first member: its CRC no longer matches
    return bytes(data)


def object_array():
    buffer = io.BytesIO()
    np.savez(buffer, weight=np.array([{"a": 1}], dtype=object))
    return buffer.getvalue()


def npy():
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3))
    return buffer.getvalue()


def read(reader, filename, data):
    """``reader(path)`` on a file holding ``data``, in a folder removed afterwards."""
    def call():
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / filename
            path.write_bytes(data() if callable(data) else data)
            return reader(path)
    return call


def nlp_checkpoint(edit):
    """A Project 3 checkpoint written by scratch's nlp.save, its arrays then passed through ``edit``."""
    def data():
        model = scratch_nlp.TransformerClassifier(5, 2, d_model=4, nhead=2, num_layers=1, dim_feedforward=8, max_len=6,
                                                  rng=np.random.default_rng(0))
        buffer = io.BytesIO()
        scratch_nlp.save(buffer, model, Vocabulary(["a", "b", "c"]))
        state = edit(dict(serialization.load(io.BytesIO(buffer.getvalue()))))
        buffer = io.BytesIO()
        serialization.save(state, buffer)
        return buffer.getvalue()
    return data


def without(key):
    return lambda state: {k: v for k, v in state.items() if k != key}


def adding(key, value):
    return lambda state: state | {key: value}


def as_float64(key):
    return lambda state: state | {key: state[key].astype(np.float64)}


NOT_A_CHECKPOINT = r"is not a readable checkpoint \({}.*\); expected an \.npz written by scratch\.serialization\.save"
CASES = [
    BadInput("an empty file", read(serialization.load, "empty.npz", b""), ValueError, "f: ",
             r"f: '.*empty\.npz' " + NOT_A_CHECKPOINT.format("EOFError")),
    BadInput("a truncated file", read(serialization.load, "cut.npz", lambda: good_checkpoint()[:200]), ValueError, "f: ",
             r"cut\.npz' " + NOT_A_CHECKPOINT.format("BadZipFile")),
    BadInput("a corrupt member", read(serialization.load, "bad.npz", lambda: corrupted(good_checkpoint())), ValueError, "f: ",
             r"bad\.npz' " + NOT_A_CHECKPOINT.format("BadZipFile")),
    BadInput("text", read(serialization.load, "notes.npz", b"not a checkpoint at all"), ValueError, "f: ",
             r"notes\.npz' " + NOT_A_CHECKPOINT.format("")),
    BadInput("a .npy file", read(serialization.load, "x.npy", npy), ValueError, "f: ",
             r"x\.npy' " + NOT_A_CHECKPOINT.format(r"a single ndarray \(a \.npy file\)")),
    BadInput("pickled objects", read(serialization.load, "objects.npz", object_array), ValueError, "f: ",
             r"objects\.npz' " + NOT_A_CHECKPOINT.format("ValueError: Object arrays cannot be loaded")),
    BadInput("a file-like object", lambda: serialization.load(io.BytesIO(b"")), ValueError, "f: ", NOT_A_CHECKPOINT.format("EOFError")),
    BadInput("no file", lambda: serialization.load("/nonexistent/model.npz"), FileNotFoundError, "/nonexistent/model.npz",
             r"no checkpoint at"),
    BadInput("load_state_dict of a list", lambda: nn.Linear(3, 2).load_state_dict([]), TypeError, "state_dict",
             r"expected a mapping of key -> array .*, got list \[\]"),
    BadInput("load_state_dict of None", lambda: nn.Linear(3, 2).load_state_dict(None), TypeError, "state_dict", r"got NoneType None"),
    BadInput("a None value", lambda: nn.Linear(3, 2).load_state_dict({"weight": None, "bias": np.zeros(2, np.float32)}),
             TypeError, "state_dict['weight']", r"expected an array of numbers, got NoneType None"),
    BadInput("a text value", lambda: nn.Linear(3, 2).load_state_dict({"weight": np.zeros((2, 3), np.float32), "bias": "zeros"}),
             TypeError, "state_dict['bias']", r"got str 'zeros'"),
    BadInput("an object array value", lambda: nn.Linear(3, 2).load_state_dict({"weight": np.zeros((2, 3), object),
                                                                               "bias": np.zeros(2, np.float32)}),
             TypeError, "state_dict['weight']", r"got ndarray of shape \(2, 3\) and dtype object"),
    BadInput("a missing weight", lambda: nn.Linear(3, 2).load_state_dict({"weight": np.zeros((2, 3), np.float32)}), ValueError,
             "bias", r"missing key\(s\): bias"),
]
for twin, load in (("scratch", scratch_nlp.load), ("torch", torch_nlp.load)):
    CASES += [
        BadInput(f"nlp.load ({twin}): an architecture entry missing", read(load, "m.npz", nlp_checkpoint(without("architecture.nhead"))),
                 ValueError, "m.npz", r"expected the architecture\.\* entries .*, missing \['nhead'\], unknown \[\]; "
                 r"write the checkpoint with nlp\.save"),
        BadInput(f"nlp.load ({twin}): an unknown architecture entry", read(load, "m.npz", nlp_checkpoint(adding("architecture.depth",
                                                                                                              np.asarray(3)))),
                 ValueError, "m.npz", r"missing \[\], unknown \['depth'\]"),
        BadInput(f"nlp.load ({twin}): a weight missing", read(load, "m.npz", nlp_checkpoint(without("head.weight"))),
                 ValueError, "m.npz", r"expected the weights of the architecture it records, missing \['head\.weight'\], "
                 r"unexpected \[\]"),
        BadInput(f"nlp.load ({twin}): an extra weight", read(load, "m.npz", nlp_checkpoint(adding("head.scale", np.ones(2, np.float32)))),
                 ValueError, "m.npz", r"missing \[\], unexpected \['head\.scale'\]"),
        BadInput(f"nlp.load ({twin}): weights of two dtypes", read(load, "m.npz", nlp_checkpoint(as_float64("head.bias"))),
                 ValueError, "m.npz", r"expected weights of one dtype, float32 or float64, got dtypes \['float32', 'float64'\]"),
        BadInput(f"nlp.load ({twin}): the vocabulary missing", read(load, "m.npz", nlp_checkpoint(without("vocab.tokens"))),
                 ValueError, "m.npz", r"expected exactly the key 'vocab\.tokens'.*; write the checkpoint with nlp\.save"),
        BadInput(f"nlp.load ({twin}): an empty file", read(load, "m.npz", b""), ValueError, "m.npz", NOT_A_CHECKPOINT.format("EOFError")),
    ]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_bad_checkpoint_is_named(case):
    assert_bad_input(case)


@pytest.mark.parametrize("load", [scratch_nlp.load, torch_nlp.load], ids=["scratch", "torch"])
def test_a_good_nlp_checkpoint_still_loads(load):
    model, vocab = read(load, "m.npz", nlp_checkpoint(lambda state: state))()
    assert vocab.itos[2:] == ["a", "b", "c"] and not model.training
