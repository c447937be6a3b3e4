"""torchvision.transforms.v2.functional in NumPy, on float (C, H, W) and (N, C, H, W) arrays.

Twin of the tensor kernels in torchvision/transforms/v2/functional (``*_image``): the same
names, arguments and arithmetic, step for step, so results agree to rounding. Every op works
on a whole batch at once (one set of parameters for all samples, as torchvision does for one
tensor) without a Python loop over samples.

Rotate and affine build torchvision's inverse affine matrix, map the output pixel grid
through it and sample like ``torch.nn.functional.grid_sample(align_corners=False)``.
Resize computes torch's ``interpolate`` indices and weights (bilinear with and without
antialias, nearest) and applies them one axis at a time.

Known differences from torchvision (measured by parity_tests/transforms/test_transforms.py):
- float32: torch may fuse multiply-adds or sum in another order, so bilinear sampling, resize and
  contrast agree to a few float32 ulps (max seen 1.1e-6, antialiased resize), not bit for bit
  (float64: max 1.1e-15).
- nearest rotate/affine match bit for bit: the grid is mapped with torch's operation order and
  un-normalised with one rounding like torch's fused multiply-add, so .5 ties round alike. On a
  platform whose long double is plain double (Windows), a rare tie may pick the neighbour pixel.
- torch 2.14's CPU antialiased bilinear resize to an output width of 1 (with a height change)
  repeats the first row's result down every output row; scratch computes the filter as it is
  defined, which is what torch gives for the transposed image.
- only NEAREST and BILINEAR interpolation; no negative padding; integer images are refused.
"""
import math
import numbers
from enum import Enum

import numpy as np

from ..nn.module import _describe

_FLOAT_DTYPES = (np.float32, np.float64)


class InterpolationMode(Enum):
    """torchvision's members and values; scratch implements NEAREST and BILINEAR."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_SUPPORTED_MODES = (InterpolationMode.NEAREST, InterpolationMode.BILINEAR)


def _check_image(img, name):
    if not isinstance(img, np.ndarray):
        raise TypeError(f"{name}(img): expected a numpy ndarray, got {_describe(img)}")
    if img.dtype.type not in _FLOAT_DTYPES:
        raise TypeError(f"{name}(img): float32 or float64 is required (scale integer images to [0, 1] first), got dtype {img.dtype}")
    if img.ndim not in (3, 4):
        raise ValueError(f"{name}(img): expected a (C, H, W) or (N, C, H, W) array, got shape {img.shape}")


def _check_interpolation(interpolation, name):
    mode = interpolation
    if isinstance(interpolation, str) and interpolation in [m.value for m in InterpolationMode]:
        mode = InterpolationMode(interpolation)
    if mode not in _SUPPORTED_MODES:
        raise ValueError(f"{name}(interpolation): expected InterpolationMode.NEAREST or BILINEAR (or 'nearest', 'bilinear'), got {interpolation!r}")
    return mode


def _check_fill(fill, channels, name):
    """None, a number, or one value per channel (or a single value): as an array that broadcasts over (C, H, W)."""
    if fill is None:
        return None
    if isinstance(fill, numbers.Real):
        return np.array([float(fill)]).reshape(1, 1, 1)
    if isinstance(fill, (list, tuple)) and len(fill) in (1, channels) and all(isinstance(f, numbers.Real) for f in fill):
        return np.array(fill, dtype=np.float64).reshape(-1, 1, 1)
    raise ValueError(f"{name}(fill): expected None, a number or a sequence of 1 or {channels} numbers (one per channel), got {_describe(fill)}")


def hflip(img):
    _check_image(img, "hflip")
    return img[..., ::-1].copy()


def vflip(img):
    _check_image(img, "vflip")
    return img[..., ::-1, :].copy()


horizontal_flip, vertical_flip = hflip, vflip


def _get_inverse_affine_matrix(center, angle, translate, scale, shear):
    """The 2x3 matrix (flat, 6 floats) mapping output pixel coordinates to input ones, relative
    to the image centre; torchvision's formula, operation for operation, in Python floats.

    Forward map M = T C RSS C^-1 with RSS = R(angle) S(scale) SHy(shear_y) SHx(shear_x);
    this returns M^-1 = C RSS^-1 C^-1 T^-1, where det(RSS / scale) = 1 makes RSS^-1 cheap.
    """
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -(a * math.tan(sx) + math.sin(rot))
    c = math.sin(rot - sy) / math.cos(sy)
    d = math.cos(rot) - c * math.tan(sx)
    matrix = [d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0]
    matrix[2] += cx - matrix[0] * (cx + tx) - matrix[1] * (cy + ty)
    matrix[5] += cy - matrix[3] * (cx + tx) - matrix[4] * (cy + ty)
    return matrix


def _expanded_size(matrix, width, height):
    """Output (width, height) that holds the whole rotated image; float32 like torchvision's
    tensor version, with its 1e-4 truncation that keeps 4.00000001 from rounding up to 5."""
    half = np.array([0.5 * width, 0.5 * height], dtype=np.float32)
    corners = np.array([[-half[0], -half[1], 1.0], [-half[0], half[1], 1.0],
                        [half[0], half[1], 1.0], [half[0], -half[1], 1.0]], dtype=np.float32)
    moved = corners @ np.array(matrix, dtype=np.float32).reshape(2, 3).T  # (4, 2)
    tol, inv_tol = np.float32(1e-4), np.float32(1.0 / 1e-4)
    high = np.ceil(np.trunc((moved.max(axis=0) + half) * inv_tol) * tol)
    low = np.floor(np.trunc((moved.min(axis=0) + half) * inv_tol) * tol)
    size = high - low
    return int(size[0]), int(size[1])


def _sampling_grid(matrix, width, height, out_width, out_height, dtype):
    """Input pixel coordinates (x, y), each (out_height, out_width), of every output pixel centre.

    torchvision normalises the mapped grid to [-1, 1] by the input size and grid_sample
    (align_corners=False) un-normalises it; both steps are kept for the same rounding.
    """
    theta = np.array(matrix, dtype=dtype).reshape(2, 3)
    scaled = theta.T / np.array([0.5 * width, 0.5 * height], dtype=dtype)  # (3, 2)
    xs = (np.arange(out_width) - (out_width - 1) * 0.5).astype(dtype)[None, :]  # (1, ow), pixel centres about the image centre
    ys = (np.arange(out_height) - (out_height - 1) * 0.5).astype(dtype)[:, None]  # (oh, 1)
    grid_x = xs * scaled[0, 0] + ys * scaled[1, 0] + scaled[2, 0]  # (oh, ow) in [-1, 1] inside the image
    grid_y = xs * scaled[0, 1] + ys * scaled[1, 1] + scaled[2, 1]
    return _unnormalise(grid_x, width), _unnormalise(grid_y, height)


def _unnormalise(grid, size):
    """(grid + 1) * size / 2 - 0.5, the multiply-add rounded once as torch's CPU kernel does (a fused
    multiply-add): in extended precision (x86 long double; the product is exact for sizes below
    2048), then rounded to the grid's dtype. Rounding twice moves a few .5 ties of nearest sampling."""
    wide = np.longdouble if grid.dtype == np.float64 else np.float64
    shifted = grid + grid.dtype.type(1)
    return (shifted.astype(wide) * wide(size / 2) - wide(0.5)).astype(grid.dtype)


def _gather(img, rows, cols, inside):
    """img[..., rows, cols] where ``inside``, else 0; rows, cols, inside: (oh, ow)."""
    height, width = img.shape[-2:]
    picked = img[..., np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1)]  # (..., C, oh, ow)
    return np.where(inside, picked, img.dtype.type(0))


def _grid_sample(img, x, y, mode, fill):
    """Sample img (..., C, H, W) at input coordinates x, y (oh, ow) with zeros outside, then
    blend in ``fill`` the way torchvision does: through a sampled all-ones mask."""
    height, width = img.shape[-2:]
    dtype = img.dtype.type

    def inside(rows, cols):
        return (cols > -1) & (cols < width) & (rows > -1) & (rows < height)

    if mode is InterpolationMode.NEAREST:
        cols, rows = np.rint(x).astype(np.int64), np.rint(y).astype(np.int64)  # round half to even, as torch
        valid = inside(rows, cols)
        out = _gather(img, rows, cols, valid)
        mask = valid.astype(img.dtype)
    else:
        x0, y0 = np.floor(x), np.floor(y)
        w, n = x - x0, y - y0
        e, s = dtype(1) - w, dtype(1) - n
        cols, rows = x0.astype(np.int64), y0.astype(np.int64)
        corners = [(rows, cols, s * e), (rows, cols + 1, s * w), (rows + 1, cols, n * e), (rows + 1, cols + 1, n * w)]
        out = mask = None
        for r, c, weight in corners:  # nw, ne, sw, se: torch's order of summation
            valid = inside(r, c)
            term, mask_term = _gather(img, r, c, valid) * weight, np.where(valid, weight, dtype(0))
            out = term if out is None else out + term
            mask = mask_term if mask is None else mask + mask_term
    if fill is None:
        return out
    fill = fill.astype(img.dtype)
    if mode is InterpolationMode.NEAREST:
        return np.where(mask < 0.5, fill, out)
    return (out - fill) * mask + fill


def _centre_offset(center, width, height):
    # torchvision takes ``center`` in pixels from the top-left corner, the matrix wants it from the image centre
    if center is None:
        return [0.0, 0.0]
    if not isinstance(center, (list, tuple)) or len(center) != 2:
        raise ValueError(f"center: expected a sequence (x, y) of 2 numbers, got {_describe(center)}")
    return [float(center[0]) - width * 0.5, float(center[1]) - height * 0.5]


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    """Rotate counter-clockwise by ``angle`` degrees about ``center`` (default: the image centre)."""
    _check_image(img, "rotate")
    if not isinstance(angle, numbers.Real):
        raise TypeError(f"rotate(angle): expected a number of degrees, got {_describe(angle)}")
    angle = angle % 360
    if center is None:  # torchvision's exact fast paths for quarter turns
        if angle == 0:
            return img.copy()
        if angle == 180 or (angle in (90, 270) and (expand or img.shape[-1] == img.shape[-2])):
            return np.rot90(img, k=int(angle) // 90, axes=(-2, -1)).copy()
    interpolation = _check_interpolation(interpolation, "rotate")
    height, width = img.shape[-2:]
    matrix = _get_inverse_affine_matrix(_centre_offset(center, width, height), -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    fill = _check_fill(fill, img.shape[-3], "rotate")
    out_width, out_height = _expanded_size(matrix, width, height) if expand else (width, height)
    x, y = _sampling_grid(matrix, width, height, out_width, out_height, img.dtype)
    return _grid_sample(img, x, y, interpolation, fill)


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    """Rotate by ``angle`` (clockwise, as torchvision's affine), scale, shear (degrees, x then y)
    about ``center``, then translate by ``translate`` pixels; the output keeps the input size."""
    _check_image(img, "affine")
    interpolation = _check_interpolation(interpolation, "affine")
    if not isinstance(angle, numbers.Real):
        raise TypeError(f"affine(angle): expected a number of degrees, got {_describe(angle)}")
    if not isinstance(translate, (list, tuple)) or len(translate) != 2:
        raise ValueError(f"affine(translate): expected a sequence (dx, dy) of 2 numbers, got {_describe(translate)}")
    if not isinstance(scale, numbers.Real) or scale <= 0:
        raise ValueError(f"affine(scale): expected a positive number, got {_describe(scale)}")
    if isinstance(shear, numbers.Real):
        shear = [shear, 0.0]
    elif isinstance(shear, (list, tuple)) and len(shear) in (1, 2):
        shear = [shear[0], shear[0]] if len(shear) == 1 else list(shear)
    else:
        raise ValueError(f"affine(shear): expected a number or a sequence of 1 or 2 numbers, got {_describe(shear)}")
    height, width = img.shape[-2:]
    matrix = _get_inverse_affine_matrix(_centre_offset(center, width, height), float(angle),
                                        [float(t) for t in translate], float(scale), [float(s) for s in shear])
    x, y = _sampling_grid(matrix, width, height, width, height, img.dtype)
    return _grid_sample(img, x, y, interpolation, _check_fill(fill, img.shape[-3], "affine"))


def _parse_padding(padding):
    """torchvision's [left, top, right, bottom] conventions for 1, 2 or 4 numbers."""
    if isinstance(padding, numbers.Integral):
        padding = [padding]
    if not isinstance(padding, (list, tuple)) or len(padding) not in (1, 2, 4) or not all(isinstance(p, numbers.Integral) for p in padding):
        raise ValueError(f"pad(padding): expected an int or a sequence of 1, 2 or 4 ints, got {_describe(padding)}")
    if len(padding) == 1:
        padding = list(padding) * 4
    elif len(padding) == 2:
        padding = [padding[0], padding[1], padding[0], padding[1]]
    if min(padding) < 0:
        raise ValueError(f"pad(padding): expected non-negative padding (scratch does not crop by negative padding), got {padding}")
    return [int(p) for p in padding]


def pad(img, padding, fill=0, padding_mode="constant"):
    _check_image(img, "pad")
    left, top, right, bottom = _parse_padding(padding)
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError(f"pad(padding_mode): expected 'constant', 'edge', 'reflect' or 'symmetric', got {padding_mode!r}")
    height, width = img.shape[-2:]
    # torch's reflect pad needs padding < size; torchvision's symmetric index lists need padding <= size
    limit = {"reflect": 1, "symmetric": 0}.get(padding_mode)
    if limit is not None and (max(top, bottom) > height - limit or max(left, right) > width - limit):
        relation = "smaller than" if limit else "at most"
        raise ValueError(f"pad(padding): {padding_mode} padding must be {relation} the image size {height}x{width}, got left={left}, top={top}, right={right}, bottom={bottom}")
    fill = _check_fill(0 if fill is None else fill, img.shape[-3], "pad")
    if fill.size > 1 and padding_mode != "constant":
        raise ValueError(f"pad(fill): a per-channel fill needs padding_mode='constant', got {padding_mode!r}")
    widths = [(0, 0)] * (img.ndim - 2) + [(top, bottom), (left, right)]
    if padding_mode != "constant":
        return np.pad(img, widths, mode=padding_mode)
    out = np.pad(img, widths, mode="constant", constant_values=0)  # (..., C, H + top + bottom, W + left + right)
    if fill.size > 1:  # torchvision builds a per-channel fill as a float32 tensor first, then casts
        fill = fill.astype(np.float32)
    border = np.ones(out.shape[-2:], dtype=bool)
    border[top:top + height, left:left + width] = False
    out[..., border] = np.broadcast_to(fill.astype(img.dtype).reshape(-1, 1), (*out.shape[:-2], int(border.sum())))
    return out


def crop(img, top, left, height, width):
    """img[..., top:top + height, left:left + width], zero-padded where the box leaves the image."""
    _check_image(img, "crop")
    for name, value in (("top", top), ("left", left), ("height", height), ("width", width)):
        if not isinstance(value, numbers.Integral):
            raise TypeError(f"crop({name}): expected an int, got {_describe(value)}")
    if height <= 0 or width <= 0:
        raise ValueError(f"crop(height, width): expected positive sizes, got height={height}, width={width}")
    image_height, image_width = img.shape[-2:]
    right, bottom = left + width, top + height
    if left >= 0 and top >= 0 and right <= image_width and bottom <= image_height:
        return img[..., top:bottom, left:right]
    inside = img[..., max(top, 0):bottom, max(left, 0):right]
    padding = [max(min(right, 0) - left, 0), max(min(bottom, 0) - top, 0),
               max(right - max(image_width, left), 0), max(bottom - max(image_height, top), 0)]
    return pad(inside, padding)


def _pair(size, name):
    if isinstance(size, numbers.Integral):
        size = [size]
    if not isinstance(size, (list, tuple)) or len(size) not in (1, 2) or not all(isinstance(s, numbers.Integral) and s > 0 for s in size):
        raise ValueError(f"{name}: expected a positive int or a sequence (h, w) of 1 or 2 positive ints, got {_describe(size)}")
    return (int(size[0]), int(size[-1]))


def center_crop(img, output_size):
    _check_image(img, "center_crop")
    crop_height, crop_width = _pair(output_size, "center_crop(output_size)")
    height, width = img.shape[-2:]
    if crop_height > height or crop_width > width:  # pad first, the smaller half before
        grow_h, grow_w = max(crop_height - height, 0), max(crop_width - width, 0)
        img = pad(img, [grow_w // 2, grow_h // 2, (grow_w + 1) // 2, (grow_h + 1) // 2])
        height, width = img.shape[-2:]
    top, left = int(round((height - crop_height) / 2.0)), int(round((width - crop_width) / 2.0))
    return img[..., top:top + crop_height, left:left + crop_width]


def _output_size(height, width, size, max_size):
    """torchvision's rule: size (h, w), or an int / [int] for the shorter edge, capped by max_size."""
    short, long = (width, height) if width <= height else (height, width)
    if size is None:
        if not isinstance(max_size, numbers.Integral):
            raise ValueError(f"resize(max_size): expected an int when size is None, got {_describe(max_size)}")
        new_short, new_long = int(max_size * short / long), max_size
    else:
        pair = _pair(size, "resize(size)")
        if isinstance(size, (list, tuple)) and len(size) == 2:
            if max_size is not None:
                raise ValueError(f"resize(max_size): only allowed when size gives the shorter edge, got size={size}")
            return pair
        new_short, new_long = pair[0], int(pair[0] * long / short)
        if max_size is not None:
            if max_size <= pair[0]:
                raise ValueError(f"resize(max_size): expected more than the shorter edge {pair[0]}, got {max_size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_long, new_short) if width <= height else (new_short, new_long)


def _linear_taps(in_size, out_size, dtype):
    """Source indices and weights (out_size, 2) of torch's bilinear interpolate, align_corners=False."""
    scale = dtype.type(in_size) / dtype.type(out_size)
    real = np.maximum(scale * (np.arange(out_size).astype(dtype) + dtype.type(0.5)) - dtype.type(0.5), dtype.type(0))
    first = np.minimum(np.floor(real.astype(np.float32)).astype(np.int64), in_size - 1)  # torch floors with floorf
    lam = np.clip(real - first.astype(dtype), dtype.type(0), dtype.type(1))
    second = first + (first < in_size - 1)
    return np.stack([first, second], axis=1), np.stack([dtype.type(1) - lam, lam], axis=1)


def _antialias_taps(in_size, out_size, dtype):
    """Indices and weights (out_size, K) of torch's antialiased bilinear (PIL's triangle filter
    stretched by the downscale factor), zero weights past each output's support."""
    scale = in_size / out_size
    support = scale if scale >= 1.0 else 1.0  # interp_size / 2 = 1, times the scale when shrinking
    inv_scale = 1.0 / scale if scale >= 1.0 else 1.0
    centre = scale * (np.arange(out_size) + 0.5)  # (out,)
    first = np.maximum((centre - support + 0.5).astype(np.int64), 0)
    count = np.minimum((centre + support + 0.5).astype(np.int64), in_size) - first
    taps = int(math.ceil(support)) * 2 + 1
    j = np.arange(taps)
    weights = np.maximum(0.0, 1.0 - np.abs((j + first[:, None] - centre[:, None] + 0.5) * inv_scale))  # (out, K)
    weights = np.where(j < count[:, None], weights, 0.0)
    total = weights.sum(axis=1, keepdims=True)
    weights = np.divide(weights, total, out=weights, where=total != 0)
    return np.minimum(first[:, None] + j, in_size - 1), weights.astype(dtype)


def _resample_axis(img, axis, index, weight):
    """out[..., i, ...] = sum_k img[..., index[i, k], ...] * weight[i, k] along ``axis``, summed
    tap by tap in order as torch does (a loop over taps, never over samples)."""
    shape = [1] * img.ndim
    shape[axis] = index.shape[0]
    out = None
    for k in range(index.shape[1]):
        term = np.take(img, index[:, k], axis=axis) * weight[:, k].reshape(shape)
        out = term if out is None else out + term
    return out


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    _check_image(img, "resize")
    interpolation = _check_interpolation(interpolation, "resize")
    height, width = img.shape[-2:]
    new_height, new_width = _output_size(height, width, size, max_size)
    if (new_height, new_width) == (height, width):
        return img
    if interpolation is InterpolationMode.NEAREST:  # torch's legacy 'nearest': floor(i * in / out) in float32
        rows, cols = (np.minimum(np.floor(np.arange(new).astype(np.float32) * (np.float32(old) / np.float32(new))).astype(np.int64), old - 1)
                      for old, new in ((height, new_height), (width, new_width)))
        return img[..., rows[:, None], cols[None, :]]
    taps = _antialias_taps if antialias else _linear_taps
    out = img
    for axis, old, new in ((-1, width, new_width), (-2, height, new_height)):  # width first, as torch
        if old != new:  # torch skips (antialias) or copies (lambda 0) an axis that keeps its size
            out = _resample_axis(out, axis, *taps(old, new, img.dtype))
    return out


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    return resize(crop(img, top, left, height, width), size, interpolation=interpolation, antialias=antialias)


def _check_factor(value, name):
    if not isinstance(value, numbers.Real) or value < 0:
        raise ValueError(f"{name}: expected a non-negative number, got {_describe(value)}")


def _check_colour(img, name):
    _check_image(img, name)
    if img.shape[-3] not in (1, 3):
        raise ValueError(f"{name}(img): expected 1 or 3 channels, got shape {img.shape}")


def adjust_brightness(img, brightness_factor):
    _check_colour(img, "adjust_brightness")
    _check_factor(brightness_factor, "adjust_brightness(brightness_factor)")
    return np.clip(img * img.dtype.type(brightness_factor), 0, 1)


def adjust_contrast(img, contrast_factor):
    """Blend each image with the mean of its grayscale version (ITU-R 601-2 luma for RGB)."""
    _check_colour(img, "adjust_contrast")
    _check_factor(contrast_factor, "adjust_contrast(contrast_factor)")
    dtype = img.dtype.type
    if img.shape[-3] == 3:
        red, green, blue = img[..., 0:1, :, :], img[..., 1:2, :, :], img[..., 2:3, :, :]
        gray = red * dtype(0.2989) + green * dtype(0.587) + blue * dtype(0.114)  # (..., 1, H, W)
    else:
        gray = img
    mean = gray.mean(axis=(-3, -2, -1), keepdims=True)  # (..., 1, 1, 1)
    return np.clip(img * dtype(contrast_factor) + mean * dtype(1.0 - contrast_factor), 0, 1)


def normalize(img, mean, std, inplace=False):
    """(img - mean) / std per channel; ``inplace`` overwrites ``img``."""
    _check_image(img, "normalize")
    channels = img.shape[-3]
    for name, values in (("mean", mean), ("std", std)):
        if not isinstance(values, (list, tuple, np.ndarray)) or len(values) != channels:
            raise ValueError(f"normalize({name}): expected one value per channel ({channels}), got {_describe(values)}")
    if not all(std):
        raise ValueError(f"normalize(std): expected non-zero values (it divides), got {list(std)}")
    mean = np.asarray(mean, dtype=img.dtype).reshape(-1, 1, 1)
    std = np.asarray(std, dtype=img.dtype).reshape(-1, 1, 1)
    if not inplace:
        return (img - mean) / std
    img -= mean
    img /= std
    return img


def gaussian_noise(img, mean=0.0, sigma=0.1, clip=True, rng=None):
    """img + mean + sigma * N(0, 1) noise drawn from ``rng``, clipped to [0, 1] if ``clip``."""
    _check_image(img, "gaussian_noise")
    if not isinstance(sigma, numbers.Real) or sigma < 0:
        raise ValueError(f"gaussian_noise(sigma): expected a non-negative number, got {_describe(sigma)}")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(f"gaussian_noise(rng): expected a numpy.random.Generator, got {_describe(rng)}")
    rng = np.random.default_rng() if rng is None else rng
    dtype = img.dtype.type
    out = img + (dtype(mean) + rng.standard_normal(img.shape, dtype=img.dtype) * dtype(sigma))
    return np.clip(out, 0, 1) if clip else out
