"""Benchmark cases for the MLP project (curriculum Project 2).

Forward+backward of a Linear/ReLU stack with a softmax cross-entropy gradient at three
sizes, and one SGD-with-momentum training epoch over synthetic data of Fashion-MNIST
size. Scratch and torch start from the same weights and see the same arrays; the
curriculum's naive per-sample loop (naive_mlp.py) is timed where the sizes allow.
"""
import numpy as np
import torch
import torch.nn.functional as TF

from scratch import nn

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


def cross_entropy(logits, y):
    """Mean softmax cross-entropy and its gradient w.r.t. the logits.

    A local stand-in: swap for scratch's nn.CrossEntropyLoss (``criterion(logits, y)``,
    ``criterion.backward()``) once scratch/nn/loss.py lands.
    """
    n = len(y)
    shifted = logits - logits.max(axis=1, keepdims=True)  # (N, C)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    dlogits = np.exp(log_probs)
    dlogits[np.arange(n), y] -= 1
    dlogits /= n
    return -log_probs[np.arange(n), y].mean(), dlogits


def sgd_step(params, velocities, lr, momentum):
    """torch.optim.SGD's update (dampening 0): v = mu v + g; p -= lr v. Swap for scratch optim.SGD when it lands."""
    for p, v in zip(params, velocities):
        v *= momentum
        v += p.grad
        p.data -= lr * v


def scratch_mlp(widths, dtype, rng):
    layers = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(fan_in, fan_out, dtype=dtype, rng=rng), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def torch_mlp(scratch_model, device="cpu"):
    """torch's twin of ``scratch_model`` with the same weights."""
    layers = []
    for module in scratch_model:
        if isinstance(module, nn.Linear):
            dtype = torch.from_numpy(module.weight.data[:0]).dtype
            layers.append(torch.nn.Linear(module.in_features, module.out_features, dtype=dtype))
        else:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    model.load_state_dict({key: torch.from_numpy(value) for key, value in scratch_model.state_dict().items()})
    return model.to(device)


def naive_mlp(scratch_model, lr=0.01, momentum=0.0):
    linears = [m for m in scratch_model if isinstance(m, nn.Linear)]
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
    model = scratch_mlp(widths, dtype, rng)
    X, y, Y = synthetic_data(batch_size, widths[0], widths[-1], dtype, rng)

    def scratch_step():
        model.zero_grad()
        loss, dlogits = cross_entropy(model(X), y)
        model.backward(dlogits)

    naive = None
    if tuple(widths) == NAIVE_WIDTHS:
        net = naive_mlp(model)
        naive = lambda: net.compute_gradients(X, Y)  # noqa: E731
    return Case("forward+backward", f"{'-'.join(map(str, widths))} b{batch_size} ({label})",
                scratch_step, _torch_forward_backward(model, X, y, "cpu"), naive=naive,
                gpu=_torch_forward_backward(model, X, y, "cuda") if torch.cuda.is_available() else None,
                note="dX computed on both sides" + ("; naive: per-sample loop" if naive else ""))


def _torch_forward_backward(scratch_model, X, y, device):
    model = torch_mlp(scratch_model, device)
    Xt = torch.from_numpy(X).to(device).requires_grad_(True)  # scratch's backward always returns dX
    yt = torch.from_numpy(y).to(device)

    def step():
        model.zero_grad()
        Xt.grad = None
        TF.cross_entropy(model(Xt), yt).backward()
        if device == "cuda":
            torch.cuda.synchronize()
    return step


def epoch_case(dtype, rng, quick):
    cfg = EPOCH
    model = scratch_mlp(cfg["widths"], dtype, rng)
    X, y, Y = synthetic_data(cfg["num_samples"], cfg["widths"][0], cfg["widths"][-1], dtype, rng)
    params = list(model.parameters())
    velocities = [np.zeros_like(p.data) for p in params]
    batch_size, n = cfg["batch_size"], cfg["num_samples"]

    def scratch_epoch():
        for i in range(0, n, batch_size):
            model.zero_grad()
            loss, dlogits = cross_entropy(model(X[i:i + batch_size]), y[i:i + batch_size])
            model.backward(dlogits)
            sgd_step(params, velocities, cfg["lr"], cfg["momentum"])

    net = naive_mlp(model, cfg["lr"], cfg["momentum"])
    naive_n = NAIVE_EPOCH_SAMPLES[quick]
    return Case("train epoch SGD(m=0.9)", f"{n // 1000}k x {cfg['widths'][0]}, b{batch_size}, "
                + "-".join(map(str, cfg["widths"])),
                scratch_epoch, _torch_epoch(model, X, y, "cpu"),
                naive=lambda: net.train_epoch(X[:naive_n], Y[:naive_n], batch_size), naive_scale=n / naive_n,
                gpu=_torch_epoch(model, X, y, "cuda") if torch.cuda.is_available() else None,
                note=f"naive: {naive_n} of {n} samples, time x{n / naive_n:.3g}")


def _torch_epoch(scratch_model, X, y, device):
    cfg = EPOCH
    model = torch_mlp(scratch_model, device)
    Xt, yt = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"])
    batch_size, n = cfg["batch_size"], cfg["num_samples"]

    def epoch():
        for i in range(0, n, batch_size):
            optimizer.zero_grad()
            TF.cross_entropy(model(Xt[i:i + batch_size]), yt[i:i + batch_size]).backward()
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
