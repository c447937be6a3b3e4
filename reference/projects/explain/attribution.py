"""Gradient attributions, the reference: Captum's Saliency, InputXGradient, IntegratedGradients
and NoiseTunnel on the torch twin, under the scratch classes' names and arguments, NumPy in and
out. Twin of scratch/projects/explain/attribution.py. Captum draws SmoothGrad's noise from torch's
global generator (seed it to repeat a run); ``noise`` is accepted for the signature's sake only.
"""
import numpy as np
import torch
from captum import attr


def _tensor(array):
    return torch.from_numpy(np.ascontiguousarray(array))


def _target(target):
    return target if target is None or np.ndim(target) == 0 else _tensor(np.asarray(target))


class _Captum:
    method = None

    def __init__(self, forward_func):
        self.forward_func = forward_func
        self._captum = self.method(forward_func)

    def attribute(self, inputs, target=None, **kwargs):
        if "baselines" in kwargs and isinstance(kwargs["baselines"], np.ndarray):
            kwargs["baselines"] = _tensor(kwargs["baselines"])
        out = self._captum.attribute(_tensor(inputs), target=_target(target), **kwargs)
        if isinstance(out, tuple):
            return tuple(o.detach().numpy() for o in out)
        return out.detach().numpy()


class Saliency(_Captum):
    method = attr.Saliency


class InputXGradient(_Captum):
    method = attr.InputXGradient


class IntegratedGradients(_Captum):
    method = attr.IntegratedGradients


class NoiseTunnel:
    def __init__(self, attribution_method):
        self.attribution_method = attribution_method
        self._captum = attr.NoiseTunnel(attribution_method._captum)

    def attribute(self, inputs, nt_type="smoothgrad", nt_samples=5, stdevs=1.0, noise=None, rng=None, **kwargs):
        if "target" in kwargs:
            kwargs["target"] = _target(kwargs["target"])
        return self._captum.attribute(_tensor(inputs), nt_type=nt_type, nt_samples=nt_samples, stdevs=stdevs,
                                      **kwargs).detach().numpy()
