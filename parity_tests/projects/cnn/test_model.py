"""Project 4: the scratch CNN against its torch twin, layer stack and lockstep training."""
import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import training as torch_training
from reference.projects.cnn import model as torch_cnn
from scratch import datasets, metrics
from scratch import training as scratch_training
from scratch.projects.cnn import model as scratch_cnn
from scratch.projects.cnn.config import CNNConfig
from twins.parity import assert_lockstep, compare_modules, finite_difference_check, make_twins, randomise, seeds, tolerance, torch_dtype

SMALL = dict(channels=(3, 5), hidden=12)


@pytest.fixture(scope="module")
def digit_images():
    X, y = datasets.load("digits", "train", dtype=np.float64)
    X = X.reshape(-1, 1, 8, 8)
    return X[:160], y[:160], X[160:224], y[160:224]


@settings(max_examples=10)
@given(batch_norm=st.booleans(), training=st.booleans(), batch=st.integers(2, 4), dtype=st.sampled_from([np.float32, np.float64]),
       seed=seeds)
def test_cnn_forward_backward_matches_torch(batch_norm, training, batch, dtype, seed):
    rng = np.random.default_rng(seed)
    model = scratch_cnn.CNN(2, 4, image_size=8, batch_norm=batch_norm, dtype=dtype, rng=rng, **SMALL)
    twin = torch_cnn.CNN(2, 4, image_size=8, batch_norm=batch_norm, dtype=torch_dtype(dtype), **SMALL)
    randomise(model, rng, scale=0.5).train(training)
    compare_modules(model, twin.train(training), (rng.normal(size=(batch, 2, 8, 8)).astype(dtype),), rng, "CNN", reduction=2 * 9 * 64)


@settings(max_examples=4)
@given(batch_norm=st.booleans(), seed=seeds)
def test_cnn_finite_differences(batch_norm, seed):
    rng = np.random.default_rng(seed)
    model = randomise(scratch_cnn.CNN(1, 3, image_size=4, channels=(2, 3), hidden=5, batch_norm=batch_norm,
                                      dtype=np.float64, rng=rng), rng, scale=0.5)
    finite_difference_check(model, (rng.permutation(2 * 16).reshape(2, 1, 4, 4) / 8.0,), rng, max_entries=24)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lockstep_training_matches_torch(digit_images, optimizer, dtype):
    """Same weights, batches and optimizer for 30 steps (3 epochs of 10): the same losses,
    weights and batch-norm running statistics."""
    X, y, X_val, y_val = (a.astype(dtype) if a.dtype.kind == "f" else a for a in digit_images)
    config = CNNConfig(optimizer=optimizer, lr=0.05 if optimizer == "sgd" else 0.01, batch_size=16, num_epochs=3,
                       patience=5, batch_norm=True, dropout=0.0, augment=False, **SMALL)
    model, twin = make_twins(scratch_cnn.CNN, torch_cnn.CNN, config.seed, dtype, image_size=8, **config.architecture())
    history = scratch_training.fit(model, X, y, X_val, y_val, config)
    torch_history = torch_training.fit(twin, X, y, X_val, y_val, config)
    rtol, atol = tolerance(dtype, "train", reduction=9 * 5 * 16)
    assert_lockstep(history, torch_history, model, twin, rtol, atol)


def test_cnn_learns_digits(digit_images):
    X, y = datasets.load("digits", "train")
    X_test, y_test = datasets.load("digits", "test")
    X, X_test = X.reshape(-1, 1, 8, 8), X_test.reshape(-1, 1, 8, 8)
    config = CNNConfig(channels=(8, 16), hidden=32, lr=3e-3, batch_size=32, num_epochs=8, patience=8, augment=False)
    model, _ = make_twins(scratch_cnn.CNN, torch_cnn.CNN, config.seed, np.float32, image_size=8, **config.architecture())
    scratch_training.fit(model, X[:1100], y[:1100], X[1100:], y[1100:], config)
    assert metrics.accuracy(y_test, scratch_training.predict(model, X_test)) >= 0.9


@pytest.mark.parametrize("field, value, message", [
    ("channels", (32,), "channels: expected two positive ints"),
    ("hidden", 0, "hidden: expected a positive int"),
    ("dropout", 1.0, r"dropout: expected a probability in \[0, 1\)"),
    ("batch_size", 0, "batch_size: expected a positive int"),
])
def test_bad_config_is_refused(field, value, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(CNNConfig(), **{field: value})


def test_bad_model_input_is_refused():
    for CNN in (scratch_cnn.CNN, torch_cnn.CNN):
        with pytest.raises(ValueError, match="image_size: expected a multiple of 4"):
            CNN(image_size=30)
    model = scratch_cnn.CNN(1, 10, image_size=28, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="channel"):
        model(np.zeros((2, 3, 28, 28), np.float32))
    with pytest.raises(TypeError, match="float"):
        model(np.zeros((2, 1, 28, 28), np.uint8))
