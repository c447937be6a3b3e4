"""BatchNorm1d and BatchNorm2d (Ioffe & Szegedy, 2015) with torch's buffers, momentum and modes.

Training normalises with the batch's mean and biased variance and moves the running
statistics towards the batch's mean and *unbiased* variance (``momentum=None``: their
cumulative average over ``num_batches_tracked`` batches); evaluation uses the running
statistics (or the batch's when none are tracked). ``affine=False`` drops weight and bias,
``bias=False`` (keyword-only, as torch 2.14) the bias alone. Twin of torch.nn.BatchNorm1d/2d.
"""
import numpy as np

from ..plumbing import check_bool, check_real
from . import functional as F
from .module import Module, Parameter, check_array, check_grad, check_size, factory_dtype, require_forward


class _BatchNorm(Module):
    _ranks = ()  # the input ranks a subclass accepts

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        name = type(self).__name__
        dtype = factory_dtype(dtype, device)
        num_features = check_size(num_features, f"{name}(num_features)")
        check_real(eps, f"{name}(eps)", low=0.0, expected="a number >= 0")  # kept as given, for torch's repr
        if momentum is not None:
            check_real(momentum, f"{name}(momentum)", 0.0, 1.0, expected="None or a number in [0, 1]")
        affine, bias = check_bool(affine, f"{name}(affine)"), check_bool(bias, f"{name}(bias)")
        track_running_stats = check_bool(track_running_stats, f"{name}(track_running_stats)")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(np.ones(num_features, dtype=dtype)) if affine else None
        self.bias = Parameter(np.zeros(num_features, dtype=dtype)) if affine and bias else None
        tracked = track_running_stats
        self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype) if tracked else None)
        self.register_buffer("running_var", np.ones(num_features, dtype=dtype) if tracked else None)
        self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64) if tracked else None)
        self._dtype = dtype
        self._cache = self._output = None

    def forward(self, input):
        name = type(self).__name__
        check_array(input, f"{name} input", ndim=self._ranks, dtype=self._dtype)
        if input.shape[1] != self.num_features:
            raise ValueError(f"{name} input: expected {self.num_features} channels on axis 1, got shape {input.shape}")
        use_batch_stats = self.training or self.running_mean is None
        if self.training and input.size // input.shape[1] == 1:  # checked before any buffer changes; 0 passes, as in torch
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if self.momentum is None:  # a cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked)
        # as torch: training updates the running statistics only when tracked; eval reads them when present
        running = (self.running_mean, self.running_var) if not self.training or self.track_running_stats else (None, None)
        weight, bias = (None if p is None else p.data for p in (self.weight, self.bias))
        self._output, xhat, invstd = F._batch_norm_forward(input, *running, weight, bias, use_batch_stats,
                                                           momentum, self.eps)
        self._cache = (xhat, invstd, use_batch_stats)
        return self._output

    def backward(self, grad):
        xhat, invstd, use_batch_stats = require_forward(self, self._cache)
        check_grad(grad, self._output)
        weight = None if self.weight is None else self.weight.data
        # dx = (1/n) weight invstd (n dy - sum(dy) - xhat sum(dy xhat)): the batch's mean and variance
        # depend on every x of the channel; with running statistics, dx = weight invstd dy
        dx, sum_dy_xhat, sum_dy = F._batch_norm_backward(grad, xhat, invstd, weight, use_batch_stats)
        if self.weight is not None:
            self.weight.accumulate_grad(sum_dy_xhat, owned=True)
        if self.bias is not None:
            self.bias.accumulate_grad(sum_dy, owned=True)
        return dx

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Input (N, C) or (N, C, L); statistics per channel over N (and L)."""
    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Input (N, C, H, W); statistics per channel over N, H and W."""
    _ranks = (4,)
