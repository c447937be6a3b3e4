"""Benchmark cases for the CNN project (curriculum Project 4).

Forward+backward of single layers at the sizes of the Fashion-MNIST CNN (batch 64):
Conv2d 1->32 at 28x28 and 32->64 at 14x14 (im2col + GEMM, col2im), MaxPool2d and
BatchNorm2d on 32x28x28 feature maps; scratch and torch CPU hold the same weights and
see the same input and upstream gradient, and both compute the input gradient. The
curriculum's loop convolution (forward only) is timed on a few samples and scaled up.
"""
import copy

import numpy as np
import torch

from reference.bridge import copy_to_torch, torch_dtype, twin_pair
from reference.projects.cnn import model as torch_cnn
from scratch import nn, optim
from scratch.nn.conv import conv2d_loops
from scratch.projects.cnn import model as scratch_cnn
from scratch.projects.cnn.config import CONFIGS

from .core import Case

BATCH_SIZE = 64
# (in_channels, out_channels, height = width), kernel 3, padding 1
CONV_SIZES = ((1, 32, 28), (32, 64, 14))
FEATURE_MAPS = (32, 28)  # channels, height = width of the pooling and batch-norm cases
NAIVE_SAMPLES = {False: 2, True: 1}  # by quick: the loop convolution runs on a prefix of the batch


def layer_case(name, scratch_layer, twin, X, rng, **extra):
    """Forward+backward of ``scratch_layer`` and its torch ``twin`` (given the same weights here)."""
    copy_to_torch(scratch_layer, twin)
    scratch_layer.train(), twin.train()
    grad = rng.standard_normal(scratch_layer(X).shape).astype(X.dtype)

    def scratch_step():
        scratch_layer.zero_grad()
        scratch_layer(X)
        scratch_layer.backward(grad)

    gpu = _torch_forward_backward(twin, X, grad, "cuda") if torch.cuda.is_available() else None
    note = "dX computed on both sides" + (f"; {extra.pop('note')}" if "note" in extra else "")
    return Case(name, f"b{X.shape[0]} x {'x'.join(map(str, X.shape[1:]))}", scratch_step,
                _torch_forward_backward(twin, X, grad, "cpu"), gpu=gpu, note=note, **extra)


def _torch_forward_backward(twin, X, grad, device):
    model = copy.deepcopy(twin).to(device)  # the CPU and GPU cases each get their own copy
    Xt = torch.from_numpy(X).to(device).requires_grad_(True)  # scratch's backward always returns dX
    gt = torch.from_numpy(grad).to(device)

    def step():
        model.zero_grad()
        Xt.grad = None
        model(Xt).backward(gt)
        if device == "cuda":
            torch.cuda.synchronize()
    return step


def conv_case(in_channels, out_channels, size, dtype, rng, quick):
    layer = nn.Conv2d(in_channels, out_channels, 3, padding=1, dtype=dtype, rng=rng)
    twin = torch.nn.Conv2d(in_channels, out_channels, 3, padding=1, dtype=torch_dtype(dtype))
    X = rng.standard_normal((BATCH_SIZE, in_channels, size, size), dtype=dtype)
    weight, bias = layer.weight.data, layer.bias.data
    naive_n = NAIVE_SAMPLES[quick]
    return layer_case(f"Conv2d {in_channels}->{out_channels} k3 p1", layer, twin, X, rng,
                      naive=lambda: conv2d_loops(X[:naive_n], weight, bias, stride=1, padding=1),
                      naive_scale=BATCH_SIZE / naive_n,
                      note=f"naive: loops, forward only, {naive_n} of {BATCH_SIZE} samples, time x{BATCH_SIZE // naive_n}")


def layer_cases(dtype, quick, rng):
    """MaxPool2d(2, 2) and BatchNorm2d in training mode (running statistics updated)."""
    channels, size = FEATURE_MAPS
    X = rng.standard_normal((BATCH_SIZE, channels, size, size)).astype(dtype)
    return [layer_case("MaxPool2d(2, 2)", nn.MaxPool2d(2, 2), torch.nn.MaxPool2d(2, 2), X, rng),
            layer_case(f"BatchNorm2d({channels}) train", nn.BatchNorm2d(channels, dtype=dtype),
                       torch.nn.BatchNorm2d(channels, dtype=torch_dtype(dtype)), X, rng)]


def training_step_case(dtype, rng):
    """One Adam step of the Fashion-MNIST CNN (batch norm, dropout): forward, loss, backward, update."""
    config = CONFIGS["fashion-mnist"]
    model, twin = twin_pair(scratch_cnn.CNN, torch_cnn.CNN, config.seed, dtype, **config.architecture())
    X = rng.standard_normal((BATCH_SIZE, 1, 28, 28)).astype(dtype)
    y = rng.integers(0, 10, BATCH_SIZE)
    criterion, optimizer = nn.CrossEntropyLoss(), optim.Adam(model.parameters())

    def scratch_step():
        criterion(model.train()(X), y)
        optimizer.zero_grad()
        model.backward(criterion.backward())
        optimizer.step()

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    torch_criterion, torch_optimizer = torch.nn.CrossEntropyLoss(), torch.optim.Adam(twin.parameters())

    def torch_step():
        loss = torch_criterion(twin.train()(Xt), yt)
        torch_optimizer.zero_grad()
        loss.backward()
        torch_optimizer.step()

    return Case("CNN training step (Adam)", f"b{BATCH_SIZE} x 1x28x28, 32-64-128", scratch_step, torch_step,
                note="conv-BN-ReLU-pool x2, dense 128, dropout 0.3; scratch also computes dX, torch skips it")


def cases(dtype=np.float32, quick=False, seed=0):
    """The CNN project's benchmark cases, built with fresh weights and data from ``seed``."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    return ([conv_case(cin, cout, size, dtype, rng, quick) for cin, cout, size in CONV_SIZES]
            + layer_cases(dtype, quick, rng) + [training_step_case(dtype, rng)])
