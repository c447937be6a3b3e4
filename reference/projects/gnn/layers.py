"""Project 16: the graph layers of PyTorch Geometric, as PyG builds them.

- GCNConv (Kipf & Welling, 2017): X' = D^-1/2 (A + I) D^-1/2 X W + b;
- GATConv (Velickovic et al., 2018): each target attends over its incoming edges, per head;
- SAGEConv (Hamilton et al., 2017): the mean of the neighbours, plus the node itself.

PyG's own classes, built by factories that take a ``dtype=`` as every twin does (PyG's layers are
built in the default dtype, then moved). Messages flow source -> target; autograd does every backward pass.
Twin of scratch/projects/gnn/layers.py.
"""
import torch_geometric.nn as pyg_nn
from torch_geometric.nn.conv.gcn_conv import gcn_norm

__all__ = ["GATConv", "GCNConv", "SAGEConv", "gcn_norm"]


def _in_dtype(layer_class):
    """``layer_class(*args, **kwargs)`` moved to ``dtype``. A factory, not a subclass: PyG generates each
    layer's ``propagate`` from its own class's source, which a subclass would not have."""
    def build(*args, dtype=None, **kwargs):
        return layer_class(*args, **kwargs).to(dtype)
    build.__name__ = build.__qualname__ = layer_class.__name__
    build.__doc__ = f"PyG's {layer_class.__name__}, with its parameters in ``dtype``."
    return build


GCNConv = _in_dtype(pyg_nn.GCNConv)
GATConv = _in_dtype(pyg_nn.GATConv)
SAGEConv = _in_dtype(pyg_nn.SAGEConv)
