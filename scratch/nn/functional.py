"""torch.nn.functional's forward math in NumPy (the modules add the backward passes).

Every function takes and returns ndarrays and never casts: float32 in, float32 out.
"""
import math

import numpy as np

_erf = np.frompyfunc(math.erf, 1, 1)  # NumPy has no erf; the C library's, element by element


def linear(input, weight, bias=None):
    y = input @ weight.T  # (*, in) @ (in, out) -> (*, out)
    if bias is not None:
        y += bias
    return y


def relu(input):
    return np.maximum(input, 0)


def leaky_relu(input, negative_slope=0.01):
    return np.where(input > 0, input, input * input.dtype.type(negative_slope))


def elu(input, alpha=1.0):
    return np.where(input > 0, input, input.dtype.type(alpha) * np.expm1(np.minimum(input, 0)))


def erf(input):
    return _erf(input).astype(input.dtype)


def gelu(input, approximate="none"):
    if approximate == "none":
        return 0.5 * input * (1 + erf(input / math.sqrt(2)))
    if approximate == "tanh":
        return 0.5 * input * (1 + np.tanh(_gelu_tanh_inner(input)))
    raise ValueError(f"approximate: expected 'none' or 'tanh', got {approximate!r}")


def _gelu_tanh_inner(x):
    return x.dtype.type(math.sqrt(2 / math.pi)) * (x + x.dtype.type(0.044715) * x**3)


def sigmoid(input):
    # Two branches so that exp never overflows: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) below.
    e = np.exp(-np.abs(input))
    return np.where(input >= 0, 1 / (1 + e), e / (1 + e))


def logsigmoid(input):
    return np.minimum(input, 0) - np.log1p(np.exp(-np.abs(input)))


def tanh(input):
    return np.tanh(input)


def silu(input):
    return input * sigmoid(input)


def softplus(input, beta=1.0, threshold=20.0):
    scaled = input * input.dtype.type(beta)
    smooth = (np.maximum(scaled, 0) + np.log1p(np.exp(-np.abs(scaled)))) / input.dtype.type(beta)
    return np.where(scaled > threshold, input, smooth)


def softmax(input, dim):
    shifted = np.exp(input - input.max(axis=dim, keepdims=True))
    return shifted / shifted.sum(axis=dim, keepdims=True)


def log_softmax(input, dim):
    shifted = input - input.max(axis=dim, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))


def dropout_mask(shape, p, rng, dtype):
    """The scaled keep-mask of inverted dropout: 0 with probability p, else 1/(1-p)."""
    if p == 1:
        return np.zeros(shape, dtype=dtype)
    return (rng.random(shape) >= p).astype(dtype) * dtype.type(1 / (1 - p))


def dropout(input, p=0.5, training=True, rng=None, mask=None):
    if not training or p == 0:
        return input
    if mask is None:
        mask = dropout_mask(input.shape, p, rng, input.dtype)
    return input * mask
