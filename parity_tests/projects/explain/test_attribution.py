"""Gradient attributions: scratch on Project 2's MLP and Project 4's CNN against Captum on their
torch twins holding the same (randomised) weights: saliency, gradient x input, integrated
gradients (every quadrature Captum offers) and SmoothGrad with Captum's own noise handed to
scratch. Both float tiers; then completeness of integrated gradients under hypothesis.

Captum rounds its quadrature weights to float32 (``torch.tensor(step_sizes).float()``) and scratch
keeps them in float64, so integrated gradients agree to float32's rounding of those weights
(relative 6e-8 each), not to float64's: that tolerance is ``QUADRATURE`` below.
"""
import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from reference.projects.cnn.model import CNN as TorchCNN
from reference.projects.explain import attribution as ref
from reference.projects.mlp.model import MLP as TorchMLP
from scratch.projects.cnn.model import CNN
from scratch.projects.explain import attribution as scr
from scratch.projects.mlp.model import MLP
from twins.parity import assert_close, dtypes, make_twins, seeds, tolerance

QUADRATURE = (1e-7, 1e-9)
METHODS = ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")


@st.composite
def networks(draw, smooth=False, dtype=None):
    """(scratch model, torch twin, inputs, targets) in eval mode: an MLP or a small CNN; ``smooth``:
    an MLP with a smooth activation."""
    dtype, rng = draw(dtypes) if dtype is None else dtype, np.random.default_rng(draw(seeds))
    n = draw(st.integers(1, 4))
    if draw(st.booleans()) or smooth:
        M, K = draw(st.integers(1, 6)), draw(st.integers(2, 4))
        activations = ("tanh", "gelu", "silu", "sigmoid") if smooth else ("relu", "tanh", "gelu", "leaky_relu")
        kwargs = {"in_features": M, "hidden_sizes": draw(st.lists(st.integers(1, 6), min_size=1, max_size=2)),
                      "num_classes": K, "activation": draw(st.sampled_from(activations))}
        model, twin = make_twins(MLP, TorchMLP, seed=int(rng.integers(1000)), dtype=dtype, **kwargs)
        X = rng.normal(size=(n, M))
    else:
        K, size = draw(st.integers(2, 4)), draw(st.sampled_from([4, 8]))
        kwargs = {"in_channels": draw(st.integers(1, 2)), "num_classes": K, "image_size": size, "channels": (2, 3), "hidden": 4}
        model, twin = make_twins(CNN, TorchCNN, seed=int(rng.integers(1000)), dtype=dtype, **kwargs)
        X = rng.normal(size=(n, kwargs["in_channels"], size, size))
    model.eval(), twin.eval()
    return model, twin, X.astype(dtype), rng.integers(0, K, n)


@given(networks())
def test_saliency_and_gradient_times_input_equal_captum(net):
    model, twin, X, target = net
    for name in ("Saliency", "InputXGradient"):
        assert_close(getattr(scr, name)(model).attribute(X, target=target),
                     getattr(ref, name)(twin).attribute(X, target=target), name, *tolerance(X.dtype, "grad", X[0].size))


@given(networks(), st.sampled_from(METHODS), st.integers(2, 12))
def test_integrated_gradients_equal_captum(net, method, n_steps):
    model, twin, X, target = net
    baselines = np.random.default_rng(n_steps).normal(size=X.shape).astype(X.dtype)
    ours, delta = scr.IntegratedGradients(model).attribute(X, baselines, target, n_steps, method, True)
    theirs, their_delta = ref.IntegratedGradients(twin).attribute(X, target=target, baselines=baselines,
                                                                   n_steps=n_steps, method=method,
                                                                   return_convergence_delta=True)
    rtol, atol = tolerance(X.dtype, "grad", X[0].size * n_steps) if X.dtype == np.float32 else QUADRATURE
    assert_close(ours, theirs, f"integrated gradients ({method})", rtol, atol)
    # the delta is a difference of near-equal sums: its error is the attributions' error, in absolute terms
    scale = max(1.0, float(np.abs(ours).reshape(len(X), -1).sum(axis=1).max()))
    assert_close(delta, their_delta.astype(delta.dtype), "convergence delta", rtol, atol + rtol * scale)


@given(networks(), st.integers(1, 4), st.floats(0.05, 1.0), seeds)
def test_smoothgrad_equals_captum_noise_tunnel_with_the_same_noise(net, nt_samples, stdevs, seed):
    """Captum draws ``torch.normal(0, stdevs)`` once, float32, for every copy; scratch is handed that draw."""
    model, twin, X, target = net
    torch.manual_seed(seed % 2**31)
    noise = torch.normal(0, torch.tensor(stdevs).repeat((len(X) * nt_samples,) + X.shape[1:])).numpy()
    torch.manual_seed(seed % 2**31)
    theirs = ref.NoiseTunnel(ref.Saliency(twin)).attribute(X, nt_samples=nt_samples, stdevs=stdevs, target=target)
    ours = scr.NoiseTunnel(scr.Saliency(model)).attribute(X, nt_samples=nt_samples, stdevs=stdevs, noise=noise,
                                                          target=target)
    assert_close(ours, theirs, "SmoothGrad", *tolerance(X.dtype, "grad", X[0].size))


@given(networks(smooth=True, dtype=np.float64))
def test_integrated_gradients_completeness(net):
    """Attributions add up to logit(x) - logit(baseline): exactly in the limit, and to 1e-9 with
    64 Gauss-Legendre points on a smooth network."""
    model, _, X, target = net
    attributions, delta = scr.IntegratedGradients(model).attribute(X, target=target, n_steps=64,
                                                                   return_convergence_delta=True)
    logits = model(X)[np.arange(len(X)), target] - model(np.zeros_like(X))[np.arange(len(X)), target]
    assert_close(attributions.reshape(len(X), -1).sum(axis=1), logits, "sum of attributions", 1e-9, 1e-9)
    assert_close(delta, np.zeros_like(delta), "convergence delta", 1e-9, 1e-9)
