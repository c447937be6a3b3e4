"""Linear (y = x W^T + b) and Identity, with torch's layout, init and backward by hand."""
import math

import numpy as np

from . import functional as F
from . import init
from .module import Module, Parameter, check_array, check_grad, check_size, factory_dtype, require_forward


class Identity(Module):
    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input

    def backward(self, grad):
        return grad


class Linear(Module):
    """weight (out_features, in_features), bias (out_features,), init as torch's reset_parameters."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None, rng=None):
        super().__init__()
        dtype = factory_dtype(dtype, device)
        rng = np.random.default_rng() if rng is None else rng
        in_features = check_size(in_features, "Linear(in_features)")
        out_features = check_size(out_features, "Linear(out_features)")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        self.bias = Parameter(np.empty(out_features, dtype=dtype)) if bias else None
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), rng=rng)  # U(-1/sqrt(in), 1/sqrt(in))
        if self.bias is not None:
            bound = 1 / math.sqrt(in_features)
            init.uniform_(self.bias, -bound, bound, rng=rng)
        self._input = self._output = None

    def forward(self, input):
        check_array(input, "Linear input", dtype=self.weight.dtype, last_dim=self.in_features)
        self._input = input
        self._output = F.linear(input, self.weight.data, None if self.bias is None else self.bias.data)
        return self._output

    def backward(self, grad, input_grad=True):
        """The parameter gradients, and the input's: ``input_grad=False`` says the input is data that
        needs none (torch: an input with requires_grad=False), so that product is skipped and None returned."""
        x = require_forward(self, self._input)
        check_grad(grad, self._output)
        grad_2d = grad.reshape(-1, self.out_features)  # (N, out), N = all leading dims
        self.weight.accumulate_grad(grad_2d.T @ x.reshape(-1, self.in_features), owned=True)  # (out, in)
        if self.bias is not None:
            self.bias.accumulate_grad(grad_2d.sum(axis=0), owned=True)
        if not input_grad:
            return None
        return (grad_2d @ self.weight.data).reshape(*grad.shape[:-1], self.in_features)  # (N, out) @ (out, in)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
