"""Project 5: a recurrent forecaster. An LSTM (Hochreiter & Schmidhuber, 1997) or a GRU
(Cho et al., 2014) reads a window of a series; a linear head on the last step's output
predicts the next ``horizon`` values at once (direct multi-output forecasting).

Backpropagation through time is autograd's: it records every step of the recurrence and
replays it in reverse. ``fit`` runs reference/training.py's loop on mean squared error.
Twin of scratch/projects/forecasting/model.py: the same names, arguments and state_dict keys.
"""
import numpy as np
import torch
from torch import nn

from reference import training
from scratch.plumbing import minibatches
from scratch.projects.forecasting.config import check_architecture
from scratch.projects.forecasting.data import check_pairs, check_windows

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


def evaluate(model, X, Y, batch_size=1024):
    """Mean squared error over (X, Y), in eval mode, batch by batch."""
    return training.evaluate(model, X, Y, batch_size, criterion=nn.MSELoss())[0]


@torch.no_grad()
def predict(model, X, batch_size=1024):
    """The forecasts (N, horizon) of windows X (N, window)."""
    check_pairs(X, None, model.window, model.num_outputs)
    model.eval()
    X = torch.from_numpy(X)
    batches = list(minibatches(len(X), batch_size)) or [np.arange(0)]  # zero rows: one empty batch, (0, horizon) out
    return np.concatenate([model(X[idx]).numpy() for idx in batches])


def fit(model, X, Y, X_val, Y_val, config, progress=False):
    """Train ``model`` on windows X (N, window) and targets Y (N, horizon) by mean squared
    error with the shared training loop; keeps the weights of the best validation loss."""
    check_pairs(X, Y, model.window, model.num_outputs, "X")
    check_pairs(X_val, Y_val, model.window, model.num_outputs, "X_val")
    return training.fit(model, X, Y, X_val, Y_val, config, criterion=nn.MSELoss(), progress=progress)
