"""Hypothesis-drawn graphs for Project 16's parity tests: every awkward case a graph layer meets.

One to seven nodes and up to fourteen edges drawn at random, so the draws include isolated nodes
(nothing points at them), existing self-loops, duplicate edges, one-way edges, one node and no
edges at all; weights are positive. A node keeps at most one self-loop: with two, which weight PyG's
add_remaining_self_loops keeps rests on the order of an index assignment torch does not define.
"""
import numpy as np
from hypothesis import strategies as st


@st.composite
def graphs(draw, max_nodes=7, max_edges=14):
    """(num_nodes, edge_index (2, E) int64, edge_weight (E,) float64 in [0.2, 2))."""
    num_nodes = draw(st.integers(1, max_nodes))
    num_edges = draw(st.integers(0, max_edges))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    edge_index = rng.integers(0, num_nodes, (2, num_edges))
    if draw(st.booleans()) and num_edges:  # make sure loops and duplicates both occur often
        edge_index[:, 0] = edge_index[0, 0]
        edge_index[:, -1] = edge_index[:, 0]
    loop = edge_index[0] == edge_index[1]
    _, first = np.unique(np.where(loop, edge_index[0], -1 - np.arange(num_edges)), return_index=True)
    keep = np.zeros(num_edges, bool)
    keep[first] = True
    edge_index = edge_index[:, keep | ~loop]
    return num_nodes, edge_index.astype(np.int64), rng.uniform(0.2, 2.0, edge_index.shape[1])
