"""Conv1d, Conv2d and ConvTranspose2d with torch's signatures, layouts and init; backward by hand.

The fast path (functional.py) is im2col + one GEMM per group: every window of the padded input
becomes one column of a matrix, so the convolution is a matrix product,
y = weight.reshape(O, C*kH*kW) @ columns. Backward mirrors it: the weight gradient is one more
GEMM, dy @ columns^T, the input gradient a GEMM, weight^T @ dy, whose columns col2im adds back onto
their windows. ConvTranspose2d is the adjoint: its forward is that input gradient, its backward
uses im2col. ``conv2d_loops`` and ``conv2d_backward_loops`` keep the same math as nested loops,
one window at a time: the teaching version, tested equal to the fast one.
"""
import math

import numpy as np

from . import functional as F
from . import init
from .module import Module, Parameter, check_array, check_grad, check_size, factory_dtype, require_forward


def conv2d_loops(input, weight, bias=None, stride=1, padding=0):
    """The curriculum's convolution, one output pixel at a time (forward only; for teaching and timing).

    input (N, C, H, W), weight (O, C, k, k), int stride and padding. Fixed from the curriculum: the output
    keeps the input's dtype (it was float64), and bias may be None.
    """
    batch_size, in_channels, height, width = input.shape
    out_channels, _, kernel_size, _ = weight.shape
    padded_input = np.pad(input, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out_height = (height + 2 * padding - kernel_size) // stride + 1
    out_width = (width + 2 * padding - kernel_size) // stride + 1
    output = np.zeros((batch_size, out_channels, out_height, out_width), dtype=input.dtype)
    for b in range(batch_size):
        for c in range(out_channels):
            for h in range(out_height):
                for w in range(out_width):
                    h_start, w_start = h * stride, w * stride
                    patch = padded_input[b, :, h_start:h_start + kernel_size, w_start:w_start + kernel_size]
                    output[b, c, h, w] = np.sum(patch * weight[c]) + (0 if bias is None else bias[c])
    return output


def conv2d_backward_loops(input, weight, grad, stride=1, padding=0):
    """The gradients of conv2d_loops for an output gradient ``grad`` (N, O, Ho, Wo), one output pixel at a
    time: each pixel's gradient flows back to the window it was computed from, scaled by the weight for the
    input and by the window for the weight. Returns (dinput, dweight, dbias); for teaching and testing."""
    batch_size, _, height, width = input.shape
    out_channels, _, kernel_size, _ = weight.shape
    padded_input = np.pad(input, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dpadded = np.zeros_like(padded_input)
    dweight = np.zeros_like(weight)
    for b in range(batch_size):
        for c in range(out_channels):
            for h in range(grad.shape[2]):
                for w in range(grad.shape[3]):
                    h_start, w_start = h * stride, w * stride
                    window = (b, slice(None), slice(h_start, h_start + kernel_size), slice(w_start, w_start + kernel_size))
                    dweight[c] += grad[b, c, h, w] * padded_input[window]
                    dpadded[window] += grad[b, c, h, w] * weight[c]
    dinput = dpadded[:, :, padding:padding + height, padding:padding + width]
    return dinput, dweight, grad.sum(axis=(0, 2, 3))


class _ConvNd(Module):
    """What Conv1d, Conv2d and ConvTranspose2d share: arguments, parameters, torch's init, repr."""

    _dims = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                 padding_mode, output_padding, device, dtype, rng):
        super().__init__()
        name, n = type(self).__name__, self._dims
        dtype = factory_dtype(dtype, device)
        rng = np.random.default_rng() if rng is None else rng
        in_channels, out_channels, groups = (check_size(value, f"{name}({arg})") for arg, value in
                                             (("in_channels", in_channels), ("out_channels", out_channels),
                                              ("groups", groups)))
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if value % groups:
                raise ValueError(f"{name}: {arg}: expected a multiple of groups={groups}, got {value}")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: padding_mode: only 'zeros' is implemented, got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = F._int_tuple(kernel_size, n, "kernel_size", name, 1)
        self.stride = F._int_tuple(stride, n, "stride", name, 1)
        self.dilation = F._int_tuple(dilation, n, "dilation", name, 1)
        F._conv_padding(padding, self.kernel_size, self.stride, self.dilation, name, strings=not self._transposed)
        self.padding = padding if isinstance(padding, str) else F._int_tuple(padding, n, "padding", name, 0)
        self.output_padding = F._int_tuple(output_padding, n, "output_padding", name, 0)
        self.padding_mode = padding_mode
        shape = (in_channels, out_channels // groups) if self._transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(np.empty(shape + self.kernel_size, dtype=dtype))
        self.bias = Parameter(np.empty(out_channels, dtype=dtype)) if bias else None
        self.reset_parameters(rng)
        self._cache = self._output = None

    def reset_parameters(self, rng):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), rng=rng)  # U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        if self.bias is not None:
            fan_in = init._calculate_fan_in_and_fan_out(self.weight.data)[0]  # weight.shape[1] * kH * kW
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound, rng=rng)

    def _check_input(self, input):
        spatial = "L" if self._dims == 1 else "H, W"
        return check_array(input, f"{type(self).__name__} input (N, C, {spatial}) or (C, {spatial})",
                           ndim=(self._dims + 1, self._dims + 2), dtype=self.weight.dtype)

    def _setup(self, input):
        bias = None if self.bias is None else self.bias.data
        x, weight, geometry, unbatched = F._conv_setup(type(self).__name__, self._dims, input, self.weight.data,
                                                       bias, self.stride, self.padding, self.dilation, self.groups,
                                                       transposed=self._transposed)
        return x, weight, bias, geometry, unbatched

    def _accumulate(self, dweight, dbias):
        self.weight.accumulate_grad(dweight.reshape(self.weight.shape), owned=True)
        if self.bias is not None:
            self.bias.accumulate_grad(dbias, owned=True)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        n = self._dims
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class _Conv(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None, rng=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, 0, device, dtype, rng)

    def forward(self, input):
        x, weight, bias, geometry, unbatched = self._setup(self._check_input(input))
        y, saved = F._conv2d_forward(x, weight, bias, geometry)  # (N, O, Ho, Wo), the im2col columns
        self._cache = (saved, weight, x.shape, unbatched)
        self._output = F._conv_unlift(y, self._dims, unbatched)
        return self._output

    def backward(self, grad):
        saved, weight, x_shape, unbatched = require_forward(self, self._cache)
        check_grad(grad, self._output)
        dy = F._conv_lift(grad, self._dims, unbatched)  # (N, O, Ho, Wo)
        dx, dweight, dbias = F._conv2d_backward(dy, weight, saved, x_shape)  # dx (N, C, H, W)
        self._accumulate(dweight, dbias)
        return F._conv_unlift(dx, self._dims, unbatched)


class Conv1d(_Conv):
    """weight (out_channels, in_channels/groups, k); input (N, C, L) or (C, L)."""

    _dims = 1


class Conv2d(_Conv):
    """weight (out_channels, in_channels/groups, kH, kW); input (N, C, H, W) or (C, H, W)."""

    _dims = 2


class ConvTranspose2d(_ConvNd):
    """weight (in_channels, out_channels/groups, kH, kW); the adjoint of Conv2d with the same arguments."""

    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None, rng=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, device, dtype, rng)

    def _output_padding(self, input, output_size, geometry):
        """torch's choice of output_padding for a requested output_size (the last two entries count)."""
        if output_size is None:
            return self.output_padding
        output_size = tuple(output_size)[-2:]
        smallest = F._transposed_output_size(input.shape[-2:], self.kernel_size, geometry, (0, 0))
        if len(output_size) != 2 or any(not smallest[i] <= output_size[i] < smallest[i] + self.stride[i]
                                        for i in range(2)):
            raise ValueError(f"{type(self).__name__}: output_size: expected (H, W) between {smallest} and "
                             f"{tuple(m + s - 1 for m, s in zip(smallest, self.stride))}, got {output_size}")
        return tuple(size - low for size, low in zip(output_size, smallest))

    def forward(self, input, output_size=None):
        x, weight, bias, geometry, unbatched = self._setup(self._check_input(input))
        output_padding = self._output_padding(input, output_size, geometry)
        y, saved = F._conv_transpose2d_forward(x, weight, bias, geometry, output_padding, type(self).__name__)
        self._cache = (saved, weight, x.shape, unbatched)  # saved: the rows of x that the weight gradient needs
        self._output = F._conv_unlift(y, 2, unbatched)
        return self._output

    def backward(self, grad):
        saved, weight, x_shape, unbatched = require_forward(self, self._cache)
        check_grad(grad, self._output)
        dy = F._conv_lift(grad, 2, unbatched)  # (N, C_out, Ho, Wo)
        dx, dweight, dbias = F._conv_transpose2d_backward(dy, weight, saved, x_shape)  # dx (N, C_in, H, W)
        self._accumulate(dweight, dbias)
        return F._conv_unlift(dx, 2, unbatched)
