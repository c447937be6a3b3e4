"""Upsample: nearest-neighbour and bilinear interpolation of (N, C, H, W) maps, or (N, C, L) for nearest.

Both modes are linear maps along each spatial axis: out = A_h @ x @ A_w^T, where a row of A
holds the weights with which one output pixel draws on the input pixels (one 1 for nearest,
two weights summing to 1 for bilinear). The backward is the transpose, dx = A_h^T @ dy @ A_w:
every output pixel hands its gradient back to the pixels it was drawn from. Twin of torch.nn.Upsample.
"""
import math
import numbers

import numpy as np

from .module import Module, check_array, check_grad, require_forward

MODES = ("nearest", "bilinear")


def _pair(value, name, spatial, kind):
    """``value`` as a tuple of ``spatial`` positive numbers of ``kind`` (int for sizes, real for scales)."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * spatial
    ok = len(values) == spatial and all(isinstance(v, kind) and not isinstance(v, bool) and v > 0 and math.isfinite(v)
                                        for v in values)
    if not ok:
        what = "int" if kind is numbers.Integral else "number"
        raise ValueError(f"Upsample({name}): expected a positive {what} or {spatial} of them, got {value!r}")
    return values


def source_weights(size_in, size_out, scale, mode, align_corners):
    """A (size_out, size_in) matrix: row j holds the weights of the input pixels output pixel j is made of.

    torch's coordinate rules: nearest takes floor(j * scale); bilinear maps j to (j + 0.5) * scale - 0.5
    (or j * (in - 1) / (out - 1) with align_corners) and mixes the two neighbours around it.
    """
    out = np.arange(size_out, dtype=np.float64)
    weights = np.zeros((size_out, size_in))
    if mode == "nearest":
        weights[np.arange(size_out), np.minimum(np.floor(out * scale).astype(np.int64), size_in - 1)] = 1.0
        return weights
    if align_corners:
        source = out * ((size_in - 1) / (size_out - 1) if size_out > 1 else 0.0)
    else:
        source = np.maximum((out + 0.5) * scale - 0.5, 0.0)  # torch clamps the left edge at pixel 0
    low = np.minimum(np.floor(source).astype(np.int64), size_in - 1)
    high = np.minimum(low + 1, size_in - 1)
    frac = source - low
    np.add.at(weights, (np.arange(size_out), low), 1.0 - frac)  # low == high at the right edge: both weights add
    np.add.at(weights, (np.arange(size_out), high), frac)
    return weights


class Upsample(Module):
    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"Upsample(mode): expected one of {list(MODES)}, got {mode!r}")
        if (size is None) == (scale_factor is None):
            raise ValueError(f"Upsample(size, scale_factor): expected exactly one of them, got size={size!r}, "
                             f"scale_factor={scale_factor!r}")
        if align_corners is not None and mode == "nearest":
            raise ValueError(f"Upsample(align_corners): expected None for mode 'nearest' (it has no corners to "
                             f"align), got {align_corners!r}")
        if recompute_scale_factor not in (None, False):
            raise ValueError(f"Upsample(recompute_scale_factor): expected None or False, got {recompute_scale_factor!r}")
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners = bool(align_corners) if mode == "bilinear" else None
        self.recompute_scale_factor = recompute_scale_factor
        self._shape = self._matrices = self._output = None

    def _output_sizes(self, x):
        spatial = x.ndim - 2
        if self.size is not None:
            return _pair(self.size, "size", spatial, numbers.Integral), None
        scales = _pair(self.scale_factor, "scale_factor", spatial, numbers.Real)
        return tuple(math.floor(n * s) for n, s in zip(x.shape[2:], scales)), scales

    def forward(self, x):
        check_array(x, "Upsample input", ndim=(3, 4) if self.mode == "nearest" else 4)
        sizes, scales = self._output_sizes(x)
        # torch: the scale that maps an output pixel back is 1 / scale_factor when one is given, in / out otherwise
        back = [1.0 / s if scales else n / m for n, m, s in zip(x.shape[2:], sizes, scales or sizes)]
        if any(m < 1 for m in sizes):
            raise ValueError(f"Upsample input: expected an output of at least one pixel per axis, got sizes {sizes} "
                             f"from shape {x.shape}")
        self._shape = x.shape
        self._matrices = [source_weights(n, m, b, self.mode, self.align_corners).astype(x.dtype)
                          for n, m, b in zip(x.shape[2:], sizes, back)]
        if self.mode == "nearest":  # a gather: exact, and NaN/inf move as they are instead of spreading through 0 * inf
            y = x
            for axis, matrix in enumerate(self._matrices, start=2):
                y = np.take(y, matrix.argmax(axis=1), axis=axis)  # (N, C, H_out, ...)
        else:
            rows, cols = self._matrices
            y = rows @ x @ cols.T  # (H_out, H) @ (N, C, H, W) @ (W, W_out) -> (N, C, H_out, W_out)
        self._output = np.ascontiguousarray(y)
        return self._output

    def backward(self, grad):
        require_forward(self, self._shape)
        grad = check_grad(grad, self._output)
        if len(self._matrices) == 1:
            return grad @ self._matrices[0]  # (N, C, L_out) @ (L_out, L) -> (N, C, L)
        rows, cols = self._matrices
        return rows.T @ grad @ cols  # (H, H_out) @ (N, C, H_out, W_out) @ (W_out, W) -> (N, C, H, W)

    def extra_repr(self):
        described = f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}"
        return f"{described}, mode='{self.mode}'"
