"""Project 12: a generator G and a discriminator D, played against each other (Goodfellow et al., 2014).

G maps noise z (N, latent_dim) to images (N, C, H, W) in [-1, 1]; D maps images to one logit each
(N, 1), high for "real". Two pairs: the DCGAN of Radford et al. (2016), sized for H = W = a
multiple of 4 (28 for Fashion-MNIST): G is transposed convolutions with batch norm and ReLU and a
Tanh out, D strided convolutions with LeakyReLU(0.2), weights drawn from N(0, 0.02); and a small
MLP pair for 8x8 digits. Autograd records both networks, so one loss.backward() reaches G through
D (reference/projects/gan/train.py). Twin of scratch/projects/gan/model.py.
"""
from torch import nn

from scratch.projects.gan.config import check_latent


def dcgan_init(module):
    """Radford et al.: every (transposed) convolution's weight from N(0, 0.02), batch norm's scale
    from N(1, 0.02) and its shift 0; biases keep their default."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(layer.weight, 0.0, 0.02)
        elif isinstance(layer, nn.BatchNorm2d):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)


class Generator(nn.Module):
    """DCGAN's G: z (N, latent_dim) -> (N, channels, image_size, image_size) in [-1, 1]."""

    def __init__(self, latent_dim=64, image_size=28, channels=1, width=32, dtype=None):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"image_size: expected a multiple of 4 (two stride-2 upsamplings), got {image_size}")
        self.latent_dim, self.image_shape = latent_dim, (channels, image_size, image_size)
        self.main = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, 2 * width, image_size // 4, 1, 0, bias=False, dtype=dtype),  # 1 -> s/4
            nn.BatchNorm2d(2 * width, dtype=dtype), nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False, dtype=dtype),  # s/4 -> s/2
            nn.BatchNorm2d(width, dtype=dtype), nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, 2, 1, dtype=dtype),  # s/2 -> s
            nn.Tanh())
        dcgan_init(self)

    def forward(self, z):
        check_latent(z, self.latent_dim)
        return self.main(z.reshape(len(z), self.latent_dim, 1, 1))  # (N, latent, 1, 1) -> (N, C, s, s)


class Discriminator(nn.Module):
    """DCGAN's D: (N, channels, image_size, image_size) -> (N, 1) logits; no batch norm on the first block."""

    def __init__(self, image_size=28, channels=1, width=32, batch_norm=True, dtype=None):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"image_size: expected a multiple of 4 (two stride-2 convolutions), got {image_size}")
        middle = [nn.BatchNorm2d(2 * width, dtype=dtype)] if batch_norm else []
        self.main = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1, dtype=dtype), nn.LeakyReLU(0.2),  # s -> s/2
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=not batch_norm, dtype=dtype), *middle,  # s/2 -> s/4
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 1, image_size // 4, 1, 0, dtype=dtype),  # s/4 -> 1
            nn.Flatten())  # (N, 1, 1, 1) -> (N, 1)
        dcgan_init(self)

    def forward(self, X):
        return self.main(X)


class MLPGenerator(nn.Module):
    """A small G for 8x8 digits: z (N, latent_dim) -> two ReLU layers -> (N, channels, s, s) by Tanh."""

    def __init__(self, latent_dim=16, image_size=8, channels=1, width=128, dtype=None):
        super().__init__()
        self.latent_dim, self.image_shape = latent_dim, (channels, image_size, image_size)
        self.main = nn.Sequential(
            nn.Linear(latent_dim, width, dtype=dtype), nn.ReLU(),
            nn.Linear(width, width, dtype=dtype), nn.ReLU(),
            nn.Linear(width, channels * image_size ** 2, dtype=dtype), nn.Tanh())

    def forward(self, z):
        check_latent(z, self.latent_dim)
        return self.main(z).reshape(len(z), *self.image_shape)  # (N, C*s*s) -> (N, C, s, s)


class MLPDiscriminator(nn.Module):
    """A small D for 8x8 digits: (N, channels, s, s) -> two LeakyReLU(0.2) layers -> (N, 1) logits."""

    def __init__(self, image_size=8, channels=1, width=128, dtype=None):
        super().__init__()
        self.main = nn.Sequential(
            nn.Flatten(),  # (N, C, s, s) -> (N, C*s*s)
            nn.Linear(channels * image_size ** 2, width, dtype=dtype), nn.LeakyReLU(0.2),
            nn.Linear(width, width, dtype=dtype), nn.LeakyReLU(0.2),
            nn.Linear(width, 1, dtype=dtype))

    def forward(self, X):
        return self.main(X)


# config.model -> (G, D)
MODELS = {"mlp": (MLPGenerator, MLPDiscriminator), "dcgan": (Generator, Discriminator)}
