"""Project 16: GCNConv, GATConv and SAGEConv against PyTorch Geometric under drawn graphs (isolated
nodes, self-loops, duplicate and one-way edges, weights, one node, no edges): forward, the input
gradients and every parameter gradient by name, float64 and float32, and float64 finite differences."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.projects.gnn import layers as pyg_layers
from scratch.projects.gnn import layers
from twins.parity import assert_close, compare_modules, dtypes, finite_difference_check, randomise, seeds, to_torch, tolerance, torch_dtype

from .featureless import Featureless, TorchFeatureless
from .graphs import graphs


def twins(name, dtype, rng, **kwargs):
    """A scratch layer with every parameter randomised, and PyG's with the same weights (loaded by compare_modules)."""
    layer = randomise(getattr(layers, name)(dtype=dtype, rng=rng, **kwargs), rng, scale=0.7)
    return layer, getattr(pyg_layers, name)(dtype=torch_dtype(dtype), **kwargs)


def inputs(graph, in_channels, dtype, rng, weighted):
    num_nodes, edge_index, weight = graph
    x = rng.normal(size=(num_nodes, in_channels)).astype(dtype)
    return (x, edge_index, weight.astype(dtype)) if weighted else (x, edge_index)


@settings(max_examples=40)
@given(graph=graphs(), improved=st.booleans(), normalize=st.booleans(), add_self_loops=st.booleans(), bias=st.booleans(),
       weighted=st.booleans(), channels=st.tuples(st.integers(1, 4), st.integers(1, 4)), dtype=dtypes, seed=seeds)
def test_gcn_conv_matches_pyg(graph, improved, normalize, add_self_loops, bias, weighted, channels, dtype, seed):
    rng = np.random.default_rng(seed)
    add_self_loops = add_self_loops and normalize  # PyG refuses loops without normalisation
    layer, twin = twins("GCNConv", dtype, rng, in_channels=channels[0], out_channels=channels[1], improved=improved,
                        normalize=normalize, add_self_loops=add_self_loops, bias=bias)
    compare_modules(layer, twin, inputs(graph, channels[0], dtype, rng, weighted), rng, "GCNConv", reduction=8 * channels[0])


@settings(max_examples=40)
@given(graph=graphs(), heads=st.integers(1, 3), concat=st.booleans(), add_self_loops=st.booleans(), bias=st.booleans(),
       negative_slope=st.sampled_from([0.2, 0.05]), channels=st.tuples(st.integers(1, 4), st.integers(1, 3)),
       attention=st.booleans(), dtype=dtypes, seed=seeds)
def test_gat_conv_matches_pyg(graph, heads, concat, add_self_loops, bias, negative_slope, channels, attention, dtype, seed):
    rng = np.random.default_rng(seed)
    layer, twin = twins("GATConv", dtype, rng, in_channels=channels[0], out_channels=channels[1], heads=heads, concat=concat,
                        add_self_loops=add_self_loops, bias=bias, negative_slope=negative_slope)
    kwargs = {"return_attention_weights": True} if attention else None
    compare_modules(layer, twin, inputs(graph, channels[0], dtype, rng, False), rng, "GATConv", reduction=8 * channels[0],
                    forward_kwargs=kwargs)


@settings(max_examples=20)
@given(graph=graphs(), heads=st.integers(1, 3), concat=st.booleans(), dtype=dtypes, seed=seeds)
def test_gat_attention_dropout_with_a_shared_mask(graph, heads, concat, dtype, seed):
    """PyG draws its own dropout mask; its F.dropout is replaced by a product with scratch's mask."""
    rng = np.random.default_rng(seed)
    layer, twin = twins("GATConv", dtype, rng, in_channels=3, out_channels=2, heads=heads, concat=concat, dropout=0.4)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch.nn.functional, "dropout", lambda alpha, p=0.5, training=True, inplace=False: alpha * to_torch(layer._mask))
        compare_modules(layer.train(), twin.train(), inputs(graph, 3, dtype, rng, False), rng, "GATConv dropout", reduction=24)
    assert layer._mask is not None and layer._mask.shape[1] == heads


@settings(max_examples=40)
@given(graph=graphs(), aggr=st.sampled_from(["mean", "sum"]), normalize=st.booleans(), root_weight=st.booleans(),
       bias=st.booleans(), channels=st.tuples(st.integers(1, 4), st.integers(1, 4)), dtype=dtypes, seed=seeds)
def test_sage_conv_matches_pyg(graph, aggr, normalize, root_weight, bias, channels, dtype, seed):
    rng = np.random.default_rng(seed)
    layer, twin = twins("SAGEConv", dtype, rng, in_channels=channels[0], out_channels=channels[1], aggr=aggr,
                        normalize=normalize, root_weight=root_weight, bias=bias)
    compare_modules(layer, twin, inputs(graph, channels[0], dtype, rng, False), rng, "SAGEConv", reduction=8 * channels[0])


@settings(max_examples=40)
@given(graph=graphs(), improved=st.booleans(), add_self_loops=st.booleans(), weighted=st.booleans(), dtype=dtypes)
def test_gcn_norm_matches_pyg(graph, improved, add_self_loops, weighted, dtype):
    num_nodes, edge_index, weight = graph
    weight = weight.astype(dtype) if weighted else None
    index, norm = layers.gcn_norm(edge_index, weight, num_nodes, improved, add_self_loops, dtype=dtype)
    tindex, tnorm = pyg_layers.gcn_norm(torch.from_numpy(edge_index), None if weight is None else to_torch(weight), num_nodes,
                                        improved, add_self_loops, dtype=torch_dtype(dtype))
    np.testing.assert_array_equal(index, tindex.numpy())
    assert_close(norm, tnorm, "gcn_norm weights", *tolerance(dtype, "forward", num_nodes))


def test_gcn_conv_cached_keeps_the_first_graph():
    """cached=True: the second call reuses the first graph's normalisation on both twins."""
    rng = np.random.default_rng(0)
    layer, twin = twins("GCNConv", np.float64, rng, in_channels=3, out_channels=2, cached=True)
    first = np.array([[0, 1, 2], [1, 2, 0]])
    compare_modules(layer, twin, (rng.normal(size=(3, 3)), first), rng, "GCNConv cached, first call")
    layer.zero_grad(), twin.zero_grad()
    out = compare_modules(layer, twin, (rng.normal(size=(3, 3)), first[::-1].copy()), rng, "GCNConv cached, second call")
    assert out.shape == (3, 2)


@settings(max_examples=12)
@given(graph=graphs(max_nodes=5, max_edges=8), name=st.sampled_from(["GCNConv", "GATConv", "SAGEConv"]), seed=seeds)
def test_layers_finite_differences(graph, name, seed):
    """Torch-free: every layer's backward (GCNConv's through the edge weights too) against central differences."""
    rng = np.random.default_rng(seed)
    options = {"GCNConv": {"improved": True}, "GATConv": {"heads": 2}, "SAGEConv": {"normalize": True}}[name]
    layer = randomise(getattr(layers, name)(3, 2, dtype=np.float64, rng=rng, **options), rng, scale=0.7)
    finite_difference_check(layer, inputs(graph, 3, np.float64, rng, name == "GCNConv"), rng, max_entries=24)


@settings(max_examples=40)
@given(graph=graphs(), improved=st.booleans(), bias=st.booleans(), weighted=st.booleans(), dense=st.booleans(),
       out_channels=st.integers(1, 4), dtype=dtypes, seed=seeds)
def test_gcn_conv_identity_features_match_pyg(graph, improved, bias, weighted, dense, out_channels, dtype, seed):
    """x=None (the identity of in_channels = N nodes, never built) against PyG fed the identity, dense or
    sparse: the output, lin.weight's and bias's gradients and the edge weights' gradient."""
    num_nodes, edge_index, weight = graph
    rng = np.random.default_rng(seed)
    layer, twin = twins("GCNConv", dtype, rng, in_channels=num_nodes, out_channels=out_channels, improved=improved, bias=bias)
    inputs = (edge_index, weight.astype(dtype)) if weighted else (edge_index,)
    compare_modules(Featureless(layer), TorchFeatureless(twin, dense), inputs, rng, "GCNConv x=None", reduction=8)


@settings(max_examples=8)
@given(graph=graphs(max_nodes=5, max_edges=8), seed=seeds)
def test_gcn_conv_identity_features_finite_differences(graph, seed):
    num_nodes, edge_index, weight = graph
    rng = np.random.default_rng(seed)
    layer = randomise(layers.GCNConv(num_nodes, 2, dtype=np.float64, rng=rng), rng, scale=0.7)
    finite_difference_check(Featureless(layer), (edge_index, weight), rng, max_entries=24)
