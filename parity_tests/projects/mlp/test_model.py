"""Project 2: the scratch MLP against its torch twin, trained in lockstep; data, metrics, errors."""
import dataclasses
import gzip

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import training as torch_training
from reference.projects.mlp import model as torch_mlp
from scratch import datasets, metrics
from scratch import training as scratch_training
from scratch.projects.mlp import model as scratch_mlp
from scratch.projects.mlp.config import MLPConfig
from scratch.training import OPTIMIZERS
from twins.parity import assert_close, assert_lockstep, make_twins, seeds, tolerance


@pytest.fixture(scope="module")
def digits():
    X, y = datasets.load("digits", "train", dtype=np.float64)
    return X[:240], y[:240], X[240:320], y[240:320]


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@settings(max_examples=4)
@given(hidden=st.lists(st.integers(4, 24), min_size=1, max_size=3), activation=st.sampled_from(["relu", "tanh", "gelu", "elu"]),
       batch_size=st.sampled_from([1, 17, 64]), dtype=st.sampled_from([np.float32, np.float64]), seed=seeds)
def test_lockstep_training_matches_torch(digits, optimizer, hidden, activation, batch_size, dtype, seed):
    """Same initial weights, same batches, same optimizer: the same losses and weights, step for step."""
    X, y, X_val, y_val = (a.astype(dtype) if a.dtype.kind == "f" else a for a in digits)
    # Rounding differences grow with every step (RMSprop's g/sqrt(v) nearly a sign when v is tiny;
    # SGD with momentum at batch 1 reaches 1e-8 after ~480 steps on some CPUs): float32 runs 16
    # batches an epoch, float64 at most 64 (the whole 240-sample subset unless batch_size is 1).
    num_batches = 16 if dtype == np.float32 else 64
    X, y = X[:num_batches * batch_size], y[:num_batches * batch_size]
    config = MLPConfig(hidden_sizes=tuple(hidden), activation=activation, dropout=0.0, optimizer=optimizer,
                       lr=0.01 if optimizer != "sgd" else 0.05, weight_decay=0.01, batch_size=batch_size,
                       num_epochs=2, patience=5, seed=seed % 1000)
    model, twin = make_twins(scratch_mlp.MLP, torch_mlp.MLP, config.seed, dtype, in_features=X.shape[1], num_classes=10,
                             **config.architecture())
    history = scratch_training.fit(model, X, y, X_val, y_val, config)
    torch_history = torch_training.fit(twin, X, y, X_val, y_val, config)
    rtol, atol = tolerance(dtype, "train", reduction=X.shape[1])
    assert_lockstep(history, torch_history, model, twin, rtol, atol)
    for key in ("train_acc", "val_acc"):
        assert_close(np.array(history[key]), np.array(torch_history[key]), f"history {key}", rtol, atol * 10)


def test_training_learns_digits():
    """A real run on the real data set, a few epochs: well above chance and close to the target."""
    X, y = datasets.load("digits", "train")
    X_test, y_test = datasets.load("digits", "test")
    config = MLPConfig(hidden_sizes=(128,), dropout=0.1, lr=3e-3, batch_size=64, num_epochs=15, patience=15)
    model = scratch_mlp.MLP(64, (128,), 10, dropout=0.1, rng=np.random.default_rng(0))
    history = scratch_training.fit(model, X[:1200], y[:1200], X[1200:], y[1200:], config)
    assert history["val_acc"][-1] > history["val_acc"][0]
    assert metrics.accuracy(y_test, scratch_training.predict(model, X_test)) >= 0.95


def test_early_stopping_restores_the_best_weights(digits):
    X, y, X_val, y_val = digits
    config = MLPConfig(hidden_sizes=(16,), dropout=0.0, lr=0.3, optimizer="sgd", num_epochs=30, patience=2, batch_size=16)
    model = scratch_mlp.MLP(64, (16,), 10, dtype=np.float64, rng=np.random.default_rng(1))
    history = scratch_training.fit(model, X, y, X_val, y_val, config)
    assert len(history["val_loss"]) <= history["best_epoch"] + config.patience
    val_loss, _ = scratch_training.evaluate(model, X_val, y_val)
    assert val_loss == pytest.approx(min(history["val_loss"]), rel=1e-12)


def test_checkpoint_of_trained_model_loads_into_torch(tmp_path, digits):
    from scratch import load, save

    X, y, X_val, y_val = digits
    config = MLPConfig(hidden_sizes=(12,), dropout=0.0, num_epochs=1)
    model = scratch_mlp.MLP(64, (12,), 10, dtype=np.float64, rng=np.random.default_rng(2))
    scratch_training.fit(model, X, y, X_val, y_val, config)
    save(model.state_dict(), tmp_path / "mlp.npz")
    twin = torch_mlp.MLP(64, (12,), 10, dtype=torch.float64)
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in load(tmp_path / "mlp.npz").items()})
    np.testing.assert_array_equal(scratch_training.predict(model, X_val), torch_training.predict(twin, X_val))
    back = scratch_mlp.MLP(64, (12,), 10, dtype=np.float64)
    back.load_state_dict({k: v.numpy() for k, v in twin.state_dict().items()})
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[key], value)


@pytest.mark.parametrize("field, value, message", [
    ("activation", "swish", "activation: expected one of"),
    ("optimizer", "adagrad", "optimizer: expected one of"),
    ("hidden_sizes", (16, 0), "hidden_sizes: expected positive ints"),
])
def test_bad_config_is_refused(field, value, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(MLPConfig(), **{field: value})
    if field == "activation":
        with pytest.raises(ValueError, match=message):
            scratch_mlp.MLP(4, (3,), 2, activation=value)
        with pytest.raises(ValueError, match=message):
            torch_mlp.MLP(4, (3,), 2, activation=value)


@pytest.mark.parametrize("fit", [scratch_training.fit, torch_training.fit], ids=["scratch", "torch"])
def test_bad_training_data_is_refused(fit, digits):
    X, y, X_val, y_val = digits
    model, twin = make_twins(scratch_mlp.MLP, torch_mlp.MLP, in_features=64, hidden_sizes=(8,), num_classes=10)
    module = model if fit is scratch_training.fit else twin
    config = MLPConfig(hidden_sizes=(8,), num_epochs=1)
    bad_labels = y.copy()
    bad_labels[3] = 10
    with pytest.raises(ValueError, match=r"labels of X: expected classes in \[0, 10\), got range \[0, 10\]"):
        fit(module, X, bad_labels, X_val, y_val, config)
    bad_X = X.copy()
    bad_X[5, 2] = np.nan
    with pytest.raises(ValueError, match=r"X: contains NaN or inf in rows \[5\]"):
        fit(module, bad_X, y, X_val, y_val, config)
    with pytest.raises(ValueError, match=r"X_val: expected a float array \(samples, features...\), got \(80,\)"):
        fit(module, X, y, X_val[:, 0], y_val, config)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf * 0 in the matmul
@pytest.mark.parametrize("fit", [scratch_training.fit, torch_training.fit], ids=["scratch", "torch"])
def test_diverging_loss_stops_naming_the_step(fit, digits):
    X, y, X_val, y_val = digits
    model, twin = make_twins(scratch_mlp.MLP, torch_mlp.MLP, in_features=64, hidden_sizes=(8,), num_classes=10)
    model.layers[0].weight.data[0, 0] = np.inf
    twin.layers[0].weight.data[0, 0] = np.inf
    with pytest.raises(FloatingPointError, match="training loss became nan at epoch 1, step 0"):
        fit(model if fit is scratch_training.fit else twin, X, y, X_val, y_val, MLPConfig(hidden_sizes=(8,), num_epochs=1))


def test_metrics_match_sklearn():
    from sklearn import metrics as sk

    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 7, 500), rng.integers(0, 7, 500)
    assert metrics.accuracy(y_true, y_pred) == sk.accuracy_score(y_true, y_pred)
    np.testing.assert_array_equal(metrics.confusion_matrix(y_true, y_pred, 7), sk.confusion_matrix(y_true, y_pred, labels=range(7)))
    np.testing.assert_allclose(metrics.per_class_accuracy(y_true, y_pred, 7), sk.recall_score(y_true, y_pred, average=None))
    with pytest.raises(ValueError, match=r"y_pred: labels must lie in \[0, 7\)"):
        metrics.confusion_matrix(y_true, y_pred + 1, 7)
    with pytest.raises(TypeError, match="y_true: expected integer class labels"):
        metrics.accuracy(y_true.astype(float), y_pred)


def test_read_idx_round_trip_and_corruption(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (5, 4, 3), dtype=np.uint8)
    header = bytes([0, 0, 0x08, 3]) + b"".join(int(d).to_bytes(4, "big") for d in images.shape)
    with gzip.open(tmp_path / "x-idx3-ubyte.gz", "wb") as f:
        f.write(header + images.tobytes())
    np.testing.assert_array_equal(datasets.read_idx(tmp_path / "x-idx3-ubyte.gz"), images)
    (tmp_path / "short").write_bytes(header + images.tobytes()[:-1])
    with pytest.raises(ValueError, match="header promises shape"):
        datasets.read_idx(tmp_path / "short")
    (tmp_path / "junk").write_bytes(b"PK\x03\x04rest")
    with pytest.raises(ValueError, match="not an IDX file"):
        datasets.read_idx(tmp_path / "junk")


def test_missing_fashion_mnist_says_how_to_install(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        datasets.load_fashion_mnist("train", root=tmp_path)
    with pytest.raises(ValueError, match="split: expected 'train' or 'test'"):
        datasets.load_fashion_mnist("validation")
    with pytest.raises(ValueError, match="name: expected one of"):
        datasets.load("mnist")


def test_fashion_mnist_loads_as_documented():
    images, labels = datasets.load_fashion_mnist("test")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and np.array_equal(np.bincount(labels), np.full(10, 1000))


def test_zero_rows_predict_nothing_and_evaluate_to_nan():
    """As torch on an empty batch: predict gives an empty array of class ids, evaluate NaN (a mean over nothing)."""
    model, twin = make_twins(scratch_mlp.MLP, torch_mlp.MLP, in_features=4, hidden_sizes=(3,), num_classes=2)
    X, y = np.zeros((0, 4)), np.zeros(0, np.int64)
    for training, module in ((scratch_training, model), (torch_training, twin)):
        predicted = training.predict(module, X)
        assert predicted.shape == (0,) and predicted.dtype == np.int64
        loss, accuracy = training.evaluate(module, X, y)
        assert np.isnan(loss) and np.isnan(accuracy)
