"""Bad input to Project 13 (autoencoders), both twins: a code larger than the input, VAE pixels outside
[0, 1], a negative noise level, mismatched image shapes, a wrong eps, a diverging ELBO (stopped, naming
the step), and bad settings. Each names the argument, what was expected and what came."""
import numpy as np
import pytest
import torch

from reference.projects.autoencoder import model as torch_ae
from reference.projects.autoencoder import train as torch_train
from scratch.projects.autoencoder import model as scratch_ae
from scratch.projects.autoencoder import train as scratch_train
from scratch.projects.autoencoder.config import AutoencoderConfig, corrupt
from twins.parity import BadInput, assert_bad_input

RNG = np.random.default_rng(0)
PIXELS = RNG.uniform(0, 1, (8, 16))
CONFIG = AutoencoderConfig(kind="vae", code_size=2, hidden=(4,), batch_size=4, num_epochs=1)


def scratch_vae():
    return scratch_ae.VAE(16, 2, hidden=(4,), dtype=np.float64, rng=np.random.default_rng(0))


def torch_vae():
    return torch_ae.VAE(16, 2, hidden=(4,), dtype=torch.float64)


def exploding(make):
    """A VAE whose log-variances overflow exp: the KL term, and so the ELBO, is inf at the first step."""
    model = make()
    with torch.no_grad():
        for param in (model.fc_logvar.weight, model.fc_logvar.bias):  # the ReLU features are >= 0: every logvar >= 1000
            (param if isinstance(param, torch.Tensor) else param.data)[...] = 1e3
    return model


def side_rows(side, ae, train, vae):
    cases = [
        BadInput(f"{side}: code larger than the input", lambda: ae.Autoencoder(16, 17), ValueError, "code_size",
                 r"expected at most the input's 16 features .*, got 17"),
        BadInput(f"{side}: VAE code larger than the input", lambda: ae.VAE(16, 40), ValueError, "code_size",
                 r"at most the input's 16 features .*, got 40"),
        BadInput(f"{side}: conv code larger than the image", lambda: ae.ConvAutoencoder(1, 4, code_size=17), ValueError,
                 "code_size", r"at most the input's 16 features"),
        BadInput(f"{side}: conv image size not a multiple of 4", lambda: ae.ConvAutoencoder(1, 10), ValueError, "image_size",
                 "expected a multiple of 4"),
        BadInput(f"{side}: VAE pixels above 1", lambda: train.fit(vae(), PIXELS * 2, PIXELS, CONFIG), ValueError, "X",
                 r"expected pixels in \[0, 1\] .*, got values from 0\.\d+ to 1\.\d+"),
        BadInput(f"{side}: VAE validation pixels below 0", lambda: train.fit(vae(), PIXELS, PIXELS - 0.5, CONFIG), ValueError,
                 "X_val", r"expected pixels in \[0, 1\] .*, got values from -0\.\d+"),
        BadInput(f"{side}: VAE pixels with NaN", lambda: train.fit(vae(), np.where(PIXELS > 0.9, np.nan, PIXELS), PIXELS, CONFIG),
                 ValueError, "X", r"expected pixels in \[0, 1\].* and NaN"),
        BadInput(f"{side}: validation samples of another width", lambda: train.fit(vae(), PIXELS, PIXELS[:, :12], CONFIG),
                 ValueError, "X_val", r"expected samples of shape \(16,\) \(as X\), got \(12,\)"),
        BadInput(f"{side}: a diverging ELBO stops at its step", lambda: train.fit(exploding(vae), PIXELS, PIXELS, CONFIG),
                 FloatingPointError, "step 0", r"training loss became (inf|nan) at epoch 1, step 0"),
    ]
    return cases


def conv_rows():
    model = scratch_ae.ConvAutoencoder(1, 8, code_size=4, channels=(2, 2), rng=np.random.default_rng(0))
    twin = torch_ae.ConvAutoencoder(1, 8, code_size=4, channels=(2, 2))
    return [
        BadInput("scratch: images of another size", lambda: model(np.zeros((2, 1, 28, 28), np.float32)), ValueError, "X",
                 r"expected images of shape \(N, 1, 8, 8\), got \(2, 1, 28, 28\)"),
        BadInput("torch: images of another size", lambda: twin(torch.zeros(2, 1, 28, 28)), ValueError, "X",
                 r"expected images of shape \(N, 1, 8, 8\), got \(2, 1, 28, 28\)"),
        BadInput("scratch: flat pixels to the conv AE", lambda: model(np.zeros((2, 64), np.float32)), ValueError, "X",
                 r"expected images of shape \(N, 1, 8, 8\), got \(2, 64\)"),
        BadInput("scratch: three channels to a one-channel model", lambda: model.encode(np.zeros((2, 3, 8, 8), np.float32)),
                 ValueError, "X", r"got \(2, 3, 8, 8\)"),
    ]


CASES = side_rows("scratch", scratch_ae, scratch_train, scratch_vae) + side_rows("torch", torch_ae, torch_train, torch_vae) + conv_rows() + [
    BadInput("negative noise level", lambda: AutoencoderConfig(noise_level=-0.1), ValueError, "noise_level",
             r"expected a finite number >= 0, got -0.1"),
    BadInput("negative noise level to corrupt", lambda: corrupt(PIXELS, -1.0, np.random.default_rng(0)), ValueError, "noise_level",
             r"expected a finite number >= 0, got -1.0"),
    BadInput("noise level a string", lambda: AutoencoderConfig(noise_level="0.1"), TypeError, "noise_level", "got str '0.1'"),
    BadInput("code size 0", lambda: AutoencoderConfig(code_size=0), ValueError, "code_size", "expected a positive int, got 0"),
    BadInput("unknown kind", lambda: AutoencoderConfig(kind="gan"), ValueError, "kind", r"expected one of \['dense', 'conv', 'vae'\]"),
    BadInput("negative beta", lambda: AutoencoderConfig(beta=-1.0), ValueError, "beta", "expected a finite number >= 0, got -1.0"),
    BadInput("hidden sizes not ints", lambda: AutoencoderConfig(hidden=(64, 0)), ValueError, "hidden", r"got \(64, 0\)"),
    BadInput("eps of the wrong shape", lambda: scratch_vae()(PIXELS, np.zeros((8, 3))), ValueError, "eps",
             r"expected shape \(8, 2\) and dtype float64 .*, got shape \(8, 3\)"),
    BadInput("torch: eps of the wrong dtype", lambda: torch_vae()(torch.from_numpy(PIXELS), torch.zeros(8, 2)), ValueError, "eps",
             r"expected shape \(8, 2\) and dtype torch.float64 .*, got shape \(8, 2\) and dtype torch.float32"),
    BadInput("ELBO target outside [0, 1]", lambda: scratch_ae.ELBOLoss()(PIXELS, np.zeros((8, 2)), np.zeros((8, 2)), PIXELS + 1),
             ValueError, "target", r"expected pixels in \[0, 1\]"),
]


@pytest.mark.filterwarnings("ignore:overflow encountered", "ignore:invalid value encountered")
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_named(case):
    assert_bad_input(case)
