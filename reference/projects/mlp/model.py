"""Project 2: a multilayer perceptron classifier trained by backpropagation.

Linear layers with a chosen activation and dropout between them, giving logits for a
softmax cross-entropy. Every gradient comes from torch's autograd, which records the
forward pass and replays it in reverse. Trained by reference/training.py.
Twin of scratch/projects/mlp/model.py: the same names, arguments and state_dict keys.
"""
from torch import nn

from scratch.projects.mlp.config import check_architecture

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
               "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "silu": nn.SiLU}


class MLP(nn.Module):
    """in_features -> hidden_sizes... -> num_classes logits; keys layers.0.weight, ..."""

    def __init__(self, in_features, hidden_sizes, num_classes, activation="relu", dropout=0.0, dtype=None):
        super().__init__()
        check_architecture(in_features, hidden_sizes, num_classes, activation)
        self.num_classes = num_classes
        layers, width = [], in_features
        for hidden in hidden_sizes:
            layers += [nn.Linear(width, hidden, dtype=dtype), ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = hidden
        self.layers = nn.Sequential(*layers, nn.Linear(width, num_classes, dtype=dtype))

    def forward(self, X):
        return self.layers(X)  # (N, in_features) -> (N, num_classes)
