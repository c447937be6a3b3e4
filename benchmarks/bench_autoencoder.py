"""Benchmark cases for the autoencoder project (Project 13).

One Adam training step (forward, loss, backward, update) of the Fashion-MNIST conv autoencoder
(batch 64, 1x28x28, conv 16-32, code 32, nearest-upsample + conv decoder, MSE) and of the VAE
(batch 128, 784-256-32, Bernoulli decoder, ELBO with the same eps on both sides), scratch and
torch CPU holding the same weights; plus Upsample(scale_factor=2) forward+backward on its own.
Neither side computes the gradient of the batch (scratch: input_grad=False).
"""
import numpy as np
import torch

from reference.bridge import torch_dtype, twin_pair
from reference.projects.autoencoder import model as torch_ae
from scratch import nn, optim
from scratch.projects.autoencoder import model as scratch_ae
from scratch.projects.autoencoder.config import CONFIGS, draw_eps

from .core import Case

CONV_BATCH, VAE_BATCH = 64, 128


def _adam_steps(model, twin, loss_of, torch_loss_of, scratch_backward):
    """(scratch step, torch step): one Adam update of each twin from the loss of the same batch."""
    optimizer, torch_optimizer = optim.Adam(model.parameters()), torch.optim.Adam(twin.parameters())

    def scratch_step():
        loss_of()
        optimizer.zero_grad()
        scratch_backward()
        optimizer.step()

    def torch_step():
        loss = torch_loss_of()
        torch_optimizer.zero_grad()
        loss.backward()
        torch_optimizer.step()

    return scratch_step, torch_step


def conv_step_case(dtype, rng):
    config = CONFIGS["fashion-mnist"]["conv"]
    model, twin = twin_pair(scratch_ae.ConvAutoencoder, torch_ae.ConvAutoencoder, config.seed, dtype, image_size=28,
                            **config.architecture())
    X = rng.uniform(0, 1, (CONV_BATCH, 1, 28, 28)).astype(dtype)
    criterion, torch_criterion, Xt = nn.MSELoss(), torch.nn.MSELoss(), torch.from_numpy(X)
    steps = _adam_steps(model, twin, lambda: criterion(model.train()(X), X), lambda: torch_criterion(twin.train()(Xt), Xt),
                        lambda: model.backward(criterion.backward(), input_grad=False))
    return Case("conv AE training step (Adam)", f"b{CONV_BATCH} x 1x28x28, 16-32, code 32", *steps,
                note="conv-ReLU-pool x2, dense code, upsample-conv x2, MSE")


def vae_step_case(dtype, rng):
    config = CONFIGS["fashion-mnist"]["vae"]
    model, twin = twin_pair(scratch_ae.VAE, torch_ae.VAE, config.seed, dtype, in_features=784, **config.architecture())
    X = rng.uniform(0, 1, (VAE_BATCH, 784)).astype(dtype)
    eps = draw_eps(rng, VAE_BATCH, config.code_size, dtype)
    criterion, torch_criterion = scratch_ae.ELBOLoss(), torch_ae.ELBOLoss()
    Xt, epst = torch.from_numpy(X), torch.from_numpy(eps)
    steps = _adam_steps(model, twin, lambda: criterion(*model.train()(X, eps), X), lambda: torch_criterion(*twin.train()(Xt, epst), Xt),
                        lambda: model.backward(*criterion.backward(), input_grad=False))
    return Case("VAE training step (Adam)", f"b{VAE_BATCH} x 784, 256, code {config.code_size}", *steps,
                note="ELBO: Bernoulli cross-entropy + analytic KL, the same eps both sides")


def upsample_case(dtype, rng):
    X = rng.standard_normal((CONV_BATCH, 16, 14, 14)).astype(dtype)
    grad = rng.standard_normal((CONV_BATCH, 16, 28, 28)).astype(dtype)
    layer, Xt, gt = nn.Upsample(scale_factor=2), torch.from_numpy(X).requires_grad_(True), torch.from_numpy(grad)
    twin = torch.nn.Upsample(scale_factor=2).to(torch_dtype(dtype))

    def scratch_step():
        layer(X)
        layer.backward(grad)

    def torch_step():
        Xt.grad = None
        twin(Xt).backward(gt)

    return Case("Upsample(scale_factor=2) nearest", f"b{CONV_BATCH} x 16x14x14", scratch_step, torch_step,
                note="forward + backward, dX on both sides")


def cases(dtype=np.float32, quick=False, seed=0):
    """The autoencoder project's benchmark cases, built with fresh weights and data from ``seed``."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    return [conv_step_case(dtype, rng), vae_step_case(dtype, rng), upsample_case(dtype, rng)]
