"""Benchmark cases for the MLP project (curriculum Project 2).

Forward+backward of the project's MLP with cross-entropy at three sizes (the input's
gradient computed on both sides), and one SGD-with-momentum training epoch over synthetic
data of Fashion-MNIST width, where, as in the training loops, neither side computes the
gradient of the data. Scratch
and torch are the twins of scratch/projects/mlp/model.py and reference/projects/mlp/model.py, holding the same
weights and seeing the same arrays; the curriculum's naive per-sample loop
(naive_mlp.py) is timed where the sizes allow.
"""
import copy

import numpy as np
import torch

from reference.bridge import twin_pair
from reference.projects.mlp import model as torch_mlp
from scratch import nn, optim
from scratch.projects.mlp import model as scratch_mlp

from .core import Case
from .naive_mlp import NeuralNetwork

# (layer widths, batch size, label)
FORWARD_BACKWARD_SIZES = (
    ((784, 256, 128, 10), 128, "fashion-mnist"),
    ((64, 128, 10), 64, "digits"),
    ((784, 1024, 1024, 10), 256, "wide"),
)
NAIVE_WIDTHS = (784, 256, 128, 10)
EPOCH = {"widths": (784, 256, 128, 10), "num_samples": 10_000, "batch_size": 128, "lr": 0.01, "momentum": 0.9}
NAIVE_EPOCH_SAMPLES = {False: 1_000, True: 256}  # by quick: the naive loop trains on a prefix, scaled up


def build_twins(widths, dtype, seed):
    """The project's scratch MLP and torch twin (ReLU, no dropout) with the same weights."""
    return twin_pair(scratch_mlp.MLP, torch_mlp.MLP, seed, dtype, in_features=widths[0], hidden_sizes=tuple(widths[1:-1]),
                     num_classes=widths[-1])


def naive_mlp(scratch_model, lr=0.01, momentum=0.0):
    linears = [m for m in scratch_model.layers if isinstance(m, nn.Linear)]
    widths = [linears[0].in_features] + [m.out_features for m in linears]
    net = NeuralNetwork(widths, lr, momentum, dtype=linears[0].weight.dtype)
    net.weights = [m.weight.data.copy() for m in linears]
    net.biases = [m.bias.data.reshape(-1, 1).copy() for m in linears]
    return net


def synthetic_data(num_samples, num_features, num_classes, dtype, rng):
    X = rng.standard_normal((num_samples, num_features), dtype=dtype)
    y = rng.integers(0, num_classes, num_samples)
    return X, y, np.eye(num_classes, dtype=dtype)[y]


def forward_backward_case(widths, batch_size, label, dtype, rng):
    model, twin = build_twins(widths, dtype, seed=int(rng.integers(1 << 30)))
    X, y, Y = synthetic_data(batch_size, widths[0], widths[-1], dtype, rng)
    criterion = nn.CrossEntropyLoss()

    def scratch_step():
        model.zero_grad()
        criterion(model(X), y)
        model.backward(criterion.backward())

    naive = None
    if tuple(widths) == NAIVE_WIDTHS:
        net = naive_mlp(model)
        naive = lambda: net.compute_gradients(X, Y)  # noqa: E731
    return Case("forward+backward", f"{'-'.join(map(str, widths))} b{batch_size} ({label})",
                scratch_step, _torch_forward_backward(twin, X, y, "cpu"), naive=naive,
                gpu=_torch_forward_backward(twin, X, y, "cuda") if torch.cuda.is_available() else None,
                note="dX computed on both sides" + ("; naive: per-sample loop" if naive else ""))


def _torch_forward_backward(twin, X, y, device):
    model = copy.deepcopy(twin).to(device)  # the CPU and GPU cases each get their own copy
    Xt = torch.from_numpy(X).to(device).requires_grad_(True)  # scratch's backward always returns dX
    yt = torch.from_numpy(y).to(device)
    criterion = torch.nn.CrossEntropyLoss()

    def step():
        model.zero_grad()
        Xt.grad = None
        criterion(model(Xt), yt).backward()
        if device == "cuda":
            torch.cuda.synchronize()
    return step


def epoch_case(dtype, rng, quick):
    cfg = EPOCH
    model, twin = build_twins(cfg["widths"], dtype, seed=int(rng.integers(1 << 30)))
    X, y, Y = synthetic_data(cfg["num_samples"], cfg["widths"][0], cfg["widths"][-1], dtype, rng)
    batch_size, n = cfg["batch_size"], cfg["num_samples"]
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"])

    def scratch_epoch():
        for i in range(0, n, batch_size):
            criterion(model(X[i:i + batch_size]), y[i:i + batch_size])
            optimizer.zero_grad()
            model.backward(criterion.backward(), input_grad=False)  # as scratch/training.py: no dX for data
            optimizer.step()

    net = naive_mlp(model, cfg["lr"], cfg["momentum"])
    naive_n = NAIVE_EPOCH_SAMPLES[quick]
    return Case("train epoch SGD(m=0.9)", f"{n // 1000}k x {cfg['widths'][0]}, b{batch_size}, "
                + "-".join(map(str, cfg["widths"])),
                scratch_epoch, _torch_epoch(twin, X, y, "cpu"),
                naive=lambda: net.train_epoch(X[:naive_n], Y[:naive_n], batch_size), naive_scale=n / naive_n,
                gpu=_torch_epoch(twin, X, y, "cuda") if torch.cuda.is_available() else None,
                note=f"naive: {naive_n} of {n} samples, time x{n / naive_n:.3g}")


def _torch_epoch(twin, X, y, device):
    cfg = EPOCH
    model = copy.deepcopy(twin).to(device)  # the CPU and GPU cases each get their own copy
    Xt, yt = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"])
    batch_size, n = cfg["batch_size"], cfg["num_samples"]

    def epoch():
        for i in range(0, n, batch_size):
            loss = criterion(model(Xt[i:i + batch_size]), yt[i:i + batch_size])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()
    return epoch


def cases(dtype=np.float32, quick=False, seed=0):
    """The MLP project's benchmark cases, built with fresh weights and data from ``seed``."""
    rng = np.random.default_rng(seed)
    built = [forward_backward_case(widths, batch, label, np.dtype(dtype), rng)
             for widths, batch, label in FORWARD_BACKWARD_SIZES]
    return built + [epoch_case(np.dtype(dtype), rng, quick)]
