"""Project 5: a recurrent forecaster. An LSTM (Hochreiter & Schmidhuber, 1997) or a GRU
(Cho et al., 2014) reads a window of a series; a linear head on the last step's output
predicts the next ``horizon`` values at once (direct multi-output forecasting).

Backpropagation through time is the recurrent layer's own (scratch/nn/rnn.py); here the
head's gradient enters at the last time step only. ``fit`` runs
scratch/training.py's loop on mean squared error.
Twin of reference/projects/forecasting/model.py: diff the two to see what autograd does.
"""
import numpy as np

from scratch import nn, training
from scratch.plumbing import minibatches
from scratch.projects.forecasting.config import check_architecture
from scratch.projects.forecasting.data import check_pairs, check_windows

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU}


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

    def backward(self, grad, input_grad=True):
        dlast = self.head.backward(grad)  # (N, horizon) -> (N, hidden)
        doutput = np.zeros(self._output_shape, dlast.dtype)  # only the last step fed the head
        doutput[:, -1] = dlast  # (N, window, hidden)
        dX = self.rnn.backward(doutput, input_grad=input_grad)  # (N, window, 1), or None
        return None if dX is None else dX[:, :, 0]  # (N, window)


def evaluate(model, X, Y, batch_size=1024):
    """Mean squared error over (X, Y), in eval mode, batch by batch."""
    return training.evaluate(model, X, Y, batch_size, criterion=nn.MSELoss())[0]


def predict(model, X, batch_size=1024):
    """The forecasts (N, horizon) of windows X (N, window)."""
    check_pairs(X, None, model.window, model.num_outputs)
    model.eval()
    batches = list(minibatches(len(X), batch_size)) or [np.arange(0)]  # zero rows: one empty batch, (0, horizon) out
    return np.concatenate([model(X[idx]) for idx in batches])


def fit(model, X, Y, X_val, Y_val, config, progress=False):
    """Train ``model`` on windows X (N, window) and targets Y (N, horizon) by mean squared
    error with the shared training loop; keeps the weights of the best validation loss."""
    check_pairs(X, Y, model.window, model.num_outputs, "X")
    check_pairs(X_val, Y_val, model.window, model.num_outputs, "X_val")
    return training.fit(model, X, Y, X_val, Y_val, config, criterion=nn.MSELoss(), progress=progress)
