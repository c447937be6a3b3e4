"""Bad input to Project 16's graph layers, models and training loop: each refusal names the argument,
what was expected and what came."""
import numpy as np
import pytest

from scratch.projects.gnn import data, layers, message_passing, textgraph, train
from scratch.projects.gnn import model as gnn_model
from scratch.projects.gnn.config import GNNConfig
from twins.parity import BadInput, assert_bad_input

RNG = np.random.default_rng(0)
X = RNG.normal(size=(4, 3))
EDGES = np.array([[0, 1, 2], [1, 2, 3]])


def gcn(*args, **kwargs):
    return lambda: layers.GCNConv(3, 2, dtype=np.float64, rng=np.random.default_rng(0), **kwargs)(*args)


def gat(*args, layer_kwargs=None, **kwargs):
    layer = layers.GATConv(3, 2, heads=2, dtype=np.float64, rng=np.random.default_rng(0), **(layer_kwargs or {}))
    return lambda: layer(*args, **kwargs)


def fit(train_mask, val_mask):
    model = gnn_model.GCN(3, 4, 2, dtype=np.float64, rng=np.random.default_rng(0))
    return lambda: train.fit(model, X, EDGES, np.array([0, 1, 0, 1]), train_mask, val_mask, GNNConfig(num_epochs=1))


TEXTS = ["oil price rises", "wheat harvest falls", "oil wheat trade"]


def text_graph(**kwargs):
    arguments = {"train_texts": TEXTS[:2], "y_train": np.array([0, 1]), "test_texts": TEXTS[2:], "y_test": np.array([0]),
                 "class_names": ["oil", "grain"], "min_count": 1, **kwargs}
    return lambda: textgraph.build(**arguments)


def featureless_fit(model):
    return lambda: train.fit(model, None, EDGES, np.array([0, 1, 0, 1]), np.array([True, True, False, False]),
                             np.array([False, False, True, True]), GNNConfig(num_epochs=1))


CASES = [
    BadInput("edge_index of one row", gcn(X, EDGES[:1]), ValueError, "edge_index", r"expected shape \(2, E\), got \(1, 3\)"),
    BadInput("edge_index transposed", gcn(X, EDGES.T.copy()), ValueError, "edge_index", r"expected shape \(2, E\), got \(3, 2\)"),
    BadInput("edge_index of floats", gcn(X, EDGES.astype(float)), TypeError, "edge_index", "expected an integer dtype.*got float64"),
    BadInput("edge_index as a list", gcn(X, EDGES.tolist()), TypeError, "edge_index", "expected an integer ndarray.*got list"),
    BadInput("edge_index past the last node", gcn(X, np.array([[0, 4], [1, 0]])), ValueError, "edge_index",
             "expected node indices below num_nodes=4, got 4"),
    BadInput("negative node index", gcn(X, np.array([[0, -1], [1, 0]])), ValueError, "edge_index", "expected node indices >= 0, got -1"),
    BadInput("negative edge weight under gcn_norm", gcn(X, EDGES, np.array([1.0, -0.5, 1.0])), ValueError, "edge_weight",
             r"expected weights >= 0 \(gcn_norm takes degree\^-1/2\), got minimum -0.5"),
    BadInput("an edge weight per node, not per edge", gcn(X, EDGES, np.ones(4)), ValueError, "edge_weight",
             r"expected shape \(3,\) \(one weight per edge\), got \(4,\)"),
    BadInput("edge weights of another dtype", gcn(X, EDGES, np.ones(3, np.float32)), TypeError, "edge_weight",
             "expected dtype float64 .*got float32"),
    BadInput("features of the wrong width", gcn(X[:, :2], EDGES), ValueError, "GCNConv x", "expected last dimension 3, got shape"),
    BadInput("features with fewer rows than the graph's nodes", gcn(X[:3], EDGES), ValueError, "edge_index",
             "expected node indices below num_nodes=3, got 3"),
    BadInput("features of one node as a vector", gcn(X[0], EDGES), ValueError, "GCNConv x", "expected an array of rank 2"),
    BadInput("identity features (x=None) with an edge past in_channels", gcn(None, np.array([[0, 4], [1, 0]])), ValueError,
             "edge_index (x=None: identity features of in_channels=3 nodes)", "expected node indices below num_nodes=3, got 4"),
    BadInput("identity features' edge weights of another dtype", gcn(None, EDGES[:, :2] % 3, np.ones(2, np.float32)), TypeError,
             "edge_weight", "expected dtype float64"),
    BadInput("x=None to GAT, which needs features", gat(None, EDGES), TypeError, "GATConv x", "expected a numpy ndarray, got None"),
    BadInput("x=None to SAGE in training", featureless_fit(gnn_model.SAGE(4, 4, 2, dtype=np.float64, rng=np.random.default_rng(0))),
             TypeError, "SAGEConv x", "expected a numpy ndarray, got None"),
    BadInput("text graph window of 0", text_graph(window=0), ValueError, "window", "expected a positive int, got 0"),
    BadInput("text graph min_count leaving no word", text_graph(min_count=5), ValueError, "min_count", "leaves none"),
    BadInput("text graph labels of another length", text_graph(y_test=np.array([0, 1])), ValueError, "y_test",
             r"expected one label per test document \(1\), got 2"),
    BadInput("validation fraction of 1", lambda: text_graph()().masks(np.random.default_rng(0), 1.0), ValueError, "val_fraction",
             r"expected a fraction in \(0, 1\)"),
    BadInput("self-loops without normalisation", lambda: layers.GCNConv(3, 2, normalize=False, add_self_loops=True), ValueError,
             "add_self_loops", "only with normalize=True"),
    BadInput("GAT heads of zero", lambda: layers.GATConv(3, 2, heads=0), ValueError, "GATConv(heads)", "expected a positive int, got 0"),
    BadInput("GAT edge features", lambda: layers.GATConv(3, 2, edge_dim=2), ValueError, "edge_dim", "edge_dim=None"),
    BadInput("GAT dropout mask of the wrong length", gat(X, EDGES, dropout_mask=np.ones((3, 2)), layer_kwargs={"dropout": 0.5}),
             ValueError, "dropout_mask", r"expected an array of shape \(7, 2\) \(edges with self-loops, heads\)"),
    BadInput("GAT dropout mask without dropout", gat(X, EDGES, dropout_mask=np.ones((7, 2))), ValueError, "dropout_mask",
             "only in training with dropout > 0"),
    BadInput("SAGE LSTM aggregation", lambda: layers.SAGEConv(3, 2, aggr="lstm"), ValueError, "aggr", "expected aggr 'mean'"),
    BadInput("train mask of the wrong length", fit(np.array([True, False, False]), np.ones(4, bool)), ValueError, "train_mask",
             r"expected shape \(4,\) \(one entry per node\), got \(3,\)"),
    BadInput("val mask of indices, not booleans", fit(np.ones(4, bool), np.array([2, 3])), TypeError, "val_mask",
             "expected a boolean ndarray of length 4"),
    BadInput("train mask selecting nothing", fit(np.zeros(4, bool), np.ones(4, bool)), ValueError, "train_mask",
             "expected at least one node selected"),
    BadInput("unknown model", lambda: GNNConfig(model="gin"), ValueError, "model", r"expected one of \['gcn', 'gat', 'sage', 'mlp'\]"),
    BadInput("num_nodes negative", lambda: message_passing.add_remaining_self_loops(EDGES, num_nodes=-1), ValueError, "num_nodes",
             "expected an int >= 0, got -1"),
    BadInput("connectome folder without the files", lambda: data.drosophila_right("/nonexistent"), FileNotFoundError,
             "right_adjacency.csv", ""),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_graph_input_is_named(case):
    assert_bad_input(case)
