"""Inverted dropout: zero each element with probability p in training, scale the rest by 1/(1-p)."""
import numpy as np

from . import functional as F
from .module import Module, check_array, check_grad, require_forward


class Dropout(Module):
    """``rng`` draws the masks; ``forward(x, mask=...)`` takes a given scaled mask instead,
    so a parity test can hand scratch and torch the same one."""

    def __init__(self, p=0.5, inplace=False, rng=None):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout(p): expected a probability in [0, 1], got {p}")
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise TypeError(f"Dropout(rng): expected a numpy.random.Generator, got {type(rng).__name__}")
        self.p, self.inplace = p, inplace  # inplace only for torch's repr: the input is never overwritten
        self.rng = np.random.default_rng() if rng is None else rng
        self._mask = self._output = None

    def forward(self, input, mask=None):
        check_array(input, "Dropout input")
        if not self.training or self.p == 0:
            self._mask = None
            self._output = input
            return input
        if mask is None:
            mask = F.dropout_mask(input.shape, self.p, self.rng, input.dtype)
        elif mask.shape != input.shape or mask.dtype != input.dtype:
            raise ValueError(f"Dropout mask: expected shape {input.shape} and dtype {input.dtype}, got {mask.shape} {mask.dtype}")
        self._mask = mask
        self._output = F.dropout(input, self.p, True, mask=mask)
        return self._output

    def backward(self, grad):
        require_forward(self, self._output)
        check_grad(grad, self._output)
        return grad if self._mask is None else grad * self._mask

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
