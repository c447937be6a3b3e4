"""BatchNorm1d/2d against torch.nn in train and eval mode under every constructor option (affine,
bias, track_running_stats, momentum including None, eps), running statistics step by step; Dropout2d."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st

from scratch import nn
from scratch.nn import _threads
from scratch.nn import functional as F
from twins.parity import (
    assert_close,
    compare_dropout_with_shared_mask,
    compare_modules,
    copy_to_torch,
    dtypes,
    finite_difference_check,
    randomise,
    seeds,
    to_torch,
    tolerance,
    torch_dtype,
)

# name -> (scratch class, torch class, extra axes after (N, C))
KINDS = {
    "BatchNorm1d-NC": (nn.BatchNorm1d, torch.nn.BatchNorm1d, 0),
    "BatchNorm1d-NCL": (nn.BatchNorm1d, torch.nn.BatchNorm1d, 1),
    "BatchNorm2d": (nn.BatchNorm2d, torch.nn.BatchNorm2d, 2),
}
momenta = st.sampled_from([0.1, 0.5, 1.0, None])


@st.composite
def batch_norm_cases(draw):
    """A kind, its constructor arguments and an input shape with more than one value per channel."""
    kind = draw(st.sampled_from(sorted(KINDS)))
    extra = KINDS[kind][2]
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 5))) + tuple(draw(st.integers(1, 4)) for _ in range(extra))
    if np.prod(shape) // shape[1] == 1:
        shape = (2,) + shape[1:]
    args = {"num_features": shape[1], "momentum": draw(momenta), "affine": draw(st.booleans()),
            "track_running_stats": draw(st.booleans()), "eps": draw(st.sampled_from([1e-5, 1e-3])), "bias": draw(st.booleans())}
    return kind, args, shape


def twins(kind, args, dtype, rng):
    make, make_twin, _ = KINDS[kind]
    layer = randomise(make(**args, dtype=dtype), rng)  # random weights and running statistics (var > 0)
    return layer, make_twin(**args, dtype=torch_dtype(dtype))


@given(case=batch_norm_cases(), training=st.booleans(), dtype=dtypes, seed=seeds)
def test_batch_norm_matches_torch(case, training, dtype, seed):
    """Outputs, input and parameter gradients, and the updated running buffers."""
    kind, args, shape = case
    rng = np.random.default_rng(seed)
    layer, twin = twins(kind, args, dtype, rng)
    x = rng.normal(1.0, 2.0, shape).astype(dtype)
    compare_modules(layer.train(training), twin.train(training), (x,), rng, f"{kind}{args}",
                    reduction=x.size // shape[1])


@given(case=batch_norm_cases(), dtype=dtypes, seed=seeds)
def test_consecutive_training_steps_track_torchs_running_statistics(case, dtype, seed):
    """Several training forwards move the running statistics (unbiased variance; momentum None: the
    cumulative mean over num_batches_tracked) exactly as torch's; then eval mode uses them."""
    kind, args, shape = case
    rng = np.random.default_rng(seed)
    layer, twin = twins(kind, args, dtype, rng)
    copy_to_torch(layer, twin)
    rtol, atol = tolerance(dtype, "forward", np.prod(shape) // shape[1])
    for step, training in enumerate([True, True, True, False]):
        layer.train(training), twin.train(training)
        x = rng.normal(size=shape).astype(dtype)
        assert_close(layer(x), twin(to_torch(x)), f"output at step {step}", rtol, atol)
        torch_buffers = dict(twin.named_buffers())
        assert dict(layer.named_buffers()).keys() == torch_buffers.keys()
        for name, buf in layer.named_buffers():
            assert buf.dtype == torch_buffers[name].numpy().dtype, name
            assert_close(buf, torch_buffers[name], f"{name} after step {step}", rtol, atol)


@given(case=batch_norm_cases(), training=st.booleans(), seed=seeds)
def test_chunks_of_one_sample_on_two_threads_change_nothing_but_rounding(case, training, seed):
    """Statistics merged from per-chunk means and squared deviations, and per-chunk gradient sums, on the
    kernel threads, against one chunk on one thread: outputs, gradients and running buffers."""
    kind, args, shape = case
    results = []
    for threads, chunk_bytes in ((1, 1 << 30), (2, 1)):
        rng = np.random.default_rng(seed)
        layer = twins(kind, args, np.float64, rng)[0].train(training)
        x = rng.normal(1.0, 2.0, shape)
        with _threads.settings(threads, chunk_bytes):
            y = layer(x)
            dx = layer.backward(rng.normal(size=shape))
        results.append([y, dx, *(p.grad for p in layer.parameters()), *(b for _, b in layer.named_buffers())])
    for one, chunked in zip(*results):
        np.testing.assert_allclose(chunked, one, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", sorted(KINDS))
@given(training=st.booleans(), affine=st.booleans(), bias=st.booleans(), track=st.booleans(), momentum=momenta, seed=seeds)
def test_batch_norm_finite_differences(kind, training, affine, bias, track, momentum, seed):
    rng = np.random.default_rng(seed)
    extra = KINDS[kind][2]
    args = {"num_features": 3, "affine": affine, "bias": bias, "track_running_stats": track, "momentum": momentum}
    layer, _ = twins(kind, args, np.float64, rng)
    x = rng.normal(size=(4, 3) + (3,) * extra)
    finite_difference_check(layer.train(training), (x,), rng)


@pytest.mark.parametrize("kind", ["BatchNorm1d-NC", "BatchNorm2d"])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("track", [True, False])
def test_state_dict_repr_and_attributes_are_torchs(kind, affine, bias, track):
    make, make_twin, _ = KINDS[kind]
    args = {"affine": affine, "bias": bias, "track_running_stats": track, "momentum": None, "eps": 1e-3}
    layer, twin = make(5, **args), make_twin(5, **args)
    ours, theirs = layer.state_dict(), twin.state_dict()
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        assert ours[key].shape == tuple(value.shape) and ours[key].dtype == value.numpy().dtype, key
        np.testing.assert_array_equal(ours[key], value.numpy())
    assert repr(layer) == repr(twin)
    for name in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
        assert (getattr(layer, name) is None) == (getattr(twin, name) is None), name


@pytest.mark.parametrize("affine", [True, False])
def test_eval_without_running_statistics_normalises_with_the_batch(affine):
    """track_running_stats=False: no buffers, so eval normalises with the batch's statistics, as torch."""
    x = np.random.default_rng(0).normal(3.0, 2.0, (6, 4, 5))
    layer = nn.BatchNorm1d(4, affine=affine, track_running_stats=False, dtype=np.float64).eval()
    y = layer(x)
    expected = (x - x.mean(axis=(0, 2), keepdims=True)) / np.sqrt(x.var(axis=(0, 2), keepdims=True) + 1e-5)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
    assert layer.running_mean is None and not dict(layer.named_buffers())


def test_batch_of_one_value_per_channel_fails_in_training_only():
    layer = nn.BatchNorm2d(3)
    before = layer.state_dict()
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        layer(np.zeros((1, 3, 1, 1), dtype=np.float32))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        torch.nn.BatchNorm2d(3)(torch.zeros(1, 3, 1, 1))
    for key, value in before.items():  # nothing counted or moved by the failed call
        np.testing.assert_array_equal(layer.state_dict()[key], value)
    layer.eval()(np.zeros((1, 3, 1, 1), dtype=np.float32))


@pytest.mark.parametrize("make, shape, error, match", [
    (lambda: nn.BatchNorm2d(3), (2, 4, 2, 2), ValueError, "expected 3 channels"),
    (lambda: nn.BatchNorm1d(3), (2, 4), ValueError, "expected 3 channels"),
    (lambda: nn.BatchNorm2d(3), (2, 3, 4), ValueError, "rank"),
    (lambda: nn.BatchNorm1d(3), (2, 3, 4, 4), ValueError, "rank"),
    (lambda: nn.BatchNorm1d(3, dtype=np.float64), (2, 3), TypeError, "dtype"),
])
def test_bad_input_fails_loudly(make, shape, error, match):
    with pytest.raises(error, match=match):
        make()(np.zeros(shape, dtype=np.float32))


def test_functional_batch_norm_matches_torch_and_updates_buffers_in_place():
    rng = np.random.default_rng(3)
    x, weight, bias = rng.normal(size=(6, 4, 5)), rng.normal(size=4), rng.normal(size=4)
    mean, var = rng.normal(size=4), rng.uniform(0.5, 2, size=4)
    tmean, tvar = torch.from_numpy(mean.copy()), torch.from_numpy(var.copy())
    for training in (True, False):
        y = F.batch_norm(x, mean, var, weight, bias, training, 0.2, 1e-4)
        ty = TF.batch_norm(torch.from_numpy(x), tmean, tvar, torch.from_numpy(weight), torch.from_numpy(bias),
                           training, 0.2, 1e-4)
        for name, ours, theirs in [("y", y, ty), ("running_mean", mean, tmean), ("running_var", var, tvar)]:
            assert_close(ours, theirs, f"{name} (training={training})", 1e-12, 1e-12)


@given(p=st.sampled_from([0.0, 0.2, 0.5, 1.0]), shape=st.tuples(st.integers(1, 4), st.integers(1, 5),
       st.integers(1, 4), st.integers(1, 4)), dtype=dtypes, seed=seeds, training=st.booleans())
def test_dropout2d_with_shared_mask_matches_torch(p, shape, dtype, seed, training):
    rng = np.random.default_rng(seed)
    layer = nn.Dropout2d(p, rng=rng).train(training)
    x = rng.normal(size=shape).astype(dtype)
    mask = compare_dropout_with_shared_mask(layer, torch.nn.Dropout2d, x, rng)
    if training and p > 0:
        assert mask.shape == shape[:2] + (1, 1)
        assert np.all((mask == 0) | np.isclose(mask, 1 / (1 - p) if p < 1 else 0, rtol=1e-6))
        np.testing.assert_array_equal(F.dropout2d(x, p, True, mask=mask), layer(x, mask=mask))
    else:
        assert mask is None


@pytest.mark.parametrize("shape", [(6, 5, 4, 3), (6, 5, 4)])
def test_dropout2d_drops_the_same_blocks_as_torch(shape):
    """torch zeroes whole (n, c) slices; a 3-d input it reads as (N, C, L), so rows of the last axis."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.Dropout2d(0.5)(torch.ones(shape)).numpy()
    with pytest.warns(UserWarning, match=r"\(N, C, L\)") if len(shape) == 3 else warnings.catch_warnings():
        ours = nn.Dropout2d(0.5, rng=np.random.default_rng(0))(np.ones(shape, dtype=np.float32))
    for y in (ours, theirs):
        flat = y.reshape(shape[0] * shape[1], -1)
        assert np.all(flat == flat[:, :1]), "every (n, c) slice is kept or dropped as a whole"
        assert 0 < np.mean(flat[:, 0] == 0) < 1


def test_dropout2d_rate_and_errors():
    y = nn.Dropout2d(0.3, rng=np.random.default_rng(0))(np.ones((100, 100, 2, 2)))
    assert abs(np.mean(y[:, :, 0, 0] == 0) - 0.3) < 0.02
    with pytest.raises(ValueError, match="rank"):
        nn.Dropout2d()(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"mask: expected shape \(2, 3, 1, 1\)"):
        nn.Dropout2d()(np.ones((2, 3, 4, 4)), mask=np.ones((2, 3, 4, 4)))
