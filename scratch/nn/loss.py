"""Loss functions: the forward math in functional.py, the backward by hand; twins of torch.nn's losses.

``loss = criterion(input, target)`` gives a 0-d array ('mean', 'sum') or the unreduced
loss ('none'). ``criterion.backward()`` seeds the upstream gradient with 1, as torch's
``loss.backward()``; ``criterion.backward(grad)`` takes one of the loss's shape. Only the
prediction (the first input) gets a gradient; targets are data.
"""
import numpy as np

from . import functional as F
from .module import Module, check_grad, require_forward


class _Loss(Module):
    _reductions = F._REDUCTIONS

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = F._check_reduction(F._legacy_reduction(size_average, reduce, reduction), self._reductions)
        self._saved = None

    def _dloss(self, grad, shape, total):
        """The upstream gradient spread back over the unreduced loss of ``shape``; mean
        divides by the ``total`` that the forward's mean divided by."""
        loss = require_forward(self, self._saved)[-1]
        grad = np.ones_like(loss) if grad is None else check_grad(grad, loss)
        if self.reduction == "none":
            return grad
        if self.reduction != "sum":
            with np.errstate(divide="ignore", invalid="ignore"):
                grad = grad / total
        return np.broadcast_to(grad, shape)

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class _PointwiseLoss(_Loss):
    """A loss of one element of input and target at a time: backward is dloss * d element / d input."""

    def forward(self, input, target):
        loss = self.function(input, target)
        self._saved = (input, target, loss)
        return loss

    def backward(self, grad=None):
        input, target, _ = require_forward(self, self._saved)
        return self.derivative(input, target) * self._dloss(grad, input.shape, self._mean_total(input))

    def _mean_total(self, input):
        return input.size


class MSELoss(_PointwiseLoss):
    def function(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)

    def derivative(self, input, target):
        return 2 * (input - target)


class L1Loss(_PointwiseLoss):
    def function(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)

    def derivative(self, input, target):
        return np.sign(input - target)  # 0 at a tie, as torch


class HuberLoss(_PointwiseLoss):
    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def function(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)

    def derivative(self, input, target):
        delta = input.dtype.type(self.delta)
        return np.clip(input - target, -delta, delta)

    def extra_repr(self):
        return f"{super().extra_repr()}, delta={self.delta}"


class SmoothL1Loss(_PointwiseLoss):
    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def function(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)

    def derivative(self, input, target):
        if self.beta == 0:
            return np.sign(input - target)
        return np.clip((input - target) / input.dtype.type(self.beta), -1, 1)

    def extra_repr(self):
        return f"{super().extra_repr()}, beta={self.beta}"


class BCELoss(_WeightedLoss, _PointwiseLoss):
    def function(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)

    def derivative(self, input, target):
        # torch's guard against 0/0 at saturated probabilities
        dinput = (input - target) / np.maximum((1 - input) * input, input.dtype.type(1e-12))
        return dinput if self.weight is None else dinput * self.weight


class BCEWithLogitsLoss(_WeightedLoss, _PointwiseLoss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(weight, size_average, reduce, reduction)
        self.register_buffer("pos_weight", pos_weight)

    def function(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)

    def derivative(self, input, target):
        log_weight = 1 if self.pos_weight is None else (self.pos_weight - 1) * target + 1
        dinput = (1 - target) - log_weight * F.sigmoid(-input)  # d(-log sigmoid(x))/dx = -sigmoid(-x)
        return dinput if self.weight is None else dinput * self.weight


class KLDivLoss(_PointwiseLoss):
    _reductions = F._REDUCTIONS + ("batchmean",)

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def function(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)

    def derivative(self, input, target):
        return -np.exp(target) if self.log_target else -target

    def _mean_total(self, input):
        return F._kl_div_total(input, self.reduction)


class _ClassLoss(_WeightedLoss):
    """What NLLLoss and CrossEntropyLoss share: the gradient w.r.t. the log-probabilities."""

    label_smoothing = 0.0

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def _dlog_probs(self, log_probs, target, grad):
        """Mirror of F._cross_entropy_terms: (N, C, d1, ...) or (C,) out."""
        dim = F._class_dim(log_probs)
        if target.dtype.kind == "f":
            q = F._soft_target(target, self.weight, self.label_smoothing)
            samples = target.shape[:dim] + target.shape[dim + 1:]  # (N, d1, ...) or ()
            return -q * np.expand_dims(self._dloss(grad, samples, int(np.prod(samples))), dim)
        keep, index, target_weight, class_weight = F._class_index_terms(
            log_probs, target, self.weight, self.ignore_index)
        # (N, d1, ...); 0 where ignored, even when an all-ignored mean divided by 0
        dloss = np.where(keep, self._dloss(grad, target.shape, target_weight.sum()), 0)
        smoothing = log_probs.dtype.type(self.label_smoothing)
        dlog_probs = np.zeros_like(log_probs)
        if self.label_smoothing:
            dspread = np.expand_dims(dloss * (-smoothing / log_probs.shape[dim]), dim)  # (N, 1, d1, ...)
            dlog_probs += dspread if class_weight is None else dspread * class_weight
        dpicked = np.expand_dims(-(1 - smoothing) * target_weight * dloss, dim)
        np.put_along_axis(dlog_probs, index, np.take_along_axis(dlog_probs, index, axis=dim) + dpicked, axis=dim)
        return dlog_probs

    def extra_repr(self):
        return f"{super().extra_repr()}, ignore_index={self.ignore_index}"


class NLLLoss(_ClassLoss):
    def forward(self, input, target):
        loss = F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction)
        self._saved = (input, target, loss)
        return loss

    def backward(self, grad=None):
        input, target, _ = require_forward(self, self._saved)
        return self._dlog_probs(input, target, grad)


class CrossEntropyLoss(_ClassLoss):
    """log_softmax over the class dim (1, or 0 for an unbatched (C,) input), then NLL with label smoothing."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, size_average, ignore_index, reduce, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing: expected a number in [0, 1], got {label_smoothing!r}")
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        loss = F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)
        self._saved = (input, target, loss)
        return loss

    def backward(self, grad=None):
        input, target, _ = require_forward(self, self._saved)
        dim = F._class_dim(input)
        log_probs = F.log_softmax(input, dim)  # recomputed rather than kept: one pass over the logits
        dlog_probs = self._dlog_probs(log_probs, target, grad)
        return dlog_probs - np.exp(log_probs) * dlog_probs.sum(axis=dim, keepdims=True)

    def extra_repr(self):
        return f"{super().extra_repr()}, label_smoothing={self.label_smoothing}"
