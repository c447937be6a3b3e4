"""Bad input to the layers and the models built from them: every size argument through one check
(a positive int, never a bool or a float), index arguments, parameter data, the projects' model
arguments, and backward after a forward that raised (no stale cache is ever differentiated).
A new layer joins by a row in SIZES (its size arguments) and in parity_tests/nn/test_empty_batch.py's
LAYERS (which drives the stale-state rows here)."""
import re

import numpy as np
import pytest

from parity_tests.nn.test_empty_batch import LAYERS, LOSSES
from scratch import nn
from scratch.projects.forecasting.model import Forecaster
from scratch.projects.mlp.model import MLP
from scratch.projects.nlp.model import TransformerClassifier
from scratch.projects.recommender.model import MatrixFactorization
from twins.parity import BadInput, assert_bad_input

# Each layer with arguments that build it; every size argument among them is then given bad values.
SIZES = [
    (nn.Linear, dict(in_features=3, out_features=2), ("in_features", "out_features")),
    (nn.Embedding, dict(num_embeddings=5, embedding_dim=3), ("num_embeddings", "embedding_dim")),
    (nn.Conv1d, dict(in_channels=2, out_channels=2, kernel_size=3), ("in_channels", "out_channels", "groups")),
    (nn.Conv2d, dict(in_channels=2, out_channels=2, kernel_size=3), ("in_channels", "out_channels", "groups")),
    (nn.ConvTranspose2d, dict(in_channels=2, out_channels=2, kernel_size=3), ("in_channels", "out_channels", "groups")),
    (nn.BatchNorm1d, dict(num_features=3), ("num_features",)),
    (nn.BatchNorm2d, dict(num_features=3), ("num_features",)),
    (nn.LayerNorm, dict(normalized_shape=3), ("normalized_shape",)),
    (nn.RNN, dict(input_size=3, hidden_size=4), ("input_size", "hidden_size", "num_layers")),
    (nn.LSTM, dict(input_size=3, hidden_size=4), ("input_size", "hidden_size", "num_layers")),
    (nn.GRU, dict(input_size=3, hidden_size=4), ("input_size", "hidden_size", "num_layers")),
    (nn.RNNCell, dict(input_size=3, hidden_size=4), ("input_size", "hidden_size")),
    (nn.LSTMCell, dict(input_size=3, hidden_size=4), ("input_size", "hidden_size")),
    (nn.GRUCell, dict(input_size=3, hidden_size=4), ("input_size", "hidden_size")),
    (nn.MultiheadAttention, dict(embed_dim=4, num_heads=2), ("embed_dim", "num_heads", "kdim", "vdim")),
    (nn.TransformerEncoderLayer, dict(d_model=4, nhead=2), ("d_model", "nhead", "dim_feedforward")),
    (nn.PositionalEncoding, dict(d_model=4), ("d_model", "max_len")),
]
BAD_SIZES = {"negative": -1, "zero": 0, "float": 2.5, "bool": True, "string": "3", "None": None}


def build(cls, **kwargs):
    return lambda: cls(**kwargs)


def size_rows():
    """Every size argument of every layer, with each bad value: a ValueError naming Layer(argument)."""
    rows = []
    for cls, good, args in SIZES:
        for arg in args:
            for label, value in BAD_SIZES.items():
                if value is None and arg in ("kdim", "vdim"):
                    continue  # None is kdim's default: embed_dim
                name = f"{cls.__name__}({arg})"
                rows.append(BadInput(f"{name} {label}", build(cls, **good | {arg: value}), ValueError, name,
                                     rf"expected a positive int.*, got {re.escape(repr(value))}$"))
    return rows


def fails(call):
    try:
        call()
    except (TypeError, ValueError):
        return
    raise AssertionError("the bad forward was accepted")


def backward_after_a_failed_forward(make, inputs):
    """A good forward, then a forward that raises (a list where an array belongs), then backward."""
    def call():
        module, good = make(), inputs()
        out = module(*good)
        fails(lambda: module(good[0].tolist(), *good[1:]))
        flat = out if isinstance(out, tuple) else (out,)
        grads = [None if o is None or isinstance(o, tuple) else np.ones_like(o) for o in flat]
        module.backward(*grads)
    return call


def stale_rows():
    """Every layer of the empty-batch table and every loss: backward after a failed forward refuses."""
    rows = []
    for layer in LAYERS:
        if layer.id == "Identity":  # returns its input untouched, keeps nothing, refuses nothing: as torch's
            continue
        make = (lambda layer: lambda: layer.build(np.float64, 0)[0].train(layer.mode == "train"))(layer)
        inputs = (lambda layer: lambda: layer.inputs(2, np.float64, np.random.default_rng(0)))(layer)
        rows.append(BadInput(f"{layer.id}: backward after a failed forward", backward_after_a_failed_forward(make, inputs),
                             RuntimeError, "backward", "called before forward .or after a forward that raised."))
    for name, inputs in LOSSES.items():
        make = (lambda name: lambda: getattr(nn, name)())(name)
        inputs = (lambda inputs: lambda: inputs(2, np.float64, np.random.default_rng(0)))(inputs)
        rows.append(BadInput(f"{name}: backward after a failed forward", backward_after_a_failed_forward(make, inputs),
                             RuntimeError, "backward", "called before forward .or after a forward that raised."))
    return rows


def set_data(value):
    param = nn.Parameter(np.zeros(3))
    return lambda: setattr(param, "data", value)


def model_backward_after_a_failed_forward(make, good, bad, grad):
    def call():
        model = make()
        model(good)
        fails(lambda: model(bad))
        model.backward(grad)
    return call


def attention(x, forward_kwargs=None, **kwargs):
    """MultiheadAttention(4, 2, **kwargs) on (x, x, x), float32."""
    return lambda: nn.MultiheadAttention(4, 2, **kwargs)(x, x, x, **(forward_kwargs or {}))


def attention_backward(x, grad_weights, **kwargs):
    def call():
        layer = nn.MultiheadAttention(4, 2, **kwargs)
        out, _ = layer(x, x, x)
        layer.backward(np.zeros_like(out), grad_weights)
    return call


def lstm(x, hx, **kwargs):
    """LSTM(3, 4, **kwargs), float64, on (x, hx)."""
    return lambda: nn.LSTM(3, 4, dtype=np.float64, **kwargs)(x, hx)


rng = np.random.default_rng(0)
x_lstm = np.zeros((5, 2, 3))  # (L, N, H_in)
x_attention = np.zeros((3, 2, 4), np.float32)  # (L, N, E): 3 queries and keys, 2 samples
CASES = size_rows() + stale_rows() + [
    BadInput("BatchNorm2d(momentum) negative", build(nn.BatchNorm2d, num_features=3, momentum=-0.1), ValueError,
             "BatchNorm2d(momentum)", r"expected None or a number in \[0, 1\], got -0\.1$"),
    BadInput("BatchNorm2d(momentum) above 1", build(nn.BatchNorm2d, num_features=3, momentum=1.5), ValueError,
             "BatchNorm2d(momentum)", r"got 1\.5$"),
    BadInput("BatchNorm1d(momentum) NaN", build(nn.BatchNorm1d, num_features=3, momentum=float("nan")), ValueError,
             "BatchNorm1d(momentum)", r"got nan$"),
    BadInput("BatchNorm1d(momentum) a str", build(nn.BatchNorm1d, num_features=3, momentum="0.1"), TypeError,
             "BatchNorm1d(momentum)", r"expected None or a number in \[0, 1\], got str '0\.1'$"),
    BadInput("BatchNorm2d(eps) negative", build(nn.BatchNorm2d, num_features=3, eps=-1e-5), ValueError,
             "BatchNorm2d(eps)", r"expected a number >= 0, got -1e-05$"),
    BadInput("BatchNorm2d(eps) None", build(nn.BatchNorm2d, num_features=3, eps=None), TypeError,
             "BatchNorm2d(eps)", r"expected a number >= 0, got NoneType None$"),
    BadInput("BatchNorm2d(affine) an int", build(nn.BatchNorm2d, num_features=3, affine=0), TypeError,
             "BatchNorm2d(affine)", r"expected True or False, got int 0$"),
    BadInput("BatchNorm1d(bias) a str", build(nn.BatchNorm1d, num_features=3, bias="no"), TypeError,
             "BatchNorm1d(bias)", r"expected True or False, got str 'no'$"),
    BadInput("BatchNorm1d(track_running_stats) None", build(nn.BatchNorm1d, num_features=3, track_running_stats=None),
             TypeError, "BatchNorm1d(track_running_stats)", r"expected True or False, got NoneType None$"),
    BadInput("BatchNorm2d bias given positionally", lambda: nn.BatchNorm2d(3, 1e-5, 0.1, True, True, None, None, False),
             TypeError, "positional argument", r"takes from 2 to 8 positional arguments but 9 were given"),
    BadInput("LSTM(proj_size) equal to hidden_size", build(nn.LSTM, input_size=3, hidden_size=4, proj_size=4), ValueError,
             "LSTM(proj_size)", r"expected an int in \[0, hidden_size\) = \[0, 4\), got 4$"),
    BadInput("LSTM(proj_size) negative", build(nn.LSTM, input_size=3, hidden_size=4, proj_size=-1), ValueError,
             "LSTM(proj_size)", r"got -1$"),
    BadInput("LSTM(proj_size) a float", build(nn.LSTM, input_size=3, hidden_size=4, proj_size=2.0), ValueError,
             "LSTM(proj_size)", r"got 2\.0$"),
    BadInput("LSTM(proj_size) a bool", build(nn.LSTM, input_size=3, hidden_size=4, proj_size=True), ValueError,
             "LSTM(proj_size)", r"got True$"),
    BadInput("GRU(proj_size): only LSTM projects", build(nn.GRU, input_size=3, hidden_size=4, proj_size=2), TypeError,
             "proj_size", r"unexpected keyword argument"),
    BadInput("RNN(proj_size): only LSTM projects", build(nn.RNN, input_size=3, hidden_size=4, proj_size=2), TypeError,
             "proj_size", r"unexpected keyword argument"),
    BadInput("LSTM h_0 of hidden_size when projected", lstm(x_lstm, (np.zeros((1, 2, 4)), np.zeros((1, 2, 4))), proj_size=2),
             ValueError, "h_0", r"expected shape \(1, 2, 2\) \(num_layers \* num_directions, batch, proj_size\).*got \(1, 2, 4\)"),
    BadInput("LSTM c_0 of proj_size when projected", lstm(x_lstm, (np.zeros((1, 2, 2)), np.zeros((1, 2, 2))), proj_size=2),
             ValueError, "c_0", r"expected shape \(1, 2, 4\) \(num_layers \* num_directions, batch, hidden_size\).*got \(1, 2, 2\)"),
    BadInput("LSTM dropout_masks of hidden_size when projected",
             lambda: nn.LSTM(3, 4, num_layers=2, dropout=0.5, proj_size=2, dtype=np.float64)(
                 x_lstm, dropout_masks=[np.ones((5, 2, 4))]),
             ValueError, "dropout_masks", r"expected 1 arrays of shape \(5, 2, 2\)"),
    BadInput("MultiheadAttention(add_bias_kv) an int", build(nn.MultiheadAttention, embed_dim=4, num_heads=2, add_bias_kv=1),
             TypeError, "MultiheadAttention(add_bias_kv)", r"expected True or False, got int 1"),
    BadInput("MultiheadAttention(add_zero_attn) a str", build(nn.MultiheadAttention, embed_dim=4, num_heads=2,
                                                              add_zero_attn="yes"),
             TypeError, "MultiheadAttention(add_zero_attn)", r"expected True or False, got str 'yes'"),
    BadInput("MultiheadAttention attn_mask covering bias_k", attention(x_attention, {"attn_mask": np.zeros((3, 4), bool)},
                                                                        add_bias_kv=True),
             ValueError, "attn_mask", r"expected shape \(3, 3\) or \(4, 3, 3\), got \(3, 4\)"),
    BadInput("MultiheadAttention key_padding_mask covering the zero key",
             attention(x_attention, {"key_padding_mask": np.zeros((2, 4), bool)}, add_zero_attn=True),
             ValueError, "key_padding_mask", r"expected shape \(2, 3\), got \(2, 4\)"),
    BadInput("MultiheadAttention dropout_mask without the appended keys",
             attention(x_attention, {"dropout_mask": np.ones((2, 2, 3, 3), np.float32)}, dropout=0.5, add_bias_kv=True,
                       add_zero_attn=True),
             ValueError, "dropout_mask", r"expected shape \(2, 2, 3, 5\)"),
    BadInput("MultiheadAttention grad_weights without the appended key",
             attention_backward(x_attention, np.zeros((2, 3, 3), np.float32), add_bias_kv=True),
             ValueError, "grad_weights", r"expected shape \(2, 3, 4\)"),
    BadInput("Embedding(padding_idx) float", build(nn.Embedding, num_embeddings=5, embedding_dim=3, padding_idx=1.5),
             ValueError, "Embedding(padding_idx)", r"expected None or an int in \[-5, 5\) .*got 1\.5"),
    BadInput("Embedding(padding_idx) bool", build(nn.Embedding, num_embeddings=5, embedding_dim=3, padding_idx=True),
             ValueError, "Embedding(padding_idx)", r"got True"),
    BadInput("Embedding(padding_idx) out of range", build(nn.Embedding, num_embeddings=5, embedding_dim=3, padding_idx=5),
             ValueError, "Embedding(padding_idx)", r"expected None or an int in \[-5, 5\) .*got 5"),
    BadInput("LayerNorm(normalized_shape) empty", build(nn.LayerNorm, normalized_shape=()), ValueError,
             "LayerNorm(normalized_shape)", r"expected a positive int or a tuple of positive sizes, got \(\)"),
    BadInput("LayerNorm(normalized_shape) a zero inside", build(nn.LayerNorm, normalized_shape=(2, 0)), ValueError,
             "LayerNorm(normalized_shape)", r"expected a positive int, got 0"),
    BadInput("LayerNorm(normalized_shape) a float inside", build(nn.LayerNorm, normalized_shape=(2, 2.5)), ValueError,
             "LayerNorm(normalized_shape)", r"expected a positive int, got 2\.5"),
    BadInput("TransformerEncoder(num_layers) bool", lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2), True),
             ValueError, "TransformerEncoder(num_layers)", r"expected a positive int, got True"),
    BadInput("Parameter.data an int array", set_data(np.zeros(3, np.int64)), TypeError, "Parameter.data",
             r"expected a float32 or float64 ndarray, got ndarray of shape \(3,\) and dtype int64"),
    BadInput("Parameter.data a list", set_data([0.0, 1.0]), TypeError, "Parameter.data", r"got list"),
    BadInput("MLP hidden_sizes with a zero", lambda: MLP(4, (0,), 2), ValueError, "hidden_sizes",
             r"expected positive ints, got \(0,\)"),
    BadInput("MLP hidden_sizes not a sequence", lambda: MLP(4, 8, 2), ValueError, "hidden_sizes", r"got 8"),
    BadInput("MLP in_features zero", lambda: MLP(0, (3,), 2), ValueError, "in_features", r"expected a positive int, got 0"),
    BadInput("MLP num_classes float", lambda: MLP(4, (3,), 2.0), ValueError, "num_classes", r"got 2\.0"),
    BadInput("MLP backward after a failed forward",
             model_backward_after_a_failed_forward(lambda: MLP(4, (3,), 2, dtype=np.float64), np.zeros((2, 4)),
                                                   np.zeros((2, 5)), np.ones((2, 2))),
             RuntimeError, "backward", "before forward"),
    BadInput("Forecaster given a list", lambda: Forecaster(window=3)([[0.0, 1.0, 2.0]]), TypeError, "X",
             r"X: expected an array of windows \(N, 3\), got list"),
    BadInput("Forecaster backward after a failed forward",
             model_backward_after_a_failed_forward(lambda: Forecaster(hidden_size=4, window=3, dtype=np.float64),
                                                   np.zeros((2, 3)), [[0.0, 1.0, 2.0]], np.ones((2, 1))),
             RuntimeError, "backward", "before forward"),
    BadInput("TransformerClassifier backward after a failed forward",
             model_backward_after_a_failed_forward(lambda: TransformerClassifier(10, 3, d_model=4, nhead=2, num_layers=1,
                                                                                 dim_feedforward=8, max_len=4, dtype=np.float64),
                                                   np.ones((2, 4), np.int64), np.full((2, 4), 11), np.ones((2, 3))),
             RuntimeError, "backward", "before forward"),
    BadInput("MatrixFactorization backward before forward", lambda: MatrixFactorization(3, 4, 2).backward(np.zeros(2, np.float32)),
             RuntimeError, "MatrixFactorization.backward", "before forward"),
    BadInput("MatrixFactorization backward after a failed forward",
             model_backward_after_a_failed_forward(lambda: MatrixFactorization(3, 4, 2, dtype=np.float64),
                                                   np.array([[0, 1], [2, 3]]), np.array([[0, 9]]), np.ones(2)),
             RuntimeError, "backward", "before forward"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_to_a_layer_is_named(case):
    assert_bad_input(case)


def test_a_good_forward_after_a_failed_one_is_differentiated_afresh():
    """Forgetting a failed forward costs nothing: the next good forward's backward is the usual one."""
    layer = nn.Linear(3, 2, dtype=np.float64, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).normal(size=(4, 3))
    layer(x[:2])
    fails(lambda: layer(x.astype(np.float32)))
    layer(x)
    np.testing.assert_array_equal(layer.backward(np.ones((4, 2))), np.ones((4, 2)) @ layer.weight.data)
