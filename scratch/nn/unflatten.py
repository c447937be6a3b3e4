"""Unflatten: one axis split into several (the inverse of Flatten); backward joins them again."""
import math
import numbers

from .module import Module, check_array, check_grad, require_forward


class Unflatten(Module):
    def __init__(self, dim, unflattened_size):
        super().__init__()
        sizes = tuple(unflattened_size) if isinstance(unflattened_size, (tuple, list)) else None
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
            raise TypeError(f"Unflatten(dim): expected an int, got {type(dim).__name__} {dim!r}")
        if not sizes or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and (s > 0 or s == -1)
                                for s in sizes) or sizes.count(-1) > 1:
            raise ValueError(f"Unflatten(unflattened_size): expected a tuple of positive ints (at most one -1), "
                             f"got {unflattened_size!r}")
        self.dim, self.unflattened_size = int(dim), sizes
        self._input_shape = self._output = None

    def forward(self, x):
        check_array(x, "Unflatten input")
        if not -x.ndim <= self.dim < x.ndim:
            raise ValueError(f"Unflatten(dim): expected an axis of an array of rank {x.ndim}, got {self.dim}")
        dim = self.dim % x.ndim
        sizes, length = list(self.unflattened_size), x.shape[dim]
        known = math.prod(s for s in sizes if s != -1)
        if -1 in sizes and known and length % known == 0:
            sizes[sizes.index(-1)] = length // known
        if math.prod(sizes) != length:
            raise ValueError(f"Unflatten input: expected axis {self.dim} to split into {self.unflattened_size}, "
                             f"got shape {x.shape}")
        self._input_shape = x.shape
        self._output = x.reshape(x.shape[:dim] + tuple(sizes) + x.shape[dim + 1:])
        return self._output

    def backward(self, grad):
        require_forward(self, self._input_shape)
        return check_grad(grad, self._output).reshape(self._input_shape)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
