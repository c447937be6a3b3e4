"""Project 13's training loop: an autoencoder learns to rebuild its own input, so there are no labels,
the loss depends on the model (mean squared error per pixel, or the VAE's negative ELBO per sample),
and two draws join the batch order on the one NumPy generator both twins share: the denoising
noise (the model sees a noisy input and is scored against the clean one) and the VAE's epsilon.

Twin of scratch/projects/autoencoder/train.py: the loops differ only where autograd does the work,
``loss.backward()`` here, ``model.backward(*criterion.backward(), input_grad=False)`` there.
"""
import time

import numpy as np
import torch
from torch import nn

from reference.projects.autoencoder.model import VAE, ELBOLoss
from reference.training import make_optimizer, make_scheduler
from scratch.plumbing import EarlyStopping, check_finite, minibatches, progress_range
from scratch.projects.autoencoder.config import check_pixels, check_same_inputs, corrupt, draw_eps


def make_criterion(model, config):
    return ELBOLoss(config.beta) if isinstance(model, VAE) else nn.MSELoss()


def batch_loss(model, criterion, X, X_in, rng):
    """The loss of rebuilding the batch X from the model's input X_in (X itself, or X with noise)."""
    if isinstance(model, VAE):
        eps = torch.from_numpy(draw_eps(rng, len(X), model.code_size, X.dtype))
        return criterion(*model(torch.from_numpy(X_in), eps), torch.from_numpy(X))
    return criterion(model(torch.from_numpy(X_in)), torch.from_numpy(X))


@torch.no_grad()
def evaluate(model, X, config, batch_size=1024):
    """The mean loss over X in eval mode: per pixel for an autoencoder, per sample for a VAE. The noise
    and eps come from a generator seeded with ``config.seed + 1``: the same draws every call."""
    model.eval()
    criterion, rng, total = make_criterion(model, config), np.random.default_rng(config.seed + 1), 0.0
    for idx in minibatches(len(X), batch_size):
        X_in = corrupt(X[idx], config.noise_level, rng) if config.noise_level else X[idx]
        total += batch_loss(model, criterion, X[idx], X_in, rng).item() * len(idx)
    return total / len(X) if len(X) else float("nan")


def fit(model, X, X_val, config, progress=False):
    """Train ``model`` to rebuild X and keep the weights of the best validation loss; returns the history
    (a VAE's also holds the two terms of its training loss, reconstruction and KL, per epoch)."""
    check_same_inputs(X, X_val)
    variational = isinstance(model, VAE)
    if variational:
        check_pixels(X, "X"), check_pixels(X_val, "X_val")
    criterion = make_criterion(model, config)
    rng = np.random.default_rng(config.seed)  # batch order, noise and eps: the same draws on both twins
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr, config.weight_decay)
    scheduler = make_scheduler(config.lr_schedule, optimizer, config.num_epochs)
    stopper = EarlyStopping(config.patience)
    history = {key: [] for key in ("train_loss", "val_loss", "epoch_time") + (("reconstruction", "kl") if variational else ())}
    epochs = progress_range(1, config.num_epochs + 1, progress=progress, desc=f"torch {type(model).__name__} (code {model.code_size})", unit="epoch")
    for epoch in epochs:
        model.train()
        start, totals = time.perf_counter(), np.zeros(3)
        for step, idx in enumerate(minibatches(len(X), config.batch_size, rng)):
            X_in = corrupt(X[idx], config.noise_level, rng) if config.noise_level else X[idx]
            loss = batch_loss(model, criterion, X[idx], X_in, rng)
            check_finite(loss.item(), epoch, step)
            optimizer.zero_grad()
            loss.backward()
            if variational:
                totals[1:] += np.array([criterion.reconstruction.item(), criterion.kl.item()]) * len(idx)
            optimizer.step()
            totals[0] += loss.item() * len(idx)
        if scheduler is not None:
            scheduler.step()
        history["epoch_time"].append(time.perf_counter() - start)
        history["train_loss"].append(totals[0] / len(X))
        if variational:
            history["reconstruction"].append(totals[1] / len(X))
            history["kl"].append(totals[2] / len(X))
        history["val_loss"].append(evaluate(model, X_val, config))
        if stopper.step(history["val_loss"][-1], epoch):
            best_state = {key: value.clone() for key, value in model.state_dict().items()}
        if progress:
            epochs.set_postfix(loss=f"{history['train_loss'][-1]:.4f}", val_loss=f"{history['val_loss'][-1]:.4f}")
        if stopper.should_stop:
            break
    history["best_epoch"] = stopper.require_best(history["val_loss"][-1], "check X_val for NaN/inf, or lower the lr")
    model.load_state_dict(best_state)
    return history


@torch.no_grad()
def encode(model, X, batch_size=1024):
    """The codes of X (a VAE's posterior means), in eval mode, batch by batch."""
    model.eval()
    return np.concatenate([model.encode(torch.from_numpy(X[idx])).numpy() for idx in minibatches(len(X), batch_size)])


@torch.no_grad()
def reconstruct(model, X, batch_size=1024):
    """What the model makes of X in eval mode: an autoencoder's output, a VAE's pixel probabilities at the posterior mean."""
    model.eval()
    rebuild = (lambda X: model.decode(model.encode(X))) if isinstance(model, VAE) else model
    return np.concatenate([rebuild(torch.from_numpy(X[idx])).numpy() for idx in minibatches(len(X), batch_size)])


@torch.no_grad()
def log_likelihood(model, X, num_samples=100, rng=None, batch_size=64):
    """Importance-weighted estimate of log p(x) per sample, in nats (Burda et al., 2016): the log of the
    mean over ``num_samples`` draws z ~ q(z|x) of p(x|z) p(z) / q(z|x). A lower bound that tightens as
    ``num_samples`` grows; with one sample it is the ELBO."""
    model.eval()
    rng = np.random.default_rng(0) if rng is None else rng
    estimates = []
    for idx in minibatches(len(X), batch_size):
        x = torch.from_numpy(X[idx])
        h = model.encoder(x)
        mu, logvar = model.fc_mu(h), model.fc_logvar(h)  # (n, k)
        eps = torch.from_numpy(draw_eps(rng, num_samples * len(x), model.code_size, X.dtype)).reshape(num_samples, len(x), -1)
        z = mu + torch.exp(0.5 * logvar) * eps  # (S, n, k)
        logits = model.decoder(z)  # (S, n, D)
        log_px_z = -torch.sum(nn.functional.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none"), dim=2)
        log_pz = -0.5 * torch.sum(z ** 2 + np.log(2 * np.pi), dim=2)
        log_qz_x = -0.5 * torch.sum(eps ** 2 + logvar + np.log(2 * np.pi), dim=2)
        log_w = (log_px_z + log_pz - log_qz_x).double()  # (S, n)
        estimates.append((torch.logsumexp(log_w, dim=0) - np.log(num_samples)).numpy())
    return np.concatenate(estimates)
