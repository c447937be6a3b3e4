"""Message passing on PyTorch Geometric's conventions, in NumPy: the graph helpers and the
scatter operations the graph layers are built from, each with its backward pass.

A graph is ``edge_index`` (2, E), an integer array whose column e is the edge from
``edge_index[0, e]`` (the source, j) to ``edge_index[1, e]`` (the target, i): messages flow
source -> target and are reduced at the target, as PyG's default ``flow="source_to_target"``.
An optional ``edge_weight`` (E,) goes with it.

Reductions over edges use sorted segments: the edges are ordered once by the node they reduce
into (``np.argsort``), counted (``np.bincount``) and summed segment by segment
(``np.add.reduceat``); no Python loop runs over nodes or edges. Each forward function has its
backward right after it. Twin of ``torch_geometric.utils`` (scatter, softmax, degree,
add_remaining_self_loops, to_undirected); this file has no reference twin, PyG is it.
"""
import numbers

import numpy as np
from scipy import sparse

from scratch.nn._threads import chunk_size, get_num_threads, map_chunks

SPMM_BLOCK_NONZEROS = 1 << 18  # a block of rows per thread task: large enough that slicing it costs little

_MISSING = object()  # to_undirected returns a pair whenever edge_attr is passed, even as None (PyG >= 2.3)


def check_edge_index(edge_index, num_nodes=None, name="edge_index"):
    """``edge_index`` as it is, if it is an integer (2, E) array whose entries lie in [0, num_nodes)."""
    if not isinstance(edge_index, np.ndarray):
        raise TypeError(f"{name}: expected an integer ndarray of shape (2, E), got {type(edge_index).__name__}")
    if edge_index.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected an integer dtype (int64, as PyG's LongTensor), got {edge_index.dtype}")
    if edge_index.ndim != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"{name}: expected shape (2, E), got {edge_index.shape}")
    if edge_index.size and edge_index.min() < 0:
        raise ValueError(f"{name}: expected node indices >= 0, got {edge_index.min()}")
    if num_nodes is not None and edge_index.size and edge_index.max() >= num_nodes:
        raise ValueError(f"{name}: expected node indices below num_nodes={num_nodes}, got {edge_index.max()}")
    return edge_index


def check_edge_weight(edge_weight, num_edges, dtype, name="edge_weight"):
    """An optional float (E,) array of the features' dtype (never cast)."""
    if edge_weight is None:
        return None
    if not isinstance(edge_weight, np.ndarray) or edge_weight.dtype.kind != "f":
        raise TypeError(f"{name}: expected a float ndarray of shape ({num_edges},), got {type(edge_weight).__name__} "
                        f"{getattr(edge_weight, 'dtype', '')}".rstrip())
    if edge_weight.shape != (num_edges,):
        raise ValueError(f"{name}: expected shape ({num_edges},) (one weight per edge), got {edge_weight.shape}")
    if edge_weight.dtype != dtype:
        raise TypeError(f"{name}: expected dtype {np.dtype(dtype)} (the features' dtype), got {edge_weight.dtype}")
    return edge_weight


def maybe_num_nodes(edge_index, num_nodes=None):
    """``num_nodes`` if given, else one more than the largest index (0 for no edges), as PyG."""
    if num_nodes is not None:
        if isinstance(num_nodes, bool) or not isinstance(num_nodes, numbers.Integral) or num_nodes < 0:
            raise ValueError(f"num_nodes: expected an int >= 0, got {num_nodes!r}")
        return int(num_nodes)
    return int(edge_index.max()) + 1 if edge_index.size else 0


class Segments:
    """The edges grouped by the node each one reduces into, sorted once and reused by every
    scatter over that ``index`` (forward and backward)."""

    def __init__(self, index, num_nodes):
        self.index, self.num_nodes = index, num_nodes
        self.order = np.argsort(index, kind="stable")
        self.counts = np.bincount(index, minlength=num_nodes)  # (N,) edges into each node
        self.nonempty = np.flatnonzero(self.counts)
        self.starts = (np.cumsum(self.counts) - self.counts)[self.nonempty]  # first sorted edge of each segment

    def matrix(self, values, others):
        """The (N, N) sparse matrix with ``values`` (E,) at (index[e], others[e]): row i holds node i's edges,
        so ``matrix @ X`` sums X[others[e]] weighted into each row (duplicates add, as stored twice)."""
        indptr = np.concatenate([[0], np.cumsum(self.counts)])
        return sparse.csr_matrix((values[self.order], others[self.order], indptr), shape=(self.num_nodes, self.num_nodes))

    def reduce(self, ufunc, src, empty=0):
        """(E, *F) -> (N, *F): ``ufunc`` over each node's edges; ``empty`` where a node has none."""
        out = np.full((self.num_nodes,) + src.shape[1:], empty, dtype=src.dtype)
        if self.nonempty.size:
            out[self.nonempty] = ufunc.reduceat(src[self.order], self.starts, axis=0)
        return out


def scatter(src, index, dim_size=None, reduce="sum", segments=None):
    """Reduce the rows of ``src`` (E, *F) into ``dim_size`` rows by ``index`` (E,): 'sum' (or 'add'),
    'mean' (0 for a node with no edges) or 'max' (0 there too), as torch_geometric.utils.scatter with dim=0."""
    segments = Segments(index, maybe_num_nodes(index[None], dim_size)) if segments is None else segments
    if reduce in ("sum", "add"):
        return segments.reduce(np.add, src)
    if reduce == "mean":
        return segments.reduce(np.add, src) / _counts(segments, src)
    if reduce == "max":
        return segments.reduce(np.maximum, src)
    raise ValueError(f"reduce: expected 'sum', 'add', 'mean' or 'max', got {reduce!r}")


def scatter_backward(grad, index, reduce="sum", segments=None):
    """d src of scatter 'sum' or 'mean': each edge receives its target row's gradient (divided by
    the row's edge count for 'mean'). (N, *F) -> (E, *F)."""
    if reduce in ("sum", "add"):
        return grad[index]
    if reduce == "mean":
        return (grad / _counts(segments, grad))[index]
    raise ValueError(f"reduce: expected 'sum', 'add' or 'mean' (max has no backward here), got {reduce!r}")


def _counts(segments, like):
    """Edge counts as a column broadcasting over the feature axes, at least 1 (a mean over nothing is 0)."""
    return np.maximum(segments.counts, 1).astype(like.dtype).reshape((-1,) + (1,) * (like.ndim - 1))


def softmax(src, index, num_nodes=None, segments=None):
    """Softmax of ``src`` (E, *H) over the edges sharing a target ``index``, as PyG's utils.softmax:
    the segment's max is subtracted for stability and 1e-16 added to the denominator."""
    segments = Segments(index, maybe_num_nodes(index[None], num_nodes)) if segments is None else segments
    src_max = segments.reduce(np.maximum, src)  # (N, *H); a node without edges is never gathered
    out = np.exp(src - src_max[index])  # (E, *H)
    out_sum = segments.reduce(np.add, out) + src.dtype.type(1e-16)
    return out / out_sum[index]


def softmax_backward(grad, out, index, segments):
    """d src of softmax given its output: out * (grad - sum over the segment of grad * out).
    The max subtracted in forward is a constant shift and drops out; so does the 1e-16."""
    return out * (grad - segments.reduce(np.add, grad * out)[index])


def spmm(matrix, dense):
    """``matrix @ dense`` for a sparse (N, M) matrix and a dense (M, F) array. scipy's product runs on one
    core, so with more kernel threads the rows are cut into blocks of about SPMM_BLOCK_NONZEROS nonzeros
    (a CSC matrix is turned into CSR first), one product per block, side by side (scipy releases the GIL).
    Each row is the same sum in the same order whatever the blocks, so the result never depends on them."""
    if get_num_threads() <= 1 or matrix.nnz <= SPMM_BLOCK_NONZEROS:
        return matrix @ dense
    matrix = matrix.tocsr()
    bounds = np.unique(np.searchsorted(matrix.indptr, np.arange(0, matrix.nnz, SPMM_BLOCK_NONZEROS), side="right") - 1)
    bounds = np.append(bounds, matrix.shape[0])  # (blocks + 1,) row bounds, the first 0
    out = np.empty((matrix.shape[0], dense.shape[1]), dtype=np.result_type(matrix.dtype, dense.dtype))

    def product(first, last):
        for start, stop in zip(bounds[first:last], bounds[first + 1:last + 1]):
            out[start:stop] = matrix[start:stop] @ dense

    map_chunks(product, len(bounds) - 1, 1)
    return out


def edge_dots(a, b, target, source):
    """(E,) the dot products a[target[e]] . b[source[e]] of two (N, F) arrays, a chunk of edges at a time
    (the (E, F) gathers of a large graph would not fit), the chunks on the kernel threads."""
    def dots(start, stop):
        return np.einsum("ef,ef->e", a[target[start:stop]], b[source[start:stop]])

    num_edges = len(target)
    parts = map_chunks(dots, num_edges, chunk_size(num_edges, 2 * a.itemsize * a.shape[1]))
    return np.concatenate(parts) if parts else np.zeros(0, a.dtype)


def degree(index, num_nodes=None, dtype=None):
    """How often each node occurs in ``index`` (E,): with ``edge_index[1]``, the in-degree."""
    num_nodes = maybe_num_nodes(index[None], num_nodes)
    return np.bincount(index, minlength=num_nodes).astype(np.float32 if dtype is None else dtype)


def remove_self_loops(edge_index, edge_attr=None):
    """The edges i -> j with i != j, in their order (and their attributes)."""
    keep = edge_index[0] != edge_index[1]
    return edge_index[:, keep], (None if edge_attr is None else edge_attr[keep])


def add_self_loops(edge_index, edge_attr=None, fill_value=1.0, num_nodes=None):
    """All edges, then a loop i -> i for every node (attribute ``fill_value``), as PyG's add_self_loops."""
    num_nodes = maybe_num_nodes(edge_index, num_nodes)
    loops = np.tile(np.arange(num_nodes, dtype=edge_index.dtype), (2, 1))
    if edge_attr is not None:
        edge_attr = np.concatenate([edge_attr, np.full(num_nodes, fill_value, dtype=edge_attr.dtype)])
    return np.concatenate([edge_index, loops], axis=1), edge_attr


def self_loop_plan(edge_index, num_nodes):
    """How add_remaining_self_loops rearranges the edge weights: the mask of the non-loop edges that
    stay, and for each node the position of the existing loop whose weight it keeps (-1: none).
    With several loops at one node the last one wins, as PyG's index assignment does on the CPU."""
    keep = edge_index[0] != edge_index[1]
    loop_source = np.full(num_nodes, -1, dtype=np.int64)
    loop_positions = np.flatnonzero(~keep)
    loop_source[edge_index[0, loop_positions]] = loop_positions
    return keep, loop_source


def add_remaining_self_loops(edge_index, edge_attr=None, fill_value=None, num_nodes=None):
    """The non-loop edges in their order, then one loop i -> i per node: an existing loop keeps its
    weight, a missing one gets ``fill_value`` (1 by default), as PyG's add_remaining_self_loops."""
    num_nodes = maybe_num_nodes(edge_index, num_nodes)
    keep, loop_source = self_loop_plan(edge_index, num_nodes)
    loops = np.tile(np.arange(num_nodes, dtype=edge_index.dtype), (2, 1))
    if edge_attr is not None:
        loop_attr = np.full(num_nodes, 1.0 if fill_value is None else fill_value, dtype=edge_attr.dtype)
        has_loop = loop_source >= 0
        loop_attr[has_loop] = edge_attr[loop_source[has_loop]]
        edge_attr = np.concatenate([edge_attr[keep], loop_attr])
    return np.concatenate([edge_index[:, keep], loops], axis=1), edge_attr


def add_remaining_self_loops_backward(grad, edge_index, num_nodes):
    """d edge_attr of add_remaining_self_loops: kept edges take their own gradient back, an existing
    loop the gradient of the loop that carries its weight; filled loops were constants."""
    keep, loop_source = self_loop_plan(edge_index, num_nodes)
    kept = int(keep.sum())
    dattr = np.zeros(edge_index.shape[1], dtype=grad.dtype)
    dattr[keep] = grad[:kept]
    has_loop = loop_source >= 0
    dattr[loop_source[has_loop]] = grad[kept:][has_loop]
    return dattr


def coalesce(edge_index, edge_attr=None, num_nodes=None, reduce="sum"):
    """The edges sorted by (source, target) with duplicates merged (their attributes summed)."""
    num_nodes = maybe_num_nodes(edge_index, num_nodes)
    key = edge_index[0].astype(np.int64) * num_nodes + edge_index[1]
    unique, inverse = np.unique(key, return_inverse=True)
    merged = np.stack([unique // max(num_nodes, 1), unique % max(num_nodes, 1)]).astype(edge_index.dtype)
    if edge_attr is None:
        return merged, None
    return merged, scatter(edge_attr, inverse, len(unique), reduce)


def to_undirected(edge_index, edge_attr=_MISSING, num_nodes=None, reduce="add"):
    """Every edge in both directions, coalesced (a pair's weights summed), as PyG's to_undirected;
    returns (edge_index, edge_attr) whenever ``edge_attr`` is passed, even as None."""
    both = np.concatenate([edge_index, edge_index[::-1]], axis=1)
    if edge_attr is _MISSING:
        return coalesce(both, None, num_nodes)[0]
    doubled = None if edge_attr is None else np.concatenate([edge_attr, edge_attr])
    return coalesce(both, doubled, num_nodes, reduce)
