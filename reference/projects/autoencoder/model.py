"""Project 13: autoencoders, dense, convolutional and variational.

An autoencoder squeezes its input through a code of ``code_size`` numbers and rebuilds it; trained
to reconstruct (mean squared error), a linear one finds the principal subspace (Baldi & Hornik,
1989), and a deeper one a curved version of it. The variational autoencoder (Kingma & Welling,
2014) makes the code a Gaussian, q(z|x) = N(mu, diag exp(logvar)), samples it as
z = mu + sigma * eps with eps handed in, and decodes Bernoulli logits for [0, 1] pixels; its loss,
the negative ELBO, is the reconstruction's cross-entropy plus KL(q(z|x) || N(0, I)).

Every gradient comes from torch's autograd, which records the reparameterisation and the two
loss terms and replays them in reverse. Trained by reference/projects/autoencoder/train.py.
Twin of scratch/projects/autoencoder/model.py: the same names, arguments and state_dict keys.
"""
from itertools import pairwise

import torch
from torch import nn
from torch.nn import functional as F

from scratch.projects.autoencoder.config import check_code_size, check_eps, check_images, check_pixels


def stack(sizes, dtype, last_activation=False):
    """Linear layers through ``sizes`` with ReLU between them (and after the last if asked)."""
    layers = []
    for index, (fan_in, fan_out) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(fan_in, fan_out, dtype=dtype))
        if last_activation or index < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """(N, in_features) -> code (N, code_size) -> (N, in_features); ``hidden=()`` is the linear autoencoder."""

    def __init__(self, in_features, code_size=32, hidden=(256,), dtype=None):
        super().__init__()
        self.code_size = check_code_size(code_size, in_features)
        self.encoder = stack((in_features, *hidden, code_size), dtype)
        self.decoder = stack((code_size, *reversed(hidden), in_features), dtype)

    def forward(self, X):
        return self.decoder(self.encoder(X))  # (N, D) -> (N, code_size) -> (N, D)

    def encode(self, X):
        return self.encoder(X)


class ConvAutoencoder(nn.Module):
    """(N, C, S, S) images -> code (N, code_size) -> (N, C, S, S): two conv-ReLU-pool blocks down, a dense
    code, then two upsample-conv blocks back up (nearest upsampling, so no checkerboard); S divisible by 4."""

    def __init__(self, in_channels=1, image_size=28, code_size=32, channels=(16, 32), dtype=None):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"image_size: expected a multiple of 4 (two 2x2 poolings), got {image_size}")
        self.code_size = check_code_size(code_size, in_channels * image_size ** 2)
        self.image_shape = (in_channels, image_size, image_size)
        small, (c1, c2) = image_size // 4, channels
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(c2 * small * small, code_size, dtype=dtype))
        self.decoder = nn.Sequential(
            nn.Linear(code_size, c2 * small * small, dtype=dtype), nn.ReLU(), nn.Unflatten(1, (c2, small, small)),
            nn.Upsample(scale_factor=2), nn.Conv2d(c2, c1, 3, padding=1, dtype=dtype), nn.ReLU(),
            nn.Upsample(scale_factor=2), nn.Conv2d(c1, in_channels, 3, padding=1, dtype=dtype))

    def forward(self, X):
        check_images(X, self.image_shape)
        return self.decoder(self.encoder(X))  # (N, C, S, S) -> (N, code_size) -> (N, C, S, S)

    def encode(self, X):
        return self.encoder(check_images(X, self.image_shape))


class VAE(nn.Module):
    """(N, in_features) pixels in [0, 1] and eps (N, code_size) -> (logits (N, in_features), mu, logvar)."""

    def __init__(self, in_features, code_size=32, hidden=(256,), dtype=None):
        super().__init__()
        self.code_size = check_code_size(code_size, in_features)
        self.encoder = stack((in_features, *hidden), dtype, last_activation=True)
        width = hidden[-1] if hidden else in_features
        self.fc_mu = nn.Linear(width, code_size, dtype=dtype)
        self.fc_logvar = nn.Linear(width, code_size, dtype=dtype)
        self.decoder = stack((code_size, *reversed(hidden), in_features), dtype)

    def forward(self, X, eps):
        h = self.encoder(X)  # (N, D) -> (N, H)
        mu, logvar = self.fc_mu(h), self.fc_logvar(h)  # (N, code_size) each
        z = mu + torch.exp(0.5 * logvar) * check_eps(eps, mu)  # the reparameterisation: the randomness sits in eps
        return self.decoder(z), mu, logvar  # logits (N, D)

    def encode(self, X):
        """The code of each sample: the posterior mean."""
        return self.fc_mu(self.encoder(X))

    def decode(self, z):
        """Pixel probabilities for codes z (N, code_size)."""
        return torch.sigmoid(self.decoder(z))


class ELBOLoss(nn.Module):
    """The negative ELBO per sample, mean over the batch: sum over pixels of the Bernoulli cross-entropy
    of the logits against the [0, 1] target, plus ``beta`` times the analytic KL(N(mu, exp(logvar)) || N(0, I)).
    ``reconstruction`` and ``kl`` hold the two terms of the last call."""

    def __init__(self, beta=1.0):
        super().__init__()
        self.beta = beta

    def forward(self, logits, mu, logvar, target):
        check_pixels(target.detach().numpy(), "target")
        n = len(target)
        self.reconstruction = F.binary_cross_entropy_with_logits(logits, target, reduction="sum") / n
        self.kl = 0.5 * torch.sum(mu ** 2 + torch.exp(logvar) - 1 - logvar) / n
        return self.reconstruction + self.beta * self.kl

    def extra_repr(self):
        return f"beta={self.beta}"
