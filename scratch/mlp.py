"""Project 2: a multilayer perceptron classifier trained by backpropagation.

Linear layers with a chosen activation and dropout between them, giving logits for a
softmax cross-entropy. Every gradient comes from the layers' hand-written backward
passes (Rumelhart, Hinton & Williams, 1986), chained here in reverse order. Trained by
scratch/training.py. Twin of reference/mlp.py: diff the two to see what autograd does.
"""
from dataclasses import dataclass

import numpy as np

from scratch import nn
from scratch.plumbing import TrainingConfig

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
               "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "silu": nn.SiLU}


@dataclass
class MLPConfig(TrainingConfig):
    """The architecture and the training settings of a run; both twins read the same one."""
    hidden_sizes: tuple = (256, 128)
    activation: str = "relu"
    dropout: float = 0.2

    def __post_init__(self):
        super().__post_init__()
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation: expected one of {sorted(ACTIVATIONS)}, got {self.activation!r}")
        if not all(isinstance(h, int) and h > 0 for h in self.hidden_sizes):
            raise ValueError(f"hidden_sizes: expected positive ints, got {self.hidden_sizes!r}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout: expected a probability in [0, 1), got {self.dropout!r}")


class MLP(nn.Module):
    """in_features -> hidden_sizes... -> num_classes logits; keys layers.0.weight, ... as torch's."""

    def __init__(self, in_features, hidden_sizes, num_classes, activation="relu", dropout=0.0, dtype=None, rng=None):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation: expected one of {sorted(ACTIVATIONS)}, got {activation!r}")
        rng = np.random.default_rng() if rng is None else rng
        self.num_classes = num_classes
        layers, width = [], in_features
        for hidden in hidden_sizes:
            layers += [nn.Linear(width, hidden, dtype=dtype, rng=rng), ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout, rng=rng))
            width = hidden
        self.layers = nn.Sequential(*layers, nn.Linear(width, num_classes, dtype=dtype, rng=rng))

    def forward(self, X):
        return self.layers(X)  # (N, in_features) -> (N, num_classes)

    def backward(self, grad):
        return self.layers.backward(grad)  # (N, num_classes) -> (N, in_features)
