"""torch.nn.functional's forward math in NumPy (the modules add the backward passes).

Every function takes and returns ndarrays and never casts: float32 in, float32 out.
"""
import math

import numpy as np

from .module import _describe

_erf = np.frompyfunc(math.erf, 1, 1)  # NumPy has no erf; the C library's, element by element


def linear(input, weight, bias=None):
    y = input @ weight.T  # (*, in) @ (in, out) -> (*, out)
    if bias is not None:
        y += bias
    return y


def relu(input):
    return np.maximum(input, 0)


def leaky_relu(input, negative_slope=0.01):
    return np.where(input > 0, input, input * input.dtype.type(negative_slope))


def elu(input, alpha=1.0):
    return np.where(input > 0, input, input.dtype.type(alpha) * np.expm1(np.minimum(input, 0)))


def erf(input):
    return _erf(input).astype(input.dtype)


def gelu(input, approximate="none"):
    if approximate == "none":
        return 0.5 * input * (1 + erf(input / math.sqrt(2)))
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
    return (rng.random(shape) >= p).astype(dtype) * dtype.type(1 / (1 - p))


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
