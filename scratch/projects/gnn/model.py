"""Project 16: node classifiers over a graph, trained full-batch on a few labelled nodes.

- GCN (Kipf & Welling, ICLR 2017): dropout, GCNConv, ReLU (tanh for a 2-D embedding), dropout, GCNConv;
- GAT (Velickovic et al., ICLR 2018): dropout, GATConv with 8 concatenated heads, ELU, dropout,
  GATConv with one head, attention dropout in both;
- SAGE (Hamilton et al., NeurIPS 2017): mean-aggregating SAGEConv twice;
- MLP: the same depth on the node's own features, which ignores the graph (the baseline).

Every gradient comes from the layers' hand-written backward passes. ``embedding`` keeps the
hidden node representations of the last forward (for the figures). Trained by
scratch/projects/gnn/train.py. Twin of reference/projects/gnn/model.py.
"""
import numpy as np

from scratch import nn

from .layers import GATConv, GCNConv, SAGEConv


class GCN(nn.Module):
    """(N, in_channels) node features and a graph -> (N, out_channels) logits."""

    def __init__(self, in_channels, hidden_channels, out_channels, dropout=0.5, improved=False, cached=False,
                 activation="relu", dtype=None, rng=None):
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        if activation not in ("relu", "tanh"):
            raise ValueError(f"activation: expected 'relu' or 'tanh', got {activation!r}")
        self.dropout_input, self.dropout = nn.Dropout(dropout, rng=rng), nn.Dropout(dropout, rng=rng)
        self.conv1 = GCNConv(in_channels, hidden_channels, improved=improved, cached=cached, dtype=dtype, rng=rng)
        self.act = nn.ReLU() if activation == "relu" else nn.Tanh()
        self.conv2 = GCNConv(hidden_channels, out_channels, improved=improved, cached=cached, dtype=dtype, rng=rng)
        self.embedding, self._featureless = None, False

    def forward(self, x, edge_index, edge_weight=None):
        """``x`` None: featureless nodes (identity features, in_channels of them), as TextGCN; no input dropout then."""
        self._featureless = x is None
        x = x if self._featureless else self.dropout_input(x)
        self.embedding = self.act(self.conv1(x, edge_index, edge_weight))  # (N, hidden)
        return self.conv2(self.dropout(self.embedding), edge_index, edge_weight)  # (N, out)

    def backward(self, grad, input_grad=True):
        dembedding = self.dropout.backward(self.conv2.backward(grad)[0])  # the edge weights are data here
        dx = self.conv1.backward(self.act.backward(dembedding), input_grad)[0]
        return None if dx is None or self._featureless else self.dropout_input.backward(dx)


class GAT(nn.Module):
    """(N, in_channels) node features and a graph -> (N, out_channels) logits; ``heads`` in the first layer."""

    def __init__(self, in_channels, hidden_channels, out_channels, heads=8, dropout=0.6, dtype=None, rng=None):
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.dropout_input, self.dropout = nn.Dropout(dropout, rng=rng), nn.Dropout(dropout, rng=rng)
        self.conv1 = GATConv(in_channels, hidden_channels, heads=heads, dropout=dropout, dtype=dtype, rng=rng)
        self.act = nn.ELU()
        self.conv2 = GATConv(hidden_channels * heads, out_channels, heads=1, concat=False, dropout=dropout, dtype=dtype, rng=rng)
        self.embedding = None

    def forward(self, x, edge_index):
        self.embedding = self.act(self.conv1(self.dropout_input(x), edge_index))  # (N, heads * hidden)
        return self.conv2(self.dropout(self.embedding), edge_index)  # (N, out)

    def backward(self, grad, input_grad=True):
        dembedding = self.dropout.backward(self.conv2.backward(grad)[0])
        dx = self.conv1.backward(self.act.backward(dembedding), input_grad=input_grad)[0]
        return None if dx is None else self.dropout_input.backward(dx)


class SAGE(nn.Module):
    """(N, in_channels) node features and a graph -> (N, out_channels) logits."""

    def __init__(self, in_channels, hidden_channels, out_channels, dropout=0.5, dtype=None, rng=None):
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.conv1 = SAGEConv(in_channels, hidden_channels, dtype=dtype, rng=rng)
        self.act = nn.ReLU()
        self.dropout = nn.Dropout(dropout, rng=rng)
        self.conv2 = SAGEConv(hidden_channels, out_channels, dtype=dtype, rng=rng)
        self.embedding = None

    def forward(self, x, edge_index):
        self.embedding = self.act(self.conv1(x, edge_index))  # (N, hidden)
        return self.conv2(self.dropout(self.embedding), edge_index)  # (N, out)

    def backward(self, grad, input_grad=True):
        dembedding = self.dropout.backward(self.conv2.backward(grad)[0])
        return self.conv1.backward(self.act.backward(dembedding), input_grad)[0]


class MLP(nn.Module):
    """(N, in_channels) node features -> (N, out_channels) logits; ``edge_index`` is taken and ignored."""

    def __init__(self, in_channels, hidden_channels, out_channels, dropout=0.5, dtype=None, rng=None):
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.lin1 = nn.Linear(in_channels, hidden_channels, dtype=dtype, rng=rng)
        self.act = nn.ReLU()
        self.dropout = nn.Dropout(dropout, rng=rng)
        self.lin2 = nn.Linear(hidden_channels, out_channels, dtype=dtype, rng=rng)
        self.embedding = None

    def forward(self, x, edge_index=None):
        self.embedding = self.act(self.lin1(x))  # (N, hidden)
        return self.lin2(self.dropout(self.embedding))

    def backward(self, grad, input_grad=True):
        dembedding = self.dropout.backward(self.lin2.backward(grad))
        return self.lin1.backward(self.act.backward(dembedding), input_grad)


MODELS = {"gcn": GCN, "gat": GAT, "sage": SAGE, "mlp": MLP}
