"""Project 13's run settings and checks, shared by both twins (never twinned): the architecture and
training settings of a run, the tuned settings per data set, the checks on codes, pixels and image
shapes, and the two random draws both loops take from the same generator (the denoising noise and
the VAE's epsilon), so that both twins see the very same numbers."""
import math
import numbers
from dataclasses import dataclass

import numpy as np

from scratch.plumbing import TrainingConfig, check_real

KINDS = ("dense", "conv", "vae")


@dataclass
class AutoencoderConfig(TrainingConfig):
    """The model and how to train it; both twins read the same one.

    ``noise_level``: the standard deviation of the Gaussian noise added to each input (a denoising
    autoencoder when > 0; the target stays the clean input). ``beta``: the KL weight of a beta-VAE.
    """
    kind: str = "dense"
    code_size: int = 32
    hidden: tuple = (256,)
    channels: tuple = (16, 32)
    noise_level: float = 0.0
    beta: float = 1.0

    def __post_init__(self):
        super().__post_init__()
        if self.kind not in KINDS:
            raise ValueError(f"kind: expected one of {list(KINDS)}, got {self.kind!r}")
        check_code_size(self.code_size)
        if not all(isinstance(h, numbers.Integral) and not isinstance(h, bool) and h > 0 for h in self.hidden):
            raise ValueError(f"hidden: expected a tuple of positive ints, got {self.hidden!r}")
        if len(self.channels) != 2 or not all(isinstance(c, numbers.Integral) and c > 0 for c in self.channels):
            raise ValueError(f"channels: expected two positive ints (one per conv block), got {self.channels!r}")
        self.noise_level = check_noise_level(self.noise_level)
        self.beta = check_real(self.beta, "beta", 0, math.inf, high_open=True, expected="a finite number >= 0")

    def architecture(self):
        """The model's constructor arguments that the config sets (the data set sets the others)."""
        if self.kind == "conv":
            return {"code_size": self.code_size, "channels": self.channels}
        return {"code_size": self.code_size, "hidden": self.hidden}


def check_code_size(code_size, in_features=None):
    """A code is a positive int, and smaller than the input or it compresses nothing: a ValueError naming code_size."""
    if isinstance(code_size, bool) or not isinstance(code_size, numbers.Integral) or code_size < 1:
        raise ValueError(f"code_size: expected a positive int, got {code_size!r}")
    if in_features is not None and code_size > in_features:
        raise ValueError(f"code_size: expected at most the input's {in_features} features (a code larger than the "
                         f"input can copy it and learns nothing), got {code_size}")
    return int(code_size)


def check_noise_level(noise_level):
    return check_real(noise_level, "noise_level", 0, math.inf, high_open=True, expected="a finite number >= 0")


def check_pixels(X, name="X"):
    """The Bernoulli decoder's targets are probabilities: every pixel in [0, 1], none NaN."""
    if not isinstance(X, np.ndarray) or X.dtype.kind != "f":
        raise TypeError(f"{name}: expected a float ndarray of pixels in [0, 1], got {type(X).__name__}")
    if X.size and not (np.all(X >= 0) and np.all(X <= 1)):  # NaN fails both
        raise ValueError(f"{name}: expected pixels in [0, 1] (the Bernoulli decoder's probabilities), got values from "
                         f"{np.nanmin(X):g} to {np.nanmax(X):g}" + (" and NaN" if np.isnan(X).any() else ""))
    return X


def check_images(X, shape, name="X"):
    """(N, *shape) images for a model built for ``shape`` = (channels, height, width)."""
    if not isinstance(X, np.ndarray) and not hasattr(X, "shape"):
        raise TypeError(f"{name}: expected an array of images, got {type(X).__name__}")
    if tuple(X.shape[1:]) != tuple(shape) or len(X.shape) != len(shape) + 1:
        raise ValueError(f"{name}: expected images of shape (N, {', '.join(map(str, shape))}), got {tuple(X.shape)}")
    return X


def check_same_inputs(X, X_val):
    """Training and validation data of one shape per sample (the model was built for one)."""
    if tuple(X.shape[1:]) != tuple(X_val.shape[1:]):
        raise ValueError(f"X_val: expected samples of shape {tuple(X.shape[1:])} (as X), got {tuple(X_val.shape[1:])}")


def check_eps(eps, mu):
    """The reparameterisation's epsilon: one standard-normal draw per code entry, of the codes' dtype."""
    if tuple(eps.shape) != tuple(mu.shape) or eps.dtype != mu.dtype:
        raise ValueError(f"eps: expected shape {tuple(mu.shape)} and dtype {mu.dtype} (one draw per code entry), "
                         f"got shape {tuple(eps.shape)} and dtype {eps.dtype}")
    return eps


def corrupt(X, noise_level, rng):
    """X plus Gaussian noise of std ``noise_level`` drawn from ``rng`` (NumPy, for both twins)."""
    noise_level = check_noise_level(noise_level)
    return X + (noise_level * rng.standard_normal(X.shape)).astype(X.dtype)


def draw_eps(rng, num_samples, code_size, dtype):
    """The VAE's epsilon ~ N(0, I), (num_samples, code_size), drawn from ``rng`` (NumPy, for both twins)."""
    return rng.standard_normal((num_samples, code_size)).astype(dtype)


# The settings tuned for each data set and kind (``twins run autoencoder``).
CONFIGS = {
    "fashion-mnist": {
        "dense": AutoencoderConfig(lr=1e-3, batch_size=128, num_epochs=20, patience=4, hidden=(256,)),
        "conv": AutoencoderConfig(kind="conv", lr=2e-3, batch_size=64, num_epochs=8, patience=3, channels=(16, 32)),
        "vae": AutoencoderConfig(kind="vae", lr=1e-3, batch_size=128, num_epochs=20, patience=4, hidden=(256,)),
    },
    "digits": {
        "dense": AutoencoderConfig(lr=3e-3, batch_size=32, num_epochs=60, patience=10, hidden=(64,)),
        "conv": AutoencoderConfig(kind="conv", lr=3e-3, batch_size=32, num_epochs=40, patience=8, channels=(8, 16)),
        "vae": AutoencoderConfig(kind="vae", lr=3e-3, batch_size=32, num_epochs=60, patience=10, hidden=(64,)),
    },
}
