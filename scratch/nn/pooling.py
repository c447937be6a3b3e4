"""MaxPool2d, AvgPool2d and AdaptiveAvgPool2d with torch's arguments, output sizes and backward.

Pooling works on strided views of the padded input, one view per kernel offset (i, j):
view[..., oh, ow] = padded[..., oh*stride + i*dilation, ow*stride + j*dilation]. Forward
combines the kH*kW views; backward adds the gradient back through the same views into a
padded buffer, so no Python loop runs over samples or pixels.
"""
import numpy as np

from . import functional as F
from .module import Module, check_array, check_grad, require_forward


def _scatter_to_input(grad_at, dtype, input_shape, geometry):
    """Send each offset's (*, oH, oW) gradient back through that offset's view of the padded input and
    crop the padding: (*, H, W). ``grad_at(offset, start, stop)`` gives it for planes start:stop of the
    first axis, which run in chunks on the kernel threads. Windows that tile the input exactly are
    written once each; overlapping or partial ones add into zeros."""
    (pH, pW), (H, W) = geometry.padding, input_shape[-2:]
    tiled = all(s == k and d == 1 and p == o * k for s, k, d, p, o in
                zip(geometry.stride, geometry.kernel, geometry.dilation, geometry.padded, geometry.output))
    dpadded = (np.empty if tiled else np.zeros)(input_shape[:-2] + geometry.padded, dtype=dtype)
    dx = dpadded if dpadded.shape == input_shape else np.empty(input_shape, dtype=dtype)
    slices = F._window_slices(geometry)

    def chunk(start, stop):
        part = dpadded[start:stop]
        for offset, (rows, cols) in enumerate(slices):
            if tiled:
                part[..., rows, cols] = grad_at(offset, start, stop)
            else:
                part[..., rows, cols] += grad_at(offset, start, stop)
        if dx is not dpadded:
            dx[start:stop] = part[..., pH:pH + H, pW:pW + W]

    F._map_leading(chunk, dpadded)
    return dx


class MaxPool2d(Module):
    """With return_indices, forward returns (output, indices): flat int64 positions in each H*W plane,
    and backward takes (grad, None). The gradient goes to the position torch picks: the first maximum.

    A window wholly in the padding (a dilation that steps over the input, which torch does not
    check) raises a ValueError: its maximum has no value, no index and nowhere to send a gradient."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode
        self._cache = self._output = None

    def forward(self, input):
        check_array(input, "MaxPool2d input", ndim=(3, 4))
        geometry = F._pool_geometry(input, self.kernel_size, self.stride, self.padding, self.dilation,
                                    self.ceil_mode, "MaxPool2d")
        self._output, padded = F._max_pool2d(input, geometry)  # (*, oH, oW), (*, Hp, Wp)
        argmax = F._max_pool2d_argmax(input, padded, self._output, geometry) if self.return_indices else None
        self._cache = [input, padded, geometry, argmax]
        if self.return_indices:
            return self._output, F._argmax_to_indices(argmax, input, geometry)
        return self._output

    def backward(self, grad, grad_indices=None):
        input, padded, geometry, argmax = require_forward(self, self._cache)
        check_grad(grad, self._output)
        if grad_indices is not None:
            raise ValueError("MaxPool2d.backward: the indices carry no gradient; pass None for them")
        if argmax is None:  # found lazily: a forward without backward (inference) never pays for it
            argmax = self._cache[3] = F._max_pool2d_argmax(input, padded, self._output, geometry)
        return _scatter_to_input(lambda offset, a, b: grad[a:b] * (argmax[a:b] == offset), grad.dtype, input.shape,
                                 geometry)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override
        self._cache = self._output = None

    def forward(self, input):
        check_array(input, "AvgPool2d input", ndim=(3, 4))
        geometry = F._avg_pool2d_args(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                                      self.divisor_override, "AvgPool2d")
        self._output = F._avg_pool2d(input, geometry, self.count_include_pad, self.divisor_override)
        self._cache = (input.shape, geometry)
        return self._output

    def backward(self, grad):
        input_shape, geometry = require_forward(self, self._cache)
        check_grad(grad, self._output)
        divisor = F._avg_pool2d_divisor(input_shape[-2:], geometry, self.count_include_pad, self.divisor_override,
                                        grad.dtype)
        dwindow = grad / divisor  # (*, oH, oW): every position of a window gets the same share
        return _scatter_to_input(lambda offset, a, b: dwindow[a:b], grad.dtype, input_shape, geometry)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """output_size: an int or an (oH, oW) pair; None keeps that input size."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size
        self._cache = self._output = None

    def forward(self, input):
        check_array(input, "AdaptiveAvgPool2d input", ndim=(3, 4))
        rows, cols, area = F._adaptive_avg_pool2d_terms(input, self.output_size, "AdaptiveAvgPool2d")
        self._output = F._adaptive_avg_pool2d(input, rows, cols, area)
        self._cache = (rows, cols, area)
        return self._output

    def backward(self, grad):
        rows, cols, area = require_forward(self, self._cache)
        check_grad(grad, self._output)
        return rows.T @ (grad / area) @ cols  # (H, oH) @ (*, oH, oW) @ (oW, W) -> (*, H, W)

    def extra_repr(self):
        return f"output_size={self.output_size}"
