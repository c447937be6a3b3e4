"""Benchmark cases for the graph neural networks project (Project 16).

GCNConv and GATConv (8 heads of 8) forward+backward on random directed graphs of 10^3, 10^4 and
10^5 edges (ten edges per node on average, 64 input features), so that the growth of the cost
with the graph shows; scratch and PyG hold the same weights and see the same input and upstream
gradient, and both compute the features' gradient. Then a training epoch (forward, loss on the
labelled nodes, backward, Adam step) of the two-layer GCN and GAT on the Drosophila connectome.
Last, TextGCN's first layer on its Reuters R8 graph (15,238 document and word nodes, 3.2 million
weighted edges; --quick: the first 300 + 150 documents): GCNConv(N, 200) on featureless nodes, scratch
fed x=None, PyG the sparse identity and the sparse adj_t, both with the normalisation cached.
"""
import numpy as np
import torch

from reference.bridge import copy_to_torch, torch_dtype, twin_pair
from reference.projects.gnn import layers as pyg_layers
from reference.projects.gnn import model as pyg_model
from reference.projects.gnn import train as pyg_train
from scratch import datasets, nn, optim
from scratch.projects.gnn import data, layers, textgraph
from scratch.projects.gnn import model as scratch_model
from scratch.projects.gnn.config import CONFIGS

from .core import Case

EDGES = {False: (10**3, 10**4, 10**5), True: (10**3, 10**4)}  # by quick
EDGES_PER_NODE = 10
IN_CHANNELS = 64
LAYERS = {"GCNConv": {"out_channels": 16}, "GATConv": {"out_channels": 8, "heads": 8}}


def random_graph(num_edges, rng):
    num_nodes = num_edges // EDGES_PER_NODE
    return num_nodes, rng.integers(0, num_nodes, (2, num_edges))


def layer_case(name, num_edges, dtype, rng):
    """Forward+backward of one layer on a random graph, the features' gradient computed on both sides."""
    num_nodes, edge_index = random_graph(num_edges, rng)
    layer = getattr(layers, name)(IN_CHANNELS, dtype=dtype, rng=rng, **LAYERS[name])
    twin = copy_to_torch(layer, getattr(pyg_layers, name)(IN_CHANNELS, dtype=torch_dtype(dtype), **LAYERS[name]))
    x = rng.standard_normal((num_nodes, IN_CHANNELS)).astype(dtype)
    grad = rng.standard_normal(layer(x, edge_index).shape).astype(dtype)

    def scratch_step():
        layer.zero_grad()
        layer(x, edge_index)
        layer.backward(grad)

    tx, tindex, tgrad = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(edge_index), torch.from_numpy(grad)

    def torch_step():
        twin.zero_grad()
        tx.grad = None
        twin(tx, tindex).backward(tgrad)

    return Case(f"{name} fwd+bwd", f"{num_edges:.0e} edges, {num_nodes} nodes, {IN_CHANNELS} features", scratch_step, torch_step,
                note="random directed graph, dX computed on both sides")


def epoch_case(name, dtype, graph):
    """One full-batch Adam step of the two-layer model on the connectome, 5 labels per class."""
    config = CONFIGS[name]
    train_mask = data.few_labels_split(graph.y, 5, np.random.default_rng(0))[0]
    model, twin = twin_pair(scratch_model.MODELS[name], pyg_model.MODELS[name], 0, dtype, in_channels=graph.x.shape[1],
                            out_channels=len(graph.class_names), **config.architecture())
    x, y = graph.x.astype(dtype), graph.y
    inputs = (x, graph.edge_index) + ((graph.edge_weight.astype(dtype),) if name == "gcn" else ())
    criterion, optimizer = nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)

    def scratch_step():
        logits = model.train()(*inputs)
        criterion(logits[train_mask], y[train_mask])
        optimizer.zero_grad()
        dlogits = np.zeros_like(logits)
        dlogits[train_mask] = criterion.backward()
        model.backward(dlogits, input_grad=False)
        optimizer.step()

    tinputs = tuple(torch.from_numpy(a) for a in inputs)
    ty, tmask = torch.from_numpy(y), torch.from_numpy(train_mask)
    torch_criterion = torch.nn.CrossEntropyLoss()
    torch_optimizer = torch.optim.Adam(twin.parameters(), lr=config.lr, weight_decay=config.weight_decay)

    def torch_step():
        loss = torch_criterion(twin.train()(*tinputs)[tmask], ty[tmask])
        torch_optimizer.zero_grad()
        loss.backward()
        torch_optimizer.step()

    return Case(f"{name.upper()} training epoch (Adam)", f"connectome, {graph.num_nodes} nodes, {graph.edge_index.shape[1]} edges",
                scratch_step, torch_step, note="full batch, dropout on; no features' gradient on either side")


TEXT_QUICK_DOCS = {"train": 300, "test": 150}
TEXTGCN_HIDDEN = 200


def text_graph(quick):
    """TextGCN's graph of Reuters R8 (scikit-learn's English stop words), or of its first documents when quick."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    parts = []
    for split in ("train", "test"):
        texts, y, class_names = datasets.load_text_corpus("reuters-r8", split)
        size = TEXT_QUICK_DOCS[split] if quick else len(texts)
        parts += [texts[:size], y[:size]]
    return textgraph.build(*parts, class_names, stop_words=ENGLISH_STOP_WORDS, dtype=np.float32)


def textgcn_case(dtype, graph, rng):
    """GCNConv(N, 200) forward+backward on the text graph's featureless nodes, the normalisation cached."""
    n, weight = graph.num_nodes, graph.edge_weight.astype(dtype)
    layer = layers.GCNConv(n, TEXTGCN_HIDDEN, cached=True, dtype=dtype, rng=rng)
    twin = copy_to_torch(layer, pyg_layers.GCNConv(n, TEXTGCN_HIDDEN, cached=True, dtype=torch_dtype(dtype)))
    grad = rng.standard_normal((n, TEXTGCN_HIDDEN)).astype(dtype)

    def scratch_step():
        layer.zero_grad()
        layer(None, graph.edge_index, weight)
        layer.backward(grad)

    identity, adj_t = pyg_model.identity(n, torch_dtype(dtype)), pyg_train.graph_inputs(None, graph.edge_index, weight, num_nodes=n)[1]
    tgrad = torch.from_numpy(grad)

    def torch_step():
        twin.zero_grad()
        twin(identity, adj_t).backward(tgrad)

    return Case("GCNConv fwd+bwd, TextGCN R8 graph", f"{n} nodes, {graph.edge_index.shape[1]} edges, x=None, {TEXTGCN_HIDDEN} out",
                scratch_step, torch_step, note="featureless; PyG on its sparse adj_t; normalisation cached on both")


def cases(dtype=np.float32, quick=False, seed=0):
    """The GNN project's benchmark cases, built with fresh weights and graphs from ``seed``."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    graph = data.drosophila_right()
    return ([layer_case(name, num_edges, dtype, rng) for name in LAYERS for num_edges in EDGES[quick]]
            + [epoch_case(name, dtype, graph) for name in ("gcn", "gat")] + [textgcn_case(dtype, text_graph(quick), rng)])
