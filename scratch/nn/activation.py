"""Activation functions: forward from functional.py, backward as the local derivative."""
import math

import numpy as np

from ..plumbing import check_bool
from . import _threads, init
from . import functional as F
from .linear import Linear
from .module import Module, Parameter, _describe, check_array, check_grad, check_size, factory_dtype, require_forward


class _Pointwise(Module):
    """An element-wise activation: backward multiplies by d output / d input.

    Where torch takes ``inplace``, it is kept for the repr only: scratch never overwrites its input.
    """

    def __init__(self):
        super().__init__()
        self._input = self._output = None

    def forward(self, input):
        check_array(input, f"{type(self).__name__} input")
        self._input, self._output = input, self.function(input)
        return self._output

    def backward(self, grad):
        require_forward(self, self._output)
        return check_grad(grad, self._output) * self.derivative(self._input, self._output)


class ReLU(_Pointwise):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    function = staticmethod(F.relu)

    def derivative(self, x, y):
        return (x > 0).astype(x.dtype)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(_Pointwise):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.inplace = inplace
        self.negative_slope = negative_slope

    def function(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def derivative(self, x, y):
        return np.where(x > 0, x.dtype.type(1), x.dtype.type(self.negative_slope))

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(_Pointwise):
    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.inplace = inplace
        self.alpha = alpha

    def function(self, x):
        return F.elu(x, self.alpha)

    def derivative(self, x, y):
        return np.where(x > 0, x.dtype.type(1), y + x.dtype.type(self.alpha))  # alpha e^x = y + alpha

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(_Pointwise):
    """x Phi(x); 'tanh' uses torch's tanh approximation of Phi."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate: expected 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate
        self._cdf = None

    def function(self, x):
        if self.approximate == "none":
            self._cdf = F.normal_cdf(x)  # kept: the derivative needs it too
            return x * self._cdf
        return F.gelu(x, self.approximate)

    def derivative(self, x, y):
        if self.approximate == "none":
            pdf = np.exp(-0.5 * x * x) * x.dtype.type(1 / math.sqrt(2 * math.pi))
            return self._cdf + x * pdf
        t = np.tanh(F._gelu_tanh_inner(x))
        dinner = x.dtype.type(math.sqrt(2 / math.pi)) * (1 + x.dtype.type(3 * 0.044715) * x * x)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dinner

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Sigmoid(_Pointwise):
    function = staticmethod(F.sigmoid)

    def derivative(self, x, y):
        return y * (1 - y)


class Tanh(_Pointwise):
    function = staticmethod(F.tanh)

    def derivative(self, x, y):
        return 1 - y * y


class SiLU(_Pointwise):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    function = staticmethod(F.silu)

    def derivative(self, x, y):
        s = F.sigmoid(x)
        return s * (1 + x * (1 - s))

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Softplus(_Pointwise):
    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def function(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def derivative(self, x, y):
        scaled = x * x.dtype.type(self.beta)
        return np.where(scaled > self.threshold, x.dtype.type(1), F.sigmoid(scaled))

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class _SoftmaxBase(Module):
    def __init__(self, dim):
        super().__init__()
        if not isinstance(dim, int):
            raise TypeError(f"{type(self).__name__}(dim): expected an int (torch's implicit dim is deprecated), got {dim!r}")
        self.dim = dim
        self._output = None

    def forward(self, input):
        check_array(input, f"{type(self).__name__} input")
        if not -max(input.ndim, 1) <= self.dim < max(input.ndim, 1):
            raise ValueError(f"{type(self).__name__}: dim {self.dim} is out of range for shape {input.shape}")
        self._output = self.function(input, self.dim)
        return self._output

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_SoftmaxBase):
    function = staticmethod(F.softmax)

    def backward(self, grad):
        y = require_forward(self, self._output)
        check_grad(grad, y)
        return y * (grad - (grad * y).sum(axis=self.dim, keepdims=True))  # J^T g with J = diag(y) - y y^T


class LogSoftmax(_SoftmaxBase):
    function = staticmethod(F.log_softmax)

    def backward(self, grad):
        y = require_forward(self, self._output)
        check_grad(grad, y)
        return grad - np.exp(y) * grad.sum(axis=self.dim, keepdims=True)


class MultiheadAttention(Module):
    """Multi-head scaled dot-product attention (Vaswani et al., 2017) with torch's parameters.

    in_proj_weight (3E, E) packs W_q, W_k, W_v when kdim == vdim == E; otherwise q_proj_weight (E, E),
    k_proj_weight (E, kdim), v_proj_weight (E, vdim). in_proj_bias (3E,); out_proj a Linear(E, E).
    ``add_bias_kv`` appends a learned key bias_k and value bias_v (1, 1, E) to the projected keys and
    values; ``add_zero_attn`` then appends a key and a value of zeros (after the projection, so no
    bias reaches them). Either lengthens the source: S' = S + 1 or S + 2 keys, the masks padded with
    "may attend" for the appended keys, as torch pads them.
    forward returns (attn_output, attn_weights (N, L, S') or None); backward(dout, dweights) returns (dq, dk, dv).
    Masks: bool True means "may not attend", float masks are added to the scores. As in torch, a
    fully masked row gives NaN when the weights are returned and zeros when they are not (torch then
    runs scaled_dot_product_attention, whose softmax zeroes such rows). ``rng`` draws the attention
    dropout mask; ``forward(..., dropout_mask=...)`` takes a given scaled (N, heads, L, S') mask instead.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None, rng=None):
        super().__init__()
        dtype = factory_dtype(dtype, device)
        add_bias_kv = check_bool(add_bias_kv, "MultiheadAttention(add_bias_kv)")
        add_zero_attn = check_bool(add_zero_attn, "MultiheadAttention(add_zero_attn)")
        embed_dim, num_heads = check_size(embed_dim, "MultiheadAttention(embed_dim)"), check_size(num_heads, "MultiheadAttention(num_heads)")
        kdim, vdim = (None if d is None else check_size(d, f"MultiheadAttention({arg})") for arg, d in (("kdim", kdim), ("vdim", vdim)))
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})")
        if not 0 <= dropout <= 1:
            raise ValueError(f"MultiheadAttention(dropout): expected a probability in [0, 1], got {dropout}")
        rng = np.random.default_rng() if rng is None else rng
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, dropout, batch_first
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.head_dim = embed_dim // num_heads
        self.rng = rng
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype=dtype))
            self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        else:
            self.in_proj_weight = None
            self.q_proj_weight = Parameter(np.empty((embed_dim, embed_dim), dtype=dtype))
            self.k_proj_weight = Parameter(np.empty((embed_dim, self.kdim), dtype=dtype))
            self.v_proj_weight = Parameter(np.empty((embed_dim, self.vdim), dtype=dtype))
        self.in_proj_bias = Parameter(np.zeros(3 * embed_dim, dtype=dtype)) if bias else None
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, embed_dim), dtype=dtype))
            self.bias_v = Parameter(np.empty((1, 1, embed_dim), dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype, rng=rng)
        # torch's _reset_parameters: Xavier on the input projections, zero biases, Xavier normal on bias_k/v
        for weight in self._proj_params():
            init.xavier_uniform_(weight, rng=rng)
        if bias:
            init.constant_(self.out_proj.bias, 0.0)
        if add_bias_kv:
            init.xavier_normal_(self.bias_k, rng=rng)
            init.xavier_normal_(self.bias_v, rng=rng)
        self._dtype = dtype
        self._cache = self._output = self._dropout_mask = None

    def _proj_params(self):
        if self._qkv_same_embed_dim:
            return [self.in_proj_weight]
        return [self.q_proj_weight, self.k_proj_weight, self.v_proj_weight]

    def _proj_weights(self):
        if self._qkv_same_embed_dim:
            return np.split(self.in_proj_weight.data, 3)  # views of W_q, W_k, W_v
        return [w.data for w in self._proj_params()]

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False, dropout_mask=None):
        q, k, v, unbatched = self._batch_first_inputs(query, key, value)  # (N, L, E), (N, S, kdim), (N, S, vdim)
        (n, length, _), source = q.shape, k.shape[1]
        heads, head_dim = self.num_heads, self.head_dim
        mask = self._additive_mask(key_padding_mask, attn_mask, is_causal, need_weights, n, length, source, unbatched)  # (., ., L, S')
        packed = self._qkv_same_embed_dim and query is key and key is value  # self-attention: one projection GEMM
        if packed:
            bias = None if self.in_proj_bias is None else self.in_proj_bias.data
            QKV = F.linear(q, self.in_proj_weight.data, bias).reshape(n, length, 3, heads, head_dim)
            Q, K, V = QKV.transpose(2, 0, 3, 1, 4)  # views, (N, H, L, D) each
        else:
            wq, wk, wv = self._proj_weights()
            bq, bk, bv = (None,) * 3 if self.in_proj_bias is None else np.split(self.in_proj_bias.data, 3)
            Q = F.linear(q, wq, bq).reshape(n, length, heads, head_dim).transpose(0, 2, 1, 3)  # (N, H, L, D)
            K = F.linear(k, wk, bk).reshape(n, source, heads, head_dim).transpose(0, 2, 1, 3)  # (N, H, S, D)
            V = F.linear(v, wv, bv).reshape(n, source, heads, head_dim).transpose(0, 2, 1, 3)  # (N, H, S, D)
        K, V = self._appended_keys(K, self.bias_k), self._appended_keys(V, self.bias_v)  # (N, H, S', D)
        scale = q.dtype.type(1 / math.sqrt(head_dim))
        Qs = Q * scale  # scaling Q (N, H, L, D) is cheaper than scaling the scores (N, H, L, S)
        drop = self._attention_dropout_mask(dropout_mask, (n, heads, length, K.shape[2]), q.dtype)
        P, P_dropped, A = self._attend(Qs, K, V, mask, drop, zero_masked_rows=not need_weights)
        out = self.out_proj(A.transpose(0, 2, 1, 3).reshape(n, length, self.embed_dim))  # (N, L, E), no copy
        weights = None
        if need_weights:
            weights = P_dropped.mean(axis=1) if average_attn_weights else P_dropped  # (N, L, S') or (N, H, L, S')
        self._cache = (q, k, v, Qs, K, V, P, drop, P_dropped, A, scale, unbatched, need_weights and average_attn_weights,
                       packed)
        self._output = (self._external(out, unbatched), None if weights is None else weights[0] if unbatched else weights)
        return self._output

    @staticmethod
    def _attend(Qs, K, V, mask, drop, zero_masked_rows):
        """The attention core, softmax(Qs K^T + mask) V, one chunk of the batch at a time on the kernel
        threads (its small per-head GEMMs and the softmax gain nothing from BLAS's threads). Returns
        P, the weights (N, H, L, S'); P_dropped, P after attention dropout (P itself without it); A (N, H, L, D).
        A fully masked row's weights are NaN, as in torch, or zeros when ``zero_masked_rows``."""
        (n, heads, length, head_dim), source = Qs.shape, K.shape[2]
        P = np.empty((n, heads, length, source), Qs.dtype)
        P_dropped = P if drop is None else np.empty_like(P)
        A = np.empty((n, length, heads, head_dim), Qs.dtype).transpose(0, 2, 1, 3)  # (N, H, L, D) in out_proj's (N, L, E) order

        def chunk(a, b):
            scores = np.matmul(Qs[a:b], K[a:b].swapaxes(-1, -2), out=P[a:b])  # (n', H, L, S')
            if mask is not None:
                row_mask = mask[a:b] if mask.shape[0] > 1 else mask
                scores += row_mask
            MultiheadAttention._softmax_(scores)  # in place: the scores become the weights
            if zero_masked_rows and mask is not None:
                np.copyto(scores, 0, where=np.all(row_mask == -np.inf, axis=-1, keepdims=True))
            dropped = scores if drop is None else np.multiply(scores, drop[a:b], out=P_dropped[a:b])
            np.matmul(dropped, V[a:b], out=A[a:b])

        _threads.map_chunks(chunk, n, _threads.chunk_size(n, 3 * P[:1].nbytes))
        return P, P_dropped, A

    def _extra_keys(self):
        """How many keys and values forward appends to the source: bias_k/bias_v, then a zero one."""
        return (self.bias_k is not None) + bool(self.add_zero_attn)

    def _appended_keys(self, K, bias):
        """K (N, H, S, D) with ``bias`` (bias_k; bias_v for V) and the zero key appended: (N, H, S', D).

        torch appends bias_k (1, 1, E) to the projected keys before splitting them into heads,
        so each head gets its (D,) slice; the zero key comes after the split."""
        if not self._extra_keys():
            return K
        n, heads, _, head_dim = K.shape
        parts = [K]
        if bias is not None:
            parts.append(np.broadcast_to(bias.data.reshape(1, heads, 1, head_dim), (n, heads, 1, head_dim)))
        if self.add_zero_attn:
            parts.append(np.zeros((n, heads, 1, head_dim), K.dtype))
        return np.concatenate(parts, axis=2)

    @staticmethod
    def _softmax_(scores):
        """Softmax over the last axis, overwriting ``scores`` (no (N, H, L, S) temporaries)."""
        with np.errstate(invalid="ignore"):  # a fully masked row is -inf - (-inf) = NaN, as in torch
            scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        return scores

    def backward(self, grad_output, grad_weights=None):
        q, k, v, Qs, K, V, P, drop, P_dropped, A, scale, unbatched, averaged, packed = require_forward(self, self._cache)
        check_grad(grad_output, self._output[0], "grad_output")
        n, heads, length, _ = Qs.shape
        dout = self._internal(grad_output, unbatched)  # (N, L, E)
        dA = self.out_proj.backward(dout).reshape(n, length, heads, self.head_dim).transpose(0, 2, 1, 3)  # (N, H, L, D)
        dweights = None
        if grad_weights is not None:
            if self._output[1] is None:
                raise ValueError("grad_weights: forward ran with need_weights=False, so it returned no weights; pass None")
            check_grad(grad_weights, self._output[1], "grad_weights")
            dweights = grad_weights[None] if unbatched else grad_weights
            dweights = dweights[:, None] / heads if averaged else dweights  # (N, 1 or H, L, S')
        dQ, dK, dV = self._attend_backward(dA, Qs, K, V, P, drop, P_dropped, A, dweights, scale)
        source = k.shape[1]
        dK, dV = self._appended_keys_backward(dK, self.bias_k, source), self._appended_keys_backward(dV, self.bias_v, source)
        return self._projection_backward(q, k, v, dQ, dK, dV, packed, unbatched)

    @staticmethod
    def _attend_backward(dA, Qs, K, V, P, drop, P_dropped, A, dweights, scale):
        """Gradients of Q, K, V (N, H, ., D) from dA, the gradient of the attention output, one chunk of
        the batch at a time on the kernel threads, as forward. ``dweights`` is the gradient of the
        returned weights, or None."""
        n, head_dim, source = Qs.shape[0], Qs.shape[3], K.shape[2]
        dQ, dK, dV = np.empty_like(Qs), np.empty_like(K), np.empty_like(V)
        # sum_s dP P over a row equals sum_d dA A, with A = P_dropped V: (N, H, L, D) instead of (N, H, L, S),
        # cheaper when S > D. Otherwise the direct sum, which cancels exactly where the softmax is flat
        # (a single key: P = 1, dscores = 0, as torch gives), where the shortcut leaves rounding noise.
        shortcut = dweights is None and source > head_dim

        def chunk(a, b):
            dP = dA[a:b] @ V[a:b].swapaxes(-1, -2)  # (n', H, L, S'), gradient of the dropped-out weights
            np.matmul(P_dropped[a:b].swapaxes(-1, -2), dA[a:b], out=dV[a:b])  # (n', H, S', D)
            if dweights is not None:
                dP += dweights[a:b]
            row_dot = (dA[a:b] * A[a:b]).sum(axis=-1, keepdims=True) if shortcut else None
            if drop is not None:
                dP *= drop[a:b]
            if row_dot is None:
                row_dot = (dP * P[a:b]).sum(axis=-1, keepdims=True)
            dP -= row_dot  # softmax backward, per row, in place: dscores = P (dP - sum(dP P))
            dscores = np.multiply(dP, P[a:b], out=dP)
            np.matmul(dscores, K[a:b], out=dQ[a:b])  # (n', H, L, D)
            dQ[a:b] *= scale
            np.matmul(dscores.swapaxes(-1, -2), Qs[a:b], out=dK[a:b])  # (n', H, S', D)

        _threads.map_chunks(chunk, n, _threads.chunk_size(n, 3 * P[:1].nbytes))
        return dQ, dK, dV

    @staticmethod
    def _appended_keys_backward(dK, bias, source):
        """Accumulate the gradient of the appended ``bias`` (its column, summed over the batch: every
        sample saw the same bias); return the gradient of the projected keys, (N, H, S, D). The zero
        key is a constant: its gradient goes nowhere."""
        if bias is not None:
            bias.accumulate_grad(dK[:, :, source].sum(axis=0).reshape(bias.shape), owned=True)  # (H, D) -> (1, 1, E)
        return dK[:, :, :source]

    def _projection_backward(self, q, k, v, dQ, dK, dV, packed, unbatched):
        """Gradients of the input projections from those of Q, K, V (N, H, T, D); returns (dq, dk, dv)."""
        n, embed_dim = q.shape[0], self.embed_dim
        if packed:
            dQKV = np.empty((n, q.shape[1], 3, self.num_heads, self.head_dim), dtype=q.dtype)  # (N, L, 3, H, D)
            for index, d in enumerate((dQ, dK, dV)):
                dQKV[:, :, index] = d.transpose(0, 2, 1, 3)
            dQKV = dQKV.reshape(-1, 3 * embed_dim)  # (N L, 3E): one GEMM for the packed weight's gradient
            self.in_proj_weight.accumulate_grad(dQKV.T @ q.reshape(-1, embed_dim), owned=True)  # (3E, E)
            if self.in_proj_bias is not None:
                self.in_proj_bias.accumulate_grad(dQKV.sum(axis=0), owned=True)
            grads = np.split(dQKV, 3, axis=1)  # (N L, E) views
        else:
            grads = [d.transpose(0, 2, 1, 3).reshape(-1, embed_dim) for d in (dQ, dK, dV)]  # (N L|S, E)
            dweight = [d.T @ x.reshape(-1, x.shape[-1]) for d, x in zip(grads, (q, k, v))]
            if self._qkv_same_embed_dim:
                self.in_proj_weight.accumulate_grad(np.concatenate(dweight), owned=True)  # (3E, E)
            else:
                for param, grad in zip(self._proj_params(), dweight):
                    param.accumulate_grad(grad, owned=True)
            if self.in_proj_bias is not None:
                self.in_proj_bias.accumulate_grad(np.concatenate([d.sum(axis=0) for d in grads]), owned=True)
        return tuple(self._external((d @ w).reshape(*x.shape[:2], w.shape[1]), unbatched)  # (N, L|S, E|kdim|vdim)
                     for d, w, x in zip(grads, self._proj_weights(), (q, k, v)))

    def _external(self, x, unbatched):
        """(N, T, C) -> the caller's layout: (T, C) unbatched, (N, T, C) batch_first, else (T, N, C)."""
        return x[0] if unbatched else x if self.batch_first else x.transpose(1, 0, 2)

    def _internal(self, x, unbatched):
        return x[None] if unbatched else x if self.batch_first else x.transpose(1, 0, 2)

    def _batch_first_inputs(self, query, key, value):
        for name, x, width in (("query", query, self.embed_dim), ("key", key, self.kdim), ("value", value, self.vdim)):
            check_array(x, f"MultiheadAttention {name}", ndim=(2, 3), dtype=self._dtype, last_dim=width)
        if not query.ndim == key.ndim == value.ndim:
            raise ValueError(f"MultiheadAttention: query, key and value must all be batched (3-d) or all unbatched (2-d), "
                             f"got shapes {query.shape}, {key.shape}, {value.shape}")
        unbatched = query.ndim == 2
        q, k, v = (self._internal(x, unbatched) for x in (query, key, value))
        if k.shape[:2] != v.shape[:2]:
            raise ValueError(f"MultiheadAttention: key and value must have the same batch and sequence sizes, "
                             f"got shapes {key.shape} and {value.shape}")
        if q.shape[0] != k.shape[0]:
            raise ValueError(f"MultiheadAttention: query and key must have the same batch size, got shapes {query.shape} and {key.shape}")
        return q, k, v, unbatched

    def _additive_mask(self, key_padding_mask, attn_mask, is_causal, need_weights, n, length, source, unbatched):
        """The masks as one float array added to the scores, (N or 1, H or 1, L, S'), or None.

        The masks cover the S given keys; the keys forward appends (bias_k, the zero key) get 0,
        "may attend", as torch pads them."""
        if is_causal and attn_mask is None:
            raise ValueError("MultiheadAttention: is_causal=True is a hint that attn_mask is causal; pass the attn_mask too")
        mask = None
        if attn_mask is not None:
            expected = [(length, source), (n * self.num_heads, length, source)]
            if unbatched:
                expected[1] = (self.num_heads, length, source)
            mask = self._float_mask(attn_mask, "attn_mask", expected)
            mask = mask.reshape(-1 if attn_mask.ndim == 3 else 1, self.num_heads if attn_mask.ndim == 3 else 1, length, source)
        extra = self._extra_keys()
        if is_causal and key_padding_mask is None and not need_weights:
            # torch drops the given mask and lets SDPA build its own causal one (top-left aligned),
            # over every key, the appended ones included: they are not padded, they are masked
            causal = np.triu(np.ones((length, source + extra), dtype=bool), 1)
            return np.where(causal, self._dtype.type(-np.inf), self._dtype.type(0))[None, None]  # (1, 1, L, S')
        if key_padding_mask is not None:
            padding = self._float_mask(key_padding_mask, "key_padding_mask", [(source,) if unbatched else (n, source)])
            padding = padding.reshape(-1, 1, 1, source)  # (N, 1, 1, S)
            mask = padding if mask is None else mask + padding
        if mask is not None and extra:
            mask = np.concatenate([mask, np.zeros((*mask.shape[:-1], extra), mask.dtype)], axis=-1)  # (., ., L, S')
        return mask

    def _float_mask(self, mask, name, shapes):
        if not isinstance(mask, np.ndarray) or not (mask.dtype == bool or mask.dtype == self._dtype):
            raise TypeError(f"MultiheadAttention {name}: expected a bool or {self._dtype} ndarray, got {_describe(mask)}")
        if mask.shape not in shapes:
            raise ValueError(f"MultiheadAttention {name}: expected shape {' or '.join(map(str, shapes))}, got {mask.shape}")
        if mask.dtype == bool:
            return np.where(mask, self._dtype.type(-np.inf), self._dtype.type(0))
        return mask

    def _attention_dropout_mask(self, mask, shape, dtype):
        self._dropout_mask = None
        if not self.training or self.dropout == 0:
            return None
        if mask is None:
            mask = F.dropout_mask(shape, self.dropout, self.rng, dtype)
        elif not isinstance(mask, np.ndarray) or mask.shape != shape or mask.dtype != dtype:
            raise ValueError(f"MultiheadAttention dropout_mask: expected shape {shape} and dtype {dtype}, got {_describe(mask)}")
        self._dropout_mask = mask
        return mask
