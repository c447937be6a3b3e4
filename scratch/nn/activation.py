"""Activation functions: forward from functional.py, backward as the local derivative."""
import math

import numpy as np

from . import functional as F
from .module import Module, check_array, check_grad, require_forward


class _Pointwise(Module):
    """An element-wise activation: backward multiplies by d output / d input.

    Where torch takes ``inplace``, it is kept for the repr only: scratch never overwrites its input.
    """

    def __init__(self):
        super().__init__()
        self._input = self._output = None

    def forward(self, input):
        check_array(input, f"{type(self).__name__} input")
        self._input, self._output = input, self.function(input)
        return self._output

    def backward(self, grad):
        require_forward(self, self._output)
        return check_grad(grad, self._output) * self.derivative(self._input, self._output)


class ReLU(_Pointwise):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    function = staticmethod(F.relu)

    def derivative(self, x, y):
        return (x > 0).astype(x.dtype)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(_Pointwise):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.inplace = inplace
        self.negative_slope = negative_slope

    def function(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def derivative(self, x, y):
        return np.where(x > 0, x.dtype.type(1), x.dtype.type(self.negative_slope))

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(_Pointwise):
    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.inplace = inplace
        self.alpha = alpha

    def function(self, x):
        return F.elu(x, self.alpha)

    def derivative(self, x, y):
        return np.where(x > 0, x.dtype.type(1), y + x.dtype.type(self.alpha))  # alpha e^x = y + alpha

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(_Pointwise):
    """x Phi(x); 'tanh' uses torch's tanh approximation of Phi."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate: expected 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def function(self, x):
        return F.gelu(x, self.approximate)

    def derivative(self, x, y):
        if self.approximate == "none":
            pdf = np.exp(-0.5 * x * x) * x.dtype.type(1 / math.sqrt(2 * math.pi))
            return 0.5 * (1 + F.erf(x / math.sqrt(2))) + x * pdf
        t = np.tanh(F._gelu_tanh_inner(x))
        dinner = x.dtype.type(math.sqrt(2 / math.pi)) * (1 + x.dtype.type(3 * 0.044715) * x * x)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dinner

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Sigmoid(_Pointwise):
    function = staticmethod(F.sigmoid)

    def derivative(self, x, y):
        return y * (1 - y)


class Tanh(_Pointwise):
    function = staticmethod(F.tanh)

    def derivative(self, x, y):
        return 1 - y * y


class SiLU(_Pointwise):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    function = staticmethod(F.silu)

    def derivative(self, x, y):
        s = F.sigmoid(x)
        return s * (1 + x * (1 - s))

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Softplus(_Pointwise):
    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def function(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def derivative(self, x, y):
        scaled = x * x.dtype.type(self.beta)
        return np.where(scaled > self.threshold, x.dtype.type(1), F.sigmoid(scaled))

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class _SoftmaxBase(Module):
    def __init__(self, dim):
        super().__init__()
        if not isinstance(dim, int):
            raise TypeError(f"{type(self).__name__}(dim): expected an int (torch's implicit dim is deprecated), got {dim!r}")
        self.dim = dim
        self._output = None

    def forward(self, input):
        check_array(input, f"{type(self).__name__} input")
        if not -max(input.ndim, 1) <= self.dim < max(input.ndim, 1):
            raise ValueError(f"{type(self).__name__}: dim {self.dim} is out of range for shape {input.shape}")
        self._output = self.function(input, self.dim)
        return self._output

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_SoftmaxBase):
    function = staticmethod(F.softmax)

    def backward(self, grad):
        y = require_forward(self, self._output)
        check_grad(grad, y)
        return y * (grad - (grad * y).sum(axis=self.dim, keepdims=True))  # J^T g with J = diag(y) - y y^T


class LogSoftmax(_SoftmaxBase):
    function = staticmethod(F.log_softmax)

    def backward(self, grad):
        y = require_forward(self, self._output)
        check_grad(grad, y)
        return grad - np.exp(y) * grad.sum(axis=self.dim, keepdims=True)
