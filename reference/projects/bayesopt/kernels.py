"""Project 15's kernels, the reference: scikit-learn's own kernel classes, and the same
covariance functions written once more in torch ops (``kernel_matrix``), so that autograd can
differentiate K in the log-hyperparameters and in X: a second route to every gradient that
scratch writes by hand. Twin of scratch/projects/bayesopt/kernels.py.

``kernel_matrix(kernel, theta, X, Y=None)`` walks a kernel tree (scikit-learn's or scratch's:
the class names and hyperparameter order are the same) with the non-fixed hyperparameters taken
from ``theta`` (a torch tensor of logs, in ``kernel.theta`` order) and the fixed ones from the kernel.
"""
import math

import torch
from sklearn.gaussian_process.kernels import (  # noqa: F401
    RBF,
    ConstantKernel,
    DotProduct,
    ExpSineSquared,
    Hyperparameter,
    Kernel,
    Matern,
    Product,
    RationalQuadratic,
    Sum,
    WhiteKernel,
)


def _values(kernel, theta):
    """{name: torch value} of a leaf kernel's hyperparameters: exp(theta) where free, the kernel's where fixed."""
    values, i = {}, 0
    for h in kernel.hyperparameters:
        if h.fixed:
            values[h.name] = torch.as_tensor(getattr(kernel, h.name), dtype=theta.dtype)
        else:
            values[h.name] = torch.exp(theta[i:i + h.n_elements]) if h.n_elements > 1 else torch.exp(theta[i])
            i += h.n_elements
    return values


def _safe_sqrt(sq):
    """sqrt with a zero gradient at 0 (the diagonal of K(X, X)) instead of inf * 0 = NaN."""
    positive = sq > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, sq, torch.ones_like(sq))), torch.zeros_like(sq))


def _squared_distances(X, Y):
    return ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)  # (n_X, n_Y)


def kernel_matrix(kernel, theta, X, Y=None):
    """K(X, Y) (n_X, n_Y) in torch ops; X and Y are torch tensors, theta the kernel's log-hyperparameters."""
    name = type(kernel).__name__
    if name in ("Sum", "Product"):
        split = kernel.k1.n_dims
        K1 = kernel_matrix(kernel.k1, theta[:split], X, Y)
        K2 = kernel_matrix(kernel.k2, theta[split:], X, Y)
        return K1 + K2 if name == "Sum" else K1 * K2
    v = _values(kernel, theta)
    same = Y is None
    Y = X if same else Y
    if name == "ConstantKernel":
        return v["constant_value"] * torch.ones(len(X), len(Y), dtype=X.dtype)
    if name == "WhiteKernel":
        return v["noise_level"] * torch.eye(len(X), dtype=X.dtype) if same else torch.zeros(len(X), len(Y), dtype=X.dtype)
    if name == "DotProduct":
        return X @ Y.T + v["sigma_0"] ** 2
    if name in ("RBF", "Matern"):
        ls = v["length_scale"]
        sq = _squared_distances(X / ls, Y / ls)
        if name == "RBF":
            return torch.exp(-0.5 * sq)
        d = _safe_sqrt(sq)
        if kernel.nu == 0.5:
            return torch.exp(-d)
        if kernel.nu == 1.5:
            return (1 + math.sqrt(3) * d) * torch.exp(-math.sqrt(3) * d)
        if kernel.nu == 2.5:
            return (1 + math.sqrt(5) * d + 5.0 / 3.0 * sq) * torch.exp(-math.sqrt(5) * d)
        raise ValueError(f"nu: expected 0.5, 1.5 or 2.5, got {kernel.nu!r}")
    if name == "RationalQuadratic":
        a, ls = v["alpha"], v["length_scale"]
        return (1 + _squared_distances(X, Y) / (2 * a * ls ** 2)) ** -a
    if name == "ExpSineSquared":
        d = _safe_sqrt(_squared_distances(X, Y))
        return torch.exp(-2 * (torch.sin(math.pi * d / v["periodicity"]) / v["length_scale"]) ** 2)
    raise TypeError(f"kernel: expected one of the project's kernels, got {name}")
