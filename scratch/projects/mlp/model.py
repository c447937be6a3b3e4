"""Project 2: a multilayer perceptron classifier trained by backpropagation.

Linear layers with a chosen activation and dropout between them, giving logits for a
softmax cross-entropy. Every gradient comes from the layers' hand-written backward
passes (Rumelhart, Hinton & Williams, 1986), chained here in reverse order. Trained by
scratch/training.py. Twin of reference/projects/mlp/model.py: diff the two to see what autograd does.
"""
import numpy as np

from scratch import nn
from scratch.projects.mlp.config import check_architecture

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
               "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "silu": nn.SiLU}


class MLP(nn.Module):
    """in_features -> hidden_sizes... -> num_classes logits; keys layers.0.weight, ... as torch's."""

    def __init__(self, in_features, hidden_sizes, num_classes, activation="relu", dropout=0.0, dtype=None, rng=None):
        super().__init__()
        check_architecture(in_features, hidden_sizes, num_classes, activation)
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

    def backward(self, grad, input_grad=True):
        return self.layers.backward(grad, input_grad)  # (N, num_classes) -> (N, in_features), or None
