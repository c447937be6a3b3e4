"""Benchmark cases for the GAN project (Project 12).

ConvTranspose2d forward+backward at the sizes of the Fashion-MNIST DCGAN's generator (batch 64:
latent 64 -> 64 channels at 7x7, 64 -> 32 at 14x14, 32 -> 1 at 28x28), and one full adversarial
round of that DCGAN (D's step on a real and a fake batch, then G's step through D, both with Adam),
scratch against torch on the same weights, batch and noise. Run at 1 and 2 threads with --threads.
"""
import numpy as np
import torch

from reference.bridge import torch_dtype, twin_pair
from reference.projects.gan import model as torch_gan
from reference.projects.gan import train as torch_train
from scratch import nn
from scratch.projects.gan import model as scratch_gan
from scratch.projects.gan import train as scratch_train
from scratch.projects.gan.config import CONFIGS, sample_noise

from .bench_cnn import layer_case
from .core import Case

BATCH_SIZE = 64
# (in_channels, out_channels, input height = width, kernel, stride, padding): G's three layers at 28x28
CONV_TRANSPOSE_SIZES = ((64, 64, 1, 7, 1, 0), (64, 32, 7, 4, 2, 1), (32, 1, 14, 4, 2, 1))


def conv_transpose_case(in_channels, out_channels, size, kernel, stride, padding, dtype, rng):
    layer = nn.ConvTranspose2d(in_channels, out_channels, kernel, stride, padding, dtype=dtype, rng=rng)
    twin = torch.nn.ConvTranspose2d(in_channels, out_channels, kernel, stride, padding, dtype=torch_dtype(dtype))
    X = rng.standard_normal((BATCH_SIZE, in_channels, size, size)).astype(dtype)
    return layer_case(f"ConvTranspose2d {in_channels}->{out_channels} k{kernel} s{stride} p{padding}", layer, twin, X, rng)


def gan_round_case(dtype, rng):
    """One train_step of the Fashion-MNIST DCGAN on each side: G(z), D's backward on real and fake, D's
    Adam step, G's backward through D, G's Adam step."""
    config = CONFIGS["fashion-mnist"]
    generator, discriminator = config.architecture()
    G, twin_G = twin_pair(scratch_gan.Generator, torch_gan.Generator, config.seed, dtype, image_size=28, **generator)
    D, twin_D = twin_pair(scratch_gan.Discriminator, torch_gan.Discriminator, config.seed + 1, dtype, image_size=28, **discriminator)
    real = rng.uniform(-1, 1, (BATCH_SIZE, 1, 28, 28)).astype(dtype)
    z = sample_noise(rng, BATCH_SIZE, config.latent_dim, dtype)
    sides = {}
    for side, train, pair, convert, criterion in (
            ("scratch", scratch_train, (G, D), lambda a: a, nn.BCEWithLogitsLoss()),
            ("torch", torch_train, (twin_G, twin_D), torch.from_numpy, torch.nn.BCEWithLogitsLoss())):
        optimizer_G, optimizer_D = train.make_optimizers(*pair, config)
        args = (*pair, convert(real), convert(z), criterion, optimizer_G, optimizer_D)
        sides[side] = lambda train=train, args=args: train.train_step(*args)
    width = config.width
    return Case("DCGAN round (D step + G step, Adam)", f"b{BATCH_SIZE} x 1x28x28, z {config.latent_dim}, width {width}",
                sides["scratch"], sides["torch"],
                note=f"G: ConvT-BN-ReLU x2, ConvT-Tanh ({2 * width}-{width}-1); D: Conv-LReLU, Conv-BN-LReLU, Conv; 3 D passes")


def cases(dtype=np.float32, quick=False, seed=0):
    """The GAN project's benchmark cases, built with fresh weights and data from ``seed``."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    return [conv_transpose_case(*size, dtype, rng) for size in CONV_TRANSPOSE_SIZES] + [gan_round_case(dtype, rng)]
