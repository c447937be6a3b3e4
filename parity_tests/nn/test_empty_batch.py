"""A zero-size batch (N = 0) through every scratch layer and loss, against torch: the same empty
outputs and input gradients, zero parameter gradients, and the buffers torch leaves (BatchNorm in
training counts the batch but keeps its running statistics). ``LAYERS`` is also the table the
bad-input suite drives (parity_tests/bad_input/test_layers.py): a new layer joins both by a row.
"""
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from reference import layers as reference_layers
from scratch import nn
from twins.parity import DTYPES, assert_close, compare_modules, copy_to_torch, randomise, to_torch, tolerance, torch_dtype


@dataclass
class Layer:
    """One layer: ``build(dtype, seed)`` gives (scratch, torch) with the same weights, ``inputs(n, dtype, rng)``
    a batch of ``n`` samples; ``mode`` 'train' or 'eval'."""
    id: str
    build: object
    inputs: object
    mode: str = "train"


def weighted(scratch_cls, torch_cls, **kwargs):
    """A layer with parameters or buffers: scratch's, every one randomised, and its torch twin."""
    def build(dtype, seed):
        model = randomise(scratch_cls(**kwargs, dtype=dtype), np.random.default_rng(seed))
        torch.manual_seed(seed)
        return model, copy_to_torch(model, torch_cls(**kwargs, dtype=torch_dtype(dtype)))
    return build


def plain(scratch_cls, torch_cls, **kwargs):
    """A layer with no state: built on both sides from the same arguments."""
    return lambda dtype, seed: (scratch_cls(**kwargs), torch_cls(**kwargs))


def floats(*shapes):
    """Inputs of these shapes, with the batch size put where a shape says "N"."""
    return lambda n, dtype, rng: tuple(rng.normal(size=[n if s == "N" else s for s in shape]).astype(dtype)
                                       for shape in shapes)


def self_attention(shape):
    """One array passed as query, key and value: scratch's packed projection path."""
    return lambda n, dtype, rng: (floats(shape)(n, dtype, rng)[0],) * 3


def token_ids(shape, high):
    return lambda n, dtype, rng: (rng.integers(0, high, [n if s == "N" else s for s in shape]),)


T = torch.nn
LAYERS = [
    Layer("Linear", weighted(nn.Linear, T.Linear, in_features=3, out_features=2), floats(("N", 3))),
    Layer("Linear-3d", weighted(nn.Linear, T.Linear, in_features=3, out_features=2), floats(("N", 4, 3))),
    Layer("Identity", plain(nn.Identity, T.Identity), floats(("N", 3))),
    Layer("Conv1d", weighted(nn.Conv1d, T.Conv1d, in_channels=4, out_channels=2, kernel_size=3, groups=2),
          floats(("N", 4, 6))),
    Layer("Conv2d", weighted(nn.Conv2d, T.Conv2d, in_channels=3, out_channels=4, kernel_size=3, stride=2, padding=1),
          floats(("N", 3, 5, 5))),
    Layer("ConvTranspose2d", weighted(nn.ConvTranspose2d, T.ConvTranspose2d, in_channels=3, out_channels=2, kernel_size=3,
                                      stride=2), floats(("N", 3, 4, 4))),
    Layer("MaxPool2d", plain(nn.MaxPool2d, T.MaxPool2d, kernel_size=2), floats(("N", 3, 4, 4))),
    Layer("AvgPool2d", plain(nn.AvgPool2d, T.AvgPool2d, kernel_size=2), floats(("N", 3, 4, 4))),
    Layer("AdaptiveAvgPool2d", plain(nn.AdaptiveAvgPool2d, T.AdaptiveAvgPool2d, output_size=2), floats(("N", 3, 5, 5))),
    Layer("BatchNorm1d-train", weighted(nn.BatchNorm1d, T.BatchNorm1d, num_features=3), floats(("N", 3))),
    Layer("BatchNorm1d-eval", weighted(nn.BatchNorm1d, T.BatchNorm1d, num_features=3), floats(("N", 3, 4)), "eval"),
    Layer("BatchNorm1d-cumulative", weighted(nn.BatchNorm1d, T.BatchNorm1d, num_features=3, momentum=None),
          floats(("N", 3, 4))),
    Layer("BatchNorm2d-train", weighted(nn.BatchNorm2d, T.BatchNorm2d, num_features=3), floats(("N", 3, 2, 2))),
    Layer("BatchNorm2d-eval", weighted(nn.BatchNorm2d, T.BatchNorm2d, num_features=3), floats(("N", 3, 2, 2)), "eval"),
    Layer("BatchNorm2d-untracked", weighted(nn.BatchNorm2d, T.BatchNorm2d, num_features=3, track_running_stats=False),
          floats(("N", 3, 2, 2)), "eval"),
    Layer("BatchNorm1d-no-affine-untracked", weighted(nn.BatchNorm1d, T.BatchNorm1d, num_features=3, affine=False,
                                                      track_running_stats=False), floats(("N", 3, 4))),
    Layer("BatchNorm1d-no-bias-eval", weighted(nn.BatchNorm1d, T.BatchNorm1d, num_features=3, bias=False),
          floats(("N", 3)), "eval"),
    Layer("BatchNorm2d-no-bias-cumulative", weighted(nn.BatchNorm2d, T.BatchNorm2d, num_features=3, bias=False,
                                                     momentum=None), floats(("N", 3, 2, 2))),
    Layer("LayerNorm", weighted(nn.LayerNorm, T.LayerNorm, normalized_shape=(2, 3)), floats(("N", 2, 3))),
    Layer("Embedding", weighted(nn.Embedding, T.Embedding, num_embeddings=5, embedding_dim=3, padding_idx=0),
          token_ids(("N", 4), 5)),
    Layer("Dropout", plain(nn.Dropout, T.Dropout, p=0.5), floats(("N", 3))),
    Layer("Dropout2d", plain(nn.Dropout2d, T.Dropout2d, p=0.5), floats(("N", 3, 2, 2))),
    Layer("Flatten", plain(nn.Flatten, T.Flatten), floats(("N", 3, 2))),
    Layer("Unflatten", plain(nn.Unflatten, T.Unflatten, dim=1, unflattened_size=(3, 2)), floats(("N", 6))),
    Layer("Upsample", plain(nn.Upsample, T.Upsample, scale_factor=2), floats(("N", 3, 2, 2))),
    Layer("Upsample-bilinear", plain(nn.Upsample, T.Upsample, size=(3, 5), mode="bilinear"), floats(("N", 3, 2, 2))),
    Layer("ReLU", plain(nn.ReLU, T.ReLU), floats(("N", 3))),
    Layer("LeakyReLU", plain(nn.LeakyReLU, T.LeakyReLU), floats(("N", 3))),
    Layer("ELU", plain(nn.ELU, T.ELU), floats(("N", 3))),
    Layer("GELU", plain(nn.GELU, T.GELU), floats(("N", 3))),
    Layer("Sigmoid", plain(nn.Sigmoid, T.Sigmoid), floats(("N", 3))),
    Layer("Tanh", plain(nn.Tanh, T.Tanh), floats(("N", 3))),
    Layer("SiLU", plain(nn.SiLU, T.SiLU), floats(("N", 3))),
    Layer("Softplus", plain(nn.Softplus, T.Softplus), floats(("N", 3))),
    Layer("Softmax", plain(nn.Softmax, T.Softmax, dim=1), floats(("N", 3))),
    Layer("LogSoftmax", plain(nn.LogSoftmax, T.LogSoftmax, dim=1), floats(("N", 3))),
    Layer("RNN", weighted(nn.RNN, T.RNN, input_size=3, hidden_size=4), floats((5, "N", 3))),
    Layer("RNN-relu-2-layers", weighted(nn.RNN, T.RNN, input_size=3, hidden_size=4, num_layers=2, nonlinearity="relu"),
          floats((5, "N", 3))),
    Layer("LSTM", weighted(nn.LSTM, T.LSTM, input_size=3, hidden_size=4), floats((5, "N", 3))),
    Layer("LSTM-bidirectional-batch-first", weighted(nn.LSTM, T.LSTM, input_size=3, hidden_size=4, num_layers=2,
                                                     bidirectional=True, batch_first=True), floats(("N", 5, 3))),
    Layer("LSTM-projections", weighted(nn.LSTM, T.LSTM, input_size=3, hidden_size=4, proj_size=2), floats((5, "N", 3))),
    Layer("LSTM-projections-2-layers-bidirectional-batch-first", weighted(nn.LSTM, T.LSTM, input_size=3, hidden_size=4,
                                                                          proj_size=3, num_layers=2, bidirectional=True,
                                                                          batch_first=True), floats(("N", 5, 3)), "eval"),
    Layer("GRU", weighted(nn.GRU, T.GRU, input_size=3, hidden_size=4, batch_first=True), floats(("N", 5, 3))),
    Layer("GRU-bidirectional", weighted(nn.GRU, T.GRU, input_size=3, hidden_size=4, bidirectional=True),
          floats((5, "N", 3))),
    Layer("RNNCell", weighted(nn.RNNCell, T.RNNCell, input_size=3, hidden_size=4), floats(("N", 3))),
    Layer("LSTMCell", weighted(nn.LSTMCell, T.LSTMCell, input_size=3, hidden_size=4), floats(("N", 3))),
    Layer("GRUCell", weighted(nn.GRUCell, T.GRUCell, input_size=3, hidden_size=4), floats(("N", 3))),
    Layer("MultiheadAttention", weighted(nn.MultiheadAttention, T.MultiheadAttention, embed_dim=4, num_heads=2),
          floats((3, "N", 4), (5, "N", 4), (5, "N", 4))),
    Layer("MultiheadAttention-self-batch-first", weighted(nn.MultiheadAttention, T.MultiheadAttention, embed_dim=4,
                                                          num_heads=2, batch_first=True), self_attention(("N", 3, 4))),
    Layer("MultiheadAttention-kdim-vdim", weighted(nn.MultiheadAttention, T.MultiheadAttention, embed_dim=4, num_heads=2,
                                                   kdim=3, vdim=5), floats((3, "N", 4), (2, "N", 3), (2, "N", 5))),
    Layer("MultiheadAttention-bias-kv-zero-attn-kdim-vdim", weighted(nn.MultiheadAttention, T.MultiheadAttention, embed_dim=4,
                                                                   num_heads=2, kdim=3, vdim=5, add_bias_kv=True,
                                                                   add_zero_attn=True),
          floats((3, "N", 4), (2, "N", 3), (2, "N", 5))),
    Layer("MultiheadAttention-self-bias-kv-eval", weighted(nn.MultiheadAttention, T.MultiheadAttention, embed_dim=4,
                                                           num_heads=2, batch_first=True, add_bias_kv=True),
          self_attention(("N", 3, 4)), "eval"),
    Layer("MultiheadAttention-zero-attn", weighted(nn.MultiheadAttention, T.MultiheadAttention, embed_dim=4, num_heads=2,
                                                   add_zero_attn=True), floats((3, "N", 4), (5, "N", 4), (5, "N", 4))),
    Layer("TransformerEncoderLayer", weighted(nn.TransformerEncoderLayer, T.TransformerEncoderLayer, d_model=4, nhead=2,
                                              dim_feedforward=8, dropout=0.0), floats((3, "N", 4))),
    Layer("TransformerEncoderLayer-norm-first-eval", weighted(nn.TransformerEncoderLayer, T.TransformerEncoderLayer,
                                                             d_model=4, nhead=2, dim_feedforward=8, dropout=0.0,
                                                             batch_first=True, norm_first=True),
          floats(("N", 3, 4)), "eval"),
    Layer("TransformerDecoderLayer", weighted(nn.TransformerDecoderLayer, T.TransformerDecoderLayer, d_model=4, nhead=2,
                                              dim_feedforward=8, dropout=0.0), floats((3, "N", 4), (5, "N", 4))),
    Layer("TransformerDecoderLayer-norm-first-eval", weighted(nn.TransformerDecoderLayer, T.TransformerDecoderLayer,
                                                             d_model=4, nhead=2, dim_feedforward=8, dropout=0.0,
                                                             batch_first=True, norm_first=True),
          floats(("N", 3, 4), ("N", 5, 4)), "eval"),
    Layer("Transformer", weighted(nn.Transformer, T.Transformer, d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                                  dim_feedforward=8, dropout=0.0, batch_first=True), floats(("N", 5, 4), ("N", 3, 4))),
    Layer("PositionalEncoding", weighted(nn.PositionalEncoding, reference_layers.PositionalEncoding, d_model=4, max_len=8),
          floats(("N", 3, 4))),
]

# The loss classes, (input, target) for a batch of n; every reduction is checked.
LOSSES = {
    "MSELoss": floats(("N", 3), ("N", 3)),
    "L1Loss": floats(("N", 3), ("N", 3)),
    "SmoothL1Loss": floats(("N", 3), ("N", 3)),
    "HuberLoss": floats(("N", 3), ("N", 3)),
    "BCELoss": lambda n, dtype, rng: (rng.uniform(0.1, 0.9, (n, 3)).astype(dtype), rng.uniform(0, 1, (n, 3)).astype(dtype)),
    "BCEWithLogitsLoss": floats(("N", 3), ("N", 3)),
    "KLDivLoss": lambda n, dtype, rng: (floats(("N", 3))(n, dtype, rng)[0], rng.uniform(0.1, 1, (n, 3)).astype(dtype)),
    "CrossEntropyLoss": lambda n, dtype, rng: (floats(("N", 3))(n, dtype, rng)[0], rng.integers(0, 3, n)),
    "NLLLoss": lambda n, dtype, rng: (floats(("N", 3))(n, dtype, rng)[0], rng.integers(0, 3, n)),
}
# Modules that are not layers a batch goes through: the bookkeeping base class and the containers
# (Sequential, TransformerEncoder and TransformerDecoder are layers, but their parts are already in the table).
NOT_LAYERS = {"Module", "ModuleList", "Sequential", "TransformerEncoder", "TransformerDecoder"}


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN:UserWarning")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("layer", LAYERS, ids=[layer.id for layer in LAYERS])
def test_an_empty_batch_gives_what_torch_gives(layer, dtype):
    """Forward and backward of N = 0: outputs, input gradients, parameter gradients and buffers
    as torch's (compare_modules checks each; here the shapes matter and the gradients are zero)."""
    model, twin = layer.build(dtype, 0)
    model.train(layer.mode == "train")
    twin.train(layer.mode == "train")
    rng = np.random.default_rng(0)
    compare_modules(model, twin, layer.inputs(0, dtype, rng), rng, f"{layer.id} with N = 0")
    for name, param in model.named_parameters():
        assert param.grad is None or not param.grad.any(), f"{layer.id}: an empty batch gave {name} a non-zero gradient"


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")  # torch's KLDivLoss notice
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", LOSSES)
def test_an_empty_batch_through_a_loss_gives_what_torch_gives(name, reduction):
    """torch's mean over no elements is NaN, its sum 0, 'none' an empty array; the gradient is empty."""
    rng = np.random.default_rng(0)
    input, target = LOSSES[name](0, np.float64, rng)
    criterion, twin = getattr(nn, name)(reduction=reduction), getattr(torch.nn, name)(reduction=reduction)
    loss = criterion(input, target)
    torch_input = to_torch(input, requires_grad=True)
    torch_loss = twin(torch_input, to_torch(target))
    assert_close(loss, torch_loss, f"{name}({reduction!r}) of an empty batch", *tolerance(np.float64, "forward"))
    grad = rng.normal(size=np.shape(loss))
    torch_loss.backward(to_torch(grad))
    assert_close(criterion.backward(grad), torch_input.grad, f"{name}({reduction!r}) gradient", *tolerance(np.float64, "grad"))


def test_every_layer_and_loss_is_in_the_table():
    """A layer added to scratch.nn joins this suite (and the bad-input suite) by a row in LAYERS."""
    exported = {name for name in dir(nn) if isinstance(getattr(nn, name), type) and issubclass(getattr(nn, name), nn.Module)}
    covered = {layer.id.split("-")[0] for layer in LAYERS} | set(LOSSES) | NOT_LAYERS
    assert exported - covered == set(), f"layers with no empty-batch row: {sorted(exported - covered)}"
