"""Project 12's run settings and checks, shared by both twins (never twinned): the architecture and
training settings of a GAN run, the settings chosen for each data set, and the guards both
adversarial loops apply (the latent size, images in the generator's range, a loss gone NaN)."""
import math
from dataclasses import dataclass

import numpy as np

from scratch.plumbing import check_bool, check_int, check_positive_int, check_real

MODEL_KINDS = ("mlp", "dcgan")


@dataclass
class GANConfig:
    """What both twins read: the pair of networks, Adam's settings (Radford et al. 2016: lr 2e-4,
    beta1 0.5), the batches, and one-sided label smoothing (D's target for real images is
    ``1 - label_smoothing``; fakes keep 0, Salimans et al. 2016)."""
    model: str = "dcgan"
    latent_dim: int = 64
    width: int = 32  # dcgan: the channels of G's last and D's first block; mlp: hidden units
    batch_norm: bool = True  # in D's middle block (G always has it)
    lr: float = 2e-4
    beta1: float = 0.5
    batch_size: int = 64
    num_epochs: int = 10
    label_smoothing: float = 0.0
    num_classes: int = 0  # > 0: the conditional pair, G and D both told the class (one-hot)
    seed: int = 0

    def __post_init__(self):
        if not isinstance(self.model, str) or self.model not in MODEL_KINDS:
            raise ValueError(f"model: expected one of {list(MODEL_KINDS)}, got {self.model!r}")
        for name in ("latent_dim", "width", "batch_size", "num_epochs"):
            setattr(self, name, check_positive_int(getattr(self, name), name))
        self.batch_norm = check_bool(self.batch_norm, "batch_norm")
        self.lr = check_real(self.lr, "lr", 0, math.inf, low_open=True, high_open=True, expected="a finite positive number")
        self.beta1 = check_real(self.beta1, "beta1", 0, 1, high_open=True)
        self.label_smoothing = check_real(self.label_smoothing, "label_smoothing", 0, 0.5)
        self.num_classes = check_int(self.num_classes, "num_classes", 0)
        self.seed = check_int(self.seed, "seed", 0)

    def architecture(self):
        """The constructor arguments of G and of D that the config sets (the data set sets the image size)."""
        generator = {"latent_dim": self.latent_dim, "width": self.width, "num_classes": self.num_classes}
        discriminator = {"width": self.width, "num_classes": self.num_classes}
        return generator, {**discriminator, **({"batch_norm": self.batch_norm} if self.model == "dcgan" else {})}


# The settings for each data set (``twins run gan``): the MLP GAN on 8x8 digits, the DCGAN on Fashion-MNIST.
CONFIGS = {
    "digits": GANConfig(model="mlp", latent_dim=16, width=128, lr=1e-3, batch_size=64, num_epochs=120, label_smoothing=0.1),
    "fashion-mnist": GANConfig(model="dcgan", latent_dim=64, width=32, batch_size=64, num_epochs=10),
}


def check_latent(z, latent_dim):
    """z must be (N, latent_dim) noise: a mismatch is named here, not deep inside G's first layer."""
    shape = tuple(getattr(z, "shape", ()))
    if len(shape) != 2 or shape[1] != latent_dim:
        raise ValueError(f"z: expected a latent batch of shape (N, {latent_dim}) (the generator's latent_dim), got shape {shape}")


def check_image_batch(X, image_shape, name="X"):
    """D's input must be a batch of images of its size, (N, C, H, W): named here, not as a reshape or
    convolution error deep inside D. Either twin's batch (an ndarray or a tensor)."""
    shape = tuple(getattr(X, "shape", ()))
    if len(shape) != 4 or shape[1:] != tuple(image_shape):
        raise ValueError(f"{name}: expected images of shape (N, {', '.join(map(str, image_shape))}) (the discriminator's input), "
                         f"got shape {shape}")


def check_labels(labels, num_classes, num_samples, name="labels"):
    """A conditional network (num_classes > 0) needs one class in [0, num_classes) per sample; an
    unconditional one takes none. Either twin's labels (an ndarray or a CPU tensor)."""
    if num_classes == 0:
        if labels is not None:
            raise ValueError(f"{name}: expected None (the network is unconditional, num_classes=0), got {type(labels).__name__}")
        return
    if labels is None:
        raise ValueError(f"{name}: expected {num_samples} class labels (the network is conditional, num_classes={num_classes}), got None")
    values = np.asarray(labels)
    if values.shape != (num_samples,) or values.dtype.kind not in "iu":
        raise ValueError(f"{name}: expected {num_samples} integer class labels, got shape {values.shape} dtype {values.dtype}")
    if len(values) and (values.min() < 0 or values.max() >= num_classes):
        raise ValueError(f"{name}: expected classes in [0, {num_classes}), got range [{values.min()}, {values.max()}]")


def check_images(X, image_shape, name="X"):
    """Training images must be float (N, C, H, W) of G's output shape, finite, and scaled to G's
    output range [-1, 1] (its Tanh): D would otherwise tell real from fake by the range alone."""
    if not isinstance(X, np.ndarray) or not np.issubdtype(X.dtype, np.floating):
        raise TypeError(f"{name}: expected a float ndarray (N, C, H, W), got {type(X).__name__} {getattr(X, 'dtype', '')}")
    if X.ndim != 4 or X.shape[1:] != tuple(image_shape):
        raise ValueError(f"{name}: expected images of shape (N, {', '.join(map(str, image_shape))}) "
                         f"(the generator's output), got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError(f"{name}: expected finite pixels, got NaN or inf in {int((~np.isfinite(X)).sum())} of them")
    if len(X) and (X.min() < -1 or X.max() > 1):
        raise ValueError(f"{name}: expected pixels scaled to the generator's output range [-1, 1] (Tanh), "
                         f"got range [{X.min():.3g}, {X.max():.3g}] (scale [0, 1] images by 2 X - 1)")
    return X


def check_loss(name, loss, epoch, step):
    """Stop a run whose loss went NaN/inf, naming the loss and the step, instead of training on garbage."""
    if not math.isfinite(loss):
        raise FloatingPointError(f"{name} became {loss} at epoch {epoch}, step {step}: the adversarial game diverged "
                                 f"(try a smaller lr, or check the images for NaN/inf)")


def scale_images(X, image_size, channels=1):
    """Flattened [0, 1] pixels (N, C*H*W) -> (N, C, H, W) in [-1, 1], G's Tanh range."""
    return (2 * X - 1).reshape(len(X), channels, image_size, image_size)


def sample_noise(rng, num_samples, latent_dim, dtype):
    """z ~ N(0, I) of shape (num_samples, latent_dim), drawn by NumPy so that both twins see the same noise."""
    return rng.standard_normal((num_samples, latent_dim)).astype(dtype)
