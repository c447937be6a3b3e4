"""Project 12: the adversarial loop's twins from the same weights, real batch and noise: D's loss on
real and fake, G's loss, D(x) and D(G(z)), every gradient of D and of G by parameter name after D's
and after G's backward (batch norm in train mode, both float tiers, hypothesis sizes); D never moved
by G's step; lockstep training in float64."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.projects.gan import model as torch_gan
from reference.projects.gan import train as torch_train
from scratch import datasets, nn
from scratch.projects.gan import model as scratch_gan
from scratch.projects.gan import train as scratch_train
from scratch.projects.gan.config import GANConfig, scale_images
from twins.parity import assert_close, assert_lockstep, dtypes, make_twins, seeds, to_numpy, to_torch, tolerance


def gan_twins(kind, image_size, dtype, seed, scale=None, latent_dim=4, width=3, batch_norm=True, num_classes=0):
    """(G, twin G, D, twin D) holding the same weights (randomised with std ``scale`` if given)."""
    G, twin_G = make_twins(scratch_gan.MODELS[kind][0], torch_gan.MODELS[kind][0], seed, dtype, scale,
                           latent_dim=latent_dim, image_size=image_size, width=width, num_classes=num_classes)
    D, twin_D = make_twins(scratch_gan.MODELS[kind][1], torch_gan.MODELS[kind][1], seed + 1, dtype, scale, image_size=image_size,
                           width=width, num_classes=num_classes, **({"batch_norm": batch_norm} if kind == "dcgan" else {}))
    return G, twin_G, D, twin_D


def assert_grads_match(module, twin, name, rtol, atol):
    """Every parameter gradient by name; a parameter without one compares as zeros."""
    twin_params = dict(twin.named_parameters())
    assert dict(module.named_parameters()).keys() == twin_params.keys()
    for pname, param in module.named_parameters():
        expected = twin_params[pname].grad
        assert_close(np.zeros_like(param.data) if param.grad is None else param.grad,
                     torch.zeros_like(twin_params[pname]) if expected is None else expected, f"{name} grad of {pname}", rtol, atol)


@settings(max_examples=12)
@given(kind=st.sampled_from(list(scratch_gan.MODELS)), image_size=st.sampled_from([4, 8]), batch=st.integers(2, 5),
       latent_dim=st.integers(1, 5), width=st.integers(1, 4), batch_norm=st.booleans(),
       real_target=st.sampled_from([1.0, 0.9]), num_classes=st.sampled_from([0, 0, 3]), dtype=dtypes, seed=seeds)
def test_one_round_of_losses_and_gradients_matches_torch(kind, image_size, batch, latent_dim, width, batch_norm, real_target,
                                                         num_classes, dtype, seed):
    rng = np.random.default_rng(seed)
    G, twin_G, D, twin_D = gan_twins(kind, image_size, dtype, seed, 0.5, latent_dim, width, batch_norm, num_classes)
    real = rng.uniform(-1, 1, (batch, 1, image_size, image_size)).astype(dtype)
    z = rng.standard_normal((batch, latent_dim)).astype(dtype)
    labels = rng.integers(0, num_classes, batch) if num_classes else None
    twin_labels = None if labels is None else torch.from_numpy(labels)
    criterion, twin_criterion = nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss()
    reduction = max(batch * image_size ** 2, 32 * width, latent_dim)
    forward, grad = tolerance(dtype, "forward", reduction), tolerance(dtype, "grad", reduction)

    fake, twin_fake = G.train()(z, labels), twin_G.train()(to_torch(z), twin_labels)
    assert_close(fake, twin_fake, "G(z)", *forward)
    D_results = scratch_train.discriminator_backward(D.train(), real, fake, criterion, real_target, labels)
    twin_results = torch_train.discriminator_backward(twin_D.train(), to_torch(real), twin_fake, twin_criterion, real_target, twin_labels)
    for name, ours, theirs in zip(("loss_D", "D(x)", "D(G(z))"), D_results, twin_results):
        assert_close(ours, theirs, name, *forward)
    assert_grads_match(D, twin_D, "D step: D", *grad)
    assert G.main[0].weight.grad is None and all(p.grad is None for p in twin_G.parameters()), "D's step reached G"

    D.zero_grad(), twin_D.zero_grad()
    loss_G = scratch_train.generator_backward(G, D, fake, criterion, labels)
    assert_close(loss_G, torch_train.generator_backward(twin_G, twin_D, twin_fake, twin_criterion, twin_labels), "loss_G", *forward)
    assert_grads_match(G, twin_G, "G step: G", *grad)
    assert_grads_match(D, twin_D, "G step: D", *grad)  # filled on both sides, and never applied
    for name, module, twin in (("G", G, twin_G), ("D", D, twin_D)):  # D's running statistics saw three batches
        twin_buffers = dict(twin.named_buffers())
        for key, buffer in module.named_buffers():
            assert_close(buffer, twin_buffers[key], f"{name} buffer {key}", *forward)


@pytest.mark.parametrize("train", [scratch_train, torch_train], ids=["scratch", "torch"])
def test_g_step_fills_but_never_moves_d(train):
    """loss_G's backward leaves gradients in D's parameters; G's optimizer steps G only, and the
    next round's zero_grad clears them before D's own backward."""
    dtype = np.float64
    G, twin_G, D, twin_D = gan_twins("dcgan", 8, dtype, 3, 0.5)
    G, D = (G, D) if train is scratch_train else (twin_G, twin_D)
    convert = (lambda a: a) if train is scratch_train else to_torch
    rng = np.random.default_rng(0)
    real, z = convert(rng.uniform(-1, 1, (4, 1, 8, 8))), convert(rng.standard_normal((4, 4)))
    criterion = nn.BCEWithLogitsLoss() if train is scratch_train else torch.nn.BCEWithLogitsLoss()
    optimizer_G, optimizer_D = train.make_optimizers(G, D, GANConfig())
    def state(module):  # the parameters: D's forward in G's step moves its running statistics, as torch's does
        return {k: to_numpy(v).copy() for k, v in module.state_dict().items() if "running" not in k and "tracked" not in k}

    before = state(D)
    optimizer_G.zero_grad()
    train.generator_backward(G, D, G(z), criterion)
    optimizer_G.step()
    assert any(np.any(np.asarray(p.grad) != 0) for p in D.parameters()), "G's backward left no gradient in D"
    for key, value in state(D).items():
        np.testing.assert_array_equal(value, before[key], err_msg=f"G's step moved D's {key}")
    train.train_step(G, D, real, z, criterion, optimizer_G, optimizer_D)  # starts with optimizer_D.zero_grad()


@pytest.fixture(scope="module")
def digit_images():
    X, y = datasets.load("digits", "train", dtype=np.float64)
    return scale_images(X[:96], 8), y[:96]


@pytest.mark.parametrize("kind, label_smoothing, num_classes", [("dcgan", 0.0, 0), ("mlp", 0.1, 0), ("dcgan", 0.1, 10),
                                                                ("mlp", 0.0, 10)])
def test_lockstep_training_matches_torch(digit_images, kind, label_smoothing, num_classes):
    """The same weights, batches and noise for 3 epochs of 6 rounds (alternating D and G Adam steps),
    float64: every per-step loss, D(x) and D(G(z)), and every weight and running statistic of G and D;
    unconditional and conditional on the digits' classes."""
    config = GANConfig(model=kind, latent_dim=5, width=4, batch_size=16, num_epochs=3, label_smoothing=label_smoothing, lr=2e-3,
                       num_classes=num_classes)
    X, y = digit_images
    y = y if num_classes else None
    generator, discriminator = config.architecture()
    G, twin_G = make_twins(scratch_gan.MODELS[kind][0], torch_gan.MODELS[kind][0], 0, np.float64, image_size=8, **generator)
    D, twin_D = make_twins(scratch_gan.MODELS[kind][1], torch_gan.MODELS[kind][1], 1, np.float64, image_size=8, **discriminator)
    history = scratch_train.fit(G, D, X, config, y)
    twin_history = torch_train.fit(twin_G, twin_D, X, config, y)
    assert len(history["loss_D"]) == 18
    rtol, atol = tolerance(np.float64, "train")
    assert_lockstep(history, twin_history, G, twin_G, rtol, atol, keys=scratch_train.HISTORY_KEYS)
    assert_lockstep(history, twin_history, D, twin_D, rtol, atol, keys=())


def test_float32_lockstep_stays_within_the_training_tolerance(digit_images):
    config = GANConfig(model="dcgan", latent_dim=5, width=4, batch_size=16, num_epochs=2, lr=2e-3)
    generator, discriminator = config.architecture()
    X = digit_images[0].astype(np.float32)
    G, twin_G = make_twins(scratch_gan.Generator, torch_gan.Generator, 0, np.float32, image_size=8, **generator)
    D, twin_D = make_twins(scratch_gan.Discriminator, torch_gan.Discriminator, 1, np.float32, image_size=8, **discriminator)
    history, twin_history = scratch_train.fit(G, D, X, config), torch_train.fit(twin_G, twin_D, X, config)
    rtol, atol = tolerance(np.float32, "train", reduction=16 * 64)
    assert_lockstep(history, twin_history, G, twin_G, rtol, atol, keys=scratch_train.HISTORY_KEYS)
    assert_lockstep(history, twin_history, D, twin_D, rtol, atol, keys=())


def test_label_smoothing_is_one_sided():
    """D's target for real images becomes 1 - s; for fakes it stays 0: with D's logits all 0, loss_D =
    BCE(0, 1 - s) + BCE(0, 0) = 2 log 2 whatever s, and D's gradient shifts by s on the real half only."""
    G, _, D, _ = gan_twins("mlp", 8, np.float64, 0)
    for param in D.parameters():
        param.data[...] = 0.0
    rng = np.random.default_rng(0)
    real, fake = rng.uniform(-1, 1, (4, 1, 8, 8)), G(rng.standard_normal((4, 4)))
    last = D.main[-1]
    bias_grads = []
    for target in (1.0, 0.8):
        D.zero_grad()
        loss_D, D_x, D_G_z = scratch_train.discriminator_backward(D, real, fake, nn.BCEWithLogitsLoss(), target)
        assert loss_D == pytest.approx(2 * np.log(2)) and D_x == D_G_z == 0.5
        bias_grads.append(float(last.bias.grad[0]))
    assert bias_grads[0] == pytest.approx(0.0) and bias_grads[1] == pytest.approx(0.2)  # mean(sigmoid(0) - 0.8) = -0.3 + 0.5


def test_digits_mlp_gan_learns():
    """A short real run moves G's samples towards the data: the mean image's distance to the data's mean shrinks."""
    X, _ = datasets.load("digits", "train", dtype=np.float32)
    X = scale_images(X, 8)
    config = GANConfig(model="mlp", latent_dim=16, width=64, lr=1e-3, batch_size=64, num_epochs=15)
    generator, discriminator = config.architecture()
    G, _ = make_twins(scratch_gan.MLPGenerator, torch_gan.MLPGenerator, 0, np.float32, image_size=8, **generator)
    D, _ = make_twins(scratch_gan.MLPDiscriminator, torch_gan.MLPDiscriminator, 1, np.float32, image_size=8, **discriminator)
    z = np.random.default_rng(5).standard_normal((500, 16)).astype(np.float32)
    gap_before = np.abs(scratch_train.sample(G, z).mean(axis=0) - X.mean(axis=0)).mean()
    history = scratch_train.fit(G, D, X, config)
    gap_after = np.abs(scratch_train.sample(G, z).mean(axis=0) - X.mean(axis=0)).mean()
    assert gap_after < 0.6 * gap_before, (gap_before, gap_after)
    assert 0.2 < np.mean(history["D_G_z"][-20:]) < 0.8, "D wins outright or G fools it outright"
