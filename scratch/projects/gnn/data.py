"""Project 16's graphs (shared by both twins, never twinned): Zachary's karate club from networkx
and the right mushroom body of the Drosophila larva from graspologic's data files, with the
few-labels splits of semi-supervised node classification."""
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .message_passing import to_undirected


@dataclass
class Graph:
    """A graph for node classification: features ``x`` (N, F), ``edge_index`` (2, E) source -> target,
    ``edge_weight`` (E,) or None, labels ``y`` (N,) and the name of each class."""
    name: str
    x: np.ndarray
    edge_index: np.ndarray
    edge_weight: np.ndarray
    y: np.ndarray
    class_names: list

    @property
    def num_nodes(self):
        return len(self.y)

    def astype(self, dtype):
        """The graph with its features and weights in ``dtype`` (None stays None: identity features)."""
        x, weight = (None if a is None else a.astype(dtype) for a in (self.x, self.edge_weight))
        return dataclasses.replace(self, x=x, edge_weight=weight)


def karate_club():
    """Zachary's karate club (34 members, 78 friendships, both directions): identity features and, as
    in Kipf & Welling's figure, the four communities modularity finds (Louvain, seed 0) as the classes."""
    import networkx as nx

    graph = nx.karate_club_graph()
    communities = sorted(nx.community.louvain_communities(graph, seed=0), key=min)
    y = np.empty(graph.number_of_nodes(), dtype=np.int64)
    for label, members in enumerate(communities):
        y[list(members)] = label
    edges = np.array(graph.edges(), dtype=np.int64).T  # (2, 78), each friendship once
    edge_index = to_undirected(edges, num_nodes=len(y))
    return Graph("karate", np.eye(len(y)), edge_index, None, y, [f"community {k}" for k in range(len(communities))])


CELL_TYPES = {"K": "Kenyon cell", "P": "projection neuron", "O": "output neuron", "I": "input neuron"}


DROSOPHILA_DIR = Path(__file__).resolve().parents[3] / ".data/graspologic/drosophila"


def drosophila_folder():
    """The connectome's csv files, unpacked from graspologic's wheel by scripts/install_data.sh."""
    if not (DROSOPHILA_DIR / "right_adjacency.csv").exists():
        raise FileNotFoundError(f"the Drosophila connectome is not in {DROSOPHILA_DIR}: run `bash scripts/install_data.sh` in the "
                                "project folder (it unpacks the csv files from graspologic's wheel)")
    return DROSOPHILA_DIR


def drosophila_right(folder=None):
    """The right hemisphere of the larval mushroom body (Eichler et al., Nature 2017): 213 neurons, an
    edge i -> j weighted by the synapses from i onto j, four cell types. The features are the node's own
    wiring statistics (log in- and out-degree, log in- and out-synapse counts, standardised), which an
    MLP can use without the graph; the edges are made undirected with log(1 + synapses) weights summed."""
    folder = drosophila_folder() if folder is None else Path(folder)
    adjacency = np.loadtxt(folder / "right_adjacency.csv", dtype=np.int64)  # (213, 213), row = presynaptic
    labels = np.loadtxt(folder / "right_cell_labels.csv", dtype=str)
    names = sorted(set(labels.tolist()))
    y = np.searchsorted(names, labels)
    source, target = np.nonzero(adjacency)
    weight = np.log1p(adjacency[source, target].astype(np.float64))
    stats = np.stack([(adjacency > 0).sum(0), (adjacency > 0).sum(1), adjacency.sum(0), adjacency.sum(1)], axis=1)
    x = np.log1p(stats.astype(np.float64))
    x = (x - x.mean(0)) / x.std(0)
    edge_index, edge_weight = to_undirected(np.stack([source, target]), weight, len(y))
    return Graph("drosophila", x, edge_index, edge_weight, y, [CELL_TYPES[name] for name in names])


def few_labels_split(y, per_class, rng, val_per_class=0):
    """(train_mask, val_mask, test_mask): ``per_class`` labelled nodes of each class drawn at random,
    ``val_per_class`` more for validation (or, with 0, validation = test), every other node tested."""
    order = rng.permutation(len(y))
    ranked = order[np.argsort(y[order], kind="stable")]  # each class's nodes in random order
    first = np.searchsorted(y[ranked], y[ranked])  # where each node's class starts
    position = np.arange(len(y)) - first  # rank of the node within its class
    train, val = np.zeros(len(y), bool), np.zeros(len(y), bool)
    train[ranked[position < per_class]] = True
    val[ranked[(position >= per_class) & (position < per_class + val_per_class)]] = True
    test = ~(train | val)
    return train, (val if val_per_class else test), test
