"""Project 5: a recurrent forecaster. An LSTM (Hochreiter & Schmidhuber, 1997) or a GRU
(Cho et al., 2014) reads a window of a series; a linear head on the last step's output
predicts the next ``horizon`` values at once (direct multi-output forecasting).

Backpropagation through time is the recurrent layer's own (scratch/nn/rnn.py); here the
head's gradient enters at the last time step only. ``fit`` is the regression twin of
scratch/training.py's loop (mean squared error instead of cross-entropy).
Twin of reference/forecasting.py: diff the two to see what autograd does.
"""
import time
from dataclasses import dataclass

import numpy as np

from scratch import nn
from scratch.forecasting_data import check_pairs, check_positive_int, check_windows
from scratch.plumbing import EarlyStopping, TrainingConfig, check_finite, minibatches
from scratch.training import make_optimizer, make_scheduler

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU}


def check_architecture(cell, hidden_size, num_layers, window, horizon):
    if cell not in ("lstm", "gru"):
        raise ValueError(f"cell: expected 'lstm' or 'gru', got {cell!r}")
    for name, value in (("hidden_size", hidden_size), ("num_layers", num_layers), ("window", window), ("horizon", horizon)):
        check_positive_int(value, name)


@dataclass
class ForecasterConfig(TrainingConfig):
    """The architecture and the training settings of a run; both twins read the same one."""
    cell: str = "lstm"
    hidden_size: int = 32
    num_layers: int = 1
    window: int = 52
    horizon: int = 1

    def __post_init__(self):
        super().__post_init__()
        check_architecture(self.cell, self.hidden_size, self.num_layers, self.window, self.horizon)


class Forecaster(nn.Module):
    """windows (N, window) -> the next ``horizon`` values (N, horizon); keys rnn.*, head.* as torch's."""

    def __init__(self, cell="lstm", hidden_size=32, num_layers=1, window=52, horizon=1, dtype=None, rng=None):
        super().__init__()
        check_architecture(cell, hidden_size, num_layers, window, horizon)
        rng = np.random.default_rng() if rng is None else rng
        self.window, self.num_outputs = window, horizon
        self.rnn = CELLS[cell](1, hidden_size, num_layers, batch_first=True, dtype=dtype, rng=rng)
        self.head = nn.Linear(hidden_size, horizon, dtype=dtype, rng=rng)

    def forward(self, X):
        check_windows(X, self.window)
        output, _ = self.rnn(X[:, :, None])  # (N, window, 1) -> (N, window, hidden)
        self._output_shape = output.shape
        return self.head(output[:, -1])  # (N, hidden) -> (N, horizon)

    def backward(self, grad):
        dlast = self.head.backward(grad)  # (N, horizon) -> (N, hidden)
        doutput = np.zeros(self._output_shape, dlast.dtype)  # only the last step fed the head
        doutput[:, -1] = dlast  # (N, window, hidden)
        return self.rnn.backward(doutput)[:, :, 0]  # (N, window, 1) -> (N, window)


def evaluate(model, X, Y, batch_size=1024):
    """Mean squared error over (X, Y), in eval mode, batch by batch."""
    model.eval()
    criterion = nn.MSELoss(reduction="sum")
    total_loss = 0.0
    for idx in minibatches(len(X), batch_size):
        total_loss += float(criterion(model(X[idx]), Y[idx]))
    return total_loss / Y.size


def predict(model, X, batch_size=1024):
    """The forecasts (N, horizon) of windows X (N, window)."""
    check_pairs(X, None, model.window, model.num_outputs)
    model.eval()
    return np.concatenate([model(X[idx]) for idx in minibatches(len(X), batch_size)])


def fit(model, X, Y, X_val, Y_val, config, progress=False):
    """Train ``model`` on windows X (N, window) and targets Y (N, horizon) by mean squared
    error and keep the weights of the best validation loss. Returns the history."""
    check_pairs(X, Y, model.window, model.num_outputs, "X")
    check_pairs(X_val, Y_val, model.window, model.num_outputs, "X_val")
    rng = np.random.default_rng(config.seed)  # batch order only: the same on both twins
    criterion = nn.MSELoss()
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr, config.weight_decay)
    scheduler = make_scheduler(config.lr_schedule, optimizer, config.num_epochs)
    stopper = EarlyStopping(config.patience)
    history = {key: [] for key in ("train_loss", "val_loss", "epoch_time")}
    epochs = range(1, config.num_epochs + 1)
    if progress:
        from tqdm.auto import tqdm
        epochs = tqdm(epochs, desc=f"scratch {config.cell.upper()} forecaster", unit="epoch")
    for epoch in epochs:
        model.train()
        start, total_loss = time.perf_counter(), 0.0
        for step, idx in enumerate(minibatches(len(X), config.batch_size, rng)):
            Y_hat = model(X[idx])
            loss = criterion(Y_hat, Y[idx])
            check_finite(float(loss), epoch, step)
            optimizer.zero_grad()
            model.backward(criterion.backward())
            optimizer.step()
            total_loss += float(loss) * len(idx)
        if scheduler is not None:
            scheduler.step()
        history["epoch_time"].append(time.perf_counter() - start)
        history["train_loss"].append(total_loss / len(X))
        val_loss = evaluate(model, X_val, Y_val)
        history["val_loss"].append(val_loss)
        if stopper.step(val_loss, epoch):
            best_state = model.state_dict()
        if progress:
            epochs.set_postfix(loss=f"{history['train_loss'][-1]:.4f}", val_loss=f"{val_loss:.4f}")
        if stopper.should_stop:
            break
    model.load_state_dict(best_state)
    history["best_epoch"] = stopper.best_epoch
    return history
