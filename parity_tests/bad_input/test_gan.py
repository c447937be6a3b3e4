"""Bad input to Project 12, the GAN: a latent batch that does not fit G, training images of the wrong
shape, type or range (they must be scaled to G's Tanh range [-1, 1]), a loss gone NaN (training stops
naming the loss, the epoch and the step), and bad run settings; each on both twins where both have it."""
import dataclasses

import numpy as np
import pytest
import torch

from reference.projects.gan import model as torch_gan
from reference.projects.gan import train as torch_train
from scratch import nn
from scratch.projects.gan import model as scratch_gan
from scratch.projects.gan import train as scratch_train
from scratch.projects.gan.config import GANConfig
from twins.parity import BadInput, assert_bad_input, make_twins

CONFIG = GANConfig(model="dcgan", latent_dim=3, width=2, batch_size=4, num_epochs=1)
IMAGES = np.random.default_rng(0).uniform(-1, 1, (8, 1, 8, 8))


def twins(kind="dcgan", num_classes=0):
    """(G, D) of each side, float64, 8x8 images, latent_dim 3."""
    width = {"width": 2, "num_classes": num_classes}
    G, twin_G = make_twins(scratch_gan.MODELS[kind][0], torch_gan.MODELS[kind][0], 0, np.float64, latent_dim=3, image_size=8, **width)
    D, twin_D = make_twins(scratch_gan.MODELS[kind][1], torch_gan.MODELS[kind][1], 1, np.float64, image_size=8, **width)
    return {"scratch": (G, D, scratch_train), "torch": (twin_G, twin_D, torch_train)}


def generate(side, kind, z):
    G = twins(kind)[side][0]
    return lambda: G(z if side == "scratch" else torch.from_numpy(z))


def conditional(side, index, labels):
    """A call of the conditional G (index 0) or D (index 1), 10 classes, on a batch of 2 with ``labels``."""
    network = twins(num_classes=10)[side][index]
    inputs = np.zeros((2, 3)) if index == 0 else np.zeros((2, 1, 8, 8))
    return lambda: network(inputs if side == "scratch" else torch.from_numpy(inputs), labels)


def discriminate(side, kind, X):
    D = twins(kind)[side][1]
    return lambda: D(X if side == "scratch" else torch.from_numpy(X))


def fit(side, X, config=CONFIG, poison=False, conditional_labels=False):
    """Train one side on X; ``poison`` puts a NaN into D's last weight first, so loss_D is NaN at the first step;
    ``conditional_labels`` (an array or None) trains a pair conditional on 10 classes with those labels instead."""
    if conditional_labels is not False:
        G, D, train = twins(num_classes=10)[side]
        config = dataclasses.replace(config, num_classes=10)
        return lambda: train.fit(G, D, X, config, conditional_labels)
    G, D, train = twins()[side]

    def call():
        if poison:
            with torch.no_grad():
                list(D.parameters())[-2].data[..., 0] = float("nan")
        train.fit(G, D, X, config)
    return call


def nan_after_d_step(side):
    """One train_step whose D step leaves a NaN in D's last weight: loss_D, computed before that step, is
    finite; loss_G, computed through the updated D, is NaN, and the step must stop naming loss_G."""
    G, D, train = twins()[side]
    convert = np.asarray if side == "scratch" else torch.from_numpy
    optimizer_G, optimizer_D = train.make_optimizers(G, D, CONFIG)
    step_D = optimizer_D.step

    def poisoned_step():
        step_D()
        with torch.no_grad():
            list(D.parameters())[-2].data[..., 0] = float("nan")
    optimizer_D.step = poisoned_step
    criterion = (nn if side == "scratch" else torch.nn).BCEWithLogitsLoss()
    return lambda: train.train_step(G, D, convert(IMAGES[:4]), convert(np.zeros((4, 3))), criterion, optimizer_G, optimizer_D)


CASES = [
    *(BadInput(f"{side} {kind} G: latent size", generate(side, kind, np.zeros((4, 5))), ValueError, "z",
               r"expected a latent batch of shape \(N, 3\) \(the generator's latent_dim\), got shape \(4, 5\)")
      for side in ("scratch", "torch") for kind in ("dcgan", "mlp")),
    *(BadInput(f"{side} {kind} D: 28x28 images for an 8x8 D", discriminate(side, kind, np.zeros((2, 1, 28, 28))), ValueError, "X",
               r"expected images of shape \(N, 1, 8, 8\) \(the discriminator's input\), got shape \(2, 1, 28, 28\)")
      for side in ("scratch", "torch") for kind in ("dcgan", "mlp")),
    *(BadInput(f"{side} G: z of rank 1", generate(side, "dcgan", np.zeros(3)), ValueError, "z", r"got shape \(3,\)")
      for side in ("scratch", "torch")),
    *(row for side in ("scratch", "torch") for row in (
        BadInput(f"{side} fit: 28x28 images for an 8x8 G", fit(side, np.zeros((8, 1, 28, 28))), ValueError, "X",
                 r"expected images of shape \(N, 1, 8, 8\) \(the generator's output\), got shape \(8, 1, 28, 28\)"),
        BadInput(f"{side} fit: flattened images", fit(side, np.zeros((8, 64))), ValueError, "X", r"got shape \(8, 64\)"),
        BadInput(f"{side} fit: pixels in [0, 255]", fit(side, 255 * (IMAGES + 1) / 2), ValueError, "X",
                 r"expected pixels scaled to the generator's output range \[-1, 1\] \(Tanh\), got range \[0.*, 25\d\]"),
        BadInput(f"{side} fit: pixels in [0, 1] pass, [0, 2] do not", fit(side, IMAGES + 1), ValueError, "X", r"got range \[0"),
        BadInput(f"{side} fit: integer images", fit(side, np.zeros((8, 1, 8, 8), np.uint8)), TypeError, "X",
                 r"expected a float ndarray \(N, C, H, W\), got ndarray uint8"),
        BadInput(f"{side} fit: a NaN pixel", fit(side, np.where(np.arange(8)[:, None, None, None] == 3, np.nan, IMAGES)),
                 ValueError, "X", r"expected finite pixels, got NaN or inf in 64 of them"),
        BadInput(f"{side} fit: loss_D goes NaN", fit(side, IMAGES, poison=True), FloatingPointError, "loss_D",
                 r"loss_D became nan at epoch 1, step 0: the adversarial game diverged"),
        BadInput(f"{side} train_step: loss_G goes NaN after D's step", nan_after_d_step(side), FloatingPointError, "loss_G",
                 r"loss_G became nan at epoch 0, step 0"),
    )),
    *(row for side, convert in (("scratch", np.asarray), ("torch", torch.from_numpy)) for row in (
        BadInput(f"{side} conditional G: class 10 of 10", conditional(side, 0, convert(np.array([0, 10]))), ValueError, "labels",
                 r"expected classes in \[0, 10\), got range \[0, 10\]"),
        BadInput(f"{side} conditional D: class -1", conditional(side, 1, convert(np.array([-1, 3]))), ValueError, "labels",
                 r"expected classes in \[0, 10\), got range \[-1, 3\]"),
        BadInput(f"{side} conditional G: no labels", conditional(side, 0, None), ValueError, "labels",
                 r"expected 2 class labels \(the network is conditional, num_classes=10\), got None"),
        BadInput(f"{side} conditional G: float labels", conditional(side, 0, convert(np.array([0.0, 1.0]))), ValueError, "labels",
                 r"expected 2 integer class labels, got shape \(2,\) dtype float64"),
        BadInput(f"{side} unconditional G: labels given", lambda side=side, convert=convert: twins()[side][0](
            convert(np.zeros((2, 3))), convert(np.array([0, 1]))), ValueError,
                 "labels", r"expected None \(the network is unconditional, num_classes=0\)"),
    )),
    BadInput("scratch fit: y out of range", fit("scratch", IMAGES, conditional_labels=np.full(8, 12)), ValueError, "y",
             r"expected classes in \[0, 10\), got range \[12, 12\]"),
    BadInput("torch fit: y missing for a conditional pair", fit("torch", IMAGES, conditional_labels=None), ValueError, "y",
             r"expected 8 class labels"),
    BadInput("config: unknown model", lambda: GANConfig(model="vae"), ValueError, "model", r"expected one of \['mlp', 'dcgan'\], got 'vae'"),
    BadInput("config: two-sided smoothing", lambda: GANConfig(label_smoothing=0.7), ValueError, "label_smoothing",
             r"expected a number in \[0, 0.5\], got 0.7"),
    BadInput("config: latent_dim 0", lambda: GANConfig(latent_dim=0), ValueError, "latent_dim", "expected a positive int, got 0"),
    BadInput("config: beta1 of 1", lambda: dataclasses.replace(CONFIG, beta1=1.0), ValueError, "beta1", r"expected a number in \[0, 1\)"),
    *(BadInput(f"{side} {cls}: image size 30", (lambda module=module, cls=cls: getattr(module, cls)(image_size=30)), ValueError,
               "image_size", "expected a multiple of 4")
      for side, module in (("scratch", scratch_gan), ("torch", torch_gan)) for cls in ("Generator", "Discriminator")),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_named(case):
    assert_bad_input(case)
