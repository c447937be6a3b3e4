"""LayerNorm (Ba, Kiros & Hinton, 2016): normalise each sample over its last dimensions.

Unlike BatchNorm, the statistics are per sample, so train and eval behave alike and
there are no running buffers. Twin of torch.nn.LayerNorm.
"""
import numbers

import numpy as np

from . import functional as F
from .module import Module, Parameter, check_array, check_grad, check_size, factory_dtype, require_forward


class LayerNorm(Module):
    """weight (ones) and bias (zeros) of shape normalized_shape, applied element-wise after normalising."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        dtype = factory_dtype(dtype, device)
        sizes = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else normalized_shape
        if not isinstance(sizes, (tuple, list)) or not sizes:
            raise ValueError(f"LayerNorm(normalized_shape): expected a positive int or a tuple of positive sizes, "
                             f"got {normalized_shape!r}")
        self.normalized_shape = tuple(check_size(n, "LayerNorm(normalized_shape)") for n in sizes)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype)) if elementwise_affine else None
        self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype)) if elementwise_affine and bias else None
        self._dtype = dtype
        self._cache = self._output = None

    def forward(self, input):
        check_array(input, "LayerNorm input", dtype=self._dtype)
        k = len(self.normalized_shape)
        if input.shape[input.ndim - k:] != self.normalized_shape or input.ndim < k:
            raise ValueError(f"LayerNorm input: expected trailing dimensions {self.normalized_shape}, got shape {input.shape}")
        weight = None if self.weight is None else self.weight.data
        bias = None if self.bias is None else self.bias.data
        self._output, self._cache = F._layer_norm(input, self.normalized_shape, weight, bias, self.eps)
        return self._output

    def backward(self, grad):
        xhat, invstd = require_forward(self, self._cache)
        check_grad(grad, self._output)
        k = len(self.normalized_shape)
        axes = tuple(range(grad.ndim - k, grad.ndim))  # the normalised axes
        lead = tuple(range(grad.ndim - k))  # the sample axes, summed for the parameters
        dxhat = grad if self.weight is None else grad * self.weight.data
        # each sample's mean and variance depend on all its elements, hence the two subtracted means
        dx = dxhat - dxhat.mean(axis=axes, keepdims=True) - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True)
        dx *= invstd
        if self.weight is not None:
            self.weight.accumulate_grad((grad * xhat).sum(axis=lead), owned=True)
        if self.bias is not None:
            self.bias.accumulate_grad(grad.sum(axis=lead), owned=True)
        return dx

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
