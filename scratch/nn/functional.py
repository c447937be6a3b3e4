"""torch.nn.functional's forward math in NumPy (the modules add the backward passes).

Every function takes and returns ndarrays and never casts: float32 in, float32 out.
"""
import math

import numpy as np

from . import _threads
from .module import _describe

# NumPy has no erf. W. J. Cody's rational approximations ("Rational Chebyshev approximations for the error
# function", Math. Comp. 23, 1969; netlib specfun CALERF), coefficients highest power first, (numerator,
# denominator): erf(x) = x P(x^2)/Q(x^2) for |x| <= 0.46875; erfc(y) = exp(-y^2) P(y)/Q(y) for y = |x| <= 4;
# erfc(y) = exp(-y^2)/y (1/sqrt(pi) - z P(z)/Q(z)) with z = 1/y^2 beyond. Within 5e-16 of math.erf in float64.
_ERF_SMALL = ((1.85777706184603153e-1, 3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
               3.20937758913846947e03),
              (1.0, 2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03))
_ERFC_MIDDLE = ((2.15311535474403846e-8, 5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
                 2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03,
                 1.23033935479799725e03),
                (1.0, 1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
                 3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03))
_ERFC_LARGE = ((1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
                1.60837851487422766e-2, 6.58749161529837803e-4),
               (1.0, 2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
                2.33520497626869185e-3))
_ERF_BLOCK = 1 << 16  # elements per block: the ~30 passes over a block stay in cache


def linear(input, weight, bias=None):
    # one (N, in) @ (in, out) GEMM over all leading dims, faster than NumPy's batched loop over a 3-d input
    y = input.reshape(-1, weight.shape[1]) @ weight.T  # (*, in) -> (N, out)
    if bias is not None:
        y += bias
    return y.reshape(*input.shape[:-1], weight.shape[0])


def relu(input):
    return np.maximum(input, 0)


def leaky_relu(input, negative_slope=0.01):
    return np.where(input > 0, input, input * input.dtype.type(negative_slope))


def elu(input, alpha=1.0):
    return np.where(input > 0, input, input.dtype.type(alpha) * np.expm1(np.minimum(input, 0)))


def erf(input):
    """The error function, element-wise, in the input's dtype (Cody's approximations above)."""
    flat = np.ascontiguousarray(input).reshape(-1)
    out = np.empty_like(flat)
    for start in range(0, flat.size, _ERF_BLOCK):
        out[start:start + _ERF_BLOCK] = _erf_block(flat[start:start + _ERF_BLOCK])
    return out.reshape(np.shape(input))


def _erf_block(x):
    # Both main branches run on every element, on clamped arguments, and np.where picks: cheaper than
    # gathering and scattering the subsets. |x| > 4 (rare; erf = +-1 in float32) is gathered.
    y = np.abs(x)
    z = np.minimum(y, 0.46875)
    z *= z
    small = _rational(z, _ERF_SMALL)
    small *= x
    y_mid = np.clip(y, 0.46875, 4.0)
    middle = _rational(y_mid, _ERFC_MIDDLE)
    y_mid *= y_mid
    middle *= np.exp(np.negative(y_mid, out=y_mid), out=y_mid)  # erfc(|x|)
    np.subtract(1, middle, out=middle)
    out = np.where(y <= 0.46875, small, np.copysign(middle, x, out=middle))
    large = ~(y <= 4)  # NaN goes here too, and stays NaN
    if large.any():
        y_big = y[large]
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # y^2 = inf: z = 0, exp(-inf) / y = 0
            z = 1 / (y_big * y_big)
            erfc = np.exp(-y_big * y_big) / y_big * (x.dtype.type(1 / math.sqrt(math.pi)) - z * _rational(z, _ERFC_LARGE))
        out[large] = np.copysign(1 - erfc, x[large])
    return out


def _rational(z, coefficients):
    """P(z) / Q(z) by Horner's rule, in place on fresh arrays."""
    numerator, denominator = coefficients
    p = np.full_like(z, numerator[0])
    for c in numerator[1:]:
        p *= z
        p += c
    q = z + denominator[1]
    for c in denominator[2:]:
        q *= z
        q += c
    p /= q
    return p


def normal_cdf(input):
    """Phi(x) = (1 + erf(x / sqrt(2))) / 2, the standard normal's cumulative distribution, as torch's GELU has it."""
    cdf = erf(input * input.dtype.type(1 / math.sqrt(2)))
    cdf += 1
    cdf *= 0.5
    return cdf


def gelu(input, approximate="none"):
    if approximate == "none":
        return input * normal_cdf(input)
    if approximate == "tanh":
        return 0.5 * input * (1 + np.tanh(_gelu_tanh_inner(input)))
    raise ValueError(f"approximate: expected 'none' or 'tanh', got {approximate!r}")


def _gelu_tanh_inner(x):
    return x.dtype.type(math.sqrt(2 / math.pi)) * (x + x.dtype.type(0.044715) * x**3)


def sigmoid(input):
    # Two branches so that exp never overflows: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) below.
    e = np.exp(-np.abs(input))
    return np.where(input >= 0, 1 / (1 + e), e / (1 + e))


def logsigmoid(input):
    return np.minimum(input, 0) - np.log1p(np.exp(-np.abs(input)))


def tanh(input):
    return np.tanh(input)


def silu(input):
    return input * sigmoid(input)


def softplus(input, beta=1.0, threshold=20.0):
    scaled = input * input.dtype.type(beta)
    smooth = (np.maximum(scaled, 0) + np.log1p(np.exp(-np.abs(scaled)))) / input.dtype.type(beta)
    return np.where(scaled > threshold, input, smooth)


def softmax(input, dim):
    shifted = np.exp(input - input.max(axis=dim, keepdims=True))
    return shifted / shifted.sum(axis=dim, keepdims=True)


def log_softmax(input, dim):
    shifted = input - input.max(axis=dim, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))


def dropout_mask(shape, p, rng, dtype):
    """The scaled keep-mask of inverted dropout: 0 with probability p, else 1/(1-p)."""
    if p == 1:
        return np.zeros(shape, dtype=dtype)
    return (rng.random(shape) >= p) * dtype.type(1 / (1 - p))  # bool times a dtype scalar: that dtype


def dropout(input, p=0.5, training=True, rng=None, mask=None):
    if not training or p == 0:
        return input
    if mask is None:
        mask = dropout_mask(input.shape, p, rng, input.dtype)
    return input * mask


_REDUCTIONS = ("none", "mean", "sum")


def _legacy_reduction(size_average, reduce, reduction):
    """torch's reading of the deprecated size_average/reduce flags; reduction when both are None."""
    if size_average is None and reduce is None:
        return reduction
    reduce = True if reduce is None else reduce
    return "none" if not reduce else "mean" if size_average in (None, True) else "sum"


def _check_reduction(reduction, allowed=_REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(f"reduction: expected one of {', '.join(map(repr, allowed))}, got {reduction!r}")
    return reduction


def _reduce(loss, reduction, total=None):
    """'none' keeps every element; 'sum' adds them; 'mean' divides the sum by ``total``
    (the element count unless a weighted or batch mean says otherwise). 0-d arrays out."""
    if reduction == "none":
        return np.asarray(loss)  # NumPy hands back a scalar for an unbatched (C,) cross entropy
    summed = np.asarray(loss.sum(), dtype=loss.dtype)
    if reduction == "sum":
        return summed
    with np.errstate(divide="ignore", invalid="ignore"):  # nothing counted: NaN, as torch
        return np.asarray(summed / (loss.size if total is None else total), dtype=loss.dtype)


def _check_input(input, fn):
    if not isinstance(input, np.ndarray) or input.dtype.type not in (np.float32, np.float64):
        raise TypeError(f"{fn}: input: expected a float32 or float64 ndarray, got {_describe(input)}")
    return input


def _check_like(array, input, fn, name):
    """A float array that must have exactly the input's shape and dtype (never broadcast or cast)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{fn}: {name}: expected an ndarray, got {_describe(array)}")
    if array.shape != input.shape:
        raise ValueError(f"{fn}: {name}: expected shape {input.shape} (the input's; nothing is broadcast), "
                         f"got {array.shape}")
    if array.dtype != input.dtype:
        raise TypeError(f"{fn}: {name}: expected dtype {input.dtype} (the input's), got {array.dtype}")
    return array


def _check_pair(input, target, fn):
    return _check_input(input, fn), _check_like(target, input, fn, "target")


def _broadcasts_to(shape, target_shape):
    try:
        return np.broadcast_shapes(shape, target_shape) == target_shape
    except ValueError:
        return False


def _check_weight(weight, input, fn, name, shape=None):
    """An optional weight of the input's dtype: of ``shape`` if given, else broadcastable to the input."""
    if weight is None:
        return None
    if not isinstance(weight, np.ndarray):
        raise TypeError(f"{fn}: {name}: expected an ndarray or None, got {_describe(weight)}")
    if weight.dtype != input.dtype:
        raise TypeError(f"{fn}: {name}: expected dtype {input.dtype} (the input's), got {weight.dtype}")
    if shape is not None and weight.shape != shape:
        raise ValueError(f"{fn}: {name}: expected shape {shape} (one weight per class), got {weight.shape}")
    if shape is None and not _broadcasts_to(weight.shape, input.shape):
        raise ValueError(f"{fn}: {name}: expected a shape that broadcasts to the input's {input.shape}, "
                         f"got {weight.shape}")
    return weight


def _reduce_weighted(loss, weight, reduction, fn):
    """mse_loss's and l1_loss's weight: scales each element; the mean divides by the weights' sum."""
    if weight is None:
        return _reduce(loss, reduction)
    weight = _check_like(weight, loss, fn, "weight")
    return _reduce(loss * weight, reduction, weight.sum())


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    input, target = _check_pair(input, target, "mse_loss")
    return _reduce_weighted((input - target) ** 2, weight, reduction, "mse_loss")


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    input, target = _check_pair(input, target, "l1_loss")
    return _reduce_weighted(np.abs(input - target), weight, reduction, "l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    _check_reduction(reduction)
    input, target = _check_pair(input, target, "huber_loss")
    if not delta > 0:
        raise ValueError(f"huber_loss: delta: expected a positive number, got {delta!r}")
    diff = np.abs(input - target)
    delta = input.dtype.type(delta)
    loss = np.where(diff < delta, 0.5 * diff * diff, delta * (diff - 0.5 * delta))
    if weight is not None:
        loss = loss * _check_like(weight, input, "huber_loss", "weight")  # and still the plain mean, as torch
    return _reduce(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    input, target = _check_pair(input, target, "smooth_l1_loss")
    if not beta >= 0:
        raise ValueError(f"smooth_l1_loss: beta: expected a non-negative number, got {beta!r}")
    diff = np.abs(input - target)
    if beta == 0:
        return _reduce(diff, reduction)  # the L1 limit, as torch
    beta = input.dtype.type(beta)
    return _reduce(np.where(diff < beta, 0.5 * diff * diff / beta, diff - 0.5 * beta), reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    input, target = _check_pair(input, target, "binary_cross_entropy")
    outside = ~((input >= 0) & (input <= 1))
    if outside.any():
        first = input[outside].flat[0].item()
        raise ValueError(f"binary_cross_entropy: input: expected probabilities in [0, 1], got {first!r} "
                         f"(and {outside.sum() - 1} more outside); use BCEWithLogitsLoss for logits")
    weight = _check_weight(weight, input, "binary_cross_entropy", "weight")
    with np.errstate(divide="ignore"):  # log(0) = -inf, clamped to -100 as torch does
        loss = -(target * np.maximum(np.log(input), -100) + (1 - target) * np.maximum(np.log1p(-input), -100))
    return _reduce(loss if weight is None else loss * weight, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    fn = "binary_cross_entropy_with_logits"
    input, target = _check_pair(input, target, fn)
    weight, pos_weight = _check_weight(weight, input, fn, "weight"), _check_weight(pos_weight, input, fn, "pos_weight")
    log_weight = 1 if pos_weight is None else (pos_weight - 1) * target + 1
    loss = (1 - target) * input - log_weight * logsigmoid(input)  # -[y log s(x) pw + (1-y) log(1-s(x))]
    return _reduce(loss if weight is None else loss * weight, reduction)


def _class_dim(input):
    return 1 if input.ndim > 1 else 0


def _check_class_target(input, target, weight, ignore_index, fn, probabilities_allowed=False):
    """Validate class-index (or, for cross_entropy, class-probability) targets.

    input (C,) with target (), or (N, C, d1, ...) with target (N, d1, ...); probability
    targets have the input's shape. Returns True for probability targets.
    """
    _check_input(input, fn)
    if input.ndim == 0:
        raise ValueError(f"{fn}: input: expected (C,) or (N, C, d1, ...) scores, got a 0-d array")
    if not isinstance(target, np.ndarray):
        raise TypeError(f"{fn}: target: expected an ndarray, got {_describe(target)}")
    num_classes = input.shape[_class_dim(input)]
    _check_weight(weight, input, fn, "weight", shape=(num_classes,))
    if probabilities_allowed and target.dtype.kind == "f" and target.shape == input.shape:
        _check_like(target, input, fn, "target (class probabilities)")
        return True
    index_shape = input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()
    if target.dtype.kind not in "iu":
        wanted = f" or float class probabilities of shape {input.shape}" if probabilities_allowed else ""
        raise TypeError(f"{fn}: target: expected integer class indices{wanted}, got dtype {target.dtype}")
    if target.shape != index_shape:
        raise ValueError(f"{fn}: target: expected class indices of shape {index_shape} for input of shape "
                         f"{input.shape} (classes on dim {_class_dim(input)}), got {target.shape}")
    bad = (target != ignore_index) & ((target < 0) | (target >= num_classes))
    if bad.any():
        raise ValueError(f"{fn}: target: expected class indices in [0, {num_classes}) or ignore_index={ignore_index}, "
                         f"got {target[bad].flat[0]} (and {bad.sum() - 1} more out of range)")
    return False


def _class_index_terms(input, target, weight, ignore_index):
    """What nll_loss and cross_entropy need about class-index targets.

    Returns keep (False where ignored), index (target with ignored entries set to 0 and a class axis inserted:
    (N, 1, d1, ...) or (1,)), target_weight w[y] with 0 where ignored ((N, d1, ...) or ()),
    and the weight of every class shaped to broadcast along the class dim (or None).
    """
    dim = _class_dim(input)
    keep = target != ignore_index
    index = np.expand_dims(np.where(keep, target, 0), dim)
    target_weight = keep.astype(input.dtype) if weight is None else np.where(keep, weight[index.squeeze(dim)], 0)
    class_weight = None if weight is None else weight.reshape((-1,) + (1,) * (input.ndim - dim - 1))
    return keep, index, target_weight.astype(input.dtype), class_weight


def _soft_target(target, weight, label_smoothing):
    """Class probabilities smoothed towards uniform and scaled by the class weights: (N, C, d1, ...)."""
    dim = _class_dim(target)
    smoothing = target.dtype.type(label_smoothing)
    q = target * (1 - smoothing) + smoothing / target.shape[dim]
    return q if weight is None else q * weight.reshape((-1,) + (1,) * (target.ndim - dim - 1))


def _cross_entropy_terms(log_probs, target, weight, ignore_index, label_smoothing):
    """The unreduced loss from log-probabilities, and what its mean divides by.

    Class indices: -(1-e) w[y] logp[y] - e/C sum_c w_c logp_c (0 where ignored), mean over
    sum of w[y]; probabilities q: -sum_c w_c ((1-e) q_c + e/C) logp_c, mean over samples.
    """
    dim = _class_dim(log_probs)
    num_classes = log_probs.shape[dim]
    smoothing = log_probs.dtype.type(label_smoothing)
    if target.dtype.kind == "f":
        loss = -(_soft_target(target, weight, label_smoothing) * log_probs).sum(axis=dim)  # (N, d1, ...)
        return loss, loss.size
    keep, index, target_weight, class_weight = _class_index_terms(log_probs, target, weight, ignore_index)
    loss = -target_weight * np.take_along_axis(log_probs, index, axis=dim).squeeze(dim)  # (N, d1, ...)
    if label_smoothing:
        spread = (log_probs if class_weight is None else log_probs * class_weight).sum(axis=dim)
        loss = (1 - smoothing) * loss - np.where(keep, spread, 0) * (smoothing / num_classes)
    return loss, target_weight.sum()


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    _check_class_target(input, target, weight, ignore_index, "nll_loss")
    loss, total = _cross_entropy_terms(input, target, weight, ignore_index, 0.0)
    return _reduce(loss, reduction, total)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    _check_class_target(input, target, weight, ignore_index, "cross_entropy", probabilities_allowed=True)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing: expected a number in [0, 1], got {label_smoothing!r}")
    log_probs = log_softmax(input, _class_dim(input))
    loss, total = _cross_entropy_terms(log_probs, target, weight, ignore_index, label_smoothing)
    return _reduce(loss, reduction, total)


def _kl_div_total(input, reduction):
    """What KL's mean divides by: every element for 'mean', the batch (dim 0) for 'batchmean'."""
    return input.size if reduction == "mean" else input.shape[0] if input.ndim else 1


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction), _REDUCTIONS + ("batchmean",))
    input, target = _check_pair(input, target, "kl_div")
    if log_target:
        loss = np.exp(target) * (target - input)
    else:
        xlogx = np.where(target == 0, 0, target * np.log(np.where(target == 0, 1, target)))  # 0 log 0 = 0
        loss = xlogx - target * input
    total = _kl_div_total(input, reduction)
    return _reduce(loss, "mean" if reduction == "batchmean" else reduction, total)


def _pair(value, name, fn):
    """An int or a pair of ints, as torch's pooling arguments take them, as a pair."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value) if isinstance(value, (tuple, list)) else None
    if pair is None or len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"{fn}: {name}: expected an int or a pair of ints, got {_describe(value)}")
    return tuple(int(v) for v in pair)


def _pool_output_size(size, kernel, stride, pad, dilation, ceil_mode):
    """torch's formula; in ceil mode the last window must start inside the input or the left padding."""
    out = (size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


class _PoolGeometry:
    """A pooling's (rows, cols) pairs: kernel, stride, padding, dilation, output and padded input sizes."""

    def __init__(self, kernel, stride, padding, dilation, output, padded):
        self.kernel, self.stride, self.padding, self.dilation = kernel, stride, padding, dilation
        self.output, self.padded = output, padded


def _check_pool_input(input, fn):
    _check_input(input, fn)
    if input.ndim not in (3, 4) or 0 in input.shape[-3:]:
        raise ValueError(f"{fn}: input: expected a non-empty (C, H, W) or (N, C, H, W) array, got shape {input.shape}")
    return input


def _pool_geometry(input, kernel_size, stride, padding, dilation, ceil_mode, fn):
    """Check torch's pooling arguments against the input and work out the output and padded sizes."""
    _check_pool_input(input, fn)
    kernel = _pair(kernel_size, "kernel_size", fn)
    stride = kernel if stride is None else _pair(stride, "stride", fn)
    padding, dilation = _pair(padding, "padding", fn), _pair(dilation, "dilation", fn)
    for name, pair, low in (("kernel_size", kernel, 1), ("stride", stride, 1), ("dilation", dilation, 1), ("padding", padding, 0)):
        if min(pair) < low:
            raise ValueError(f"{fn}: {name}: expected values >= {low}, got {pair}")
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(f"{fn}: padding: expected at most half of kernel_size {kernel}, got {padding}")
    size = input.shape[-2:]
    output = tuple(_pool_output_size(*args, ceil_mode) for args in zip(size, kernel, stride, padding, dilation))
    if min(output) < 1:
        raise ValueError(f"{fn}: input of spatial size {size} gives output size {output}: too small for "
                         f"kernel_size={kernel}, dilation={dilation}, padding={padding}")
    # enough rows and columns for every window, ceil mode's overhang included
    padded = tuple(max(n + p, (o - 1) * s + d * (k - 1) + 1)
                   for n, p, o, s, d, k in zip(size, padding, output, stride, dilation, kernel))
    geometry = _PoolGeometry(kernel, stride, padding, dilation, output, padded)
    _check_windows_reach_input(size, geometry, fn)
    return geometry


def _check_windows_reach_input(size, geometry, fn):
    """Refuse a window that samples no input position: a dilation that steps from the padding over the
    whole input. torch checks padding <= kernel_size / 2 to rule such windows out but forgets the
    dilation; the maximum of no element has no value and no index (torch returns an index past the
    plane, and its backward writes out of bounds). Without dilation (AvgPool2d) no window is empty."""
    for axis, name in enumerate(("row", "column")):
        samples = _window_origins(geometry, axis)[:, None] + geometry.dilation[axis] * np.arange(geometry.kernel[axis])
        empty = np.flatnonzero(~((samples >= 0) & (samples < size[axis])).any(axis=1))  # (o, k) -> empty outputs
        if empty.size:
            raise ValueError(
                f"{fn}: padding, dilation: expected every window to hold at least one input position, got "
                f"kernel_size={geometry.kernel}, stride={geometry.stride}, padding={geometry.padding}, "
                f"dilation={geometry.dilation} on input size {tuple(size)}: output {name} {empty[0]} samples "
                f"{name}s {samples[empty[0]].tolist()}, none in [0, {size[axis]})")


def _pad_for_pool(input, geometry, value):
    """(*, H, W) -> (*, Hp, Wp): the input placed after the left/top padding, ``value`` around it."""
    (pH, pW), (Hp, Wp) = geometry.padding, geometry.padded
    H, W = input.shape[-2:]
    if (Hp, Wp) == (H, W):
        return input
    padded = np.full(input.shape[:-2] + (Hp, Wp), value, dtype=input.dtype)
    padded[..., pH:pH + H, pW:pW + W] = input
    return padded


def _window_slices(geometry):
    """For each kernel offset (i, j), in torch's window order, the (rows, cols) slices of the padded
    input that the offset sees across all windows: input[..., rows, cols] has the output's shape."""
    (kH, kW), (sH, sW), (dH, dW), (oH, oW) = geometry.kernel, geometry.stride, geometry.dilation, geometry.output
    return [(slice(i * dH, i * dH + (oH - 1) * sH + 1, sH), slice(j * dW, j * dW + (oW - 1) * sW + 1, sW))
            for i in range(kH) for j in range(kW)]


def _map_leading(fn, array):
    """fn(start, stop) over chunks of ``array``'s first axis (images, or the channels of one image), on
    the kernel threads: pooling works on every (H, W) plane alone."""
    per_item = array[:1].nbytes if len(array) else 1
    return _threads.map_chunks(fn, len(array), _threads.chunk_size(len(array), per_item))


def _max_pool2d(input, geometry):
    """Each window's maximum, NaN propagating as in torch; and the padded input: (*, oH, oW), (*, Hp, Wp)."""
    padded = _pad_for_pool(input, geometry, -np.inf)
    slices = _window_slices(geometry)
    output = np.empty(padded.shape[:-2] + geometry.output, dtype=input.dtype)

    def chunk(start, stop):
        part, out = padded[start:stop], output[start:stop]
        np.copyto(out, part[(...,) + slices[0]])
        for rows, cols in slices[1:]:
            np.maximum(out, part[..., rows, cols], out=out)

    _map_leading(chunk, padded)
    return output, padded


def _max_pool2d_argmax(input, padded, output, geometry):
    """Each window's offset (in window order) of the position torch picks: the first maximum,
    the last NaN, and for a window of -inf only its first position inside the input: (*, oH, oW)."""
    slices = _window_slices(geometry)
    argmax = np.zeros(output.shape, dtype=np.min_scalar_type(len(slices) - 1))
    first_inside = _first_inside_offsets(geometry).astype(argmax.dtype) if padded is not input else None

    def chunk(start, stop):
        part, out, best = padded[start:stop], output[start:stop], argmax[start:stop]
        for offset in range(len(slices) - 1, -1, -1):  # backwards, so the first match is written last
            match = part[(...,) + slices[offset]] == out
            best += match * (offset - best)  # arithmetic select: np.where is slow on random masks
        nan_windows = np.isnan(out)
        if nan_windows.any():
            for offset, (rows, cols) in enumerate(slices):
                best[nan_windows & np.isnan(part[..., rows, cols])] = offset
        if first_inside is not None:
            np.copyto(best, first_inside, where=out == -np.inf)

    _map_leading(chunk, argmax)
    return argmax


def _window_origins(geometry, axis):
    """Each output position's first input row (axis 0) or column (axis 1), padding subtracted: (o,)."""
    return np.arange(geometry.output[axis]) * geometry.stride[axis] - geometry.padding[axis]


def _first_inside_offsets(geometry):
    """Per output pixel, the window offset of the first position inside the input: (oH, oW)."""
    firsts = []
    for axis in (0, 1):
        origin, d = _window_origins(geometry, axis), geometry.dilation[axis]
        firsts.append(np.maximum(0, -(origin // d)))  # ceil(-origin / d) for origin < 0
    return firsts[0][:, None] * geometry.kernel[1] + firsts[1][None, :]


def _argmax_to_indices(argmax, input, geometry):
    """Window offsets -> torch's indices: flat positions in the input's H*W plane, int64."""
    kW = geometry.kernel[1]
    rows = _window_origins(geometry, 0)[:, None] + (argmax // kW).astype(np.int64) * geometry.dilation[0]
    cols = _window_origins(geometry, 1)[None, :] + (argmax % kW).astype(np.int64) * geometry.dilation[1]
    return rows * input.shape[-1] + cols


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    geometry = _pool_geometry(input, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    output, padded = _max_pool2d(input, geometry)
    if not return_indices:
        return output
    return output, _argmax_to_indices(_max_pool2d_argmax(input, padded, output, geometry), input, geometry)


def _avg_pool2d_divisor(size, geometry, count_include_pad, divisor_override, dtype):
    """What each window's sum is divided by, as torch: (oH, oW).

    count_include_pad counts the padding but not ceil mode's overhang past it."""
    if divisor_override is not None:
        return np.asarray(divisor_override, dtype=dtype)
    extents = []
    for axis in (0, 1):
        start, n, p = _window_origins(geometry, axis), size[axis], geometry.padding[axis]
        end = np.minimum(start + geometry.kernel[axis], n + p)
        extents.append(end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0))
    return (extents[0][:, None] * extents[1][None, :]).astype(dtype)


def _avg_pool2d_args(input, kernel_size, stride, padding, ceil_mode, divisor_override, fn):
    geometry = _pool_geometry(input, kernel_size, stride, padding, 1, ceil_mode, fn)
    if divisor_override is not None and (not isinstance(divisor_override, (int, np.integer)) or divisor_override == 0):
        raise ValueError(f"{fn}: divisor_override: expected a non-zero int or None, got {divisor_override!r}")
    return geometry


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    geometry = _avg_pool2d_args(input, kernel_size, stride, padding, ceil_mode, divisor_override, "avg_pool2d")
    return _avg_pool2d(input, geometry, count_include_pad, divisor_override)


def _avg_pool2d(input, geometry, count_include_pad, divisor_override):
    padded = _pad_for_pool(input, geometry, 0)
    slices = _window_slices(geometry)
    divisor = _avg_pool2d_divisor(input.shape[-2:], geometry, count_include_pad, divisor_override, input.dtype)
    output = np.empty(padded.shape[:-2] + geometry.output, dtype=input.dtype)

    def chunk(start, stop):
        part, total = padded[start:stop], output[start:stop]
        np.copyto(total, part[(...,) + slices[0]])
        for rows, cols in slices[1:]:
            total += part[..., rows, cols]
        total /= divisor

    _map_leading(chunk, padded)
    return output


def _adaptive_output_size(input, output_size, fn):
    sizes = (output_size, output_size) if output_size is None or isinstance(output_size, (int, np.integer)) else output_size
    if not isinstance(sizes, (tuple, list)) or len(sizes) != 2 or not all(
            s is None or (isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0) for s in sizes):
        raise ValueError(f"{fn}: output_size: expected an int >= 0 or a pair of them (None keeps the input's size), "
                         f"got {output_size!r}")
    return tuple(int(n if s is None else s) for s, n in zip(sizes, input.shape[-2:]))


def _adaptive_windows(size, out, dtype):
    """Window i covers [floor(i*size/out), ceil((i+1)*size/out)), as torch: a 0/1 (out, size) matrix."""
    i = np.arange(out)
    start, end = (i * size) // out, -(-((i + 1) * size) // out)
    position = np.arange(size)
    return ((position >= start[:, None]) & (position < end[:, None])).astype(dtype)


def _adaptive_avg_pool2d_terms(input, output_size, fn="adaptive_avg_pool2d"):
    """Row and column window matrices (oH, H), (oW, W) and each output's window area (oH, oW)."""
    _check_pool_input(input, fn)
    (oH, oW), (H, W) = _adaptive_output_size(input, output_size, fn), input.shape[-2:]
    rows, cols = _adaptive_windows(H, oH, input.dtype), _adaptive_windows(W, oW, input.dtype)
    return rows, cols, rows.sum(axis=1)[:, None] * cols.sum(axis=1)[None, :]


def adaptive_avg_pool2d(input, output_size):
    return _adaptive_avg_pool2d(input, *_adaptive_avg_pool2d_terms(input, output_size))


def _adaptive_avg_pool2d(input, rows, cols, area):
    return rows @ input @ cols.T / area  # (oH, H) @ (*, H, W) @ (W, oW) -> (*, oH, oW)


def _batch_norm_axes(input):
    """The axes batch norm reduces over (all but the channel axis 1) and the (1, C, 1, ...) shape."""
    return (0,) + tuple(range(2, input.ndim)), (1, input.shape[1]) + (1,) * (input.ndim - 2)


def _channel_sum(x):
    """Sum over every axis but the channel axis 1: (N, C, ...) -> (C,).

    Two contiguous reductions (spatial, then batch) run about twice as fast as one over
    axes (0, 2, 3), and each is NumPy's pairwise sum."""
    return x.reshape(x.shape[0], x.shape[1], math.prod(x.shape[2:])).sum(axis=2).sum(axis=0)


def _channel_dot(a, b):
    """Per channel, the sum of a * b over N and S: (N, C, S) twice -> (C,), in one pass (no product array)."""
    return np.einsum("ncs,ncs->c", a, b)


def _summed(parts, shape, dtype):
    """The sum of the chunks' partial gradients, in chunk order; zeros for an empty batch."""
    return np.sum(parts, axis=0).reshape(shape) if parts else np.zeros(shape, dtype=dtype)


def _per_channel(x):
    """(N, C, ...) -> the (N, C, S) view batch norm works on, and images per chunk of the kernel threads."""
    x = x.reshape(x.shape[0], x.shape[1], math.prod(x.shape[2:]))
    return x, _threads.chunk_size(x.shape[0], x.shape[1] * x.shape[2] * x.itemsize)


def _channel_mean_var(x):
    """The per-channel mean and biased variance of x (N, C, S), over N and S: (C,), (C,).

    Each chunk of images gets its own mean and sum of squared deviations (two passes while it is in
    cache); Chan, Golub and LeVeque's pairwise update merges them, as exactly as one two-pass sum."""
    x, size = _per_channel(x)

    def chunk(start, stop):
        part = x[start:stop]
        count = part.shape[0] * part.shape[2]
        mean = _channel_sum(part) / count
        deviations = part - mean[:, None]
        return count, mean, _channel_dot(deviations, deviations)

    parts = _threads.map_chunks(chunk, x.shape[0], size)
    total = sum(count for count, _, _ in parts)
    mean = sum(count * m for count, m, _ in parts) / total
    squares = sum(ss + count * np.square(m - mean) for count, m, ss in parts)
    return mean, squares / total


def _batch_norm_forward(input, running_mean, running_var, weight, bias, training, momentum, eps):
    """y = xhat weight + bias with xhat = (x - mean) / sqrt(var + eps); returns y, xhat and invstd (C,).

    Training uses the batch's mean and biased variance and, where running buffers are given, updates
    them in place with the unbiased variance, as torch does; otherwise the running statistics are
    used. Each chunk of images is normalised and scaled while it is in cache, on the kernel threads."""
    c = input.shape[1]
    if training:
        count = input.size // c
        if count == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
        if count == 0:  # as torch: an empty output, the running statistics left alone
            xhat = input.copy()
            return _channel_affine(xhat, weight, bias), xhat, np.ones(c, input.dtype)
        mean, var = _channel_mean_var(input)
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean
        if running_var is not None:
            running_var *= 1 - momentum
            running_var += (momentum * count / (count - 1)) * var
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var must be given in evaluation mode")
        mean, var = running_mean.astype(input.dtype, copy=False), running_var.astype(input.dtype, copy=False)
    invstd = 1 / np.sqrt(var + input.dtype.type(eps))  # (C,)
    x, size = _per_channel(input)
    xhat = np.empty_like(x)
    y = xhat if weight is None and bias is None else np.empty_like(x)

    def chunk(start, stop):
        part, out = xhat[start:stop], y[start:stop]
        np.subtract(x[start:stop], mean[:, None], out=part)
        part *= invstd[:, None]
        if weight is not None:
            np.multiply(part, weight[:, None], out=out)
        if bias is not None:
            np.add(part if weight is None else out, bias[:, None], out=out)

    _threads.map_chunks(chunk, x.shape[0], size)
    return y.reshape(input.shape), xhat.reshape(input.shape), invstd


def _channel_affine(xhat, weight, bias):
    _, shape = _batch_norm_axes(xhat)
    y = xhat if weight is None else xhat * weight.reshape(shape)
    return y if bias is None else y + bias.reshape(shape)


def _batch_norm_backward(grad, xhat, invstd, weight, batch_stats):
    """The gradients of _batch_norm_forward: dx, and the (C,) sums of dy * xhat and of dy (the weight's
    and the bias's gradients).

    With batch statistics the mean and variance depend on every x of the channel, hence
    dx = (1/n) weight invstd (n dy - sum(dy) - xhat sum(dy xhat)); with running statistics
    dx = weight invstd dy. Each pass (the sums, then dx) runs a chunk of images at a time."""
    dy, size = _per_channel(grad)
    xhat = xhat.reshape(dy.shape)
    n, c, s = dy.shape
    parts = _threads.map_chunks(lambda a, b: (_channel_sum(dy[a:b]), _channel_dot(dy[a:b], xhat[a:b])), n, size)
    sum_dy = _summed([part[0] for part in parts], (c,), dy.dtype)
    sum_dy_xhat = _summed([part[1] for part in parts], (c,), dy.dtype)
    scale = invstd if weight is None else invstd * weight  # (C,)
    count = max(n * s, 1)  # an empty batch: every sum is 0 and dx empty
    dx = np.empty_like(dy)

    def chunk(start, stop):
        out = dx[start:stop]
        if batch_stats:
            np.multiply(xhat[start:stop], (sum_dy_xhat / -count)[:, None], out=out)
            out += dy[start:stop]
            out -= (sum_dy / count)[:, None]
            out *= scale[:, None]
        else:
            np.multiply(dy[start:stop], scale[:, None], out=out)

    _threads.map_chunks(chunk, n, size)
    return dx.reshape(grad.shape), sum_dy_xhat, sum_dy


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    _check_input(input, "batch_norm")
    return _batch_norm_forward(input, running_mean, running_var, weight, bias, training, momentum, eps)[0]


def channel_dropout_shape(shape):
    """One mask entry per (sample, channel), broadcast over the rest: (N, C, 1, 1).

    A 3-d input is read as torch reads it, (N, C, L), so its mask is (N, C, 1)."""
    return tuple(shape[:2]) + (1,) * (len(shape) - 2)


def dropout2d(input, p=0.5, training=True, rng=None, mask=None):
    _check_input(input, "dropout2d")
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: input: expected a 3-d or 4-d array, got shape {input.shape}")
    if training and p != 0 and mask is None:
        mask = dropout_mask(channel_dropout_shape(input.shape), p, rng, input.dtype)
    return dropout(input, p, training, mask=mask)


# Convolutions: im2col and one GEMM per group. Every window's values become one column of the column
# matrix (g, C/g*kH*kW, windows), so that weight @ columns, (g, O/g, windows), is the output with channels
# first, one cheap transpose away from (N, O, Ho, Wo). The batch runs in chunks of images, sized to stay in
# cache, on the kernel threads (_threads). Conv1d runs as Conv2d on a height-1 view.

class _ConvGeometry:
    """Checked 2-D arguments: stride and dilation per axis, pads ((top, bottom), (left, right))."""

    def __init__(self, stride, pads, dilation, groups):
        self.stride, self.pads, self.dilation, self.groups = stride, pads, dilation, groups

    def extent(self, kernel):
        """The dilated kernel's reach along each axis."""
        return tuple(d * (k - 1) + 1 for d, k in zip(self.dilation, kernel))


def _int_tuple(value, n, name, fn, minimum):
    """An int or a tuple of ``n`` ints, each >= minimum, as an n-tuple."""
    def is_int(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)
    values = (value,) * n if is_int(value) else value
    if not (isinstance(values, (tuple, list)) and len(values) == n and all(map(is_int, values))):
        raise TypeError(f"{fn}: {name}: expected an int or a tuple of {n} ints, got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{fn}: {name}: expected values >= {minimum}, got {value!r}")
    return tuple(int(v) for v in values)


def _conv_padding(padding, kernel, stride, dilation, fn, strings=True):
    """int, tuple, 'valid' or 'same' -> ((before, after), ...) per spatial axis; 'same' puts any odd pad after."""
    n = len(kernel)
    if isinstance(padding, str) and strings:
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{fn}: padding='same' is not supported for strided convolutions, got stride={stride}")
            totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
            return tuple((t // 2, t - t // 2) for t in totals)
        raise ValueError(f"{fn}: padding: expected an int, a tuple of {n} ints, 'valid' or 'same', got {padding!r}")
    return tuple((p, p) for p in _int_tuple(padding, n, "padding", fn, 0))


def _conv_setup(fn, dims, input, weight, bias, stride, padding, dilation, groups, transposed=False):
    """Check a convolution's arguments as torch does; lift 1-d and unbatched input to (N, C, H, W).

    Returns the 4-d input and weight views, the _ConvGeometry and whether the input was unbatched.
    """
    spatial = "L" if dims == 1 else "H, W"
    _check_input(input, fn)
    if input.ndim not in (dims + 1, dims + 2):
        raise ValueError(f"{fn}: input: expected (N, C, {spatial}) or unbatched (C, {spatial}), got shape {input.shape}")
    if not isinstance(weight, np.ndarray) or weight.dtype != input.dtype or weight.ndim != dims + 2:
        raise TypeError(f"{fn}: weight: expected an ndarray of rank {dims + 2} and dtype {input.dtype} "
                        f"(the input's), got {_describe(weight)}")
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{fn}: groups: expected a positive int, got {groups!r}")
    if weight.shape[0] % groups:
        role = "in_channels" if transposed else "out_channels"
        raise ValueError(f"{fn}: groups: expected a divisor of {role} {weight.shape[0]} (weight {weight.shape}), got {groups}")
    in_channels, out_channels = (weight.shape[0], weight.shape[1] * groups) if transposed else \
        (weight.shape[1] * groups, weight.shape[0])
    if input.shape[-dims - 1] != in_channels:
        raise ValueError(f"{fn}: input: expected {in_channels} channels (weight {weight.shape}, groups={groups}) "
                         f"on axis {-dims - 1}, got shape {input.shape}")
    if bias is not None and (not isinstance(bias, np.ndarray) or bias.dtype != input.dtype
                             or bias.shape != (out_channels,)):
        raise TypeError(f"{fn}: bias: expected None or an ndarray of shape ({out_channels},) and dtype {input.dtype}, "
                        f"got {_describe(bias)}")
    kernel = weight.shape[2:]
    stride = _int_tuple(stride, dims, "stride", fn, 1)
    dilation = _int_tuple(dilation, dims, "dilation", fn, 1)
    pads = _conv_padding(padding, kernel, stride, dilation, fn, strings=not transposed)
    x = input if input.ndim == dims + 2 else input[None]
    if dims == 1:  # (N, C, L) -> (N, C, 1, L)
        x, weight = x[:, :, None], weight[:, :, None]
        stride, pads, dilation = (1,) + stride, ((0, 0),) + pads, (1,) + dilation
    geometry = _ConvGeometry(stride, pads, dilation, int(groups))
    padded = tuple(size + before + after for size, (before, after) in zip(x.shape[2:], pads))
    if not transposed and any(p < e for p, e in zip(padded, geometry.extent(weight.shape[2:]))):
        raise ValueError(f"{fn}: input: padded spatial size {padded[2 - dims:]} is smaller than the dilated kernel "
                         f"{geometry.extent(weight.shape[2:])[2 - dims:]} (kernel {kernel}, dilation {dilation[2 - dims:]})")
    return x, weight, geometry, input.ndim == dims + 1


def _conv_lift(array, dims, unbatched):
    """An output-shaped array (or its gradient) as (N, C, H, W), like _conv_setup's input."""
    array = array[None] if unbatched else array
    return array[:, :, None] if dims == 1 else array


def _conv_unlift(array, dims, unbatched):
    array = array[:, :, 0] if dims == 1 else array
    return array[0] if unbatched else array


class _ConvFrame:
    """One convolution's sizes: ``size`` (H, W) is the side that is padded (a convolution's input, a
    transposed convolution's output) and has ``channels``; ``grid`` (Ho, Wo) is the windows on it."""

    def __init__(self, size, kernel, geometry, channels, grid=None):
        (top, bottom), (left, right) = geometry.pads
        self.size, self.kernel, self.geometry, self.groups = tuple(size), tuple(kernel), geometry, geometry.groups
        self.corner = (top, left)
        self.padded = (top + size[0] + bottom, left + size[1] + right)
        natural = tuple((p - e) // s + 1 for p, e, s in zip(self.padded, geometry.extent(kernel), geometry.stride))
        self.grid = natural if grid is None else tuple(grid)
        self.channels_last = _columns_channels_last(channels // geometry.groups, self.grid[1])

    def chunk_size(self, n, values_per_window, itemsize):
        """Images per chunk: a chunk's arrays of ``values_per_window`` values per window fit _threads.CHUNK_BYTES."""
        return _threads.chunk_size(n, values_per_window * math.prod(self.grid) * itemsize)

    def window_slices(self, i, j):
        """The (rows, columns) slices of the padded side that kernel offset (i, j) sees, one per window."""
        (ho, wo), (sh, sw), (dh, dw) = self.grid, self.geometry.stride, self.geometry.dilation
        return slice(i * dh, i * dh + (ho - 1) * sh + 1, sh), slice(j * dw, j * dw + (wo - 1) * sw + 1, sw)


def _columns_channels_last(channels_per_group, grid_width):
    """Whether _im2col reads windows from a channels-last copy (runs of C/g values) rather than a
    channels-first one (runs of Wo values): the longer runs copy faster, since NumPy pays per run."""
    return 2 * channels_per_group >= grid_width


def _im2col(images, frame):
    """(n, C, H, W) -> columns (g, C/g*kH*kW, n*Ho*Wo): one column per window, holding its values in
    _weight_rows's order; a copy, or the transpose of one, from a zero-padded copy of the images."""
    (n, c, h, w), g, (top, left), (ho, wo) = images.shape, frame.groups, frame.corner, frame.grid
    (sh, sw), (dh, dw) = frame.geometry.stride, frame.geometry.dilation
    if frame.channels_last:
        padded = np.zeros((g, n, *frame.padded, c // g), dtype=images.dtype)
        padded[:, :, top:top + h, left:left + w] = images.reshape(n, g, c // g, h, w).transpose(1, 0, 3, 4, 2)
        windows = np.lib.stride_tricks.sliding_window_view(padded, frame.geometry.extent(frame.kernel), axis=(2, 3))
        windows = windows[:, :, :(ho - 1) * sh + 1:sh, :(wo - 1) * sw + 1:sw, :, ::dh, ::dw]  # (g, n, Ho, Wo, C/g, kH, kW)
        return windows.transpose(0, 1, 2, 3, 5, 6, 4).reshape(g, n * ho * wo, -1).transpose(0, 2, 1)
    padded = np.zeros((c, n, *frame.padded), dtype=images.dtype)
    padded[:, :, top:top + h, left:left + w] = images.transpose(1, 0, 2, 3)
    windows = np.lib.stride_tricks.sliding_window_view(padded, frame.geometry.extent(frame.kernel), axis=(2, 3))
    windows = windows[:, :, :(ho - 1) * sh + 1:sh, :(wo - 1) * sw + 1:sw, ::dh, ::dw]  # (C, n, Ho, Wo, kH, kW)
    return windows.transpose(0, 4, 5, 1, 2, 3).reshape(g, -1, n * ho * wo)


def _col2im(columns, frame, out, bias=None):
    """The adjoint of _im2col (channels first): add each column of columns (g, C/g*kH*kW, n*Ho*Wo) back
    onto its window, one kernel offset at a time, into zero padding; out (n, C, H, W) gets the inside
    (plus ``bias``)."""
    (n, c, h, w), (top, left), (kh, kw) = out.shape, frame.corner, frame.kernel
    columns = columns.reshape(c, kh, kw, n, *frame.grid)
    padded = np.zeros((c, n, *frame.padded), dtype=columns.dtype)
    for i in range(kh):
        for j in range(kw):
            padded[(..., *frame.window_slices(i, j))] += columns[:, i, j]
    _copy_with_bias(padded[:, :, top:top + h, left:left + w].transpose(1, 0, 2, 3), out, bias)


def _copy_with_bias(values, out, bias):
    """out (n, C, H, W) = values, plus ``bias`` (C,) per channel."""
    if bias is None:
        np.copyto(out, values)
    else:
        np.add(values, bias[:, None, None], out=out)


def _grid_rows(grid, groups):
    """(n, C, Ho, Wo) -> (g, C/g, n*Ho*Wo), channels first: a convolution's output (gradient) as GEMM rows."""
    c = grid.shape[1]
    return np.ascontiguousarray(grid.transpose(1, 0, 2, 3)).reshape(groups, c // groups, grid.size // c)


def _rows_to_grid(rows, out, bias=None):
    """The inverse of _grid_rows: rows (g, C/g, n*Ho*Wo) -> out (n, C, Ho, Wo) (plus ``bias``)."""
    n, c, ho, wo = out.shape
    _copy_with_bias(rows.reshape(c, n, ho, wo).transpose(1, 0, 2, 3), out, bias)


def _weight_rows(weight, groups, channels_last):
    """(O, C/g, kH, kW) -> (g, O/g, C/g*kH*kW), in the order of _im2col's columns. A transposed
    convolution's weight (C_in, C_out/g, kH, kW) is the weight of the convolution it is the adjoint of."""
    weight = weight.transpose(0, 2, 3, 1) if channels_last else weight  # (O, kH, kW, C/g)
    return weight.reshape(groups, weight.shape[0] // groups, -1)


def _weight_from_rows(rows, shape, channels_last):
    """The inverse of _weight_rows: rows (g, O/g, C/g*kH*kW) -> a weight (gradient) of ``shape`` (O, C/g, kH, kW)."""
    if not channels_last:
        return rows.reshape(shape)
    o, cg, kh, kw = shape
    return np.ascontiguousarray(rows.reshape(o, kh, kw, cg).transpose(0, 3, 1, 2))


def _conv_chunk(images, frame, weight_rows, out, bias=None):
    """One chunk of a convolution: images (n, C, H, W) -> out (n, O, Ho, Wo) = weight @ im2col(images),
    one GEMM per group; returns the columns, which the weight gradient needs."""
    columns = _im2col(images, frame)  # (g, C/g*kH*kW, n*Ho*Wo)
    _rows_to_grid(weight_rows @ columns, out, bias)  # (g, O/g, n*Ho*Wo) -> (n, O, Ho, Wo)
    return columns


def _gather(frame, weight):
    """A stride-1 convolution's input gradient as a convolution of its output gradient, or None.

    With stride 1, dx is the convolution of dy, padded by the kernel's reach minus the forward padding,
    with the weight flipped in space and its in and out channels swapped (per group): im2col copies
    replace col2im's kH*kW passes of adds, a saving while dy has at most twice as many channels as dx.
    Returns the gather convolution's frame and weight rows."""
    geometry, (o, cg) = frame.geometry, weight.shape[:2]
    g, extent = geometry.groups, geometry.extent(frame.kernel)
    if geometry.stride != (1, 1) or o > 2 * cg * g or any(p > e - 1 for pads, e in zip(geometry.pads, extent) for p in pads):
        return None
    pads = tuple((e - 1 - before, e - 1 - after) for (before, after), e in zip(geometry.pads, extent))
    flipped = weight[:, :, ::-1, ::-1].reshape(g, o // g, cg, *frame.kernel).transpose(0, 2, 1, 3, 4)
    gather = _ConvFrame(frame.grid, frame.kernel, _ConvGeometry((1, 1), pads, geometry.dilation, g), o)
    return gather, _weight_rows(flipped.reshape(g * cg, o // g, *frame.kernel), g, gather.channels_last)


def _conv2d_forward(x, weight, bias, geometry):
    """x (N, C, H, W) -> y (N, O, Ho, Wo), and what backward needs: the frame, the chunk size and each
    chunk's columns. The batch runs in chunks of images, on the kernel threads."""
    (n, c), o = x.shape[:2], weight.shape[0]
    frame = _ConvFrame(x.shape[2:], weight.shape[2:], geometry, c)
    weight_rows = _weight_rows(weight, geometry.groups, frame.channels_last)  # (g, O/g, C/g*kH*kW)
    y = np.empty((n, o, *frame.grid), dtype=x.dtype)
    size = frame.chunk_size(n, c * math.prod(frame.kernel) + o, x.itemsize)
    columns = _threads.map_chunks(lambda a, b: _conv_chunk(x[a:b], frame, weight_rows, y[a:b], bias), n, size)
    return y, (frame, size, columns)


def _conv2d_backward(grad, weight, saved, input_shape):
    """grad (N, O, Ho, Wo) of _conv2d_forward's y -> dx (N, C, H, W), dweight (O, C/g, kH, kW), dbias (O,).
    Per chunk: dweight += dy @ columns^T, and dx = col2im(weight^T @ dy) or the gather convolution."""
    frame, size, columns = saved
    g, gather = frame.groups, _gather(frame, weight)
    scatter_rows = _weight_rows(weight, g, channels_last=False).transpose(0, 2, 1)  # (g, C/g*kH*kW, O/g)
    dx = np.empty(input_shape, dtype=grad.dtype)

    def chunk(start, stop):
        dy_rows = _grid_rows(grad[start:stop], g)  # (g, O/g, n*Ho*Wo)
        if gather is None:
            _col2im(scatter_rows @ dy_rows, frame, dx[start:stop])
        else:
            _conv_chunk(grad[start:stop], *gather, dx[start:stop])
        return dy_rows @ columns[start // size].transpose(0, 2, 1), dy_rows.sum(axis=2)  # (g, O/g, C/g*kH*kW), (g, O/g)

    parts = _threads.map_chunks(chunk, grad.shape[0], size)
    dweight = _summed([p[0] for p in parts], (g, weight.shape[0] // g, math.prod(weight.shape[1:])), grad.dtype)
    return (dx, _weight_from_rows(dweight, weight.shape, frame.channels_last),
            _summed([p[1] for p in parts], (grad.shape[1],), grad.dtype))


def _transposed_output_size(in_hw, kernel, geometry, output_padding):
    """torch's (H - 1) s - 2p + d (k - 1) + output_padding + 1."""
    return tuple((i - 1) * s - before - after + e + op for i, s, (before, after), e, op
                 in zip(in_hw, geometry.stride, geometry.pads, geometry.extent(kernel), output_padding))


def _checked_transposed_output_size(in_hw, kernel, geometry, output_padding, fn):
    if any(op >= s and op >= d for op, s, d in zip(output_padding, geometry.stride, geometry.dilation)):
        raise ValueError(f"{fn}: output_padding: expected values smaller than the stride {geometry.stride} "
                         f"or the dilation {geometry.dilation}, got {output_padding}")
    size = _transposed_output_size(in_hw, kernel, geometry, output_padding)
    if min(size) < 1:
        raise ValueError(f"{fn}: input: spatial size {tuple(in_hw)} gives output size {size} (padding "
                         f"{geometry.pads}), which is too small")
    return size


def _conv_transpose2d_forward(x, weight, bias, geometry, output_padding, fn="conv_transpose2d"):
    """x (N, C_in, H, W) -> y (N, C_out, Ho, Wo): the input gradient of the convolution it is the adjoint
    of, y = col2im(weight^T @ x); and what backward needs: the frame, the chunk size, each chunk's x rows."""
    size = _checked_transposed_output_size(x.shape[2:], weight.shape[2:], geometry, output_padding, fn)
    (n, c_in), g = x.shape[:2], geometry.groups
    c_out = weight.shape[1] * g
    frame = _ConvFrame(size, weight.shape[2:], geometry, c_out, grid=x.shape[2:])
    scatter_rows = _weight_rows(weight, g, channels_last=False).transpose(0, 2, 1)  # (g, C_out/g*kH*kW, C_in/g)
    y = np.empty((n, c_out, *size), dtype=x.dtype)

    def chunk(start, stop):
        x_rows = _grid_rows(x[start:stop], g)  # (g, C_in/g, n*H*W)
        _col2im(scatter_rows @ x_rows, frame, y[start:stop], bias)
        return x_rows

    chunk_size = frame.chunk_size(n, c_out * math.prod(frame.kernel) + c_in, x.itemsize)
    return y, (frame, chunk_size, _threads.map_chunks(chunk, n, chunk_size))


def _conv_transpose2d_backward(grad, weight, saved, input_shape):
    """grad (N, C_out, Ho, Wo) of _conv_transpose2d_forward's y -> dx (N, C_in, H, W), dweight, dbias:
    dx is the forward pass of the convolution it is the adjoint of, weight @ im2col(grad)."""
    frame, size, x_rows = saved
    weight_rows = _weight_rows(weight, frame.groups, frame.channels_last)  # (g, C_in/g, C_out/g*kH*kW)
    dx = np.empty(input_shape, dtype=grad.dtype)

    def chunk(start, stop):
        columns = _conv_chunk(grad[start:stop], frame, weight_rows, dx[start:stop])  # (g, C_out/g*kH*kW, n*H*W)
        return x_rows[start // size] @ columns.transpose(0, 2, 1), _channel_sum(grad[start:stop])

    parts = _threads.map_chunks(chunk, grad.shape[0], size)
    g = frame.groups
    dweight = _summed([p[0] for p in parts], (g, weight.shape[0] // g, math.prod(weight.shape[1:])), grad.dtype)
    return (dx, _weight_from_rows(dweight, weight.shape, frame.channels_last),
            _summed([p[1] for p in parts], (grad.shape[1],), grad.dtype))


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    x, weight, geometry, unbatched = _conv_setup("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)
    return _conv_unlift(_conv2d_forward(x, weight, bias, geometry)[0], 1, unbatched)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    x, weight, geometry, unbatched = _conv_setup("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)
    return _conv_unlift(_conv2d_forward(x, weight, bias, geometry)[0], 2, unbatched)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    fn = "conv_transpose2d"
    x, weight, geometry, unbatched = _conv_setup(fn, 2, input, weight, bias, stride, padding, dilation, groups,
                                                 transposed=True)
    output_padding = _int_tuple(output_padding, 2, "output_padding", fn, 0)
    return _conv_unlift(_conv_transpose2d_forward(x, weight, bias, geometry, output_padding, fn)[0], 2, unbatched)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0):
    """Rows of ``weight`` (num_embeddings, dim) picked by integer ``input`` (*) -> (*, dim).

    With ``max_norm``, the looked-up rows whose ``norm_type``-norm exceeds it are rescaled
    in place first, as torch's embedding_renorm_ does (padding_idx only matters for the gradient).
    """
    if max_norm is not None:
        rows = np.unique(input)
        norms = np.linalg.norm(weight[rows], ord=norm_type, axis=1)
        too_long = norms > max_norm
        weight[rows[too_long]] *= (max_norm / (norms[too_long] + 1e-7))[:, None].astype(weight.dtype)
    return weight[input]


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    return _layer_norm(input, normalized_shape, weight, bias, eps)[0]


def _layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last len(normalized_shape) axes; returns y and (xhat, invstd) for backward."""
    axes = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    mean = input.mean(axis=axes, keepdims=True)
    centred = input - mean
    invstd = 1 / np.sqrt((centred * centred).mean(axis=axes, keepdims=True) + input.dtype.type(eps))
    xhat = centred * invstd
    y = xhat if weight is None else xhat * weight
    if bias is not None:
        y = y + bias
    return y, (xhat, invstd)
