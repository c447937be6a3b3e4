"""Project 20: the scorer's torch twin, the shadow that scores the served requests off the hot
path: standardise with the training set's mean and scale, then Project 2's MLP in torch.
Twin of scratch/projects/mlops/scorer.py: the same names, arguments and state_dict keys.
"""
import numpy as np
import torch
from torch import nn

from reference.bridge import torch_dtype
from reference.projects.mlp.model import MLP
from scratch.projects.mlops import checkpoint
from scratch.projects.mlops.config import TASKS
from scratch.projects.mlops.scorer import check_batch


class Scorer(nn.Module):
    """(N, in_features) -> (N, num_outputs); keys mean, scale, mlp.layers.0.weight, ..."""

    def __init__(self, in_features, hidden_sizes, num_outputs, task="classification", activation="relu", dtype=None):
        super().__init__()
        if task not in TASKS:
            raise ValueError(f"task: expected one of {TASKS}, got {task!r}")
        self.task, self.in_features = task, in_features
        self.num_classes = num_outputs
        self.mlp = MLP(in_features, hidden_sizes, num_outputs, activation, dropout=0.0, dtype=dtype)
        dtype = torch.float32 if dtype is None else dtype
        self.register_buffer("mean", torch.zeros(in_features, dtype=dtype))
        self.register_buffer("scale", torch.ones(in_features, dtype=dtype))

    def forward(self, X):
        return self.mlp((X - self.mean) / self.scale)  # (N, in_features) -> (N, num_outputs)

    @torch.no_grad()
    def predict(self, X):
        """(predictions (N,), scores (N, num_outputs)) as NumPy arrays."""
        self.eval()
        out = self.forward(torch.from_numpy(check_batch(X, self.in_features, self.mean.numpy().dtype)))
        if self.task == "regression":
            return out[:, 0].numpy(), out.numpy()
        return out.argmax(dim=1).numpy(), torch.softmax(out, dim=1).numpy()

    @classmethod
    def load(cls, path):
        state, meta = checkpoint.load(path)
        dtype = torch_dtype(state["mean"].dtype) if "mean" in state else None
        scorer = cls(meta["in_features"], meta["hidden_sizes"], meta["num_outputs"], meta["task"], meta["activation"], dtype=dtype)
        scorer.load_state_dict({key: torch.from_numpy(np.array(value)) for key, value in state.items()}, strict=True)
        return scorer.eval(), meta
