"""MaxPool2d, AvgPool2d and AdaptiveAvgPool2d against torch.nn: output sizes, indices, ties, gradients."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import assume, event, example, given
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from scratch import nn
from scratch.nn import _threads
from scratch.nn import functional as F
from twins.parity import compare_modules, dtypes, finite_difference_check, seeds


def _int_or_pair(draw, pair):
    return pair[0] if pair[0] == pair[1] and draw(st.booleans()) else pair


@st.composite
def pool_configs(draw, dilation=True, empty_windows=False, slack=7, near_empty=False):
    """Constructor arguments of a 2-d pooling and an input shape it accepts (no batch dim or N of 1..3),
    each size at most ``slack`` above the smallest. A dilated window can lie wholly in the padding: such
    configs are drawn only with ``empty_windows`` (torch's max-pool backward writes out of bounds on them,
    and an abort kills the whole run), judged by ``window_counts``, not by the code under test.
    ``near_empty`` draws only what an empty window needs: kernel >= 2, padding >= 1, dilation >= 2."""
    low = 2 if near_empty else 1
    kernel = (draw(st.integers(low, 4)), draw(st.integers(low, 4)))
    stride = draw(st.none() | st.tuples(st.integers(1, 4), st.integers(1, 4)))
    padding = tuple(draw(st.integers(low - 1, k // 2)) for k in kernel)
    dilations = (draw(st.integers(low, 3)), draw(st.integers(low, 3))) if dilation else (1, 1)
    # smallest input with at least one window: H + 2p >= d (k - 1) + 1
    size = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), d * (k - 1) + 1 + slack))
                 for k, p, d in zip(kernel, padding, dilations))
    args = {"kernel_size": _int_or_pair(draw, kernel), "stride": stride if stride is None else _int_or_pair(draw, stride),
            "padding": _int_or_pair(draw, padding), "ceil_mode": draw(st.booleans())}
    if dilation:
        args["dilation"] = _int_or_pair(draw, dilations)
    assume(empty_windows or window_counts(args, size).all())
    batch = draw(st.sampled_from([(), (1,), (2,), (3,)]))
    return args, batch + (draw(st.integers(1, 3)),) + size


def window_counts(args, size):
    """How many input positions each pooling window holds: (oH, oW). Each dilated window slides over a
    0/1 map of the input laid in its padding (and ceil mode's overhang), so this leans on nothing in
    scratch; the output size is torch's documented formula, ceil mode dropping a window that starts
    past the input and the right padding."""
    kernel, padding = (np.broadcast_to(args[name], 2) for name in ("kernel_size", "padding"))
    stride = kernel if args.get("stride") is None else np.broadcast_to(args["stride"], 2)
    dilation = np.broadcast_to(args.get("dilation", 1), 2)
    reach, ceil = dilation * (kernel - 1) + 1, args["ceil_mode"]
    out = (np.asarray(size) + 2 * padding - reach + (stride - 1) * ceil) // stride + 1
    out -= ceil & ((out - 1) * stride >= np.asarray(size) + padding)
    after = np.maximum(0, (out - 1) * stride + reach - padding - size)  # zeros past the input, for the last window
    plane = np.pad(np.ones(size, np.int64), tuple(zip(padding, after)))
    windows = sliding_window_view(plane, tuple(reach))[::stride[0], ::stride[1], ::dilation[0], ::dilation[1]]
    return windows[:out[0], :out[1]].sum(axis=(2, 3))  # (oH, oW, kH, kW) -> (oH, oW)


@given(config=pool_configs(), return_indices=st.booleans(), ties=st.booleans(), dtype=dtypes, seed=seeds)
def test_max_pool_matches_torch(config, return_indices, ties, dtype, seed):
    """Small integers make ties: the gradient (and index) must go to the first maximum, as torch's."""
    args, shape = config
    rng = np.random.default_rng(seed)
    x = (rng.integers(-2, 3, shape) if ties else rng.normal(size=shape)).astype(dtype)
    out = compare_modules(nn.MaxPool2d(**args, return_indices=return_indices),
                          torch.nn.MaxPool2d(**args, return_indices=return_indices), (x,), rng, f"MaxPool2d{args}")
    functional = F.max_pool2d(x, **args, return_indices=return_indices)
    for ours, module_out in zip(*((functional, out) if return_indices else ((functional,), (out,)))):
        np.testing.assert_array_equal(ours, module_out)
    if return_indices:
        assert out[1].dtype == np.int64
        assert 0 <= out[1].min() and out[1].max() < shape[-2] * shape[-1], "an index outside the input plane"


@example(config=({"kernel_size": (2, 1), "stride": 1, "padding": (1, 0), "dilation": (3, 1), "ceil_mode": False},
                 (1, 1, 2, 5)))  # the config: rows -1 and 2 of a 2-row input
@given(config=pool_configs(empty_windows=True, slack=2) | pool_configs(empty_windows=True, slack=1, near_empty=True))
def test_max_pool_refuses_exactly_the_configs_with_an_empty_window(config):
    """Refused if and only if some window holds no input position (counted by sliding windows over the
    input's map); never handed to torch."""
    args, shape = config
    empty = not window_counts(args, shape[-2:]).all()
    event("an empty window" if empty else "every window holds input")
    x = np.zeros(shape)
    for pool in (lambda: F.max_pool2d(x, **args, return_indices=True), lambda: nn.MaxPool2d(**args)(x)):
        if empty:
            with pytest.raises(ValueError, match=r"padding, dilation: expected every window to hold at least one input "
                                                 r"position, got kernel_size=.* none in \[0, \d+\)$"):
                pool()
        else:
            pool()


@given(config=pool_configs(dilation=False, empty_windows=True, slack=2))
def test_avg_pool_windows_are_never_empty(config):
    """Without dilation, torch's padding <= kernel_size / 2 leaves no window in the padding alone (ceil mode's
    last window starts inside the input or the left padding), so AvgPool2d never divides by an empty count."""
    args, shape = config
    assert window_counts(args, shape[-2:]).min() >= 1
    for count_include_pad in (True, False):
        assert np.isfinite(nn.AvgPool2d(**args, count_include_pad=count_include_pad)(np.ones(shape))).all()


@pytest.mark.parametrize("make", [lambda args: nn.MaxPool2d(**args, return_indices=True),
                                  lambda args: nn.AvgPool2d(**{k: v for k, v in args.items() if k != "dilation"})])
@given(config=pool_configs(), seed=seeds)
def test_chunks_of_one_plane_on_two_threads_give_the_same_values(make, config, seed):
    """Every (H, W) plane is pooled alone, so chunks on the kernel threads change nothing, ties included."""
    args, shape = config
    x = np.random.default_rng(seed).integers(-2, 3, shape).astype(np.float64)
    grad = None
    results = []
    for threads, chunk_bytes in ((1, 1 << 30), (2, 1)):
        layer = make(args)
        with _threads.settings(threads, chunk_bytes):
            out = layer(x)
            values = out if isinstance(out, tuple) else (out,)
            grad = np.random.default_rng(seed).normal(size=values[0].shape) if grad is None else grad
            results.append((*values, layer.backward(grad, None) if len(values) == 2 else layer.backward(grad)))
    for one, chunked in zip(*results):
        np.testing.assert_array_equal(chunked, one)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # the harness subtracts inf - inf
def test_max_pool_all_minus_inf_and_nan_windows_pick_torchs_index():
    """A window of -inf only points at its first position inside the input; NaN wins, the last one."""
    x = np.full((1, 2, 5, 5), -np.inf)
    x[0, 0, 2, 2] = x[0, 0, 2, 3] = np.nan
    x[0, 1, 1, 1] = 1.0
    compare_modules(nn.MaxPool2d(3, 2, 1, return_indices=True), torch.nn.MaxPool2d(3, 2, 1, return_indices=True),
                    (x,), np.random.default_rng(0), "MaxPool2d -inf/NaN")


@given(config=pool_configs(dilation=False), count_include_pad=st.booleans(),
       divisor_override=st.none() | st.integers(1, 5), dtype=dtypes, seed=seeds)
def test_avg_pool_matches_torch(config, count_include_pad, divisor_override, dtype, seed):
    args, shape = config
    args.update(count_include_pad=count_include_pad, divisor_override=divisor_override)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape).astype(dtype)
    kernel = F._pair(args["kernel_size"], "kernel_size", "test")
    out = compare_modules(nn.AvgPool2d(**args), torch.nn.AvgPool2d(**args), (x,), rng, f"AvgPool2d{args}",
                          reduction=kernel[0] * kernel[1])
    np.testing.assert_array_equal(F.avg_pool2d(x, **args), out)


@given(size=st.tuples(st.integers(1, 12), st.integers(1, 12)), data=st.data(),
       batch=st.sampled_from([(), (1,), (2,)]), dtype=dtypes, seed=seeds)
def test_adaptive_avg_pool_matches_torch(size, data, batch, dtype, seed):
    """Windows [floor(i H / out), ceil((i + 1) H / out)) overlap when out does not divide H."""
    out_size = data.draw(st.integers(1, 14) | st.tuples(st.none() | st.integers(1, 14), st.none() | st.integers(1, 14)))
    rng = np.random.default_rng(seed)
    x = rng.normal(size=batch + (2,) + size).astype(dtype)
    out = compare_modules(nn.AdaptiveAvgPool2d(out_size), torch.nn.AdaptiveAvgPool2d(out_size), (x,), rng,
                          f"AdaptiveAvgPool2d({out_size})", reduction=size[0] * size[1])
    np.testing.assert_array_equal(F.adaptive_avg_pool2d(x, out_size), out)


def _distinct_values(rng, shape):
    """Values 0.1 apart in random order: no ties, so max-pool's derivative exists."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1


@given(config=pool_configs(), seed=seeds)
def test_max_pool_finite_differences(config, seed):
    args, shape = config
    rng = np.random.default_rng(seed)
    x = _distinct_values(rng, shape)
    finite_difference_check(nn.MaxPool2d(**args), (x,), rng)


@given(config=pool_configs(dilation=False), count_include_pad=st.booleans(), seed=seeds)
def test_avg_pool_finite_differences(config, count_include_pad, seed):
    args, shape = config
    rng = np.random.default_rng(seed)
    finite_difference_check(nn.AvgPool2d(**args, count_include_pad=count_include_pad), (rng.normal(size=shape),), rng)


@given(size=st.tuples(st.integers(1, 9), st.integers(1, 9)), out=st.tuples(st.integers(1, 9), st.integers(1, 9)),
       seed=seeds)
def test_adaptive_avg_pool_finite_differences(size, out, seed):
    rng = np.random.default_rng(seed)
    finite_difference_check(nn.AdaptiveAvgPool2d(out), (rng.normal(size=(2, 3) + size),), rng)


def test_max_pool_tiled_and_general_backward_match_torch():
    """k2 s2 on an even input takes the tiled backward (no zero fill); odd sizes take the general one."""
    rng = np.random.default_rng(0)
    for shape in [(4, 3, 8, 8), (4, 3, 9, 7)]:
        x = rng.normal(size=shape)
        compare_modules(nn.MaxPool2d(2), torch.nn.MaxPool2d(2), (x,), rng, f"MaxPool2d(2) {shape}")


ERRORS = [  # (scratch module, torch module, input shape, error, message)
    (lambda: nn.MaxPool2d(2, padding=2), lambda: torch.nn.MaxPool2d(2, padding=2), (1, 5, 5), ValueError, "padding"),
    (lambda: nn.AvgPool2d(3, padding=2), lambda: torch.nn.AvgPool2d(3, padding=2), (1, 5, 5), ValueError, "padding"),
    (lambda: nn.MaxPool2d(3, padding=2, dilation=2), lambda: torch.nn.MaxPool2d(3, padding=2, dilation=2), (1, 5, 5),
     ValueError, "padding"),
    (lambda: nn.MaxPool2d(7), lambda: torch.nn.MaxPool2d(7), (1, 5, 5), ValueError, "too small"),
    (lambda: nn.MaxPool2d(2, dilation=5), lambda: torch.nn.MaxPool2d(2, dilation=5), (2, 5, 5), ValueError, "too small"),
    (lambda: nn.MaxPool2d(2), lambda: torch.nn.MaxPool2d(2), (5, 5), ValueError, "rank"),
    (lambda: nn.AvgPool2d(2), lambda: torch.nn.AvgPool2d(2), (1, 1, 1, 5, 5), ValueError, "rank"),
    (lambda: nn.MaxPool2d(0), lambda: torch.nn.MaxPool2d(0), (1, 5, 5), ValueError, "kernel_size"),
    (lambda: nn.MaxPool2d(2, stride=0), lambda: torch.nn.MaxPool2d(2, stride=0), (1, 5, 5), ValueError, "stride"),
    (lambda: nn.AvgPool2d(2, divisor_override=0), lambda: torch.nn.AvgPool2d(2, divisor_override=0), (1, 4, 4),
     ValueError, "divisor_override"),
    (lambda: nn.AdaptiveAvgPool2d(-1), lambda: torch.nn.AdaptiveAvgPool2d(-1), (1, 4, 4), ValueError, "output_size"),
    (lambda: nn.AdaptiveAvgPool2d(2), lambda: torch.nn.AdaptiveAvgPool2d(2), (1, 0, 4), ValueError, "non-empty"),
]


@pytest.mark.parametrize("make, make_twin, shape, error, match", ERRORS)
def test_bad_arguments_fail_loudly_where_torch_fails(make, make_twin, shape, error, match):
    with pytest.raises(error, match=match):
        make()(np.zeros(shape))
    with pytest.raises((RuntimeError, ValueError)):
        make_twin()(torch.zeros(shape))


def test_type_and_backward_misuse_errors():
    with pytest.raises(TypeError, match="float32 or float64"):
        nn.MaxPool2d(2)(np.zeros((1, 4, 4), dtype=np.int64))
    with pytest.raises(TypeError, match="kernel_size"):
        nn.AvgPool2d((2, 2, 2))(np.zeros((1, 4, 4)))
    with pytest.raises(RuntimeError, match="before forward"):
        nn.MaxPool2d(2).backward(np.zeros((1, 2, 2)))
    pool = nn.MaxPool2d(2, return_indices=True)
    y, indices = pool(np.zeros((1, 4, 4)))
    with pytest.raises(ValueError, match="indices carry no gradient"):
        pool.backward(np.ones_like(y), np.ones_like(indices))
    with pytest.raises(ValueError, match="shape"):
        pool.backward(np.ones((1, 3, 3)), None)


def test_functional_matches_torch_functional():
    x = np.random.default_rng(1).normal(size=(2, 3, 7, 6))
    tx = torch.from_numpy(x)
    np.testing.assert_array_equal(F.max_pool2d(x, 3, 2, 1, 1, True), TF.max_pool2d(tx, 3, 2, 1, 1, True).numpy())
    np.testing.assert_allclose(F.avg_pool2d(x, 3, 2, 1, True, False), TF.avg_pool2d(tx, 3, 2, 1, True, False).numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, (4, None)), TF.adaptive_avg_pool2d(tx, (4, None)).numpy(),
                               rtol=1e-12)
