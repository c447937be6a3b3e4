"""torch.nn.init's initialisers, drawing from an injected numpy Generator.

Each fills a Parameter (or ndarray) in place and returns it, like torch's trailing-
underscore functions. The distributions and bounds are torch's; the random streams
are NumPy's, so parity tests copy weights across rather than seeding both.
"""
import math

import numpy as np

from .module import Parameter


def _array(tensor):
    return tensor.data if isinstance(tensor, Parameter) else tensor


def _generator(rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
    return rng


def calculate_gain(nonlinearity, param=None):
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is not None and (isinstance(param, bool) or not isinstance(param, (int, float))):
            raise ValueError(f"calculate_gain(param): expected a number as negative_slope, got {param!r}")
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"nonlinearity: unsupported value {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(array):
    if array.ndim < 2:
        raise ValueError(f"fan in/out need an array of rank >= 2, got shape {array.shape}")
    receptive_field = math.prod(array.shape[2:])
    return array.shape[1] * receptive_field, array.shape[0] * receptive_field


def _fan(array, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode: expected 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(array)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, rng=None):
    array = _array(tensor)
    array[...] = _generator(rng).uniform(a, b, size=array.shape)
    return tensor


def normal_(tensor, mean=0.0, std=1.0, rng=None):
    array = _array(tensor)
    array[...] = _generator(rng).normal(mean, std, size=array.shape)
    return tensor


def constant_(tensor, val):
    _array(tensor)[...] = val
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain=1.0, rng=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(_array(tensor))
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, rng=rng)


def xavier_normal_(tensor, gain=1.0, rng=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(_array(tensor))
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng=rng)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(_array(tensor), mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, rng=rng)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(_array(tensor), mode))
    return normal_(tensor, 0.0, std, rng=rng)
