"""Upsample (nearest, bilinear) and Unflatten against torch.nn: forward, every gradient, both float
tiers, hypothesis-drawn sizes and scales; finite differences; bad arguments named."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from scratch import nn
from twins.parity import BadInput, assert_bad_input, compare_modules, dtypes, finite_difference_check, seeds

maps = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 6), st.integers(1, 6))


@given(shape=maps, scale=st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))), dtype=dtypes,
       seed=seeds)
def test_nearest_scale_factor_matches_torch(shape, scale, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape).astype(dtype)
    compare_modules(nn.Upsample(scale_factor=scale), torch.nn.Upsample(scale_factor=scale), (x,), rng, "Upsample nearest",
                    reduction=9)


@given(shape=maps, size=st.tuples(st.integers(1, 9), st.integers(1, 9)), mode=st.sampled_from(["nearest", "bilinear"]),
       align_corners=st.booleans(), dtype=dtypes, seed=seeds)
def test_upsample_to_a_size_matches_torch(shape, size, mode, align_corners, dtype, seed):
    """Any output size, larger or smaller: the source pixels and weights are torch's."""
    rng = np.random.default_rng(seed)
    corners = align_corners if mode == "bilinear" else None
    x = rng.normal(size=shape).astype(dtype)
    compare_modules(nn.Upsample(size=size, mode=mode, align_corners=corners),
                    torch.nn.Upsample(size=size, mode=mode, align_corners=corners), (x,), rng, f"Upsample {mode}",
                    reduction=36)


@given(shape=maps, scale=st.sampled_from([1.5, 2, 2.5, 3]), align_corners=st.booleans(), dtype=dtypes, seed=seeds)
def test_bilinear_scale_factor_matches_torch(shape, scale, align_corners, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape).astype(dtype)
    compare_modules(nn.Upsample(scale_factor=scale, mode="bilinear", align_corners=align_corners),
                    torch.nn.Upsample(scale_factor=scale, mode="bilinear", align_corners=align_corners), (x,), rng,
                    "Upsample bilinear", reduction=36)


@given(shape=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 7)), scale=st.integers(1, 3), dtype=dtypes,
       seed=seeds)
def test_nearest_1d_matches_torch(shape, scale, dtype, seed):
    rng = np.random.default_rng(seed)
    compare_modules(nn.Upsample(scale_factor=scale), torch.nn.Upsample(scale_factor=scale),
                    (rng.normal(size=shape).astype(dtype),), rng, "Upsample 1-d")


@given(mode=st.sampled_from(["nearest", "bilinear"]), seed=seeds)
def test_upsample_finite_differences(mode, seed):
    rng = np.random.default_rng(seed)
    layer = nn.Upsample(size=(5, 7), mode=mode, **({"align_corners": False} if mode == "bilinear" else {}))
    finite_difference_check(layer, (rng.normal(size=(2, 2, 3, 4)),), rng)


def test_nearest_moves_nan_and_inf_as_they_are():
    x = np.array([[[[np.inf, np.nan], [1.0, -np.inf]]]])
    expected = torch.nn.Upsample(scale_factor=2)(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(nn.Upsample(scale_factor=2)(x), expected)


@given(lead=st.integers(1, 3), split=st.sampled_from([(2, 3), (3, 2), (1, 6), (2, -1), (-1, 3, 1)]),
       tail=st.integers(1, 3), dtype=dtypes, seed=seeds)
def test_unflatten_matches_torch(lead, split, tail, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(lead, 6, tail)).astype(dtype)
    compare_modules(nn.Unflatten(1, split), torch.nn.Unflatten(1, split), (x,), rng, "Unflatten")
    compare_modules(nn.Unflatten(-2, split), torch.nn.Unflatten(-2, split), (x,), rng, "Unflatten dim -2")


def test_unflatten_then_flatten_is_the_identity():
    x = np.arange(24.0).reshape(2, 12)
    layers = nn.Sequential(nn.Unflatten(1, (3, 2, 2)), nn.Flatten())
    np.testing.assert_array_equal(layers(x), x)
    np.testing.assert_array_equal(layers.backward(x), x)


CASES = [
    BadInput("mode unknown", lambda: nn.Upsample(scale_factor=2, mode="bicubic"), ValueError, "Upsample(mode)",
             r"expected one of \['nearest', 'bilinear'\], got 'bicubic'"),
    BadInput("neither size nor scale", lambda: nn.Upsample(), ValueError, "Upsample(size, scale_factor)",
             "expected exactly one of them"),
    BadInput("both size and scale", lambda: nn.Upsample(size=4, scale_factor=2), ValueError, "Upsample(size, scale_factor)",
             "expected exactly one of them"),
    BadInput("align_corners with nearest", lambda: nn.Upsample(scale_factor=2, align_corners=True), ValueError,
             "Upsample(align_corners)", "expected None for mode 'nearest'"),
    BadInput("scale 0", lambda: nn.Upsample(scale_factor=0)(np.zeros((1, 1, 2, 2))), ValueError, "Upsample(scale_factor)",
             "expected a positive number or 2 of them, got 0"),
    BadInput("size a float", lambda: nn.Upsample(size=2.5)(np.zeros((1, 1, 2, 2))), ValueError, "Upsample(size)",
             "expected a positive int or 2 of them, got 2.5"),
    BadInput("three sizes for a 2-d map", lambda: nn.Upsample(size=(2, 2, 2))(np.zeros((1, 1, 2, 2))), ValueError,
             "Upsample(size)", r"or 2 of them, got \(2, 2, 2\)"),
    BadInput("bilinear on a 1-d map", lambda: nn.Upsample(scale_factor=2, mode="bilinear")(np.zeros((1, 1, 4))), ValueError,
             "Upsample input", r"expected an array of rank 4, got shape \(1, 1, 4\)"),
    BadInput("int pixels", lambda: nn.Upsample(scale_factor=2)(np.zeros((1, 1, 2, 2), np.int64)), TypeError,
             "Upsample input", "expected a float32 or float64 array, got dtype int64"),
    BadInput("scale that leaves no pixel", lambda: nn.Upsample(scale_factor=0.2)(np.zeros((1, 1, 2, 2))), ValueError,
             "Upsample input", "expected an output of at least one pixel"),
    BadInput("unflatten sizes that do not multiply out", lambda: nn.Unflatten(1, (2, 2))(np.zeros((3, 5))), ValueError,
             "Unflatten input", r"expected axis 1 to split into \(2, 2\), got shape \(3, 5\)"),
    BadInput("unflatten dim outside the array", lambda: nn.Unflatten(2, (2, 2))(np.zeros((3, 4))), ValueError,
             "Unflatten(dim)", "expected an axis of an array of rank 2, got 2"),
    BadInput("unflatten two -1", lambda: nn.Unflatten(1, (-1, -1)), ValueError, "Unflatten(unflattened_size)",
             r"at most one -1"),
    BadInput("unflatten size 0", lambda: nn.Unflatten(1, (0, 2)), ValueError, "Unflatten(unflattened_size)",
             r"got \(0, 2\)"),
    BadInput("unflatten dim a float", lambda: nn.Unflatten(1.0, (2, 2)), TypeError, "Unflatten(dim)", "expected an int"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_arguments_are_named(case):
    assert_bad_input(case)
