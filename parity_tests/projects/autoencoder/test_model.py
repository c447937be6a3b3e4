"""Project 13: the scratch autoencoders against their torch twins: forward and every gradient by
parameter name (hypothesis-drawn sizes, both float tiers), the VAE with the same eps on both sides,
the ELBO's two terms and its gradients, and float64 finite differences of the ELBO (no torch)."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.projects.autoencoder import model as torch_ae
from scratch import nn
from scratch.projects.autoencoder import model as scratch_ae
from twins.parity import assert_close, compare_modules, dtypes, finite_difference_check, make_twins, seeds, to_torch, tolerance

hidden_sizes = st.lists(st.integers(1, 9), max_size=2).map(tuple)


@st.composite
def dense_sizes(draw):
    in_features = draw(st.integers(1, 12))
    return in_features, draw(st.integers(1, in_features)), draw(hidden_sizes), draw(st.integers(1, 5))


@given(sizes=dense_sizes(), dtype=dtypes, seed=seeds)
def test_autoencoder_matches_torch(sizes, dtype, seed):
    in_features, code_size, hidden, batch = sizes
    rng = np.random.default_rng(seed)
    model, twin = make_twins(scratch_ae.Autoencoder, torch_ae.Autoencoder, seed, dtype, scale=0.5,
                             in_features=in_features, code_size=code_size, hidden=hidden)
    compare_modules(model, twin, (rng.normal(size=(batch, in_features)).astype(dtype),), rng, "Autoencoder",
                    reduction=max(in_features, *hidden, 1))


@settings(max_examples=12)
@given(image_size=st.sampled_from([4, 8]), channels=st.tuples(st.integers(1, 3), st.integers(1, 3)), in_channels=st.integers(1, 2),
       code_size=st.integers(1, 6), batch=st.integers(1, 3), dtype=dtypes, seed=seeds)
def test_conv_autoencoder_matches_torch(image_size, channels, in_channels, code_size, batch, dtype, seed):
    rng = np.random.default_rng(seed)
    model, twin = make_twins(scratch_ae.ConvAutoencoder, torch_ae.ConvAutoencoder, seed, dtype, scale=0.5, in_channels=in_channels,
                             image_size=image_size, code_size=code_size, channels=channels)
    X = rng.normal(size=(batch, in_channels, image_size, image_size)).astype(dtype)
    compare_modules(model, twin, (X,), rng, "ConvAutoencoder", reduction=9 * 3 * image_size ** 2)


@st.composite
def vae_case(draw):
    in_features, code_size, hidden, batch = draw(dense_sizes())
    seed = draw(seeds)
    rng = np.random.default_rng(seed)
    return in_features, code_size, hidden, rng.uniform(0, 1, (batch, in_features)), rng.standard_normal((batch, code_size)), seed


@given(case=vae_case(), dtype=dtypes)
def test_vae_matches_torch_with_the_same_eps(case, dtype):
    """Forward (logits, mu, logvar) and backward from random gradients on all three: dX, deps and
    every parameter gradient by name."""
    in_features, code_size, hidden, X, eps, seed = case
    rng = np.random.default_rng(seed)
    model, twin = make_twins(scratch_ae.VAE, torch_ae.VAE, seed, dtype, scale=0.5, in_features=in_features,
                             code_size=code_size, hidden=hidden)
    compare_modules(model, twin, (X.astype(dtype), eps.astype(dtype)), rng, "VAE", reduction=max(in_features, *hidden, 1))


def elbo_pair(in_features, code_size, hidden, dtype, seed, beta):
    model, twin = make_twins(scratch_ae.VAE, torch_ae.VAE, seed, dtype, scale=0.5, in_features=in_features,
                             code_size=code_size, hidden=hidden)
    return model, twin, scratch_ae.ELBOLoss(beta), torch_ae.ELBOLoss(beta)


@given(case=vae_case(), beta=st.sampled_from([0.0, 0.5, 1.0, 4.0]), dtype=dtypes)
def test_elbo_terms_and_every_gradient_match_torch(case, beta, dtype):
    """The loss, its reconstruction and KL terms, and the gradient of every parameter and of eps
    after the whole ELBO's backward: the hand-written one against autograd."""
    in_features, code_size, hidden, X, eps, seed = case
    X, eps = X.astype(dtype), eps.astype(dtype)
    model, twin, criterion, torch_criterion = elbo_pair(in_features, code_size, hidden, dtype, seed, beta)
    loss = criterion(*model(X, eps), X)
    _, deps = model.backward(*criterion.backward())
    teps = to_torch(eps, requires_grad=True)
    torch_loss = torch_criterion(*twin(to_torch(X), teps), to_torch(X))
    torch_loss.backward()
    reduction = in_features * max(*hidden, in_features, 1)
    rtol, atol = tolerance(dtype, "forward", reduction)
    for name, value, expected in (("loss", loss, torch_loss), ("reconstruction", criterion.reconstruction, torch_criterion.reconstruction),
                                  ("kl", criterion.kl, torch_criterion.kl)):
        assert_close(np.asarray(value), expected, f"ELBO {name}", rtol, atol)
    rtol, atol = tolerance(dtype, "grad", reduction)
    assert_close(deps, teps.grad, "ELBO grad of eps", rtol, atol)
    torch_params = dict(twin.named_parameters())
    for name, param in model.named_parameters():
        assert_close(param.grad, torch_params[name].grad, f"ELBO grad of {name}", rtol, atol)


class FixedBatchELBO(nn.Module):
    """The negative ELBO of one fixed batch X as a function of eps and the weights: forward(eps) -> loss."""

    def __init__(self, model, X, beta):
        super().__init__()
        self.model, self.criterion, self.X = model, scratch_ae.ELBOLoss(beta), X

    def forward(self, eps):
        return self.criterion(*self.model(self.X, eps), self.X)

    def backward(self, grad):
        return self.model.backward(*self.criterion.backward(grad))[1]


@settings(max_examples=15)
@given(case=vae_case(), beta=st.sampled_from([0.5, 1.0, 3.0]))
def test_elbo_finite_differences(case, beta):
    """The hand-written ELBO backward (reconstruction through the decoder, KL straight into mu and
    logvar, meeting at z) against float64 central differences of the loss: no torch involved."""
    in_features, code_size, hidden, X, eps, seed = case
    rng = np.random.default_rng(seed)
    model, _ = make_twins(scratch_ae.VAE, torch_ae.VAE, seed, np.float64, scale=0.5, in_features=in_features,
                          code_size=code_size, hidden=hidden)
    finite_difference_check(FixedBatchELBO(model, X, beta), (eps,), rng, max_entries=24)


@given(case=vae_case())
def test_the_kl_term_alone_pulls_mu_and_logvar_to_the_prior(case):
    """With the decoder's gradient cut off (beta large, the logits' gradient zero), the KL gradient is
    mu / N for mu and (exp(logvar) - 1) / 2N for logvar: it vanishes exactly at the prior N(0, I)."""
    *_, X, eps, seed = case
    rng = np.random.default_rng(seed)
    mu, logvar = rng.normal(size=eps.shape), rng.normal(size=eps.shape)
    criterion = scratch_ae.ELBOLoss(beta=1.0)
    criterion(rng.normal(size=X.shape), mu, logvar, X)
    _, dmu, dlogvar = criterion.backward()
    np.testing.assert_allclose(dmu, mu / len(X), rtol=1e-12)
    np.testing.assert_allclose(dlogvar, (np.exp(logvar) - 1) / (2 * len(X)), rtol=1e-12)
    criterion(rng.normal(size=X.shape), np.zeros_like(mu), np.zeros_like(logvar), X)
    assert criterion.kl == 0 and not np.any(criterion.backward()[1]) and not np.any(criterion.backward()[2])


@given(sizes=dense_sizes(), seed=seeds)
def test_autoencoder_finite_differences(sizes, seed):
    in_features, code_size, hidden, batch = sizes
    rng = np.random.default_rng(seed)
    model, _ = make_twins(scratch_ae.Autoencoder, torch_ae.Autoencoder, seed, np.float64, scale=0.5, in_features=in_features,
                          code_size=code_size, hidden=hidden)
    X = rng.normal(size=(batch, in_features))
    X[np.abs(X) < 1e-3] = 0.5
    finite_difference_check(model, (X,), rng, max_entries=24)


@settings(max_examples=4)
@given(seed=seeds)
def test_conv_autoencoder_finite_differences(seed):
    rng = np.random.default_rng(seed)
    model, _ = make_twins(scratch_ae.ConvAutoencoder, torch_ae.ConvAutoencoder, seed, np.float64, scale=0.5, image_size=4,
                          code_size=3, channels=(2, 2))
    finite_difference_check(model, (rng.permutation(32).reshape(2, 1, 4, 4) / 8.0,), rng, max_entries=24)
