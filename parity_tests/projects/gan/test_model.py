"""Project 12: each scratch network against its torch twin (forward, the gradient of its input and of
every parameter by name, batch norm in train and eval mode), the gradient that reaches z through D,
and finite differences of G's loss in G's parameters through D."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.projects.gan import model as torch_gan
from scratch import nn
from scratch.projects.gan import model as scratch_gan
from twins.parity import assert_close, compare_modules, dtypes, finite_difference_check, make_twins, seeds, to_torch, tolerance

KINDS = list(scratch_gan.MODELS)


@st.composite
def gan_sizes(draw):
    """A pair's kind and constructor arguments (conditional on 3 classes or not; D's batch norm), and a
    batch (>= 2: batch norm on G's first 1x1 map when image_size is 4 needs two values per channel)."""
    kind = draw(st.sampled_from(KINDS))
    image_size = draw(st.sampled_from([4, 8, 12]))
    num_classes = draw(st.sampled_from([0, 0, 3]))
    generator = {"latent_dim": draw(st.integers(1, 6)), "image_size": image_size, "width": draw(st.integers(1, 4)),
                 "num_classes": num_classes}
    discriminator = {"image_size": image_size, "width": draw(st.integers(1, 4)), "num_classes": num_classes}
    if kind == "dcgan":
        discriminator["batch_norm"] = draw(st.booleans())
    return kind, generator, discriminator, draw(st.integers(2, 5))


def labels_for(generator, batch, rng):
    """() for an unconditional pair, else a tuple holding one class per sample."""
    return (rng.integers(0, generator["num_classes"], batch),) if generator["num_classes"] else ()


def reduction(generator, discriminator, batch):
    """The most terms summed into one compared value: a weight gradient sums over the batch and the
    pixels, an input gradient over a 4x4 window of up to 2 * width channels."""
    widths = max(generator["width"], discriminator["width"])
    return max(batch * generator["image_size"] ** 2, 2 * 16 * widths, generator["latent_dim"])


@settings(max_examples=12)
@given(sizes=gan_sizes(), training=st.booleans(), dtype=dtypes, seed=seeds)
def test_generator_and_discriminator_match_torch(sizes, training, dtype, seed):
    kind, generator, discriminator, batch = sizes
    rng = np.random.default_rng(seed)
    G, twin_G = make_twins(*(m.MODELS[kind][0] for m in (scratch_gan, torch_gan)), seed, dtype, scale=0.5, **generator)
    D, twin_D = make_twins(*(m.MODELS[kind][1] for m in (scratch_gan, torch_gan)), seed + 1, dtype, scale=0.5, **discriminator)
    z = rng.standard_normal((batch, generator["latent_dim"])).astype(dtype)
    labels = labels_for(generator, batch, rng)
    images = compare_modules(G.train(training), twin_G.train(training), (z, *labels), rng, "G", reduction(generator, discriminator, batch))
    assert images.shape == (batch, 1, generator["image_size"], generator["image_size"])
    compare_modules(D.train(training), twin_D.train(training), (images, *labels), rng, "D", reduction(generator, discriminator, batch))


class GeneratorLoss(nn.Module):
    """loss_G(z) = BCE(D(G(z)), 1): G's non-saturating loss as one module, for the finite-difference
    oracle; backward is the chain the G step runs, loss -> D -> G -> z."""

    def __init__(self, G, D):
        super().__init__()
        self.G, self.D, self.criterion = G, D, nn.BCEWithLogitsLoss()

    def forward(self, z, labels=None):
        self._conditional = labels is not None
        logits = self.D(self.G(z, labels), labels)
        return self.criterion(logits, np.ones_like(logits))

    def backward(self, grad):
        dfake = self.D.backward(self.criterion.backward(grad))
        return self.G.backward(dfake[0] if self._conditional else dfake)


class TorchGeneratorLoss(torch.nn.Module):
    def __init__(self, G, D):
        super().__init__()
        self.G, self.D, self.criterion = G, D, torch.nn.BCEWithLogitsLoss()

    def forward(self, z, labels=None):
        logits = self.D(self.G(z, labels), labels)
        return self.criterion(logits, torch.ones_like(logits))


@settings(max_examples=12)
@given(sizes=gan_sizes(), dtype=dtypes, seed=seeds)
def test_gradient_reaching_z_through_d_matches_torch(sizes, dtype, seed):
    """G's loss, the gradient of z and of every parameter of G (and of D, which the G step also
    fills) by name: scratch's D.backward -> G.backward against torch's loss_G.backward()."""
    kind, generator, discriminator, batch = sizes
    rng = np.random.default_rng(seed)
    G, twin_G = make_twins(*(m.MODELS[kind][0] for m in (scratch_gan, torch_gan)), seed, dtype, scale=0.5, **generator)
    D, twin_D = make_twins(*(m.MODELS[kind][1] for m in (scratch_gan, torch_gan)), seed + 1, dtype, scale=0.5, **discriminator)
    z = rng.standard_normal((batch, generator["latent_dim"])).astype(dtype)
    compare_modules(GeneratorLoss(G, D), TorchGeneratorLoss(twin_G, twin_D), (z, *labels_for(generator, batch, rng)), rng, "loss_G", reduction(generator, discriminator, batch))


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=6)
@given(batch_norm=st.booleans(), num_classes=st.sampled_from([0, 2]), seed=seeds)
def test_generator_loss_finite_differences_through_d(kind, batch_norm, num_classes, seed):
    """No torch: G's loss in G's (and D's) parameters and in z, by central differences, batch norm in train mode."""
    rng = np.random.default_rng(seed)
    G = scratch_gan.MODELS[kind][0](latent_dim=3, image_size=4, width=2, num_classes=num_classes, dtype=np.float64, rng=rng)
    D = scratch_gan.MODELS[kind][1](image_size=4, width=2, num_classes=num_classes, dtype=np.float64, rng=rng,
                                    **({"batch_norm": batch_norm} if kind == "dcgan" else {}))
    for param in (*G.parameters(), *D.parameters()):  # away from N(0, 0.02)'s near-zero weights, where every gradient is tiny
        param.data[...] = rng.normal(0, 0.5, param.shape)
    labels = (rng.integers(0, num_classes, 3),) if num_classes else ()
    finite_difference_check(GeneratorLoss(G, D).train(), (rng.standard_normal((3, 3)), *labels), rng, max_entries=12)


def conv_weights_and_bn_scales(module):
    """Every (transposed) convolution's weight and every batch norm's scale, as arrays (either twin)."""
    layers = [layer for layer in module.modules() if type(layer).__name__ in ("Conv2d", "ConvTranspose2d", "BatchNorm2d")]
    return [(type(layer).__name__, np.asarray(layer.weight.data)) for layer in layers]


@pytest.mark.parametrize("image_size", [28, 8])
@pytest.mark.parametrize("kind", KINDS)
def test_init_and_state_dict_layout_are_the_twins(kind, image_size):
    """Same keys and shapes; DCGAN's N(0, 0.02) convolution weights and N(1, 0.02) batch-norm scales on both sides."""
    for index in (0, 1):
        ours, theirs = (m.MODELS[kind][index](image_size=image_size) for m in (scratch_gan, torch_gan))
        state, torch_state = ours.state_dict(), theirs.state_dict()
        assert [(k, v.shape) for k, v in state.items()] == [(k, tuple(v.shape)) for k, v in torch_state.items()]
        for module in (ours, theirs):
            for name, weight in conv_weights_and_bn_scales(module):
                if name == "BatchNorm2d":
                    assert np.all(np.abs(weight - 1) < 0.1), (type(module), weight)
                elif weight.size >= 500:
                    assert abs(weight.std() - 0.02) < 0.003 and abs(weight.mean()) < 0.003, (type(module), weight.std())


def test_an_image_size_not_divisible_by_4_is_refused_by_both_twins():
    for module in (scratch_gan, torch_gan):
        for cls in (module.Generator, module.Discriminator):
            with pytest.raises(ValueError, match="image_size: expected a multiple of 4"):
                cls(image_size=30)


def test_g_output_is_in_tanh_range_and_z_gradient_is_finite():
    """Sanity beside parity: G's images lie in [-1, 1]; assert_close explains a mismatch of the two twins' outputs."""
    rng = np.random.default_rng(0)
    G, twin_G = make_twins(scratch_gan.Generator, torch_gan.Generator, 0, np.float64, latent_dim=4, image_size=8, width=3)
    z = rng.standard_normal((5, 4))
    images = G(z)
    assert images.min() >= -1 and images.max() <= 1
    assert_close(images, twin_G(to_torch(z)), "G(z)", *tolerance(np.float64, "forward"))
