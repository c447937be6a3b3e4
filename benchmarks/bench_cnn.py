"""Benchmark cases for the CNN project (curriculum Project 4).

Forward+backward of scratch's Conv2d (im2col + GEMM, col2im) against torch.nn.Conv2d on the
CPU, with the same weights and arrays, at the sizes of a Fashion-MNIST CNN's two conv layers;
the curriculum's loop convolution (forward only) is timed on a few samples and scaled up.
"""
import copy

import numpy as np
import torch

from scratch import nn
from scratch.nn.conv import conv2d_loops

from .core import Case

BATCH_SIZE = 64
# (in_channels, out_channels, height = width), kernel 3, padding 1
CONV_SIZES = ((1, 32, 28), (32, 64, 14))
NAIVE_SAMPLES = {False: 2, True: 1}  # by quick: the loop convolution runs on a prefix of the batch


def conv_case(in_channels, out_channels, size, dtype, rng, quick):
    layer = nn.Conv2d(in_channels, out_channels, 3, padding=1, dtype=dtype, rng=rng)
    twin = torch.nn.Conv2d(in_channels, out_channels, 3, padding=1, dtype=torch.float32 if dtype == np.float32
                           else torch.float64)
    twin.load_state_dict({key: torch.from_numpy(value) for key, value in layer.state_dict().items()})
    X = rng.standard_normal((BATCH_SIZE, in_channels, size, size), dtype=dtype)
    grad = rng.standard_normal((BATCH_SIZE, out_channels, size, size), dtype=dtype)

    def scratch_step():
        layer.zero_grad()
        layer(X)
        layer.backward(grad)

    weight, bias = layer.weight.data, layer.bias.data
    naive_n = NAIVE_SAMPLES[quick]
    gpu = _torch_forward_backward(twin, X, grad, "cuda") if torch.cuda.is_available() else None
    return Case(f"Conv2d {in_channels}->{out_channels} k3 p1", f"b{BATCH_SIZE} x {size}x{size}", scratch_step,
                _torch_forward_backward(twin, X, grad, "cpu"), gpu=gpu,
                naive=lambda: conv2d_loops(X[:naive_n], weight, bias, stride=1, padding=1),
                naive_scale=BATCH_SIZE / naive_n,
                note=f"dX computed on both sides; naive: loops, forward only, {naive_n} of {BATCH_SIZE} samples, "
                     f"time x{BATCH_SIZE // naive_n}")


def _torch_forward_backward(twin, X, grad, device):
    model = copy.deepcopy(twin).to(device)
    Xt = torch.from_numpy(X).to(device).requires_grad_(True)  # scratch's backward always returns dX
    gt = torch.from_numpy(grad).to(device)

    def step():
        model.zero_grad()
        Xt.grad = None
        model(Xt).backward(gt)
        if device == "cuda":
            torch.cuda.synchronize()
    return step


def conv_cases(dtype, quick, rng):
    return [conv_case(cin, cout, size, np.dtype(dtype), rng, quick) for cin, cout, size in CONV_SIZES]


def cases(dtype=np.float32, quick=False, seed=0):
    """The CNN project's benchmark cases, built with fresh weights and data from ``seed``."""
    rng = np.random.default_rng(seed)
    return conv_cases(dtype, quick, rng)
