"""Project 16: the two-layer GCN, GAT, SAGE and the MLP baseline against their PyG twins under drawn
graphs, and lockstep full-batch training of the GCN and the GAT on the karate club."""
import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.projects.gnn import model as pyg_model
from reference.projects.gnn import train as pyg_train
from scratch.projects.gnn import data
from scratch.projects.gnn import model as scratch_model
from scratch.projects.gnn import train as scratch_train
from scratch.projects.gnn.config import CONFIGS, GNNConfig
from twins.parity import assert_lockstep, compare_modules, dtypes, finite_difference_check, make_twins, randomise, seeds, tolerance, torch_dtype

from .graphs import graphs


@settings(max_examples=30)
@given(graph=graphs(), name=st.sampled_from(["gcn", "gat", "sage", "mlp"]), weighted=st.booleans(), training=st.booleans(),
       dtype=dtypes, seed=seeds)
def test_models_match_pyg(graph, name, weighted, training, dtype, seed):
    """Train mode without dropout (torch draws its own masks), eval mode with it."""
    num_nodes, edge_index, weight = graph
    rng = np.random.default_rng(seed)
    extra = {"heads": 2} if name == "gat" else {}
    dropout = 0.0 if training else 0.5
    model = scratch_model.MODELS[name](3, 4, 2, dropout=dropout, dtype=dtype, rng=rng, **extra)
    twin = pyg_model.MODELS[name](3, 4, 2, dropout=dropout, dtype=torch_dtype(dtype), **extra)
    randomise(model, rng, scale=0.7).train(training), twin.train(training)
    kwargs = {"edge_weight": weight.astype(dtype)} if weighted and name == "gcn" else None
    compare_modules(model, twin, (rng.normal(size=(num_nodes, 3)).astype(dtype), edge_index), rng, name, reduction=32,
                    forward_kwargs=kwargs)


@settings(max_examples=8)
@given(graph=graphs(max_nodes=5, max_edges=8), name=st.sampled_from(["gcn", "gat", "sage"]), seed=seeds)
def test_models_finite_differences(graph, name, seed):
    num_nodes, edge_index, weight = graph
    rng = np.random.default_rng(seed)
    model = scratch_model.MODELS[name](3, 3, 2, dropout=0.0, dtype=np.float64, rng=rng, **({"heads": 2} if name == "gat" else {}))
    randomise(model, rng, scale=0.7)
    kwargs = {"edge_weight": weight} if name == "gcn" else None
    finite_difference_check(model, (rng.normal(size=(num_nodes, 3)), edge_index), rng, max_entries=16, forward_kwargs=kwargs)


@pytest.fixture(scope="module")
def karate():
    graph = data.karate_club()
    return graph, data.few_labels_split(graph.y, 1, np.random.default_rng(0))


@pytest.mark.parametrize("name", ["gcn", "gat"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lockstep_training_matches_pyg(karate, name, dtype):
    """The same weights, graph and Adam for 30 full-batch steps: the same losses and weights (no dropout)."""
    graph, (train_mask, val_mask, _) = karate
    graph = graph.astype(dtype)
    config = dataclasses.replace(CONFIGS[name], hidden=4, heads=2, dropout=0.0, num_epochs=30)
    model, twin = make_twins(scratch_model.MODELS[name], pyg_model.MODELS[name], config.seed, dtype, in_channels=34,
                             out_channels=4, **config.architecture())
    history = scratch_train.fit(model, graph.x, graph.edge_index, graph.y, train_mask, val_mask, config)
    torch_history = pyg_train.fit(twin, graph.x, graph.edge_index, graph.y, train_mask, val_mask, config)
    rtol, atol = tolerance(dtype, "train", reduction=34 * 8)
    assert_lockstep(history, torch_history, model, twin, rtol, atol, keys=("train_loss", "val_loss", "val_acc"))


def test_gcn_learns_the_karate_club(karate):
    """One labelled member per community is enough for most of the club (Kipf & Welling's figure)."""
    graph, (train_mask, val_mask, test_mask) = karate
    config = GNNConfig("gcn", hidden=16, dropout=0.5, lr=0.01, num_epochs=200)
    model = scratch_model.GCN(34, 16, 4, dropout=0.5, dtype=np.float64, rng=np.random.default_rng(0))
    scratch_train.fit(model, graph.x, graph.edge_index, graph.y, train_mask, val_mask, config)
    accuracy = (scratch_train.predict(model, graph.x, graph.edge_index)[test_mask] == graph.y[test_mask]).mean()
    assert accuracy >= 0.7
