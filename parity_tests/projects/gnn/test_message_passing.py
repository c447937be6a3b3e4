"""Project 16: the scatter operations and graph helpers against torch_geometric.utils, forward and
backward (a random upstream gradient), under drawn graphs."""
import numpy as np
import pytest
import torch
import torch_geometric.utils as pyg_utils
from hypothesis import given, settings
from hypothesis import strategies as st

from scratch.projects.gnn import message_passing as mp
from twins.parity import assert_close, dtypes, seeds, to_torch, tolerance

from .graphs import graphs


@settings(max_examples=40)
@given(graph=graphs(), reduce=st.sampled_from(["sum", "mean"]), width=st.integers(1, 3), dtype=dtypes, seed=seeds)
def test_scatter_matches_pyg(graph, reduce, width, dtype, seed):
    num_nodes, edge_index, _ = graph
    rng = np.random.default_rng(seed)
    src = rng.normal(size=(edge_index.shape[1], width)).astype(dtype)
    index = edge_index[1]
    segments = mp.Segments(index, num_nodes)
    out = mp.scatter(src, index, num_nodes, reduce, segments)
    tsrc = to_torch(src, requires_grad=True)
    tout = pyg_utils.scatter(tsrc, torch.from_numpy(index), 0, dim_size=num_nodes, reduce=reduce)
    rtol, atol = tolerance(dtype, "forward", num_nodes)
    assert_close(out, tout, f"scatter {reduce}", rtol, atol)
    grad = rng.normal(size=out.shape).astype(dtype)
    tout.backward(to_torch(grad))
    assert_close(mp.scatter_backward(grad, index, reduce, segments), tsrc.grad, f"scatter {reduce} backward", rtol, atol)


@settings(max_examples=40)
@given(graph=graphs(), heads=st.integers(1, 3), dtype=dtypes, seed=seeds)
def test_edge_softmax_matches_pyg(graph, heads, dtype, seed):
    num_nodes, edge_index, _ = graph
    rng = np.random.default_rng(seed)
    src = rng.normal(0, 3, size=(edge_index.shape[1], heads)).astype(dtype)
    index = edge_index[1]
    segments = mp.Segments(index, num_nodes)
    out = mp.softmax(src, index, num_nodes, segments)
    tsrc = to_torch(src, requires_grad=True)
    tout = pyg_utils.softmax(tsrc, torch.from_numpy(index), num_nodes=num_nodes)
    assert_close(out, tout, "softmax", *tolerance(dtype, "forward", num_nodes))
    grad = rng.normal(size=out.shape).astype(dtype)
    tout.backward(to_torch(grad))
    assert_close(mp.softmax_backward(grad, out, index, segments), tsrc.grad, "softmax backward", *tolerance(dtype, "grad", num_nodes))


@settings(max_examples=40)
@given(graph=graphs(), fill_value=st.sampled_from([None, 1.0, 2.0]), seed=seeds)
def test_graph_helpers_match_pyg(graph, fill_value, seed):
    num_nodes, edge_index, weight = graph
    tindex, tweight = torch.from_numpy(edge_index), torch.from_numpy(weight)
    loops, loop_weight = mp.add_remaining_self_loops(edge_index, weight, fill_value, num_nodes)
    tloops, tloop_weight = pyg_utils.add_remaining_self_loops(tindex, tweight, fill_value, num_nodes)
    np.testing.assert_array_equal(loops, tloops.numpy())
    np.testing.assert_array_equal(loop_weight, tloop_weight.numpy())
    undirected, undirected_weight = mp.to_undirected(edge_index, weight, num_nodes)
    tundirected, tundirected_weight = pyg_utils.to_undirected(tindex, tweight, num_nodes)
    np.testing.assert_array_equal(undirected, tundirected.numpy())
    assert_close(undirected_weight, tundirected_weight, "to_undirected weights", 1e-12, 1e-12)
    np.testing.assert_array_equal(mp.to_undirected(edge_index, num_nodes=num_nodes), pyg_utils.to_undirected(tindex, num_nodes=num_nodes).numpy())
    np.testing.assert_array_equal(mp.degree(edge_index[1], num_nodes), pyg_utils.degree(tindex[1], num_nodes).numpy())
    # the loop weights' backward routes each gradient to the edge whose weight it carries
    tweight.requires_grad_(True)
    grad = np.random.default_rng(seed).normal(size=loop_weight.shape)
    pyg_utils.add_remaining_self_loops(tindex, tweight, fill_value, num_nodes)[1].backward(torch.from_numpy(grad))
    dweight = mp.add_remaining_self_loops_backward(grad, edge_index, num_nodes)
    np.testing.assert_array_equal(dweight, tweight.grad.numpy())


def test_no_python_loop_needed_for_empty_graph():
    """No edges at all: every reduction is zero, softmax is empty."""
    empty = np.zeros((2, 0), np.int64)
    assert mp.scatter(np.zeros((0, 2)), empty[1], 3).shape == (3, 2)
    assert mp.softmax(np.zeros((0, 1)), empty[1], 3).shape == (0, 1)
    assert mp.add_remaining_self_loops(empty, np.zeros(0), num_nodes=2)[0].tolist() == [[0, 1], [0, 1]]


@pytest.mark.parametrize("reduce", ["max", "min"])
def test_scatter_backward_refuses_what_it_does_not_differentiate(reduce):
    with pytest.raises(ValueError, match="reduce: expected"):
        mp.scatter_backward(np.zeros((2, 1)), np.zeros(2, np.int64), reduce)


@settings(max_examples=20)
@given(graph=graphs(max_nodes=12, max_edges=40), block=st.integers(1, 6), threads=st.integers(1, 3), transpose=st.booleans(),
       seed=seeds)
def test_spmm_in_row_blocks_equals_one_product(graph, block, threads, transpose, seed):
    """The threaded product cuts rows into blocks of ~``block`` nonzeros: bit for bit scipy's one product."""
    from scipy import sparse

    from scratch.nn import _threads

    num_nodes, edge_index, weight = graph
    matrix = sparse.csr_matrix((weight, (edge_index[1], edge_index[0])), shape=(num_nodes, num_nodes))
    matrix = matrix.T if transpose else matrix  # CSC: converted first
    dense = np.random.default_rng(seed).normal(size=(num_nodes, 3))
    with pytest.MonkeyPatch.context() as patch, _threads.settings(threads=threads):
        patch.setattr(mp, "SPMM_BLOCK_NONZEROS", block)
        np.testing.assert_array_equal(mp.spmm(matrix, dense), matrix @ dense)
