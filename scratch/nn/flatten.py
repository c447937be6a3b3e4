"""Flatten: reshape forward, the inverse reshape backward."""
import math

from .module import Module, check_array, check_grad, require_forward


class Flatten(Module):
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim
        self._input_shape = self._output = None

    def forward(self, x):
        check_array(x, "Flatten input")
        ndim = max(x.ndim, 1)
        start, end = self.start_dim % ndim, self.end_dim % ndim
        if start > end:
            raise ValueError(f"Flatten: start_dim {self.start_dim} comes after end_dim {self.end_dim} for shape {x.shape}")
        self._input_shape = x.shape
        self._output = x.reshape(x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:])  # no -1: N may be 0
        return self._output

    def backward(self, grad):
        require_forward(self, self._input_shape)
        return check_grad(grad, self._output).reshape(self._input_shape)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
