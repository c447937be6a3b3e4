"""Project 16: the graph layers of PyTorch Geometric, forward and backward by hand in NumPy.

- GCNConv (Kipf & Welling, 2017): X' = D^-1/2 (A + I) D^-1/2 X W + b;
- GATConv (Velickovic et al., 2018): each target attends over its incoming edges, per head;
- SAGEConv (Hamilton et al., 2017): the mean of the neighbours, plus the node itself.

Names, constructor arguments, state_dict keys and initialisation are PyG 2.8's, so weights copy
across. Messages flow source -> target (``edge_index[0]`` -> ``edge_index[1]``). Twin of
reference/projects/gnn/layers.py, which is PyG's own classes.
"""
import math

import numpy as np
from scipy import sparse

from scratch import nn
from scratch.nn import functional as F
from scratch.nn import init
from scratch.nn.module import check_array, check_grad, check_size, factory_dtype, require_forward

from .message_passing import (
    Segments,
    add_remaining_self_loops,
    add_remaining_self_loops_backward,
    add_self_loops,
    check_edge_index,
    check_edge_weight,
    edge_dots,
    maybe_num_nodes,
    remove_self_loops,
    scatter,
    scatter_backward,
    softmax,
    softmax_backward,
    spmm,
)


def glorot_(parameter, rng):
    """PyG's glorot: U(-a, a), a = sqrt(6 / (fan of the last two axes))."""
    bound = math.sqrt(6.0 / (parameter.shape[-2] + parameter.shape[-1]))
    init.uniform_(parameter, -bound, bound, rng=rng)


def check_features(x, layer, in_channels, dtype):
    """Node features (N, in_channels) of the layer's dtype; N is the graph's node count, so an edge_index
    that names a node past the last row is refused by check_edge_index."""
    return check_array(x, f"{layer} x", ndim=2, dtype=dtype, last_dim=in_channels)


def gcn_norm(edge_index, edge_weight=None, num_nodes=None, improved=False, add_self_loops=True,
             flow="source_to_target", dtype=None):
    """(edge_index, weights) of D^-1/2 A_hat D^-1/2: remaining self-loops added (weight 1, or 2 when
    ``improved``; an existing loop keeps its own), degrees summed at the node messages flow into."""
    if flow not in ("source_to_target", "target_to_source"):
        raise ValueError(f"flow: expected 'source_to_target' or 'target_to_source', got {flow!r}")
    num_nodes = maybe_num_nodes(edge_index, num_nodes)
    if add_self_loops:
        edge_index, edge_weight = add_remaining_self_loops(edge_index, edge_weight, 2.0 if improved else 1.0, num_nodes)
    if edge_weight is None:
        edge_weight = np.ones(edge_index.shape[1], dtype=np.float32 if dtype is None else dtype)
    row, col = edge_index
    deg_inv_sqrt = _deg_inv_sqrt(edge_weight, col if flow == "source_to_target" else row, num_nodes)
    return edge_index, deg_inv_sqrt[row] * edge_weight * deg_inv_sqrt[col]


def _deg_inv_sqrt(edge_weight, index, num_nodes):
    deg = scatter(edge_weight, index, num_nodes, "sum")  # (N,) weighted degree
    with np.errstate(divide="ignore"):
        deg_inv_sqrt = deg ** -0.5
    deg_inv_sqrt[np.isinf(deg_inv_sqrt)] = 0  # an isolated node's row and column stay zero
    return deg_inv_sqrt


def gcn_norm_backward(grad, edge_index, edge_weight, num_nodes, improved=False, add_self_loops=True,
                      flow="source_to_target"):
    """d edge_weight of gcn_norm, given the gradient of its output weights (E_hat,): the forward is
    recomputed (a few gathers) rather than kept. norm = s[row] w s[col] with s = deg^-1/2."""
    if add_self_loops:
        loop_index, w = add_remaining_self_loops(edge_index, edge_weight, 2.0 if improved else 1.0, num_nodes)
    else:
        loop_index, w = edge_index, edge_weight
    row, col = loop_index
    index = col if flow == "source_to_target" else row
    s = _deg_inv_sqrt(w, index, num_nodes)
    dw = grad * s[row] * s[col]
    ds = scatter(grad * w * s[col], row, num_nodes) + scatter(grad * w * s[row], col, num_nodes)  # (N,)
    ddeg = ds * -0.5 * s ** 3  # d deg^-1/2 = -1/2 deg^-3/2; zero where the degree was
    dw = dw + ddeg[index]
    return add_remaining_self_loops_backward(dw, edge_index, num_nodes) if add_self_loops else dw


class GCNConv(nn.Module):
    """x' = A_norm (x W^T) + b; ``lin`` (no bias, glorot) then ``bias`` (zeros), as PyG. ``x=None`` stands
    for identity features (featureless nodes, one per input channel), which PyG is handed as a one-hot matrix."""

    def __init__(self, in_channels, out_channels, improved=False, cached=False, add_self_loops=None, normalize=True,
                 bias=True, dtype=None, rng=None):
        super().__init__()
        dtype, rng = factory_dtype(dtype), np.random.default_rng() if rng is None else rng
        add_self_loops = normalize if add_self_loops is None else add_self_loops
        if add_self_loops and not normalize:
            raise ValueError("add_self_loops: GCNConv adds self-loops only with normalize=True, got add_self_loops=True "
                             "and normalize=False")
        self.in_channels = check_size(in_channels, "GCNConv(in_channels)")
        self.out_channels = check_size(out_channels, "GCNConv(out_channels)")
        self.improved, self.cached, self.add_self_loops, self.normalize = improved, cached, add_self_loops, normalize
        self.lin = nn.Linear(in_channels, out_channels, bias=False, dtype=dtype, rng=rng)
        glorot_(self.lin.weight, rng)
        self.bias = nn.Parameter(np.zeros(out_channels, dtype=dtype)) if bias else None
        self._cached_edge_index = None
        self._saved = None

    def forward(self, x, edge_index, edge_weight=None):
        """``x`` (N, in_channels), or None for featureless nodes: the identity of N = in_channels nodes,
        never built (lin of a one-hot row is a column of the weight), as TextGCN's input."""
        dtype = self.lin.weight.dtype
        if x is None:
            num_nodes = self.in_channels
        else:
            check_features(x, "GCNConv", self.in_channels, dtype)
            num_nodes = x.shape[0]
        check_edge_index(edge_index, num_nodes, "edge_index" if x is not None else
                         f"edge_index (x=None: identity features of in_channels={num_nodes} nodes)")
        check_edge_weight(edge_weight, edge_index.shape[1], dtype)
        normalized_now = self.normalize and self._cached_edge_index is None
        if normalized_now:
            if edge_weight is not None and np.any(edge_weight < 0):
                raise ValueError(f"edge_weight: expected weights >= 0 (gcn_norm takes degree^-1/2), got minimum "
                                 f"{edge_weight.min()}")
            norm_index, norm_weight = gcn_norm(edge_index, edge_weight, num_nodes, self.improved, self.add_self_loops,
                                               dtype=dtype)
        elif not self.normalize:
            norm_index = edge_index
            norm_weight = np.ones(edge_index.shape[1], dtype) if edge_weight is None else edge_weight
        if self.normalize and not normalized_now:
            norm_index, adjacency, transpose = self._cached_edge_index
        else:
            adjacency = sparse.csr_matrix((norm_weight, (norm_index[1], norm_index[0])), shape=(num_nodes, num_nodes))
            transpose = adjacency.T
            if normalized_now and self.cached:  # the normalised graph, its CSR matrix and its transpose's, kept
                transpose = transpose.tocsr()
                self._cached_edge_index = (norm_index, adjacency, transpose)
        # row i of lin(I) is W^T's row i: the lookup replaces the (N, N) identity's product
        h = np.ascontiguousarray(self.lin.weight.data.T) if x is None else self.lin(x)  # (N, out)
        out = spmm(adjacency, h)  # row i sums the weighted messages of the edges j -> i
        if self.bias is not None:
            out = out + self.bias.data
        self._saved = (x is None, edge_index, edge_weight, norm_index, h, transpose, normalized_now, out)
        return out

    def backward(self, grad, input_grad=True):
        featureless, edge_index, edge_weight, norm_index, h, transpose, normalized_now, out = require_forward(self, self._saved)
        check_grad(grad, out)
        if self.bias is not None:
            self.bias.accumulate_grad(grad.sum(axis=0), owned=True)
        dh = spmm(transpose, grad)  # (N, out): each source collects what its edges sent
        if featureless:  # h = W^T, so dW = dh^T; the identity input has no gradient
            self.lin.weight.accumulate_grad(np.ascontiguousarray(dh.T), owned=True)
            dx = None
        else:
            dx = self.lin.backward(dh, input_grad)
        if edge_weight is None:
            return dx, None
        if self.normalize and not normalized_now:  # cached: the weights used did not come from this edge_weight
            return dx, None, np.zeros_like(edge_weight)
        dnorm = edge_dots(grad, h, norm_index[1], norm_index[0])  # (E_hat,)
        if not normalized_now:  # unnormalised: the weights are used as they are
            return dx, None, dnorm
        return dx, None, gcn_norm_backward(dnorm, edge_index, edge_weight, h.shape[0], self.improved, self.add_self_loops)

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}"


class GATConv(nn.Module):
    """Multi-head graph attention with a shared ``lin`` (glorot, no bias), ``att_src`` and ``att_dst``
    (1, heads, out_channels), LeakyReLU(negative_slope), a softmax over each target's incoming edges,
    dropout on the attention (an ``rng`` draws the mask, or forward takes ``dropout_mask``), heads
    concatenated or averaged, then ``bias``. Homogeneous graphs, no edge features, no residual."""

    def __init__(self, in_channels, out_channels, heads=1, concat=True, negative_slope=0.2, dropout=0.0,
                 add_self_loops=True, edge_dim=None, fill_value="mean", bias=True, residual=False, dtype=None, rng=None):
        super().__init__()
        dtype, rng = factory_dtype(dtype), np.random.default_rng() if rng is None else rng
        if not isinstance(in_channels, int) or edge_dim is not None or residual:
            raise ValueError(f"GATConv: only an int in_channels, edge_dim=None and residual=False are built here, got "
                             f"in_channels={in_channels!r}, edge_dim={edge_dim!r}, residual={residual!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout: expected a probability in [0, 1), got {dropout!r}")
        self.in_channels = check_size(in_channels, "GATConv(in_channels)")
        self.out_channels = check_size(out_channels, "GATConv(out_channels)")
        self.heads = check_size(heads, "GATConv(heads)")
        self.concat, self.negative_slope, self.dropout = concat, negative_slope, dropout
        self.add_self_loops, self.edge_dim, self.fill_value, self.residual = add_self_loops, edge_dim, fill_value, residual
        self.rng = rng
        self._mask = None
        self.lin = nn.Linear(in_channels, heads * out_channels, bias=False, dtype=dtype, rng=rng)
        glorot_(self.lin.weight, rng)
        self.att_src = nn.Parameter(np.empty((1, heads, out_channels), dtype=dtype))
        self.att_dst = nn.Parameter(np.empty((1, heads, out_channels), dtype=dtype))
        glorot_(self.att_src, rng)
        glorot_(self.att_dst, rng)
        total_out = out_channels * (heads if concat else 1)
        self.bias = nn.Parameter(np.zeros(total_out, dtype=dtype)) if bias else None
        self._saved = None

    def graph(self, edge_index, num_nodes):
        """The edges attention runs over: the loops removed, then one loop per node added (when asked)."""
        if self.add_self_loops:
            edge_index = add_self_loops(remove_self_loops(edge_index)[0], num_nodes=num_nodes)[0]
        return edge_index

    def forward(self, x, edge_index, edge_attr=None, size=None, return_attention_weights=None, dropout_mask=None):
        check_features(x, "GATConv", self.in_channels, self.lin.weight.dtype)
        if edge_attr is not None or size is not None:
            raise ValueError("edge_attr, size: GATConv here has no edge features nor bipartite size, expected None")
        num_nodes, H, C = x.shape[0], self.heads, self.out_channels
        check_edge_index(edge_index, num_nodes)
        edge_index = self.graph(edge_index, num_nodes)
        row, col = edge_index
        into, out_of = Segments(col, num_nodes), Segments(row, num_nodes)
        h = self.lin(x).reshape(num_nodes, H, C)  # (N, H, C)
        alpha_src = (h * self.att_src.data).sum(-1)  # (N, H)
        alpha_dst = (h * self.att_dst.data).sum(-1)
        score = alpha_src[row] + alpha_dst[col]  # (E, H): e_ji for the edge j -> i
        attention = softmax(F.leaky_relu(score, self.negative_slope), col, num_nodes, into)  # (E, H)
        alpha, mask = attention, None
        if self.training and self.dropout > 0:
            mask = self._draw_mask(dropout_mask, attention)
            alpha = attention * mask
        self._mask = mask  # (E, H) or None: what a parity test hands PyG's dropout
        if dropout_mask is not None and mask is None:
            raise ValueError("dropout_mask: attention dropout runs only in training with dropout > 0, expected None")
        heads = [into.matrix(alpha[:, k], row) for k in range(H)]  # per head, row i weighs i's incoming edges
        out = np.stack([adjacency @ h[:, k] for k, adjacency in enumerate(heads)], axis=1)  # (N, H, C): sum of alpha_ji h_j
        out = out.reshape(num_nodes, H * C) if self.concat else out.mean(axis=1)
        if self.bias is not None:
            out = out + self.bias.data
        self._saved = (edge_index, into, out_of, h, score, attention, heads, mask, out)
        return (out, (edge_index, alpha)) if return_attention_weights else out

    def _draw_mask(self, dropout_mask, alpha):
        """The scaled keep-mask (E, heads) of the attention dropout: the given one, or one drawn from ``rng``."""
        if dropout_mask is None:
            return F.dropout_mask(alpha.shape, self.dropout, self.rng, alpha.dtype)
        if not isinstance(dropout_mask, np.ndarray) or dropout_mask.shape != alpha.shape or dropout_mask.dtype != alpha.dtype:
            raise ValueError(f"dropout_mask: expected an array of shape {alpha.shape} (edges with self-loops, heads) and "
                             f"dtype {alpha.dtype}, got {getattr(dropout_mask, 'shape', type(dropout_mask).__name__)}")
        return dropout_mask

    def backward(self, grad, attention_grads=None, input_grad=True):
        edge_index, into, out_of, h, score, attention, heads, mask, out = require_forward(self, self._saved)
        check_grad(grad, out)
        row, col = edge_index
        num_nodes, H, C = h.shape
        if self.bias is not None:
            self.bias.accumulate_grad(grad.sum(axis=0), owned=True)
        dout = grad.reshape(num_nodes, H, C) if self.concat else np.repeat(grad[:, None, :] / H, H, axis=1)  # (N, H, C)
        dmessages = dout[col]  # (E, H, C)
        dalpha = np.einsum("ehc,ehc->eh", dmessages, h[row])  # (E, H)
        if attention_grads is not None and attention_grads[1] is not None:
            dalpha = dalpha + attention_grads[1]  # the returned weights are the dropped-out ones
        dh = np.stack([adjacency.T @ dout[:, k] for k, adjacency in enumerate(heads)], axis=1)  # (N, H, C): what each source sent
        if mask is not None:
            dalpha = dalpha * mask
        leaky = np.where(score > 0, score.dtype.type(1), score.dtype.type(self.negative_slope))
        dscore = softmax_backward(dalpha, attention, col, into) * leaky  # (E, H)
        dalpha_src, dalpha_dst = out_of.reduce(np.add, dscore), into.reduce(np.add, dscore)  # (N, H)
        self.att_src.accumulate_grad(np.einsum("nh,nhc->hc", dalpha_src, h)[None], owned=True)
        self.att_dst.accumulate_grad(np.einsum("nh,nhc->hc", dalpha_dst, h)[None], owned=True)
        dh = dh + dalpha_src[..., None] * self.att_src.data + dalpha_dst[..., None] * self.att_dst.data
        return self.lin.backward(dh.reshape(num_nodes, H * C), input_grad), None

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, heads={self.heads}"


class SAGEConv(nn.Module):
    """x'_i = lin_l(mean of x_j over the edges j -> i) + lin_r(x_i), optionally L2-normalised;
    ``lin_l`` carries the bias, both initialised as torch.nn.Linear, as PyG."""

    def __init__(self, in_channels, out_channels, aggr="mean", normalize=False, root_weight=True, project=False,
                 bias=True, dtype=None, rng=None):
        super().__init__()
        dtype, rng = factory_dtype(dtype), np.random.default_rng() if rng is None else rng
        if aggr not in ("mean", "sum", "add") or project:
            raise ValueError(f"aggr, project: expected aggr 'mean', 'sum' or 'add' and project=False, got aggr={aggr!r}, "
                             f"project={project!r}")
        self.in_channels = check_size(in_channels, "SAGEConv(in_channels)")
        self.out_channels = check_size(out_channels, "SAGEConv(out_channels)")
        self.aggr, self.normalize, self.root_weight, self.project = aggr, normalize, root_weight, project
        self.lin_l = nn.Linear(in_channels, out_channels, bias=bias, dtype=dtype, rng=rng)
        if root_weight:
            self.lin_r = nn.Linear(in_channels, out_channels, bias=False, dtype=dtype, rng=rng)
        self._saved = None

    def forward(self, x, edge_index, size=None):
        check_features(x, "SAGEConv", self.in_channels, self.lin_l.weight.dtype)
        if size is not None:
            raise ValueError("size: SAGEConv here runs on one node set, expected None")
        num_nodes = x.shape[0]
        check_edge_index(edge_index, num_nodes)
        into = Segments(edge_index[1], num_nodes)
        aggregated = scatter(x[edge_index[0]], edge_index[1], num_nodes, self.aggr, into)  # (N, in)
        out = self.lin_l(aggregated)
        if self.root_weight:
            out = out + self.lin_r(x)
        norm = None
        if self.normalize:
            norm = np.maximum(np.linalg.norm(out, axis=-1, keepdims=True), out.dtype.type(1e-12))  # F.normalize's eps
            out = out / norm
        self._saved = (edge_index, into, norm, out)
        return out

    def backward(self, grad, input_grad=True):
        edge_index, into, norm, out = require_forward(self, self._saved)
        check_grad(grad, out)
        if norm is not None:  # y = z / |z|: dz = (dy - y <dy, y>) / |z| (where |z| > eps)
            unclamped = norm > 1e-12
            grad = np.where(unclamped, (grad - out * (grad * out).sum(-1, keepdims=True)), grad) / norm
        daggregated = self.lin_l.backward(grad)  # (N, in)
        dmessages = scatter_backward(daggregated, edge_index[1], self.aggr, into)  # (E, in)
        dx = scatter(dmessages, edge_index[0], into.num_nodes)  # each source collects its messages' gradients
        if self.root_weight:
            dx = dx + self.lin_r.backward(grad)
        return (dx if input_grad else None), None

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, aggr={self.aggr}"
