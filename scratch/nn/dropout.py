"""Inverted dropout: zero each element (Dropout) or each whole channel (Dropout2d) with probability p
in training, scale the rest by 1/(1-p)."""
import warnings

import numpy as np

from . import functional as F
from .module import Module, check_array, check_grad, require_forward


class Dropout(Module):
    """``rng`` draws the masks; ``forward(x, mask=...)`` takes a given scaled mask instead,
    so a parity test can hand scratch and torch the same one."""

    _ranks = None  # the input ranks accepted (None: any)

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
        check_array(input, f"{type(self).__name__} input", ndim=self._ranks)
        if not self.training or self.p == 0:
            self._mask = None
            self._output = input
            return input
        shape = self._mask_shape(input.shape)
        if mask is None:
            mask = F.dropout_mask(shape, self.p, self.rng, input.dtype)
        elif mask.shape != shape or mask.dtype != input.dtype:
            raise ValueError(f"{type(self).__name__} mask: expected shape {shape} and dtype {input.dtype}, "
                             f"got {mask.shape} {mask.dtype}")
        self._mask = mask
        self._output = F.dropout(input, self.p, True, mask=mask)
        return self._output

    def backward(self, grad):
        require_forward(self, self._output)
        check_grad(grad, self._output)
        return grad if self._mask is None else grad * self._mask

    def _mask_shape(self, input_shape):
        return input_shape

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """Channel dropout: the mask is (N, C, 1, 1), one draw per feature map, broadcast over H and W.

    A 3-d input is read as torch 2.x reads it, (N, C, L) with mask (N, C, 1), and warns as torch does."""

    _ranks = (3, 4)

    def _mask_shape(self, input_shape):
        if len(input_shape) == 3:
            warnings.warn("Dropout2d: a 3-d input is read as (N, C, L), as torch reads it, not as an unbatched "
                          "(C, H, W): each (n, c) row is dropped whole", stacklevel=3)
        return F.channel_dropout_shape(input_shape)
