"""Conv1d, Conv2d and ConvTranspose2d against torch.nn, by finite differences, and the loop versions;
every kernel path (column layout, col2im or gather, chunks on threads) against the default one."""
import math
from contextlib import ExitStack

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from scratch import nn
from scratch.nn import _threads
from scratch.nn import functional as F
from scratch.nn.conv import conv2d_backward_loops, conv2d_loops
from twins.parity import compare_modules, dtypes, finite_difference_check, randomise, seeds, torch_dtype

# torch warns that asymmetric 'same' padding costs it a padded copy; scratch always pads into a buffer.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")
MODULES = {"Conv1d": (nn.Conv1d, torch.nn.Conv1d, 1), "Conv2d": (nn.Conv2d, torch.nn.Conv2d, 2)}


@st.composite
def conv_configs(draw, dims, transposed=False):
    """Valid constructor arguments and input shape: kernel, stride, padding (int, tuple, 'same',
    'valid'), dilation, groups, bias, batch of 1, odd sizes and no batch dimension."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    kernel = tuple(draw(st.lists(st.integers(1, 4), min_size=dims, max_size=dims)))
    padding = draw(st.sampled_from(["int", "tuple"] + ([] if transposed else ["valid", "same"])))
    stride = (1,) * dims if padding == "same" else tuple(draw(st.lists(st.integers(1, 3), min_size=dims, max_size=dims)))
    dilation = tuple(draw(st.lists(st.integers(1, 3), min_size=dims, max_size=dims)))
    pads = tuple(draw(st.lists(st.integers(0, 3), min_size=dims, max_size=dims)))
    padding = {"int": pads[0], "tuple": pads, "valid": "valid", "same": "same"}[padding]
    extents = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    totals = [0 if isinstance(padding, str) else 2 * (padding if isinstance(padding, int) else padding[i])
              for i in range(dims)]
    low = [1 if transposed else max(1, e - t) for e, t in zip(extents, totals)]
    size = tuple(draw(st.integers(lo, lo + 6)) for lo in low)
    batch = draw(st.sampled_from([None, 1, 2, 3]))
    config = dict(in_channels=groups * draw(st.integers(1, 3)), out_channels=groups * draw(st.integers(1, 3)),
                  kernel_size=kernel if draw(st.booleans()) or len(set(kernel)) > 1 else kernel[0],
                  stride=stride, padding=padding, dilation=dilation, groups=groups, bias=draw(st.booleans()))
    if transposed:
        config["output_padding"] = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
        out = [(i - 1) * s - 2 * p + e + op for i, s, p, e, op in
               zip(size, stride, padding if isinstance(padding, tuple) else (padding,) * dims, extents,
                   config["output_padding"])]
        assume(min(out) >= 1)
    shape = (config["in_channels"], *size) if batch is None else (batch, config["in_channels"], *size)
    return config, shape


def reduction(config, dims, input_shape):
    """The most terms summed into one compared value (forward, input or weight gradient)."""
    window = math.prod(config["kernel_size"]) if isinstance(config["kernel_size"], tuple) \
        else config["kernel_size"] ** dims
    channels = max(config["in_channels"], config["out_channels"]) // config["groups"]
    return max(channels * window, math.prod(input_shape) // config["in_channels"] * window)


@pytest.mark.parametrize("name", MODULES)
@given(data=st.data(), dtype=dtypes, seed=seeds)
def test_conv_matches_torch(name, data, dtype, seed):
    make, make_twin, dims = MODULES[name]
    config, shape = data.draw(conv_configs(dims))
    rng = np.random.default_rng(seed)
    layer = randomise(make(**config, dtype=dtype, rng=rng), rng)
    twin = make_twin(**config, dtype=torch_dtype(dtype))
    x = rng.normal(size=shape).astype(dtype)
    compare_modules(layer, twin, (x,), rng, name, reduction=reduction(config, dims, shape))


@pytest.mark.parametrize("name, config, shape", [
    ("Conv2d", {"kernel_size": 1, "padding": 2}, (2, 2, 3)),  # a 1x1 kernel on the padding ring
    ("Conv2d", {"kernel_size": (2, 1), "padding": (1, 0), "dilation": (3, 1)}, (1, 2, 2, 5)),  # max-pool's empty window
    ("Conv2d", {"kernel_size": 2, "padding": 3, "stride": 2, "dilation": 2}, (2, 2, 1, 2)),
    ("Conv1d", {"kernel_size": 2, "padding": 3, "stride": 2}, (2, 2, 3)),
])
def test_windows_wholly_in_the_zero_padding_give_the_bias(name, config, shape):
    """A window that holds only padding sums zeros: the output there is the bias, and no gradient reaches
    the input through it. torch agrees; unlike max pooling, where such a window has no maximum."""
    make, make_twin, dims = MODULES[name]
    rng = np.random.default_rng(0)
    layer = randomise(make(2, 3, **config, dtype=np.float64, rng=rng), rng)
    twin = make_twin(2, 3, **config, dtype=torch.float64)
    out = compare_modules(layer, twin, (rng.normal(size=shape),), rng, name)
    # a ones input under a ones kernel counts each window's input positions: 0 where it holds only padding
    conv = getattr(torch.nn.functional, f"conv{dims}d")
    arguments = {key: config[key] for key in ("stride", "padding", "dilation") if key in config}
    ones = torch.ones((1, 2) + shape[-dims:], dtype=torch.float64)
    padding_only = (conv(ones, torch.ones(layer.weight.shape, dtype=torch.float64), **arguments)[0, 0] == 0).numpy()
    assert padding_only.any(), "no window lies wholly in the padding"
    there = out.reshape((-1, 3) + padding_only.shape)[:, :, padding_only]  # (N, out_channels, windows)
    np.testing.assert_array_equal(there, np.broadcast_to(layer.bias.data[:, None], there.shape))


@given(data=st.data(), dtype=dtypes, seed=seeds, use_output_size=st.booleans())
def test_conv_transpose2d_matches_torch(data, dtype, seed, use_output_size):
    config, shape = data.draw(conv_configs(2, transposed=True))
    rng = np.random.default_rng(seed)
    layer = randomise(nn.ConvTranspose2d(**config, dtype=dtype, rng=rng), rng)
    twin = torch.nn.ConvTranspose2d(**config, dtype=torch_dtype(dtype))
    kwargs = {}
    if use_output_size:  # torch picks output_padding to reach it; any size up to stride - 1 above the smallest
        smallest = twin(torch.zeros(shape, dtype=torch_dtype(dtype)), output_size=None).shape[-2:]
        extra = [data.draw(st.integers(0, s - 1)) - op for s, op in zip(config["stride"], config["output_padding"])]
        kwargs["output_size"] = [size + e for size, e in zip(smallest, extra)]
        assume(min(kwargs["output_size"]) >= 1)  # torch refuses an empty output, as scratch does
    x = rng.normal(size=shape).astype(dtype)
    compare_modules(layer, twin, (x,), rng, "ConvTranspose2d", reduction=reduction(config, 2, shape),
                    forward_kwargs=kwargs)


@pytest.mark.parametrize("name", [*MODULES, "ConvTranspose2d"])
@settings(max_examples=15)
@given(data=st.data(), seed=seeds)
def test_conv_finite_differences(name, data, seed):
    transposed = name == "ConvTranspose2d"
    make, dims = (nn.ConvTranspose2d, 2) if transposed else (MODULES[name][0], MODULES[name][2])
    config, shape = data.draw(conv_configs(dims, transposed))
    rng = np.random.default_rng(seed)
    layer = randomise(make(**config, dtype=np.float64, rng=rng), rng)
    finite_difference_check(layer, (rng.normal(size=shape),), rng, max_entries=24)


@given(batch=st.integers(1, 3), in_channels=st.integers(1, 3), out_channels=st.integers(1, 3),
       kernel_size=st.integers(1, 4), stride=st.integers(1, 3), padding=st.integers(0, 2),
       height=st.integers(4, 9), width=st.integers(4, 9), bias=st.booleans(), dtype=dtypes, seed=seeds)
def test_loop_convolution_equals_fast_conv2d(batch, in_channels, out_channels, kernel_size, stride, padding,
                                             height, width, bias, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, in_channels, height, width)).astype(dtype)
    weight = rng.normal(size=(out_channels, in_channels, kernel_size, kernel_size)).astype(dtype)
    b = rng.normal(size=out_channels).astype(dtype) if bias else None
    slow = conv2d_loops(x, weight, b, stride, padding)
    assert slow.dtype == dtype
    rtol, atol = (1e-12, 1e-12) if dtype == np.float64 else (1e-5, 1e-5)
    np.testing.assert_allclose(slow, F.conv2d(x, weight, b, stride, padding), rtol=rtol, atol=atol)


@given(batch=st.integers(1, 3), in_channels=st.integers(1, 3), out_channels=st.integers(1, 3),
       kernel_size=st.integers(1, 4), stride=st.integers(1, 3), padding=st.integers(0, 2),
       height=st.integers(4, 9), width=st.integers(4, 9), seed=seeds)
def test_loop_backward_equals_fast_backward(batch, in_channels, out_channels, kernel_size, stride, padding,
                                            height, width, seed):
    rng = np.random.default_rng(seed)
    layer = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dtype=np.float64, rng=rng)
    x = rng.normal(size=(batch, in_channels, height, width))
    grad = rng.normal(size=layer(x).shape)
    dx = layer.backward(grad)
    for fast, slow in zip((dx, layer.weight.grad, layer.bias.grad),
                          conv2d_backward_loops(x, layer.weight.data, grad, stride, padding)):
        np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)


def _kernel_path(name):
    """A context that sends every convolution down one kernel path (see functional's convolution section)."""
    stack = ExitStack()
    patch = stack.enter_context(pytest.MonkeyPatch.context())
    if name == "channels-first columns":
        patch.setattr(F, "_columns_channels_last", lambda channels_per_group, grid_width: False)
    elif name == "channels-last columns":
        patch.setattr(F, "_columns_channels_last", lambda channels_per_group, grid_width: True)
    elif name == "col2im, no gather":
        patch.setattr(F, "_gather", lambda frame, weight: None)
    else:
        stack.enter_context(_threads.settings(threads=2, chunk_bytes=1))
    return stack


@pytest.mark.parametrize("path", ["channels-first columns", "channels-last columns", "col2im, no gather",
                                  "chunks of one image on two threads"])
@pytest.mark.parametrize("name", [*MODULES, "ConvTranspose2d"])
@settings(max_examples=20)
@given(data=st.data(), seed=seeds)
def test_every_kernel_path_computes_the_same_convolution(name, path, data, seed):
    """The default path picks a column layout and col2im or the gather convolution by shape, and runs a
    batch in chunks on the kernel threads; forcing any other choice changes nothing but rounding."""
    transposed = name == "ConvTranspose2d"
    make, dims = (nn.ConvTranspose2d, 2) if transposed else (MODULES[name][0], MODULES[name][2])
    config, shape = data.draw(conv_configs(dims, transposed))
    rng = np.random.default_rng(seed)
    layer = randomise(make(**config, dtype=np.float64, rng=rng), rng)
    x = rng.normal(size=shape)
    grad = rng.normal(size=layer(x).shape)
    results = []
    for forced in (False, True):
        layer.zero_grad()
        with _kernel_path(path) if forced else ExitStack():
            results.append((layer(x), layer.backward(grad), *(p.grad for p in layer.parameters())))
    for default, other in zip(*results):
        np.testing.assert_allclose(other, default, rtol=1e-10, atol=1e-12)


def test_functional_convolutions_match_torch():
    rng = np.random.default_rng(0)
    x1, w1 = rng.normal(size=(2, 4, 11)), rng.normal(size=(6, 2, 3))
    np.testing.assert_allclose(F.conv1d(x1, w1, None, 2, 1, 2, 2),
                               torch.nn.functional.conv1d(*map(torch.from_numpy, (x1, w1)), None, 2, 1, 2, 2).numpy())
    x2, w2, b2 = rng.normal(size=(4, 7, 6)), rng.normal(size=(2, 4, 3, 3)), rng.normal(size=2)
    np.testing.assert_allclose(F.conv2d(x2, w2, b2, 1, "same", (2, 1)),
                               torch.nn.functional.conv2d(*map(torch.from_numpy, (x2, w2, b2)), 1, "same", (2, 1)).numpy())
    wt = rng.normal(size=(4, 3, 3, 2))
    np.testing.assert_allclose(F.conv_transpose2d(x2, wt, None, (2, 3), (1, 0), (1, 2), 2, 1),
                               torch.nn.functional.conv_transpose2d(*map(torch.from_numpy, (x2, wt)), None, (2, 3),
                                                                    (1, 0), (1, 2), 2, 1).numpy())


@pytest.mark.parametrize("make, make_twin", [
    (lambda rng: nn.Conv2d(64, 256, 5, rng=rng), lambda: torch.nn.Conv2d(64, 256, 5)),
    (lambda rng: nn.Conv1d(12, 300, 4, groups=3, rng=rng), lambda: torch.nn.Conv1d(12, 300, 4, groups=3)),
    (lambda rng: nn.ConvTranspose2d(6, 64, 3, groups=2, rng=rng), lambda: torch.nn.ConvTranspose2d(6, 64, 3, groups=2)),
])
def test_default_init_and_layout_are_torchs(make, make_twin):
    """Same keys, shapes, attributes, repr; weights and bias fill torch's U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    layer, twin = make(np.random.default_rng(0)), make_twin()
    state, torch_state = layer.state_dict(), twin.state_dict()
    assert [(k, v.shape) for k, v in state.items()] == [(k, tuple(v.shape)) for k, v in torch_state.items()]
    assert repr(layer) == repr(twin)
    for attr in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
                 "output_padding", "padding_mode"):
        assert getattr(layer, attr) == getattr(twin, attr), attr
    bound = 1 / math.sqrt(twin.weight.shape[1] * math.prod(twin.kernel_size))
    for key in state:
        for values in (state[key], torch_state[key].numpy()):
            assert np.abs(values).max() <= bound and np.abs(values).max() > 0.8 * bound, key
    assert state["weight"].dtype == np.float32


@pytest.mark.parametrize("call, error, match", [
    (lambda: nn.Conv2d(3, 4, 3)(np.zeros((1, 2, 5, 5), np.float32)), ValueError, r"expected 3 channels.*got shape \(1, 2, 5, 5\)"),
    (lambda: nn.Conv2d(3, 4, 5)(np.zeros((1, 3, 4, 9), np.float32)), ValueError, r"padded spatial size \(4, 9\) is smaller than the dilated kernel \(5, 5\)"),
    (lambda: nn.Conv2d(3, 4, 3, dilation=3, padding=1)(np.zeros((3, 4, 6), np.float32)), ValueError, r"smaller than the dilated kernel \(7, 7\)"),
    (lambda: nn.Conv2d(3, 4, 3, stride=0), ValueError, r"stride: expected values >= 1, got 0"),
    (lambda: nn.Conv1d(3, 4, 3, dilation=(-1,)), ValueError, r"dilation: expected values >= 1, got \(-1,\)"),
    (lambda: nn.Conv2d(3, 4, 3, padding=-1), ValueError, r"padding: expected values >= 0"),
    (lambda: nn.Conv2d(4, 6, 3, groups=4), ValueError, r"out_channels: expected a multiple of groups=4, got 6"),
    (lambda: nn.Conv2d(3, 6, 3, groups=2), ValueError, r"in_channels: expected a multiple of groups=2, got 3"),
    (lambda: nn.Conv2d(3, 4, 3)(np.zeros((3, 5), np.float32)), ValueError, r"rank \(3, 4\), got shape \(3, 5\)"),
    (lambda: nn.Conv1d(3, 4, 3)(np.zeros((1, 1, 3, 5), np.float32)), ValueError, r"rank \(2, 3\), got shape \(1, 1, 3, 5\)"),
    (lambda: nn.Conv2d(3, 4, 3)(np.zeros((1, 3, 5, 5), np.int64)), TypeError, r"expected a float32 or float64 array, got dtype int64"),
    (lambda: nn.Conv2d(3, 4, 3)(np.zeros((1, 3, 5, 5))), TypeError, r"expected dtype float32 \(the module's dtype\), got float64"),
    (lambda: nn.Conv2d(3, 4, 3, stride=2, padding="same"), ValueError, r"padding='same' is not supported for strided convolutions"),
    (lambda: nn.Conv2d(3, 4, 3, padding="full"), ValueError, r"padding: expected an int, a tuple of 2 ints, 'valid' or 'same', got 'full'"),
    (lambda: nn.Conv2d(3, 4, 3, padding_mode="reflect"), ValueError, r"padding_mode: only 'zeros' is implemented, got 'reflect'"),
    (lambda: nn.Conv2d(3, 4, (3, 3, 3)), TypeError, r"kernel_size: expected an int or a tuple of 2 ints, got \(3, 3, 3\)"),
    (lambda: nn.Conv2d(3, 4, 3, device="cuda"), ValueError, r"device"),
    (lambda: nn.ConvTranspose2d(3, 4, 3, padding="same"), TypeError, r"padding: expected an int or a tuple of 2 ints, got 'same'"),
    (lambda: nn.ConvTranspose2d(3, 4, 3, stride=2, output_padding=2)(np.zeros((1, 3, 4, 4), np.float32)), ValueError,
     r"output_padding: expected values smaller than the stride \(2, 2\) or the dilation \(1, 1\), got \(2, 2\)"),
    (lambda: nn.ConvTranspose2d(3, 4, 3, stride=2)(np.zeros((1, 3, 4, 4), np.float32), output_size=(12, 9)), ValueError,
     r"output_size: expected \(H, W\) between \(9, 9\) and \(10, 10\), got \(12, 9\)"),
    (lambda: nn.ConvTranspose2d(3, 4, 3, padding=3)(np.zeros((1, 3, 2, 2), np.float32)), ValueError, r"output size \(-2, -2\).*too small"),
    (lambda: nn.Conv2d(3, 4, 3).backward(np.zeros((1, 4, 3, 3), np.float32)), RuntimeError, r"backward called before forward"),
    (lambda: F.conv2d(np.zeros((1, 4, 5, 5)), np.zeros((6, 2, 3, 3)), groups=4), ValueError, r"groups: expected a divisor of out_channels 6"),
    (lambda: F.conv2d(np.zeros((1, 4, 5, 5)), np.zeros((6, 4, 3, 3), np.float32)), TypeError, r"weight: expected an ndarray of rank 4 and dtype float64"),
    (lambda: F.conv2d(np.zeros((1, 4, 5, 5)), np.zeros((6, 4, 3, 3)), np.zeros(5)), TypeError, r"bias: expected None or an ndarray of shape \(6,\)"),
    (lambda: F.conv1d(np.zeros((4, 5), np.int32), np.zeros((6, 4, 3))), TypeError, r"conv1d: input: expected a float32 or float64 ndarray"),
])
def test_bad_input_is_refused_with_a_clear_message(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_backward_checks_the_gradient_shape():
    layer = nn.Conv2d(2, 3, 3)
    layer(np.zeros((2, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"expected shape \(3, 3, 3\)"):
        layer.backward(np.zeros((1, 3, 3, 3), np.float32))
