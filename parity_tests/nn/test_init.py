"""scratch.nn.init against torch.nn.init: the same distributions (checked statistically on
large arrays), the same gains, Linear's default init, and reproducibility from an injected rng."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from scratch import nn
from scratch.nn import init
from twins.parity import seeds

NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
                  "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_calculate_gain_equals_torch(nonlinearity):
    assert init.calculate_gain(nonlinearity) == torch.nn.init.calculate_gain(nonlinearity)


@pytest.mark.parametrize("slope", [None, 0, 0.2, 1, 3, math.sqrt(5)])
def test_leaky_relu_gain_equals_torch(slope):
    assert init.calculate_gain("leaky_relu", slope) == torch.nn.init.calculate_gain("leaky_relu", slope)


@pytest.mark.parametrize("nonlinearity, param, message", [
    ("swish", None, "nonlinearity: unsupported value 'swish'"),
    ("leaky_relu", True, r"calculate_gain\(param\): expected a number as negative_slope, got True"),
    ("leaky_relu", "0.2", r"calculate_gain\(param\): .*got '0\.2'"),
])
def test_calculate_gain_refuses_what_torch_refuses(nonlinearity, param, message):
    with pytest.raises(ValueError):
        torch.nn.init.calculate_gain(nonlinearity, param)
    with pytest.raises(ValueError, match=message):
        init.calculate_gain(nonlinearity, param)


# Weight shapes of at least ~20k elements: a standard deviation then has a relative
# sampling error near 0.5%, and a uniform sample reaches within 0.05% of its bounds.
weight_shapes = st.sampled_from([(20000, 1), (200, 100), (1000, 30), (64, 16, 5, 5), (8, 40, 9, 9), (300, 20, 7)])
STD_RTOL = 0.03


def fans(shape):
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def uniform_bound(name, shape, kwargs):
    fan_in, fan_out = fans(shape)
    if name == "uniform_":
        return kwargs["a"], kwargs["b"]
    if name == "xavier_uniform_":
        bound = kwargs.get("gain", 1.0) * math.sqrt(6 / (fan_in + fan_out))
    else:  # kaiming_uniform_
        fan = fan_in if kwargs.get("mode", "fan_in") == "fan_in" else fan_out
        bound = math.sqrt(3) * torch.nn.init.calculate_gain(kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0)) / math.sqrt(fan)
    return -bound, bound


def both(name, shape, kwargs, dtype, seed):
    """The same initialiser applied by scratch (injected rng) and by torch, as float64 arrays."""
    array = np.empty(shape, dtype=dtype)
    out = getattr(init, name)(array, **kwargs, rng=np.random.default_rng(seed))
    assert out is array and array.dtype == dtype
    torch.manual_seed(seed % 2**31)
    tensor = getattr(torch.nn.init, name)(torch.empty(shape, dtype=torch.float64), **kwargs)
    return array.astype(np.float64), tensor.numpy()


uniform_configs = st.one_of(
    st.tuples(st.just("uniform_"), st.tuples(st.floats(-3, 0), st.floats(0.1, 3)).map(lambda ab: {"a": ab[0], "b": ab[0] + ab[1]})),
    st.tuples(st.just("xavier_uniform_"), st.fixed_dictionaries({}, optional={"gain": st.floats(0.1, 3)})),
    st.tuples(st.just("kaiming_uniform_"), st.fixed_dictionaries({}, optional={
        "a": st.sampled_from([0, 0.1, math.sqrt(5)]), "mode": st.sampled_from(["fan_in", "fan_out"]),
        "nonlinearity": st.sampled_from(["relu", "leaky_relu", "tanh", "linear"])})),
)


@settings(max_examples=15)
@given(config=uniform_configs, shape=weight_shapes, dtype=st.sampled_from([np.float32, np.float64]), seed=seeds)
def test_uniform_initialisers_have_torch_bounds_and_spread(config, shape, dtype, seed):
    name, kwargs = config
    ours, theirs = both(name, shape, kwargs, dtype, seed)
    low, high = uniform_bound(name, shape, kwargs)
    width = high - low
    for label, sample in (("scratch", ours), ("torch", theirs)):
        assert sample.min() >= low - 1e-7 * width and sample.max() <= high + 1e-7 * width, f"{label} {name}: outside [{low}, {high}]"
        assert sample.min() < low + 1e-3 * width and sample.max() > high - 1e-3 * width, f"{label} {name}: does not reach its bounds"
    assert abs(ours.std() - theirs.std()) <= STD_RTOL * theirs.std(), f"{name}: std {ours.std()} vs torch {theirs.std()}"
    assert abs(ours.mean() - (low + high) / 2) < 0.02 * width


normal_configs = st.one_of(
    st.tuples(st.just("normal_"), st.fixed_dictionaries({"mean": st.floats(-2, 2), "std": st.floats(0.01, 3)})),
    st.tuples(st.just("xavier_normal_"), st.fixed_dictionaries({}, optional={"gain": st.floats(0.1, 3)})),
    st.tuples(st.just("kaiming_normal_"), st.fixed_dictionaries({}, optional={
        "a": st.sampled_from([0, 0.1, math.sqrt(5)]), "mode": st.sampled_from(["fan_in", "fan_out"]),
        "nonlinearity": st.sampled_from(["relu", "leaky_relu", "tanh", "selu"])})),
)


@settings(max_examples=15)
@given(config=normal_configs, shape=weight_shapes, dtype=st.sampled_from([np.float32, np.float64]), seed=seeds)
def test_normal_initialisers_have_torch_mean_and_std(config, shape, dtype, seed):
    name, kwargs = config
    ours, theirs = both(name, shape, kwargs, dtype, seed)
    fan_in, fan_out = fans(shape)
    if name == "normal_":
        mean, std = kwargs["mean"], kwargs["std"]
    elif name == "xavier_normal_":
        mean, std = 0.0, kwargs.get("gain", 1.0) * math.sqrt(2 / (fan_in + fan_out))
    else:
        fan = fan_in if kwargs.get("mode", "fan_in") == "fan_in" else fan_out
        mean, std = 0.0, torch.nn.init.calculate_gain(kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0)) / math.sqrt(fan)
    for label, sample in (("scratch", ours), ("torch", theirs)):
        assert abs(sample.std() - std) <= STD_RTOL * std, f"{label} {name}: std {sample.std()} vs {std}"
        assert abs(sample.mean() - mean) <= 0.05 * std, f"{label} {name}: mean {sample.mean()} vs {mean}"


def test_constant_initialisers_fill_parameters_in_place():
    param = nn.Parameter(np.empty((3, 4), dtype=np.float32))
    assert init.constant_(param, 0.5) is param and np.all(param.data == 0.5) and param.dtype == np.float32
    assert np.all(init.zeros_(param).data == 0) and np.all(init.ones_(param).data == 1)


@pytest.mark.parametrize("call, error, message", [
    (lambda: init.uniform_(np.empty(3)), TypeError, "rng: expected a numpy.random.Generator, got NoneType"),
    (lambda: init.normal_(np.empty(3), rng=np.random.RandomState(0)), TypeError, "rng: .*got RandomState"),
    (lambda: init.xavier_uniform_(np.empty(5), rng=np.random.default_rng()), ValueError, r"rank >= 2, got shape \(5,\)"),
    (lambda: init.kaiming_normal_(np.empty((2, 2)), mode="fan", rng=np.random.default_rng()), ValueError, "mode: expected 'fan_in' or 'fan_out', got 'fan'"),
])
def test_init_refuses_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


@settings(max_examples=10)
@given(in_features=st.sampled_from([1, 3, 17, 100, 300]), dtype=st.sampled_from([np.float32, np.float64]), seed=seeds)
def test_linear_default_init_matches_torch_reset_parameters(in_features, dtype, seed):
    out_features = 20000 // in_features + 8000  # enough weights and biases for the statistics
    layer = nn.Linear(in_features, out_features, dtype=dtype, rng=np.random.default_rng(seed))
    torch.manual_seed(seed % 2**31)
    twin = torch.nn.Linear(in_features, out_features, dtype=torch.float64)
    bound = 1 / math.sqrt(in_features)
    for name in ("weight", "bias"):
        ours, theirs = getattr(layer, name).data, getattr(twin, name).detach().numpy()
        assert ours.dtype == dtype and ours.shape == theirs.shape
        assert np.abs(ours).max() <= bound * (1 + 1e-7), f"{name} outside +-1/sqrt(in_features)"
        assert np.abs(ours).max() > 0.99 * bound, f"{name} does not reach +-1/sqrt(in_features)"
        assert abs(ours.var() - bound**2 / 3) <= 2 * STD_RTOL * bound**2 / 3, f"{name}: variance {ours.var()} vs {bound**2 / 3}"
        assert abs(ours.var() - theirs.var()) <= 2 * STD_RTOL * theirs.var(), f"{name}: variance {ours.var()} vs torch {theirs.var()}"


@given(sizes=st.lists(st.integers(1, 20), min_size=2, max_size=4), bias=st.booleans(), seed=seeds)
def test_same_seed_same_weights(sizes, bias, seed):
    def build(rng):
        return nn.Sequential(*[nn.Linear(a, b, bias=bias, rng=rng) for a, b in zip(sizes, sizes[1:])])

    first, second = build(np.random.default_rng(seed)), build(np.random.default_rng(seed))
    for (name, a), (_, b) in zip(first.state_dict().items(), second.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    other = build(np.random.default_rng(seed + 1))
    assert any(not np.array_equal(a, b) for a, b in zip(first.state_dict().values(), other.state_dict().values()))


@pytest.mark.parametrize("rng", [0, np.random.RandomState(0), "seed"], ids=["int", "RandomState", "str"])
def test_linear_rng_must_be_a_generator(rng):
    with pytest.raises(TypeError, match=f"rng: expected a numpy.random.Generator, got {type(rng).__name__}"):
        nn.Linear(3, 2, rng=rng)
