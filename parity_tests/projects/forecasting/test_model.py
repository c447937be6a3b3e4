"""Project 5: the recurrent forecaster against its torch twin (forward, backward, finite
differences, lockstep training) and the errors it raises."""
import dataclasses

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.projects.forecasting import model as torch_forecasting
from scratch.projects.forecasting import model as scratch_forecasting
from scratch.projects.forecasting.config import ForecasterConfig
from scratch.projects.forecasting.data import make_windows
from twins.parity import assert_close, assert_lockstep, compare_modules, dtypes, finite_difference_check, float_arrays, make_twins, randomise, seeds, tolerance

cells = st.sampled_from(["lstm", "gru"])


def twins(cell, hidden_size, num_layers, window, horizon, dtype, seed, scale=None):
    """A scratch forecaster (every parameter randomised when ``scale`` is given) and its torch twin."""
    return make_twins(scratch_forecasting.Forecaster, torch_forecasting.Forecaster, seed, dtype, scale, cell=cell,
                      hidden_size=hidden_size, num_layers=num_layers, window=window, horizon=horizon)


@settings(max_examples=30)
@given(data=st.data(), cell=cells, num_layers=st.integers(1, 2), dtype=dtypes, seed=st.integers(0, 2**31))
def test_forecaster_matches_torch(data, cell, num_layers, dtype, seed):
    batch, window = data.draw(st.integers(1, 5), "batch"), data.draw(st.integers(1, 8), "window")
    hidden, horizon = data.draw(st.integers(1, 6), "hidden"), data.draw(st.integers(1, 4), "horizon")
    model, twin = twins(cell, hidden, num_layers, window, horizon, dtype, seed, scale=0.5)
    X = data.draw(float_arrays((batch, window), dtype), "X")
    y = compare_modules(model, twin, (X,), np.random.default_rng(seed), name=f"{cell} forecaster",
                        reduction=window * hidden * num_layers)
    assert y.shape == (batch, horizon) and model.num_outputs == horizon


@settings(max_examples=20)
@given(cell=cells, num_layers=st.integers(1, 2), seed=seeds)
def test_forecaster_finite_differences(cell, num_layers, seed):
    rng = np.random.default_rng(seed)
    model = randomise(scratch_forecasting.Forecaster(cell, 3, num_layers, 4, 2, dtype=np.float64, rng=rng), rng, 0.5)
    finite_difference_check(model, (rng.uniform(-2, 2, (3, 4)),), rng)


def test_only_the_last_step_output_reaches_the_head():
    """Changing the input changes the forecast only through the recurrence: the gradient
    reaches every time step, and it is what torch says it is."""
    model, twin = twins("lstm", 4, 1, 6, 1, np.float64, 3, scale=0.5)
    X = np.random.default_rng(0).normal(size=(2, 6))
    dX = model.backward(np.ones_like(model(X)))
    assert np.all(dX != 0)


@pytest.fixture(scope="module")
def co2_windows():
    from scratch.datasets import fill_gaps, load_series

    values, _ = load_series("co2")
    series = fill_gaps(values)[0][:400]
    series = (series - series.mean()) / series.std()
    X, Y = make_windows(series, 12, 2)
    return X[:320], Y[:320], X[320:], Y[320:]


@pytest.mark.parametrize("cell, num_layers, optimizer", [("lstm", 1, "adam"), ("gru", 2, "sgd"), ("lstm", 2, "rmsprop")])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lockstep_training_matches_torch(co2_windows, cell, num_layers, optimizer, dtype):
    """Same initial weights, same batches, same optimizer: the same losses and weights, step for step (20 steps)."""
    X, Y, X_val, Y_val = (a.astype(dtype) for a in co2_windows)
    config = ForecasterConfig(cell=cell, hidden_size=8, num_layers=num_layers, window=12, horizon=2,
                              optimizer=optimizer, lr=0.01, weight_decay=0.01, batch_size=32, num_epochs=2, patience=5)
    model, twin = twins(cell, 8, num_layers, 12, 2, dtype, seed=7)
    history = scratch_forecasting.fit(model, X, Y, X_val, Y_val, config)
    torch_history = torch_forecasting.fit(twin, X, Y, X_val, Y_val, config)
    rtol, atol = tolerance(dtype, "train", reduction=12 * 8)
    assert_lockstep(history, torch_history, model, twin, rtol, atol)
    assert history["best_epoch"] == torch_history["best_epoch"]
    assert_close(scratch_forecasting.predict(model, X_val), torch_forecasting.predict(twin, X_val), "predictions", rtol, atol)


def test_training_learns_and_keeps_the_best_weights(co2_windows):
    X, Y, X_val, Y_val = co2_windows
    config = ForecasterConfig(hidden_size=8, window=12, horizon=2, lr=0.01, batch_size=32, num_epochs=15, patience=3)
    model = scratch_forecasting.Forecaster("gru", 8, 1, 12, 2, dtype=np.float64, rng=np.random.default_rng(0))
    history = scratch_forecasting.fit(model, X, Y, X_val, Y_val, config)
    assert history["train_loss"][-1] < history["train_loss"][0] / 5
    assert scratch_forecasting.evaluate(model, X_val, Y_val) == pytest.approx(min(history["val_loss"]), rel=1e-12)
    assert scratch_forecasting.predict(model, X_val).shape == Y_val.shape


@pytest.mark.parametrize("side", [scratch_forecasting, torch_forecasting], ids=["scratch", "torch"])
def test_bad_data_is_refused(side, co2_windows):
    X, Y, X_val, Y_val = co2_windows
    model = side.Forecaster("lstm", 4, 1, 12, 2, dtype=np.float64 if side is scratch_forecasting else torch.float64)
    config = ForecasterConfig(hidden_size=4, window=12, horizon=2, num_epochs=1)
    with pytest.raises(ValueError, match=r"X: expected windows of shape \(N, 12\), got shape \(320, 11\)"):
        side.fit(model, X[:, 1:], Y, X_val, Y_val, config)
    bad = X.copy()
    bad[4, 3] = np.nan
    with pytest.raises(ValueError, match=r"X: contains NaN or inf in rows \[4\]"):
        side.fit(model, bad, Y, X_val, Y_val, config)
    bad_targets = Y_val.copy()
    bad_targets[2, 1] = np.inf
    with pytest.raises(ValueError, match=r"targets of X_val: contains NaN or inf in rows \[2\]"):
        side.fit(model, X, Y, X_val, bad_targets, config)
    with pytest.raises(ValueError, match=r"targets of X: expected float64 \(N, horizon\) = \(320, 2\), got \(320, 1\)"):
        side.fit(model, X, Y[:, :1], X_val, Y_val, config)
    with pytest.raises(ValueError, match=r"X: expected windows of shape \(N, 12\), got shape \(3, 12, 1\)"):
        side.predict(model, X[:3, :, None])
    with pytest.raises(ValueError, match=r"X: contains NaN or inf in rows \[4\]"):
        side.predict(model, bad)


@pytest.mark.parametrize("field, value, message", [
    ("horizon", 0, "horizon: expected a positive int, got 0"),
    ("horizon", -2, "horizon: expected a positive int, got -2"),
    ("window", 2.5, "window: expected a positive int, got 2.5"),
    ("cell", "rnn", "cell: expected 'lstm' or 'gru', got 'rnn'"),
])
def test_bad_config_is_refused(field, value, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(ForecasterConfig(), **{field: value})
    arguments = dict(cell="lstm", hidden_size=4, num_layers=1, window=12, horizon=1) | {field: value}
    for side in (scratch_forecasting, torch_forecasting):
        with pytest.raises(ValueError, match=message):
            side.Forecaster(**arguments)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("side", [scratch_forecasting, torch_forecasting], ids=["scratch", "torch"])
def test_diverging_loss_stops_naming_the_step(side, co2_windows):
    X, Y, X_val, Y_val = co2_windows
    model, twin = twins("gru", 4, 1, 12, 2, np.float64, 0)
    module = model if side is scratch_forecasting else twin
    module.head.weight.data[0, 0] = np.nan
    with pytest.raises(FloatingPointError, match="training loss became nan at epoch 1, step 0"):
        side.fit(module, X, Y, X_val, Y_val, ForecasterConfig(hidden_size=4, window=12, horizon=2, num_epochs=1))


def test_zero_windows_forecast_nothing_and_evaluate_to_nan():
    """As torch on an empty batch: an empty (0, horizon) forecast of the model's dtype, NaN mean squared error."""
    model, twin = twins("lstm", 4, 1, window=3, horizon=2, dtype=np.float64, seed=0)
    X, Y = np.zeros((0, 3)), np.zeros((0, 2))
    for module, side in ((model, scratch_forecasting), (twin, torch_forecasting)):
        forecast = side.predict(module, X)
        assert forecast.shape == (0, 2) and forecast.dtype == np.float64
        assert np.isnan(side.evaluate(module, X, Y))
