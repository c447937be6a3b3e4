"""Project 16: node classifiers over a graph, trained full-batch on a few labelled nodes.

- GCN (Kipf & Welling, ICLR 2017): dropout, GCNConv, ReLU (tanh for a 2-D embedding), dropout, GCNConv;
- GAT (Velickovic et al., ICLR 2018): dropout, GATConv with 8 concatenated heads, ELU, dropout,
  GATConv with one head, attention dropout in both;
- SAGE (Hamilton et al., NeurIPS 2017): mean-aggregating SAGEConv twice;
- MLP: the same depth on the node's own features, which ignores the graph (the baseline).

Every gradient comes from torch's autograd. ``embedding`` keeps the hidden node representations
of the last forward (for the figures). Trained by reference/projects/gnn/train.py.
Twin of scratch/projects/gnn/model.py: the same names, arguments and state_dict keys.
"""
import torch
from torch import nn

from .layers import GATConv, GCNConv, SAGEConv


def identity(num_nodes, dtype):
    """The (N, N) one-hot features of N nodes as a sparse COO tensor (an N x N dense one would not fit TextGCN's graph)."""
    index = torch.arange(num_nodes).expand(2, num_nodes)
    return torch.sparse_coo_tensor(index, torch.ones(num_nodes, dtype=dtype), (num_nodes, num_nodes),
                                   is_coalesced=True, check_invariants=True)


class GCN(nn.Module):
    """(N, in_channels) node features and a graph -> (N, out_channels) logits."""

    def __init__(self, in_channels, hidden_channels, out_channels, dropout=0.5, improved=False, cached=False,
                 activation="relu", dtype=None):
        super().__init__()
        if activation not in ("relu", "tanh"):
            raise ValueError(f"activation: expected 'relu' or 'tanh', got {activation!r}")
        self.dropout_input, self.dropout = nn.Dropout(dropout), nn.Dropout(dropout)
        self.conv1 = GCNConv(in_channels, hidden_channels, improved=improved, cached=cached, dtype=dtype)
        self.act = nn.ReLU() if activation == "relu" else nn.Tanh()
        self.conv2 = GCNConv(hidden_channels, out_channels, improved=improved, cached=cached, dtype=dtype)
        self.embedding = None

    def forward(self, x, edge_index, edge_weight=None):
        """``x`` None: featureless nodes, handed to PyG as a sparse identity of in_channels rows; no input dropout then."""
        x = identity(self.conv1.in_channels, self.conv1.lin.weight.dtype) if x is None else self.dropout_input(x)
        self.embedding = self.act(self.conv1(x, edge_index, edge_weight))  # (N, hidden)
        return self.conv2(self.dropout(self.embedding), edge_index, edge_weight)  # (N, out)


class GAT(nn.Module):
    """(N, in_channels) node features and a graph -> (N, out_channels) logits; ``heads`` in the first layer."""

    def __init__(self, in_channels, hidden_channels, out_channels, heads=8, dropout=0.6, dtype=None):
        super().__init__()
        self.dropout_input, self.dropout = nn.Dropout(dropout), nn.Dropout(dropout)
        self.conv1 = GATConv(in_channels, hidden_channels, heads=heads, dropout=dropout, dtype=dtype)
        self.act = nn.ELU()
        self.conv2 = GATConv(hidden_channels * heads, out_channels, heads=1, concat=False, dropout=dropout, dtype=dtype)
        self.embedding = None

    def forward(self, x, edge_index):
        self.embedding = self.act(self.conv1(self.dropout_input(x), edge_index))  # (N, heads * hidden)
        return self.conv2(self.dropout(self.embedding), edge_index)  # (N, out)


class SAGE(nn.Module):
    """(N, in_channels) node features and a graph -> (N, out_channels) logits."""

    def __init__(self, in_channels, hidden_channels, out_channels, dropout=0.5, dtype=None):
        super().__init__()
        self.conv1 = SAGEConv(in_channels, hidden_channels, dtype=dtype)
        self.act = nn.ReLU()
        self.dropout = nn.Dropout(dropout)
        self.conv2 = SAGEConv(hidden_channels, out_channels, dtype=dtype)
        self.embedding = None

    def forward(self, x, edge_index):
        self.embedding = self.act(self.conv1(x, edge_index))  # (N, hidden)
        return self.conv2(self.dropout(self.embedding), edge_index)  # (N, out)


class MLP(nn.Module):
    """(N, in_channels) node features -> (N, out_channels) logits; ``edge_index`` is taken and ignored."""

    def __init__(self, in_channels, hidden_channels, out_channels, dropout=0.5, dtype=None):
        super().__init__()
        self.lin1 = nn.Linear(in_channels, hidden_channels, dtype=dtype)
        self.act = nn.ReLU()
        self.dropout = nn.Dropout(dropout)
        self.lin2 = nn.Linear(hidden_channels, out_channels, dtype=dtype)
        self.embedding = None

    def forward(self, x, edge_index=None):
        self.embedding = self.act(self.lin1(x))  # (N, hidden)
        return self.lin2(self.dropout(self.embedding))


MODELS = {"gcn": GCN, "gat": GAT, "sage": SAGE, "mlp": MLP}
