"""Project 12: a generator G and a discriminator D, played against each other (Goodfellow et al., 2014).

G maps noise z (N, latent_dim) to images (N, C, H, W) in [-1, 1]; D maps images to one logit each
(N, 1), high for "real". Two pairs: the DCGAN of Radford et al. (2016), sized for H = W = a
multiple of 4 (28 for Fashion-MNIST): G is transposed convolutions with batch norm and ReLU and a
Tanh out, D strided convolutions with LeakyReLU(0.2), weights drawn from N(0, 0.02); and a small
MLP pair for 8x8 digits. With ``num_classes`` > 0 both are conditional (Mirza & Osindero, 2014):
G reads the one-hot class beside z, D beside the image (as constant planes for the DCGAN), so that
a user can ask G for a class. Every backward is written by hand; D's returns the gradient of its input
image, which is how G learns (scratch/projects/gan/train.py). Twin of reference/projects/gan/model.py.
"""
import math

import numpy as np

from scratch import nn
from scratch.projects.gan.config import check_image_batch, check_labels, check_latent


def with_classes(x, labels, num_classes):
    """(N, F) -> (N, F + num_classes): the one-hot class appended; x itself when unconditional."""
    if labels is None:
        return x
    return np.concatenate([x, np.eye(num_classes, dtype=x.dtype)[labels]], axis=1)


def with_class_planes(X, labels, num_classes):
    """(N, C, H, W) -> (N, C + num_classes, H, W): the one-hot class as constant planes; X itself when unconditional."""
    if labels is None:
        return X
    one_hot = np.eye(num_classes, dtype=X.dtype)[labels][:, :, None, None]  # (N, classes, 1, 1)
    return np.concatenate([X, np.broadcast_to(one_hot, (len(X), num_classes, *X.shape[2:]))], axis=1)


def input_gradients(dx, num_classes):
    """What backward returns: dx, or (dx, None) for a conditional network (class labels take no gradient)."""
    return dx if num_classes == 0 or dx is None else (dx, None)


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

    def __init__(self, latent_dim=64, image_size=28, channels=1, width=32, num_classes=0, dtype=None, rng=None):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"image_size: expected a multiple of 4 (two stride-2 upsamplings), got {image_size}")
        rng = np.random.default_rng() if rng is None else rng
        self.latent_dim, self.image_shape, self.num_classes = latent_dim, (channels, image_size, image_size), num_classes
        self.main = nn.Sequential(
            nn.ConvTranspose2d(latent_dim + num_classes, 2 * width, image_size // 4, 1, 0, bias=False, dtype=dtype, rng=rng),  # 1 -> s/4
            nn.BatchNorm2d(2 * width, dtype=dtype), nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False, dtype=dtype, rng=rng),  # s/4 -> s/2
            nn.BatchNorm2d(width, dtype=dtype), nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, 2, 1, dtype=dtype, rng=rng),  # s/2 -> s
            nn.Tanh())
        dcgan_init(self, rng)

    def forward(self, z, labels=None):
        check_latent(z, self.latent_dim)
        check_labels(labels, self.num_classes, len(z))
        code = with_classes(z, labels, self.num_classes)  # (N, latent + classes)
        return self.main(code.reshape(*code.shape, 1, 1))  # (N, latent + classes, 1, 1) -> (N, C, s, s)

    def backward(self, grad, input_grad=True):
        dcode = self.main.backward(grad, input_grad)  # (N, C, s, s) -> (N, latent + classes, 1, 1), or None
        return input_gradients(None if dcode is None else dcode[:, :self.latent_dim, 0, 0], self.num_classes)


class Discriminator(nn.Module):
    """DCGAN's D: (N, channels, image_size, image_size) -> (N, 1) logits; no batch norm on the first block."""

    def __init__(self, image_size=28, channels=1, width=32, batch_norm=True, num_classes=0, dtype=None, rng=None):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"image_size: expected a multiple of 4 (two stride-2 convolutions), got {image_size}")
        rng = np.random.default_rng() if rng is None else rng
        self.image_shape, self.num_classes = (channels, image_size, image_size), num_classes
        middle = [nn.BatchNorm2d(2 * width, dtype=dtype)] if batch_norm else []
        self.main = nn.Sequential(
            nn.Conv2d(channels + num_classes, width, 4, 2, 1, dtype=dtype, rng=rng), nn.LeakyReLU(0.2),  # s -> s/2
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=not batch_norm, dtype=dtype, rng=rng), *middle,  # s/2 -> s/4
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 1, image_size // 4, 1, 0, dtype=dtype, rng=rng),  # s/4 -> 1
            nn.Flatten())  # (N, 1, 1, 1) -> (N, 1)
        dcgan_init(self, rng)

    def forward(self, X, labels=None):
        check_image_batch(X, self.image_shape)
        check_labels(labels, self.num_classes, len(X))
        return self.main(with_class_planes(X, labels, self.num_classes))  # (N, C + classes, s, s) -> (N, 1)

    def backward(self, grad, input_grad=True):
        dX = self.main.backward(grad, input_grad)  # (N, 1) -> (N, C + classes, s, s), or None
        channels = self.image_shape[0]
        return input_gradients(None if dX is None else dX[:, :channels], self.num_classes)  # what G learns from


class MLPGenerator(nn.Module):
    """A small G for 8x8 digits: z (N, latent_dim) -> two ReLU layers -> (N, channels, s, s) by Tanh."""

    def __init__(self, latent_dim=16, image_size=8, channels=1, width=128, num_classes=0, dtype=None, rng=None):
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.latent_dim, self.image_shape, self.num_classes = latent_dim, (channels, image_size, image_size), num_classes
        self.main = nn.Sequential(
            nn.Linear(latent_dim + num_classes, width, dtype=dtype, rng=rng), nn.ReLU(),
            nn.Linear(width, width, dtype=dtype, rng=rng), nn.ReLU(),
            nn.Linear(width, channels * image_size ** 2, dtype=dtype, rng=rng), nn.Tanh())

    def forward(self, z, labels=None):
        check_latent(z, self.latent_dim)
        check_labels(labels, self.num_classes, len(z))
        return self.main(with_classes(z, labels, self.num_classes)).reshape(len(z), *self.image_shape)  # (N, C*s*s) -> (N, C, s, s)

    def backward(self, grad, input_grad=True):
        dflat = grad.reshape(len(grad), math.prod(self.image_shape))  # (N, C, s, s) -> (N, C*s*s)
        dcode = self.main.backward(dflat, input_grad)  # (N, latent + classes), or None
        return input_gradients(None if dcode is None else dcode[:, :self.latent_dim], self.num_classes)


class MLPDiscriminator(nn.Module):
    """A small D for 8x8 digits: (N, channels, s, s) -> two LeakyReLU(0.2) layers -> (N, 1) logits."""

    def __init__(self, image_size=8, channels=1, width=128, num_classes=0, dtype=None, rng=None):
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.image_shape, self.num_classes = (channels, image_size, image_size), num_classes
        self.main = nn.Sequential(
            nn.Linear(channels * image_size ** 2 + num_classes, width, dtype=dtype, rng=rng), nn.LeakyReLU(0.2),
            nn.Linear(width, width, dtype=dtype, rng=rng), nn.LeakyReLU(0.2),
            nn.Linear(width, 1, dtype=dtype, rng=rng))

    def forward(self, X, labels=None):
        check_image_batch(X, self.image_shape)
        check_labels(labels, self.num_classes, len(X))
        flat = X.reshape(len(X), math.prod(self.image_shape))  # (N, C, s, s) -> (N, C*s*s)
        return self.main(with_classes(flat, labels, self.num_classes))  # (N, C*s*s + classes) -> (N, 1)

    def backward(self, grad, input_grad=True):
        dcode = self.main.backward(grad, input_grad)  # (N, C*s*s + classes), or None
        dX = None if dcode is None else dcode[:, :math.prod(self.image_shape)].reshape(len(dcode), *self.image_shape)
        return input_gradients(dX, self.num_classes)


# config.model -> (G, D)
MODELS = {"mlp": (MLPGenerator, MLPDiscriminator), "dcgan": (Generator, Discriminator)}
