"""Benchmark cases for the CNN project's layers (curriculum Project 4): pooling and batch norm.

Forward+backward of one layer on a batch of feature maps the size of a small CNN's first
block on Fashion-MNIST (64 x 32 x 28 x 28); scratch and torch CPU see the same input and
the same upstream gradient, and both compute the input gradient.
"""
import numpy as np
import torch

from scratch import nn

from .core import Case

BATCH, CHANNELS, SIZE = 64, 32, 28


def _layer_case(name, scratch_layer, torch_layer, x, rng, note=""):
    scratch_layer.train(), torch_layer.train()
    grad = rng.standard_normal(scratch_layer(x).shape).astype(x.dtype)
    tx, tgrad = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(grad)

    def scratch_step():
        scratch_layer.zero_grad()
        scratch_layer(x)
        scratch_layer.backward(grad)

    def torch_step():
        torch_layer.zero_grad()
        tx.grad = None
        torch_layer(tx).backward(tgrad)

    return Case(name, f"b{x.shape[0]} {'x'.join(map(str, x.shape[1:]))}", scratch_step, torch_step, note=note)


def layer_cases(dtype=np.float32, quick=False, rng=None):
    """MaxPool2d(2, 2) and BatchNorm2d(32) in training mode, forward+backward; ``quick`` halves the batch."""
    rng = np.random.default_rng(0) if rng is None else rng
    dtype = np.dtype(dtype)
    x = rng.standard_normal((BATCH // 2 if quick else BATCH, CHANNELS, SIZE, SIZE)).astype(dtype)
    torch_dtype = torch.float64 if dtype == np.float64 else torch.float32
    return [
        _layer_case("MaxPool2d(2, 2) fwd+bwd", nn.MaxPool2d(2, 2), torch.nn.MaxPool2d(2, 2), x, rng),
        _layer_case("BatchNorm2d(32) train fwd+bwd", nn.BatchNorm2d(CHANNELS, dtype=dtype),
                    torch.nn.BatchNorm2d(CHANNELS, dtype=torch_dtype), x, rng, note="running stats updated"),
    ]
