"""The adversarial training loop (Goodfellow et al., 2014), one round per batch:

1. D's step: D learns to score real images x as 1 (or 1 - label smoothing) and fakes G(z) as 0,
   loss_D = BCE(D(x), 1) + BCE(D(G(z)), 0); the fakes are data here, G gets no gradient.
2. G's step: the non-saturating loss loss_G = BCE(D(G(z)), 1) = -mean log D(G(z)). Its gradient
   reaches G only through D: D.backward returns the gradient of D's input image, which is G's
   output gradient. That backward also leaves gradients in D's parameters; only G's optimizer
   steps, and D's next step begins with zero_grad, so they never move D.

Adam with lr 2e-4 and beta1 0.5 for both (Radford et al., 2016); both nets train in train mode
(batch statistics), and sample in eval mode. Twin of reference/projects/gan/train.py, where one
loss_G.backward() does what D.backward and G.backward do here.
"""
import time

import numpy as np

from scratch import nn, optim
from scratch.nn import functional as F
from scratch.plumbing import minibatches, progress_range
from scratch.projects.gan.config import check_images, check_labels, check_loss, sample_noise

HISTORY_KEYS = ("loss_D", "loss_G", "D_x", "D_G_z")  # one value per step; D(.) is sigmoid(logit), the mean over the batch


def make_optimizers(G, D, config):
    betas = (config.beta1, 0.999)
    return optim.Adam(G.parameters(), lr=config.lr, betas=betas), optim.Adam(D.parameters(), lr=config.lr, betas=betas)


def probability(logits):
    return float(np.mean(F.sigmoid(logits)))


def discriminator_backward(D, real, fake, criterion, real_target=1.0, labels=None):
    """loss_D and its gradient in D's parameters; returns (loss_D, mean D(x), mean D(G(z)))."""
    logits_real = D(real, labels)  # (N, 1); labels: the classes of a conditional pair, or None
    loss_real = criterion(logits_real, np.full_like(logits_real, real_target))
    # a scratch layer keeps the cache of its last forward only: each backward follows its forward
    D.backward(criterion.backward(), input_grad=False)  # real images are data
    logits_fake = D(fake, labels)
    loss_fake = criterion(logits_fake, np.zeros_like(logits_fake))
    D.backward(criterion.backward(), input_grad=False)  # so are the fakes here: nothing flows to G
    return float(loss_real + loss_fake), probability(logits_real), probability(logits_fake)


def generator_backward(G, D, fake, criterion, labels=None):
    """loss_G and its gradient in G's parameters, through D; returns loss_G."""
    logits = D(fake, labels)
    loss_G = criterion(logits, np.ones_like(logits))
    dfake = D.backward(criterion.backward())  # (N, 1) -> (N, C, H, W) (and None for labels); D's parameter grads accumulate too
    G.backward(dfake if labels is None else dfake[0], input_grad=False)  # -> G's parameters; z is noise and needs no gradient
    return float(loss_G)


def train_step(G, D, real, z, criterion, optimizer_G, optimizer_D, real_target=1.0, labels=None, epoch=0, step=0):
    """One round, D's step then G's; returns (loss_D, loss_G, mean D(x), mean D(G(z))). A conditional
    pair draws its fakes of the real batch's classes (``labels``)."""
    fake = G(z, labels)  # G's cache waits for its backward in G's step
    optimizer_D.zero_grad()  # also clears what the last G step left in D's parameters
    loss_D, D_x, D_G_z = discriminator_backward(D, real, fake, criterion, real_target, labels)
    check_loss("loss_D", loss_D, epoch, step)
    optimizer_D.step()
    optimizer_G.zero_grad()
    loss_G = generator_backward(G, D, fake, criterion, labels)
    check_loss("loss_G", loss_G, epoch, step)
    optimizer_G.step()  # G's parameters only: D's grads from this backward are never applied
    return loss_D, loss_G, D_x, D_G_z


def sample(G, z, labels=None):
    """G's images for noise z (of the classes ``labels``, for a conditional G), in eval mode (batch norm's running statistics)."""
    G.eval()
    images = G(z, labels)
    G.train()
    return images


def fit(G, D, X, config, y=None, on_epoch=None, progress=False):
    """Train G against D on images X (N, C, H, W) in [-1, 1] (and their classes y, for a conditional pair);
    returns the history: HISTORY_KEYS per step, epoch_time per epoch. ``on_epoch(epoch, G)`` is called
    after each epoch (sample grids)."""
    check_images(X, G.image_shape)
    check_labels(y, G.num_classes, len(X), "y")
    rng = np.random.default_rng(config.seed)  # batch order and noise: the same on both twins
    criterion = nn.BCEWithLogitsLoss()
    optimizer_G, optimizer_D = make_optimizers(G, D, config)
    history = {key: [] for key in HISTORY_KEYS + ("epoch_time",)}
    epochs = progress_range(1, config.num_epochs + 1, progress=progress, desc=f"scratch GAN ({config.model})", unit="epoch")
    for epoch in epochs:
        G.train(), D.train()
        start = time.perf_counter()
        for step, idx in enumerate(minibatches(len(X), config.batch_size, rng)):
            z = sample_noise(rng, len(idx), G.latent_dim, X.dtype)
            labels = None if y is None else y[idx]
            losses = train_step(G, D, X[idx], z, criterion, optimizer_G, optimizer_D, 1 - config.label_smoothing, labels, epoch, step)
            for key, value in zip(HISTORY_KEYS, losses):
                history[key].append(value)
        history["epoch_time"].append(time.perf_counter() - start)
        if progress:
            epochs.set_postfix(loss_D=f"{history['loss_D'][-1]:.3f}", loss_G=f"{history['loss_G'][-1]:.3f}")
        if on_epoch is not None:
            on_epoch(epoch, G)
    return history
