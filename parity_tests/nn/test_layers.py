"""Linear, activations, Dropout, Flatten and Sequential against torch.nn, in train and eval mode."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from scratch import nn
from twins.parity import compare_dropout_with_shared_mask, compare_modules, dtypes, finite_difference_check, float_arrays, randomise, seeds, torch_dtype

# (scratch constructor, torch constructor) for each element-wise or softmax activation.
ACTIVATIONS = {
    "ReLU": (lambda: nn.ReLU(), lambda: torch.nn.ReLU()),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
    "ELU": (lambda: nn.ELU(alpha=0.7), lambda: torch.nn.ELU(alpha=0.7)),
    "GELU": (lambda: nn.GELU(), lambda: torch.nn.GELU()),
    "GELU-tanh": (lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh")),
    "Sigmoid": (lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid()),
    "Tanh": (lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
    "SiLU": (lambda: nn.SiLU(), lambda: torch.nn.SiLU()),
    "Softplus": (lambda: nn.Softplus(beta=2.0, threshold=3.0), lambda: torch.nn.Softplus(beta=2.0, threshold=3.0)),
    "Softmax": (lambda: nn.Softmax(dim=-1), lambda: torch.nn.Softmax(dim=-1)),
    "LogSoftmax": (lambda: nn.LogSoftmax(dim=1), lambda: torch.nn.LogSoftmax(dim=1)),
}

shapes = st.lists(st.integers(1, 7), min_size=2, max_size=4).map(tuple)


@given(in_features=st.integers(1, 40), out_features=st.integers(1, 40), lead=st.lists(st.integers(1, 5), max_size=3),
       bias=st.booleans(), dtype=dtypes, seed=seeds, training=st.booleans())
def test_linear_matches_torch(in_features, out_features, lead, bias, dtype, seed, training):
    rng = np.random.default_rng(seed)
    layer = randomise(nn.Linear(in_features, out_features, bias=bias, dtype=dtype, rng=rng), rng).train(training)
    twin = torch.nn.Linear(in_features, out_features, bias=bias, dtype=torch_dtype(dtype)).train(training)
    x = rng.normal(size=(*lead, in_features)).astype(dtype)
    compare_modules(layer, twin, (x,), rng, "Linear", reduction=in_features * int(np.prod(lead, initial=1)))


@pytest.mark.parametrize("name", ACTIVATIONS)
@given(shape=shapes, dtype=dtypes, data=st.data(), seed=seeds, training=st.booleans())
def test_activation_matches_torch(name, shape, dtype, data, seed, training):
    make, make_twin = ACTIVATIONS[name]
    x = data.draw(float_arrays(shape, dtype, -6.0, 6.0))
    twin = make_twin().to(torch_dtype(dtype)).train(training)
    compare_modules(make().train(training), twin, (x,), np.random.default_rng(seed), name)


@pytest.mark.parametrize("name", ACTIVATIONS)
@given(shape=shapes, seed=seeds)
def test_activation_finite_differences(name, shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-4, 4, shape)
    x[np.abs(x) < 1e-3] = 0.5  # keep away from ReLU-family kinks, where no derivative exists
    finite_difference_check(ACTIVATIONS[name][0](), (x,), rng)


@given(sizes=st.lists(st.integers(1, 12), min_size=2, max_size=4), batch=st.integers(1, 9), seed=seeds)
def test_linear_stack_finite_differences(sizes, batch, seed):
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out, dtype=np.float64, rng=rng), nn.Tanh()]
    model = randomise(nn.Sequential(*layers), rng)
    finite_difference_check(model, (rng.normal(size=(batch, sizes[0])),), rng)


@given(p=st.sampled_from([0.0, 0.2, 0.5, 0.9]), shape=shapes, dtype=dtypes, seed=seeds, training=st.booleans())
def test_dropout_with_shared_mask_matches_torch(p, shape, dtype, seed, training):
    rng = np.random.default_rng(seed)
    layer = nn.Dropout(p, rng=rng).train(training)
    mask = compare_dropout_with_shared_mask(layer, torch.nn.Dropout, rng.normal(size=shape).astype(dtype), rng)
    if training and p > 0:
        kept = mask != 0
        np.testing.assert_allclose(mask[kept], 1 / (1 - p), rtol=1e-6)
    else:
        assert mask is None


def test_dropout_rate_is_p():
    x = np.ones((200, 500))
    y = nn.Dropout(0.3, rng=np.random.default_rng(0))(x)
    assert abs(np.mean(y == 0) - 0.3) < 0.01
    assert abs(y.mean() - 1.0) < 0.02


@given(shape=st.lists(st.integers(1, 5), min_size=2, max_size=5).map(tuple), data=st.data(), seed=seeds)
def test_flatten_matches_torch(shape, data, seed):
    start = data.draw(st.integers(0, len(shape) - 1))
    end = data.draw(st.integers(start, len(shape) - 1))
    x = np.random.default_rng(seed).normal(size=shape)
    compare_modules(nn.Flatten(start, end), torch.nn.Flatten(start, end), (x,), np.random.default_rng(seed), "Flatten")


@given(dtype=dtypes, seed=seeds, training=st.booleans())
def test_sequential_matches_torch(dtype, seed, training):
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 7, dtype=dtype, rng=rng), nn.GELU(), nn.Identity(),
                          nn.Linear(7, 3, dtype=dtype, rng=rng), nn.LogSoftmax(dim=1))
    twin = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 7), torch.nn.GELU(), torch.nn.Identity(),
                               torch.nn.Linear(7, 3), torch.nn.LogSoftmax(dim=1)).to(torch_dtype(dtype))
    randomise(model, rng).train(training)
    compare_modules(model, twin.train(training), (rng.normal(size=(5, 3, 4)).astype(dtype),), rng, "Sequential", reduction=12)


_math_erf = np.frompyfunc(math.erf, 1, 1)  # the C library's erf, element by element: the oracle


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-15), (np.float32, 5e-7)])
def test_erf_matches_the_c_library_on_a_dense_grid_and_random_points(dtype, rtol):
    """Cody's three ranges and their seams (0.46875 and 4), the tails, subnormals and random points."""
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-30, 30, 600_001), rng.normal(0, 3, 100_000), rng.standard_cauchy(10_000),
                        np.nextafter(0.46875, [-1.0, 1.0]), np.nextafter(4.0, [-1.0, 5.0]), [0.46875, 4.0, -4.0],
                        [5e-324, -1e-300, 1e-20, 27.0, -1e30]]).astype(dtype)
    expected = _math_erf(x.astype(np.float64)).astype(np.float64)
    actual = nn.functional.erf(x)
    assert actual.dtype == dtype and actual.shape == x.shape
    relative = np.abs(actual - expected) / np.maximum(np.abs(expected), np.finfo(dtype).tiny)
    worst = int(np.argmax(relative))
    assert relative[worst] <= rtol, f"erf({x[worst]!r}) = {actual[worst]!r}, math.erf says {expected[worst]!r}"


def test_erf_special_values_and_shapes():
    erf = nn.functional.erf
    out = erf(np.array([np.inf, -np.inf, np.nan, 0.0, -0.0]))
    np.testing.assert_array_equal(out[:2], [1.0, -1.0])
    assert np.isnan(out[2]) and out[3] == 0 and np.signbit(out[4])
    x = np.random.default_rng(1).normal(size=(3, 4, 5)).astype(np.float32).transpose(2, 0, 1)  # not contiguous
    np.testing.assert_allclose(erf(x), _math_erf(x.astype(np.float64)).astype(np.float64), rtol=5e-7)
    assert erf(np.array(0.5)).shape == () and erf(np.array(0.5)) == pytest.approx(math.erf(0.5), rel=1e-15)
