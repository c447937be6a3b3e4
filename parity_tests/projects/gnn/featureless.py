"""Featureless nodes (identity features, TextGCN's input) under twins.parity.compare_modules, which
hands both twins the same arrays: the graph becomes the only input, scratch's module gets x=None and
PyG's the identity it stands for (dense or sparse), so every gradient is still compared by name."""
import torch

from reference.projects.gnn.model import identity
from scratch import nn


class Featureless(nn.Module):
    """``module(None, edge_index, edge_weight)``; backward gives None for edge_index, then the weights' gradient
    when the module returns one (a layer called with weights), as compare_modules expects."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, edge_index, edge_weight=None):
        return self.module(None, edge_index, edge_weight)

    def backward(self, grad):
        grads = self.module.backward(grad)
        return (None,) + (tuple(grads[2:]) if isinstance(grads, tuple) else ())


class TorchFeatureless(torch.nn.Module):
    """The twin: ``module(x, edge_index, edge_weight)`` with x the (in_channels, in_channels) identity,
    ``dense`` or sparse; with ``model=True`` the module is handed None and builds the identity itself."""

    def __init__(self, module, dense=False, model=False):
        super().__init__()
        self.module, self.dense, self.model = module, dense, model

    def forward(self, edge_index, edge_weight=None):
        if self.model:
            return self.module(None, edge_index, edge_weight)
        n, dtype = self.module.in_channels, self.module.lin.weight.dtype
        return self.module(torch.eye(n, dtype=dtype) if self.dense else identity(n, dtype), edge_index, edge_weight)
