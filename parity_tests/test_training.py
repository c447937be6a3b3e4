"""The supervised training loop twins: the criterion they are handed, and a run that can keep no epoch."""
import io

import numpy as np
import pytest
import torch

from reference import training as torch_training
from scratch import nn, training
from scratch.plumbing import TrainingConfig, progress_range


def regression_twins(rng):
    model = nn.Linear(3, 2, dtype=np.float64, rng=rng)
    twin = torch.nn.Linear(3, 2, dtype=torch.float64)
    twin.load_state_dict({key: torch.from_numpy(value) for key, value in model.state_dict().items()})
    return model, twin


@pytest.mark.parametrize("side", ["scratch", "torch"])
def test_a_validation_loss_never_finite_is_a_clear_error(side):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(16, 3)), rng.normal(size=(16, 2))
    Y_val = np.full((4, 2), np.nan)
    model, twin = regression_twins(rng)
    loop, module = (training, model) if side == "scratch" else (torch_training, twin)
    config = TrainingConfig(optimizer="sgd", lr=0.01, batch_size=4, num_epochs=2)
    criterion = nn.MSELoss() if side == "scratch" else torch.nn.MSELoss()
    with pytest.raises(FloatingPointError, match="validation loss was never finite"):
        loop.fit(module, X, Y, X[:4], Y_val, config, criterion=criterion)


def test_the_criterion_is_handed_in_and_evaluate_sums_it_per_target_value():
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(10, 3)), rng.normal(size=(10, 2))
    model, twin = regression_twins(rng)
    config = TrainingConfig(optimizer="adam", lr=0.01, batch_size=3, num_epochs=3, lr_schedule="constant")
    history = training.fit(model, X, Y, X, Y, config, criterion=nn.L1Loss())
    torch_history = torch_training.fit(twin, X, Y, X, Y, config, criterion=torch.nn.L1Loss())
    np.testing.assert_allclose(history["val_loss"], torch_history["val_loss"], rtol=1e-12)
    assert "val_acc" not in history
    loss, accuracy = training.evaluate(model, X, Y, batch_size=4, criterion=nn.L1Loss())
    assert accuracy is None and loss == pytest.approx(np.abs(model(X) - Y).mean(), rel=1e-12)


def test_training_config_keeps_numbers_as_plain_python_numbers():
    """NumPy integers count as ints (a bool does not; see parity_tests/bad_input/test_estimators.py)."""
    config = TrainingConfig(batch_size=np.int64(32), num_epochs=np.int32(3), lr=1, weight_decay=np.float32(0.5), seed=np.uint8(7))
    assert (config.batch_size, config.num_epochs, config.lr, config.weight_decay, config.seed) == (32, 3, 1.0, 0.5, 7)
    assert type(config.batch_size) is int and type(config.lr) is float


def test_progress_range_is_a_range_or_a_bar_over_it():
    assert progress_range(1, 4, progress=False, desc="unused") == range(1, 4)
    shown = io.StringIO()
    bar = progress_range(1, 4, progress=True, desc="epochs", unit="epoch", file=shown)
    assert list(bar) == [1, 2, 3] and hasattr(bar, "set_postfix")
    assert "epochs: 100%" in shown.getvalue() and "3/3" in shown.getvalue()
