"""Project 5: a recurrent forecaster. An LSTM (Hochreiter & Schmidhuber, 1997) or a GRU
(Cho et al., 2014) reads a window of a series; a linear head on the last step's output
predicts the next ``horizon`` values at once (direct multi-output forecasting).

Backpropagation through time is autograd's: it records every step of the recurrence and
replays it in reverse. ``fit`` is the regression twin of reference/training.py's loop
(mean squared error instead of cross-entropy).
Twin of scratch/forecasting.py: the same names, arguments and state_dict keys.
"""
import time

import numpy as np
import torch
from torch import nn

from scratch.forecasting import ForecasterConfig, check_architecture  # noqa: F401 (the run settings are shared)
from scratch.forecasting_data import check_pairs, check_windows
from scratch.plumbing import EarlyStopping, check_finite, minibatches
from reference.training import make_optimizer, make_scheduler

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU}


class Forecaster(nn.Module):
    """windows (N, window) -> the next ``horizon`` values (N, horizon); keys rnn.*, head.*"""

    def __init__(self, cell="lstm", hidden_size=32, num_layers=1, window=52, horizon=1, dtype=None):
        super().__init__()
        check_architecture(cell, hidden_size, num_layers, window, horizon)
        self.window, self.num_outputs = window, horizon
        self.rnn = CELLS[cell](1, hidden_size, num_layers, batch_first=True, dtype=dtype)
        self.head = nn.Linear(hidden_size, horizon, dtype=dtype)

    def forward(self, X):
        check_windows(X, self.window)
        output, _ = self.rnn(X[:, :, None])  # (N, window, 1) -> (N, window, hidden)
        return self.head(output[:, -1])  # (N, hidden) -> (N, horizon)


@torch.no_grad()
def evaluate(model, X, Y, batch_size=1024):
    """Mean squared error over (X, Y), in eval mode, batch by batch."""
    model.eval()
    criterion = nn.MSELoss(reduction="sum")
    X, Y = torch.from_numpy(X), torch.from_numpy(Y)
    total_loss = 0.0
    for idx in minibatches(len(X), batch_size):
        total_loss += float(criterion(model(X[idx]), Y[idx]))
    return total_loss / Y.numel()


@torch.no_grad()
def predict(model, X, batch_size=1024):
    """The forecasts (N, horizon) of windows X (N, window)."""
    check_pairs(X, None, model.window, model.num_outputs)
    model.eval()
    X = torch.from_numpy(X)
    return np.concatenate([model(X[idx]).numpy() for idx in minibatches(len(X), batch_size)])


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
    X, Y = torch.from_numpy(X), torch.from_numpy(Y)
    epochs = range(1, config.num_epochs + 1)
    if progress:
        from tqdm.auto import tqdm
        epochs = tqdm(epochs, desc=f"torch {config.cell.upper()} forecaster", unit="epoch")
    for epoch in epochs:
        model.train()
        start, total_loss = time.perf_counter(), 0.0
        for step, idx in enumerate(minibatches(len(X), config.batch_size, rng)):
            Y_hat = model(X[idx])
            loss = criterion(Y_hat, Y[idx])
            check_finite(loss.item(), epoch, step)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(idx)
        if scheduler is not None:
            scheduler.step()
        history["epoch_time"].append(time.perf_counter() - start)
        history["train_loss"].append(total_loss / len(X))
        val_loss = evaluate(model, X_val, Y_val)
        history["val_loss"].append(val_loss)
        if stopper.step(val_loss, epoch):
            best_state = {key: value.clone() for key, value in model.state_dict().items()}
        if progress:
            epochs.set_postfix(loss=f"{history['train_loss'][-1]:.4f}", val_loss=f"{val_loss:.4f}")
        if stopper.should_stop:
            break
    model.load_state_dict(best_state)
    history["best_epoch"] = stopper.best_epoch
    return history
