"""The parity harness: check a NumPy module against its torch twin, forward, backward, by
finite differences and over a training run. The project's own parity suite uses it; so can
anyone who writes a layer by hand (see the README: "check your own layer against torch").

- ``compare_modules``: one forward and one backward of both twins from the same weights, every
  output, input gradient and named parameter gradient compared;
- ``finite_difference_check``: scratch's backward against float64 central differences, no torch;
- ``make_twins`` and ``assert_lockstep``: a scratch/torch pair with the same (randomised)
  weights, and the comparison of two training runs, loss by loss and state_dict key by key;
- ``TOLERANCES`` / ``tolerance``: the one table of tolerances, float64 tight, float32 scaled
  with the size of each reduction;
- hypothesis strategies: ``dtypes``, ``seeds``, ``float_arrays``.

Comparisons explain themselves (the tensor's name, max abs and relative error, the worst
index, the tolerance); every parameter and buffer is randomised before comparing; upstream
gradients are random, never all-ones.
"""
import re
from dataclasses import dataclass

import numpy as np
import torch
from hypothesis import strategies as st

from reference.bridge import copy_to_torch, torch_dtype, twin_pair

__all__ = ["TOLERANCES", "FINITE_DIFFERENCE", "DTYPES", "tolerance", "assert_close", "to_numpy", "to_torch", "randomise",
           "copy_to_torch", "torch_dtype", "twin_pair", "make_twins", "assert_lockstep", "compare_modules",
           "finite_difference_check", "compare_dropout_with_shared_mask", "float_arrays", "seeds", "dtypes", "BadInput",
           "assert_bad_input"]

# (rtol, atol) by dtype and by what is compared. float32 tolerances grow with the
# number of terms summed into one output (``reduction``): rounding errors add up.
TOLERANCES = {
    np.dtype(np.float64): {"forward": (1e-10, 1e-12), "grad": (1e-8, 1e-10), "train": (1e-8, 1e-10)},
    np.dtype(np.float32): {"forward": (1e-5, 1e-6), "grad": (1e-4, 1e-5), "train": (1e-3, 1e-4)},
}
# Central differences in float64: truncation O(eps^2) against rounding O(1e-16/eps).
FINITE_DIFFERENCE = {"eps": 1e-6, "rtol": 1e-5, "atol": 1e-7}

DTYPES = (np.float32, np.float64)


def tolerance(dtype, kind, reduction=1):
    rtol, atol = TOLERANCES[np.dtype(dtype)][kind]
    scale = 1.0 if np.dtype(dtype) == np.float64 else max(1.0, float(np.sqrt(reduction)))
    return rtol * scale, atol * scale


def assert_close(actual, expected, name, rtol, atol):
    """assert |actual - expected| <= atol + rtol |expected| elementwise, explaining any failure."""
    actual, expected = to_numpy(actual), to_numpy(expected)
    if actual.shape != expected.shape:
        raise AssertionError(f"{name}: shape {actual.shape} != expected {expected.shape}")
    if actual.size == 0:
        return
    if not np.array_equal(np.isnan(actual), np.isnan(expected)):
        raise AssertionError(f"{name}: NaN in {np.isnan(actual).sum()} actual vs {np.isnan(expected).sum()} expected elements")
    same = (actual == expected) | np.isnan(expected)  # equal infinities and matching NaNs agree
    error = np.where(same, 0.0, np.abs(actual.astype(np.float64) - expected.astype(np.float64)))
    allowed = atol + rtol * np.abs(expected.astype(np.float64))
    excess = np.nan_to_num(error - allowed, nan=0.0)
    if np.any(excess > 0):
        worst = np.unravel_index(np.argmax(excess), excess.shape)
        relative = error / np.maximum(np.abs(expected), np.finfo(np.float64).tiny)
        raise AssertionError(
            f"{name}: {np.sum(excess > 0)} of {error.size} elements differ; max abs error {error.max():.3e}, "
            f"max rel error {np.nan_to_num(relative).max():.3e}; worst at index {tuple(int(i) for i in worst)}: "
            f"{actual[worst]!r} vs expected {expected[worst]!r} (rtol={rtol:g}, atol={atol:g})")


def to_numpy(value):
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def to_torch(array, requires_grad=False):
    return torch.from_numpy(np.array(array, copy=True)).requires_grad_(requires_grad)


def leaves(nested):
    """The arrays of a (possibly nested) tuple/list of outputs, in order; None stays None."""
    if isinstance(nested, (tuple, list)):
        return [leaf for item in nested for leaf in leaves(item)]
    return [nested]


def rebuild(nested, flat):
    """Put ``flat`` back into the nesting of ``nested`` (inverse of :func:`leaves`)."""
    flat = iter(flat)

    def build(item):
        if isinstance(item, (tuple, list)):
            return type(item)(build(sub) for sub in item)
        return next(flat)

    return build(nested)


def _differentiable(output):
    """Float outputs get an upstream gradient; None and integer outputs (max-pool indices) get None."""
    return output is not None and np.issubdtype(np.asarray(output).dtype, np.floating)


def randomise(module, rng, scale=1.0):
    """Overwrite every parameter and float buffer with random values (zeros hide bugs).

    Buffers whose name says variance get positive values. Non-persistent buffers (a positional
    table) are constants rebuilt by the module, not state a twin can load, so they stay as they are.
    """
    for name, param in module.named_parameters():
        param.data[...] = rng.normal(0, scale, param.shape)
    persistent = module.state_dict().keys()
    for name, buf in module.named_buffers():
        if name not in persistent:
            continue
        if np.issubdtype(buf.dtype, np.floating):
            buf[...] = rng.uniform(0.5, 2.0, buf.shape) if "var" in name else rng.normal(0, 1, buf.shape)
        else:
            buf[...] = rng.integers(0, 100, buf.shape)
    return module


def make_twins(scratch_cls, torch_cls, seed=0, dtype=np.float64, scale=None, **kwargs):
    """A scratch model and its torch twin from the same constructor arguments (``kwargs``) with the
    same weights: the scratch initialisation, or, with ``scale``, every parameter and buffer
    randomised (normal with std ``scale``) from ``seed`` and copied across."""
    model, twin = twin_pair(scratch_cls, torch_cls, seed, dtype, **kwargs)
    if scale is not None:
        copy_to_torch(randomise(model, np.random.default_rng(seed), scale), twin)
    return model, twin


def assert_lockstep(history, torch_history, model, twin, rtol, atol, keys=("train_loss", "val_loss")):
    """Two training runs that took the same batches with the same optimizer from the same weights
    ended alike: the same ``keys`` of their histories (a loss per epoch, say) and the same
    state_dict, compared key by key (the key sets must match too)."""
    for key in keys:
        assert_close(np.asarray(history[key]), np.asarray(torch_history[key]), f"history {key}", rtol, atol)
    state, torch_state = model.state_dict(), twin.state_dict()
    assert state.keys() == torch_state.keys(), f"state_dict keys {sorted(state)} vs torch {sorted(torch_state)}"
    for key, value in state.items():
        assert_close(value, torch_state[key], f"{key} after training", rtol, atol)


def compare_modules(scratch_module, torch_module, inputs, rng, name="", reduction=1, forward_kwargs=None):
    """Forward both twins on the same inputs, drive both backward with the same random
    upstream gradients, compare every output, input gradient and named parameter gradient.

    ``inputs`` is a tuple of float arrays; returns the scratch outputs.
    """
    forward_kwargs = forward_kwargs or {}
    floats = [x for x in inputs if isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating)]
    # an index-only input (Embedding) leaves the module's own dtype to choose the tolerance
    dtype = np.result_type(*floats) if floats else next(scratch_module.parameters()).dtype
    copy_to_torch(scratch_module, torch_module)
    torch_inputs = [to_torch(x, requires_grad=np.issubdtype(x.dtype, np.floating)) for x in inputs]

    out = scratch_module(*inputs, **forward_kwargs)
    torch_out = torch_module(*torch_inputs, **{k: to_torch(v) if isinstance(v, np.ndarray) else v for k, v in forward_kwargs.items()})
    flat, torch_flat = leaves(out), leaves(torch_out)
    assert len(flat) == len(torch_flat), f"{name}: {len(flat)} outputs, torch has {len(torch_flat)}"
    rtol, atol = tolerance(dtype, "forward", reduction)
    for index, (a, b) in enumerate(zip(flat, torch_flat)):
        if a is None or b is None:  # an optional output (attention weights) must be absent in both
            assert a is None and b is None, f"{name} output[{index}]: {type(a).__name__} vs torch {type(b).__name__}"
            continue
        assert_close(a, b, f"{name} output[{index}]", rtol, atol)

    grads = [rng.standard_normal(a.shape).astype(a.dtype) if _differentiable(a) else None for a in flat]
    dinputs = scratch_module.backward(*rebuild(out, grads)) if isinstance(out, tuple) else scratch_module.backward(grads[0])
    pairs = [(b, to_torch(g)) for b, g in zip(torch_flat, grads) if g is not None and b.requires_grad]
    torch.autograd.backward([b for b, _ in pairs], [g for _, g in pairs])

    rtol, atol = tolerance(dtype, "grad", reduction)
    float_inputs = [t for t in torch_inputs if t.requires_grad]
    scratch_dinputs = leaves(dinputs)
    if len(floats) < len(inputs) and len(scratch_dinputs) == len(inputs):
        # integer inputs (indices) get None, and are not compared
        assert all(d is None for d, x in zip(scratch_dinputs, inputs) if not np.issubdtype(x.dtype, np.floating)), \
            f"{name}: backward returned a gradient for an integer input"
        scratch_dinputs = [d for d, x in zip(scratch_dinputs, inputs) if np.issubdtype(x.dtype, np.floating)]
    assert len(scratch_dinputs) == len(float_inputs), f"{name}: backward returned {len(scratch_dinputs)} input gradients for {len(float_inputs)} inputs"
    for index, (dx, tx) in enumerate(zip(scratch_dinputs, float_inputs)):
        expected = tx.grad if tx.grad is not None else torch.zeros_like(tx)
        assert_close(dx, expected, f"{name} grad of input[{index}]", rtol, atol)
    torch_params = dict(torch_module.named_parameters())
    scratch_params = dict(scratch_module.named_parameters())
    assert scratch_params.keys() == torch_params.keys(), f"{name}: parameters {list(scratch_params)} vs torch {list(torch_params)}"
    for pname, param in scratch_params.items():
        expected = torch_params[pname].grad
        expected = torch.zeros_like(torch_params[pname]) if expected is None else expected
        actual = np.zeros_like(param.data) if param.grad is None else param.grad
        assert_close(actual, expected, f"{name} grad of {pname}", rtol, atol)
    for bname, buf in scratch_module.named_buffers():
        expected = dict(torch_module.named_buffers())[bname]
        assert_close(buf, expected, f"{name} buffer {bname}", *tolerance(dtype, "forward", reduction))
    return out


def finite_difference_check(module, inputs, rng, max_entries=64, forward_kwargs=None):
    """Torch-free oracle: compare scratch's backward with float64 central differences of
    L = sum(g * forward(inputs)) for a random g, on up to ``max_entries`` entries of each
    input and parameter. Needs no torch, so a mistake shared by both twins still shows.
    """
    forward_kwargs = forward_kwargs or {}
    for x in inputs:  # integer inputs (indices) are held fixed
        assert x.dtype == np.float64 or np.issubdtype(x.dtype, np.integer), "finite differences need float64"
    module.zero_grad()
    out = module(*inputs, **forward_kwargs)
    flat = leaves(out)
    grads = [rng.standard_normal(a.shape) if _differentiable(a) else None for a in flat]
    analytic = leaves(module.backward(*rebuild(out, grads)) if isinstance(out, tuple) else module.backward(grads[0]))

    def objective():
        return sum(float(np.sum(g * a)) for g, a in zip(grads, leaves(module(*inputs, **forward_kwargs))) if g is not None)

    targets = [(f"input[{i}]", x, dx) for i, (x, dx) in enumerate(zip(inputs, analytic)) if x.dtype == np.float64]
    targets += [(name, p.data, np.zeros_like(p.data) if p.grad is None else p.grad) for name, p in module.named_parameters()]
    eps, rtol, atol = FINITE_DIFFERENCE["eps"], FINITE_DIFFERENCE["rtol"], FINITE_DIFFERENCE["atol"]
    for name, array, analytic_grad in targets:
        flat_indices = rng.choice(array.size, size=min(array.size, max_entries), replace=False)
        actual = analytic_grad.reshape(-1)[flat_indices]
        numeric = _central_differences(objective, array, flat_indices, eps)
        scale = max(1.0, float(np.max(np.abs(numeric), initial=0.0)))
        try:
            assert_close(actual, numeric, f"finite differences: grad of {name}", rtol, atol * scale)
        except AssertionError:
            # A large third derivative (a LayerNorm over two features near equal values) puts the
            # step's O(eps^2) truncation error above the tolerance. Richardson's extrapolation from
            # eps and eps / 2 cancels that term, leaving O(eps^4): a second, more accurate oracle
            # at the same tolerance, which a wrong backward still fails.
            numeric = (4 * _central_differences(objective, array, flat_indices, eps / 2) - numeric) / 3
            assert_close(actual, numeric, f"finite differences (Richardson-extrapolated): grad of {name}", rtol, atol * scale)


def _central_differences(objective, array, flat_indices, eps):
    """(objective(x + eps e_i) - objective(x - eps e_i)) / (2 eps) at each flat index i of ``array``."""
    numeric = np.empty(len(flat_indices))
    for k, flat_index in enumerate(flat_indices):
        index = np.unravel_index(flat_index, array.shape)
        original = array[index]
        array[index] = original + eps
        plus = objective()
        array[index] = original - eps
        minus = objective()
        array[index] = original
        numeric[k] = (plus - minus) / (2 * eps)
    return numeric


@st.composite
def float_arrays(draw, shape, dtype, low=-3.0, high=3.0):
    """A float array of ``shape`` drawn from a seed (fast) rather than element by element."""
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


seeds = st.integers(0, 2**32 - 1)
dtypes = st.sampled_from(DTYPES)


def compare_dropout_with_shared_mask(layer, torch_class, x, rng):
    """torch draws its own dropout mask, so its twin multiplies by scratch's mask by hand;
    in eval mode (or p = 0) torch's own layer runs. Returns scratch's mask (None if unused)."""
    y = layer(x)
    mask = layer._mask
    tx = torch.from_numpy(x.copy()).requires_grad_()
    ty = tx * torch.from_numpy(mask) if mask is not None else torch_class(layer.p).train(layer.training)(tx)
    np.testing.assert_array_equal(y, ty.detach().numpy())
    g = rng.normal(size=x.shape).astype(x.dtype)
    ty.backward(torch.from_numpy(g))
    np.testing.assert_array_equal(layer.backward(g), tx.grad.numpy())
    return mask


@dataclass(frozen=True)
class BadInput:
    """One row of a table-driven bad-input suite: ``call()`` must raise ``error`` with a message
    that names ``argument`` and matches ``message`` (a regex: what was expected, what came)."""
    id: str
    call: object
    error: type
    argument: str
    message: str = ""


def assert_bad_input(case):
    """Run one BadInput row: the exception type, the argument named, the message matched."""
    try:
        case.call()
    except case.error as caught:
        text = str(caught)
        assert case.argument in text, f"{case.id}: the message does not name {case.argument!r}: {text!r}"
        assert re.search(case.message, text), f"{case.id}: {text!r} does not match {case.message!r}"
        return caught
    except Exception as other:  # noqa: BLE001 - the wrong kind of error is the failure being reported
        raise AssertionError(f"{case.id}: expected {case.error.__name__}, got {type(other).__name__}: {other}") from other
    raise AssertionError(f"{case.id}: expected {case.error.__name__} naming {case.argument!r}, but nothing was raised")
