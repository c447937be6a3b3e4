"""Project 13's training loop: lockstep runs of the scratch and torch twins (dense, denoising, conv and
variational, both float tiers), the twins' importance-weighted log-likelihoods, a diverging ELBO stopped
at its step, and the theory check: a linear autoencoder trained with MSE learns PCA's subspace."""
import dataclasses

import numpy as np
import pytest
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA

from reference.projects.autoencoder import model as torch_ae
from reference.projects.autoencoder import train as torch_train
from scratch import datasets
from scratch.projects.autoencoder import model as scratch_ae
from scratch.projects.autoencoder import train as scratch_train
from scratch.projects.autoencoder.config import AutoencoderConfig
from twins.parity import assert_close, assert_lockstep, make_twins, tolerance

MODELS = {"dense": (scratch_ae.Autoencoder, torch_ae.Autoencoder), "vae": (scratch_ae.VAE, torch_ae.VAE),
          "conv": (scratch_ae.ConvAutoencoder, torch_ae.ConvAutoencoder)}


@pytest.fixture(scope="module")
def digits():
    X, _ = datasets.load("digits", "train", dtype=np.float64)
    X_test, _ = datasets.load("digits", "test", dtype=np.float64)
    return X, X_test


def twins_for(config, dtype, seed=0):
    scratch_cls, torch_cls = MODELS[config.kind]
    shape = {"image_size": 8, "in_channels": 1} if config.kind == "conv" else {"in_features": 64}
    return make_twins(scratch_cls, torch_cls, seed, dtype, **shape, **config.architecture())


@pytest.mark.parametrize("kind, noise_level, optimizer", [("dense", 0.0, "adam"), ("dense", 0.3, "sgd"), ("vae", 0.0, "adam"),
                                                           ("vae", 0.2, "sgd"), ("conv", 0.0, "adam")])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lockstep_training_matches_torch(digits, kind, noise_level, optimizer, dtype):
    """Same weights, batches, noise, eps and optimizer for 30 steps (3 epochs of 10): the same losses
    (and a VAE's reconstruction and KL terms) and the same weights."""
    X, X_val = (a[:n].astype(dtype) for a, n in zip(digits, (160, 64)))
    if kind == "conv":
        X, X_val = X.reshape(-1, 1, 8, 8), X_val.reshape(-1, 1, 8, 8)
    config = AutoencoderConfig(kind=kind, code_size=6, hidden=(12,), channels=(3, 4), noise_level=noise_level, optimizer=optimizer,
                               lr=0.05 if optimizer == "sgd" else 0.01, batch_size=16, num_epochs=3, patience=5, beta=0.7)
    model, twin = twins_for(config, dtype)
    history = scratch_train.fit(model, X, X_val, config)
    torch_history = torch_train.fit(twin, X, X_val, config)
    rtol, atol = tolerance(dtype, "train", reduction=64 * 12)
    keys = ("train_loss", "val_loss") + (("reconstruction", "kl") if kind == "vae" else ())
    assert_lockstep(history, torch_history, model, twin, rtol, atol, keys=keys)
    assert history["train_loss"][-1] < history["train_loss"][0]


def test_the_twins_agree_on_codes_reconstructions_and_log_likelihood(digits):
    X, X_val = digits[0][:200], digits[1][:40]
    config = AutoencoderConfig(kind="vae", code_size=4, hidden=(16,), lr=0.01, batch_size=32, num_epochs=2)
    model, twin = twins_for(config, np.float64)
    scratch_train.fit(model, X, X_val, config)
    torch_train.fit(twin, X, X_val, config)
    rtol, atol = tolerance(np.float64, "train")
    assert_close(scratch_train.encode(model, X_val), torch_train.encode(twin, X_val), "codes", rtol, atol)
    assert_close(scratch_train.reconstruct(model, X_val), torch_train.reconstruct(twin, X_val), "reconstructions", rtol, atol)
    log_p = scratch_train.log_likelihood(model, X_val, 100, np.random.default_rng(1))
    assert_close(log_p, torch_train.log_likelihood(twin, X_val, 100, np.random.default_rng(1)), "IWAE log p(x)", rtol, atol)
    # the importance-weighted bound lies above the one-sample ELBO, on average, and tightens with more samples
    elbo = -scratch_train.evaluate(model, X_val, config)
    assert elbo < log_p.mean() and scratch_train.log_likelihood(model, X_val, 5, np.random.default_rng(1)).mean() < log_p.mean()


@pytest.mark.filterwarnings("ignore:overflow encountered", "ignore:invalid value encountered")
def test_a_nan_in_the_elbo_stops_training_naming_the_step(digits):
    X = digits[0][:64].copy()
    config = AutoencoderConfig(kind="vae", code_size=4, hidden=(8,), batch_size=16, num_epochs=1)
    for fit, pair in ((scratch_train.fit, 0), (torch_train.fit, 1)):
        model = twins_for(config, np.float64)[pair]
        weight = model.fc_logvar.weight
        (weight.data if pair == 0 else weight.data.numpy())[...] = 1e3  # exp(logvar) overflows: the KL term is inf
        with pytest.raises(FloatingPointError, match="training loss became (nan|inf) at epoch 1, step 0"):
            fit(model, X, X[:16], config)


def test_a_linear_autoencoder_learns_the_principal_subspace(digits):
    """Baldi & Hornik (1989): trained to convergence with MSE, a linear autoencoder's decoder spans the
    top-k principal subspace (principal angles to PCA(k).components_ below 1 degree), and it
    reconstructs exactly as well as PCA. k = 4 sits at a wide eigen-gap of the digits' covariance."""
    X = digits[0] - digits[0].mean(axis=0)  # PCA centres; so does the data here, leaving the biases nothing to learn
    k = 4
    pca = PCA(k).fit(X)
    config = AutoencoderConfig(code_size=k, hidden=(), lr=0.02, batch_size=len(X), num_epochs=400, patience=400)
    model, _ = twins_for(config, np.float64)
    scratch_train.fit(model, X, X, config)  # converged on the training data, so no early stop on another set
    scratch_train.fit(model, X, X, dataclasses.replace(config, lr=0.002, num_epochs=200))
    angles = np.degrees(subspace_angles(model.decoder[0].weight.data, pca.components_.T))
    assert angles.max() < 1.0, f"principal angles {angles} degrees"
    pca_mse = np.mean((pca.inverse_transform(pca.transform(X)) - X) ** 2)
    ae_mse = np.mean((scratch_train.reconstruct(model, X) - X) ** 2)
    assert abs(ae_mse - pca_mse) <= 1e-4 * pca_mse, (ae_mse, pca_mse)
