"""Project 13: autoencoders, dense, convolutional and variational.

An autoencoder squeezes its input through a code of ``code_size`` numbers and rebuilds it; trained
to reconstruct (mean squared error), a linear one finds the principal subspace (Baldi & Hornik,
1989), and a deeper one a curved version of it. The variational autoencoder (Kingma & Welling,
2014) makes the code a Gaussian, q(z|x) = N(mu, diag exp(logvar)), samples it as
z = mu + sigma * eps with eps handed in, and decodes Bernoulli logits for [0, 1] pixels; its loss,
the negative ELBO, is the reconstruction's cross-entropy plus KL(q(z|x) || N(0, I)).

The lesson is ``VAE.backward`` and ``ELBOLoss.backward``: the reconstruction gradient comes down
through the decoder to z, the KL gradient goes straight into mu and logvar, and the two meet at
the reparameterisation. Trained by scratch/projects/autoencoder/train.py.
Twin of reference/projects/autoencoder/model.py: diff the two to see what autograd does.
"""
from itertools import pairwise

import numpy as np

from scratch import nn
from scratch.nn import functional as F
from scratch.nn.module import require_forward
from scratch.projects.autoencoder.config import check_code_size, check_eps, check_images, check_pixels


def stack(sizes, dtype, rng, last_activation=False):
    """Linear layers through ``sizes`` with ReLU between them (and after the last if asked)."""
    layers = []
    for index, (fan_in, fan_out) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(fan_in, fan_out, dtype=dtype, rng=rng))
        if last_activation or index < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """(N, in_features) -> code (N, code_size) -> (N, in_features); ``hidden=()`` is the linear autoencoder."""

    def __init__(self, in_features, code_size=32, hidden=(256,), dtype=None, rng=None):
        super().__init__()
        self.code_size = check_code_size(code_size, in_features)
        rng = np.random.default_rng() if rng is None else rng
        self.encoder = stack((in_features, *hidden, code_size), dtype, rng)
        self.decoder = stack((code_size, *reversed(hidden), in_features), dtype, rng)

    def forward(self, X):
        return self.decoder(self.encoder(X))  # (N, D) -> (N, code_size) -> (N, D)

    def backward(self, grad, input_grad=True):
        return self.encoder.backward(self.decoder.backward(grad), input_grad)  # (N, D) -> (N, code_size) -> (N, D)

    def encode(self, X):
        return self.encoder(X)


class ConvAutoencoder(nn.Module):
    """(N, C, S, S) images -> code (N, code_size) -> (N, C, S, S): two conv-ReLU-pool blocks down, a dense
    code, then two upsample-conv blocks back up (nearest upsampling, so no checkerboard); S divisible by 4."""

    def __init__(self, in_channels=1, image_size=28, code_size=32, channels=(16, 32), dtype=None, rng=None):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"image_size: expected a multiple of 4 (two 2x2 poolings), got {image_size}")
        self.code_size = check_code_size(code_size, in_channels * image_size ** 2)
        self.image_shape = (in_channels, image_size, image_size)
        rng = np.random.default_rng() if rng is None else rng
        small, (c1, c2) = image_size // 4, channels
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1, dtype=dtype, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1, dtype=dtype, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(c2 * small * small, code_size, dtype=dtype, rng=rng))
        self.decoder = nn.Sequential(
            nn.Linear(code_size, c2 * small * small, dtype=dtype, rng=rng), nn.ReLU(), nn.Unflatten(1, (c2, small, small)),
            nn.Upsample(scale_factor=2), nn.Conv2d(c2, c1, 3, padding=1, dtype=dtype, rng=rng), nn.ReLU(),
            nn.Upsample(scale_factor=2), nn.Conv2d(c1, in_channels, 3, padding=1, dtype=dtype, rng=rng))

    def forward(self, X):
        check_images(X, self.image_shape)
        return self.decoder(self.encoder(X))  # (N, C, S, S) -> (N, code_size) -> (N, C, S, S)

    def backward(self, grad, input_grad=True):
        return self.encoder.backward(self.decoder.backward(grad), input_grad)

    def encode(self, X):
        return self.encoder(check_images(X, self.image_shape))


class VAE(nn.Module):
    """(N, in_features) pixels in [0, 1] and eps (N, code_size) -> (logits (N, in_features), mu, logvar)."""

    def __init__(self, in_features, code_size=32, hidden=(256,), dtype=None, rng=None):
        super().__init__()
        self.code_size = check_code_size(code_size, in_features)
        rng = np.random.default_rng() if rng is None else rng
        self.encoder = stack((in_features, *hidden), dtype, rng, last_activation=True)
        width = hidden[-1] if hidden else in_features
        self.fc_mu = nn.Linear(width, code_size, dtype=dtype, rng=rng)
        self.fc_logvar = nn.Linear(width, code_size, dtype=dtype, rng=rng)
        self.decoder = stack((code_size, *reversed(hidden), in_features), dtype, rng)

    def forward(self, X, eps):
        h = self.encoder(X)  # (N, D) -> (N, H)
        mu, logvar = self.fc_mu(h), self.fc_logvar(h)  # (N, code_size) each
        self._std, self._eps = np.exp(0.5 * logvar), check_eps(eps, mu)
        z = mu + self._std * eps  # the reparameterisation: the randomness sits in eps, off the gradient's path
        return self.decoder(z), mu, logvar  # logits (N, D)

    def backward(self, dlogits, dmu, dlogvar, input_grad=True):
        """The decoder's gradient reaches z; z = mu + exp(logvar / 2) eps passes it to mu as it is and to
        logvar times eps * std / 2, where it joins the gradients the loss gives mu and logvar directly."""
        dz = self.decoder.backward(dlogits)  # (N, D) -> (N, code_size)
        dmu = dz if dmu is None else dmu + dz
        dlogvar_z = dz * self._eps * 0.5 * self._std
        dlogvar = dlogvar_z if dlogvar is None else dlogvar + dlogvar_z
        dh = self.fc_mu.backward(dmu) + self.fc_logvar.backward(dlogvar)  # (N, code_size) x 2 -> (N, H)
        return self.encoder.backward(dh, input_grad), dz * self._std  # dX (N, D) or None, deps (N, code_size)

    def encode(self, X):
        """The code of each sample: the posterior mean."""
        return self.fc_mu(self.encoder(X))

    def decode(self, z):
        """Pixel probabilities for codes z (N, code_size)."""
        return F.sigmoid(self.decoder(z))


class ELBOLoss(nn.Module):
    """The negative ELBO per sample, mean over the batch: sum over pixels of the Bernoulli cross-entropy
    of the logits against the [0, 1] target, plus ``beta`` times the analytic KL(N(mu, exp(logvar)) || N(0, I)).
    ``reconstruction`` and ``kl`` hold the two terms of the last call."""

    def __init__(self, beta=1.0):
        super().__init__()
        self.beta = beta
        self._saved = None

    def forward(self, logits, mu, logvar, target):
        check_pixels(target, "target")
        n = len(target)
        self.reconstruction = F.binary_cross_entropy_with_logits(logits, target, reduction="sum") / n
        self.kl = 0.5 * np.sum(mu ** 2 + np.exp(logvar) - 1 - logvar) / n
        self._saved = (logits, mu, logvar, target)
        return self.reconstruction + self.beta * self.kl

    def backward(self, grad=None):
        """(dlogits, dmu, dlogvar): the reconstruction term gives the logits sigmoid(logits) - target;
        the KL term gives mu its own value and logvar (exp(logvar) - 1) / 2, no decoder in between."""
        logits, mu, logvar, target = require_forward(self, self._saved)
        scale = (1.0 if grad is None else grad) / len(target)
        dlogits = (F.sigmoid(logits) - target) * scale
        dmu = self.beta * mu * scale
        dlogvar = self.beta * 0.5 * (np.exp(logvar) - 1) * scale
        return dlogits.astype(logits.dtype), dmu.astype(mu.dtype), dlogvar.astype(logvar.dtype)

    def extra_repr(self):
        return f"beta={self.beta}"
