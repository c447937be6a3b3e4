"""Project 12: a generator G and a discriminator D, played against each other (Goodfellow et al., 2014).

G maps noise z (N, latent_dim) to images (N, C, H, W) in [-1, 1]; D maps images to one logit each
(N, 1), high for "real". Two pairs: the DCGAN of Radford et al. (2016), sized for H = W = a
multiple of 4 (28 for Fashion-MNIST): G is transposed convolutions with batch norm and ReLU and a
Tanh out, D strided convolutions with LeakyReLU(0.2), weights drawn from N(0, 0.02); and a small
MLP pair for 8x8 digits. Every backward is written by hand; D's returns the gradient of its input
image, which is how G learns (scratch/projects/gan/train.py). Twin of reference/projects/gan/model.py.
"""
import numpy as np

from scratch import nn
from scratch.projects.gan.config import check_latent


def dcgan_init(module, rng):
    """Radford et al.: every (transposed) convolution's weight from N(0, 0.02), batch norm's scale
    from N(1, 0.02) and its shift 0; biases keep their default."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(layer.weight, 0.0, 0.02, rng=rng)
        elif isinstance(layer, nn.BatchNorm2d):
            nn.init.normal_(layer.weight, 1.0, 0.02, rng=rng)
            nn.init.zeros_(layer.bias)


class Generator(nn.Module):
    """DCGAN's G: z (N, latent_dim) -> (N, channels, image_size, image_size) in [-1, 1]."""

    def __init__(self, latent_dim=64, image_size=28, channels=1, width=32, dtype=None, rng=None):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"image_size: expected a multiple of 4 (two stride-2 upsamplings), got {image_size}")
        rng = np.random.default_rng() if rng is None else rng
        self.latent_dim, self.image_shape = latent_dim, (channels, image_size, image_size)
        self.main = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, 2 * width, image_size // 4, 1, 0, bias=False, dtype=dtype, rng=rng),  # 1 -> s/4
            nn.BatchNorm2d(2 * width, dtype=dtype), nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False, dtype=dtype, rng=rng),  # s/4 -> s/2
            nn.BatchNorm2d(width, dtype=dtype), nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, 2, 1, dtype=dtype, rng=rng),  # s/2 -> s
            nn.Tanh())
        dcgan_init(self, rng)

    def forward(self, z):
        check_latent(z, self.latent_dim)
        return self.main(z.reshape(len(z), self.latent_dim, 1, 1))  # (N, latent, 1, 1) -> (N, C, s, s)

    def backward(self, grad, input_grad=True):
        dz = self.main.backward(grad, input_grad)  # (N, C, s, s) -> (N, latent, 1, 1), or None
        return None if dz is None else dz.reshape(len(dz), self.latent_dim)


class Discriminator(nn.Module):
    """DCGAN's D: (N, channels, image_size, image_size) -> (N, 1) logits; no batch norm on the first block."""

    def __init__(self, image_size=28, channels=1, width=32, batch_norm=True, dtype=None, rng=None):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"image_size: expected a multiple of 4 (two stride-2 convolutions), got {image_size}")
        rng = np.random.default_rng() if rng is None else rng
        middle = [nn.BatchNorm2d(2 * width, dtype=dtype)] if batch_norm else []
        self.main = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1, dtype=dtype, rng=rng), nn.LeakyReLU(0.2),  # s -> s/2
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=not batch_norm, dtype=dtype, rng=rng), *middle,  # s/2 -> s/4
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 1, image_size // 4, 1, 0, dtype=dtype, rng=rng),  # s/4 -> 1
            nn.Flatten())  # (N, 1, 1, 1) -> (N, 1)
        dcgan_init(self, rng)

    def forward(self, X):
        return self.main(X)

    def backward(self, grad, input_grad=True):
        return self.main.backward(grad, input_grad)  # (N, 1) -> (N, C, s, s): what G learns from, or None


class MLPGenerator(nn.Module):
    """A small G for 8x8 digits: z (N, latent_dim) -> two ReLU layers -> (N, channels, s, s) by Tanh."""

    def __init__(self, latent_dim=16, image_size=8, channels=1, width=128, dtype=None, rng=None):
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.latent_dim, self.image_shape = latent_dim, (channels, image_size, image_size)
        self.main = nn.Sequential(
            nn.Linear(latent_dim, width, dtype=dtype, rng=rng), nn.ReLU(),
            nn.Linear(width, width, dtype=dtype, rng=rng), nn.ReLU(),
            nn.Linear(width, channels * image_size ** 2, dtype=dtype, rng=rng), nn.Tanh())

    def forward(self, z):
        check_latent(z, self.latent_dim)
        return self.main(z).reshape(len(z), *self.image_shape)  # (N, C*s*s) -> (N, C, s, s)

    def backward(self, grad, input_grad=True):
        dflat = grad.reshape(len(grad), int(np.prod(self.image_shape)))  # (N, C, s, s) -> (N, C*s*s)
        return self.main.backward(dflat, input_grad)  # (N, latent_dim), or None


class MLPDiscriminator(nn.Module):
    """A small D for 8x8 digits: (N, channels, s, s) -> two LeakyReLU(0.2) layers -> (N, 1) logits."""

    def __init__(self, image_size=8, channels=1, width=128, dtype=None, rng=None):
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.main = nn.Sequential(
            nn.Flatten(),  # (N, C, s, s) -> (N, C*s*s)
            nn.Linear(channels * image_size ** 2, width, dtype=dtype, rng=rng), nn.LeakyReLU(0.2),
            nn.Linear(width, width, dtype=dtype, rng=rng), nn.LeakyReLU(0.2),
            nn.Linear(width, 1, dtype=dtype, rng=rng))

    def forward(self, X):
        return self.main(X)

    def backward(self, grad, input_grad=True):
        return self.main.backward(grad, input_grad)  # (N, 1) -> (N, C, s, s), or None


# config.model -> (G, D)
MODELS = {"mlp": (MLPGenerator, MLPDiscriminator), "dcgan": (Generator, Discriminator)}
