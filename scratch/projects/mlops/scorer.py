"""Project 20: the deployable scorer, NumPy only: standardise the features with the training
set's mean and scale, then Project 2's MLP; a class (and its probabilities) or a value out.
This is what the model server imports, so serving needs no torch.
Twin of reference/projects/mlops/scorer.py, the torch shadow that scores the same requests.
"""
import numpy as np

from scratch import nn
from scratch.projects.mlops import checkpoint
from scratch.projects.mlops.config import TASKS
from scratch.projects.mlp.model import MLP


class Scorer(nn.Module):
    """(N, in_features) -> (N, num_outputs): logits for classification, one value for regression;
    keys mean, scale, mlp.layers.0.weight, ..."""

    def __init__(self, in_features, hidden_sizes, num_outputs, task="classification", activation="relu", dtype=None, rng=None):
        super().__init__()
        if task not in TASKS:
            raise ValueError(f"task: expected one of {TASKS}, got {task!r}")
        self.task, self.in_features = task, in_features
        self.num_classes = num_outputs  # read by the training loop's label checks
        self.mlp = MLP(in_features, hidden_sizes, num_outputs, activation, dropout=0.0, dtype=dtype, rng=rng)
        dtype = np.float32 if dtype is None else dtype
        self.register_buffer("mean", np.zeros(in_features, dtype=dtype))
        self.register_buffer("scale", np.ones(in_features, dtype=dtype))

    def forward(self, X):
        return self.mlp((X - self.mean) / self.scale)  # (N, in_features) -> (N, num_outputs)

    def backward(self, grad, input_grad=True):
        dz = self.mlp.backward(grad, input_grad)  # (N, num_outputs) -> (N, in_features), or None
        return None if dz is None else dz / self.scale

    def predict(self, X):
        """(predictions (N,), scores (N, num_outputs)): the class and its softmax, or the value twice."""
        self.eval()
        out = self.forward(check_batch(X, self.in_features, self.mean.dtype))
        if self.task == "regression":
            return out[:, 0], out
        shifted = np.exp(out - out.max(axis=1, keepdims=True))
        return out.argmax(axis=1), shifted / shifted.sum(axis=1, keepdims=True)

    @classmethod
    def load(cls, path):
        """The scorer of a checkpoint (scratch/projects/mlops/checkpoint.py), and its description."""
        state, meta = checkpoint.load(path)
        dtype = state["mean"].dtype.type if "mean" in state else None
        scorer = cls(meta["in_features"], meta["hidden_sizes"], meta["num_outputs"], meta["task"], meta["activation"], dtype=dtype)
        scorer.load_state_dict(state)
        return scorer.eval(), meta


def check_batch(X, in_features, dtype):
    """A (N, in_features) batch of finite numbers as ``dtype``; a ValueError naming X otherwise."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != in_features or not (np.issubdtype(X.dtype, np.number) and not np.iscomplexobj(X)):
        raise ValueError(f"X: expected a (rows, {in_features}) array of real numbers, got shape {X.shape} dtype {X.dtype}")
    if not np.isfinite(X).all():
        raise ValueError(f"X: expected finite values, got NaN or inf in rows {np.flatnonzero(~np.isfinite(X).all(axis=1))[:5].tolist()}")
    return X.astype(dtype, copy=False)
