"""The transformer encoder (Vaswani et al., 2017) and its sinusoidal positional encoding.

TransformerEncoderLayer: self-attention then a feed-forward block, each with a residual connection and
LayerNorm, after (post-norm, the paper's) or before (norm_first) the block. TransformerEncoder: a stack
of deep copies of one layer, then an optional final norm. Twins of torch.nn.TransformerEncoderLayer and
torch.nn.TransformerEncoder, with their submodule names and state_dict keys. PositionalEncoding (torch
has none) is the twin of reference/layers.py.
"""
import copy
import math

import numpy as np

from .activation import GELU, MultiheadAttention, ReLU
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module, _describe, check_array, check_grad, check_size, factory_dtype, require_forward
from .normalization import LayerNorm


class TransformerEncoderLayer(Module):
    """forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False) -> src's shape;
    backward(grad) -> the gradient of src. ``rng`` initialises the weights and draws the dropout masks."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None, rng=None):
        super().__init__()
        for arg, value in (("d_model", d_model), ("nhead", nhead), ("dim_feedforward", dim_feedforward)):
            check_size(value, f"TransformerEncoderLayer({arg})")  # named here, not as the sublayers call them
        activation = _activation(activation, "TransformerEncoderLayer")
        rng = np.random.default_rng() if rng is None else rng
        factory = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            rng=rng, **factory)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, rng=rng, **factory)
        self.dropout = Dropout(dropout, rng=rng)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, rng=rng, **factory)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout, rng=rng)
        self.dropout2 = Dropout(dropout, rng=rng)
        # torch keeps a named activation as a function, not a submodule, so it stays out of named_modules
        object.__setattr__(self, "activation", activation)
        self._attn_kwargs = None

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        self._attn_kwargs = dict(attn_mask=src_mask, key_padding_mask=src_key_padding_mask, is_causal=is_causal)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x))
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x))
        return self.norm2(x + self._ff_block(x))

    def backward(self, grad):
        require_forward(self, self._attn_kwargs)
        if self.norm_first:
            dx = grad + self.norm2.backward(self._ff_block_backward(grad))  # through both branches of the residual
            return dx + self.norm1.backward(self._sa_block_backward(dx))
        dx = self.norm2.backward(grad)
        dx = dx + self._ff_block_backward(dx)
        dx = self.norm1.backward(dx)
        return dx + self._sa_block_backward(dx)

    def _sa_block(self, x):
        return self.dropout1(self.self_attn(x, x, x, need_weights=False, **self._attn_kwargs)[0])

    def _sa_block_backward(self, grad):
        dq, dk, dv = self.self_attn.backward(self.dropout1.backward(grad), None)
        return dq + dk + dv  # x fed the query, the key and the value

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))  # (*, d_model)

    def _ff_block_backward(self, grad):
        for layer in (self.dropout2, self.linear2, self.dropout, self.activation, self.linear1):
            grad = layer.backward(grad)
        return grad


class TransformerEncoder(Module):
    """num_layers deep copies of encoder_layer (so, as in torch, every layer starts with the same weights),
    then ``norm`` if given. forward(src, mask=None, src_key_padding_mask=None, is_causal=None) -> src's
    shape; backward(grad) -> the gradient of src. Keys ``layers.0.self_attn.in_proj_weight``, ...,
    ``norm.weight``.

    As torch does, boolean masks become float masks (True -> -inf) of src's dtype, and ``is_causal=None``
    detects a causal (L, L) mask. Each copy gets its own random generator, spawned from the layer's, so
    the layers draw different dropout masks. torch's nested-tensor fast path (eval mode, no autograd,
    a key padding mask) returns zeros at padded positions; scratch has no autograd state to tell, so it
    always computes them as torch's training path does: ``enable_nested_tensor`` and ``mask_check`` are
    kept as attributes only. Padded positions never reach the unpadded ones, so those agree either way.
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        if not isinstance(encoder_layer, Module):
            raise TypeError(f"TransformerEncoder(encoder_layer): expected a scratch Module, got {_describe(encoder_layer)}")
        check_size(num_layers, "TransformerEncoder(num_layers)")
        if norm is not None and not isinstance(norm, Module):
            raise TypeError(f"TransformerEncoder(norm): expected a scratch Module or None, got {_describe(norm)}")
        self.layers = ModuleList(_clones(encoder_layer, num_layers))
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check
        self._output = None

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        check_array(src, "TransformerEncoder src", ndim=(2, 3))
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask", src.dtype)
        mask = _canonical_mask(mask, "mask", src.dtype)
        batch_first = getattr(getattr(self.layers[0], "self_attn", None), "batch_first", False)
        length = src.shape[1] if src.ndim == 3 and batch_first else src.shape[0]
        is_causal = _detect_is_causal_mask(mask, is_causal, length)
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=is_causal)
        if self.norm is not None:
            output = self.norm(output)
        self._output = output
        return output

    def backward(self, grad):
        check_grad(grad, require_forward(self, self._output))
        if self.norm is not None:
            grad = self.norm.backward(grad)
        for layer in reversed(list(self.layers)):
            grad = layer.backward(grad)
        return grad


def _activation(activation, owner):
    """A layer's ``activation`` argument as a scratch Module: 'relu', 'gelu' or a Module as it is."""
    if activation in ("relu", "gelu"):
        return ReLU() if activation == "relu" else GELU()
    if not isinstance(activation, Module):
        raise ValueError(f"{owner}(activation): expected 'relu', 'gelu' or a scratch Module, got {_describe(activation)}")
    return activation


def _clones(module, n):
    """n deep copies of ``module``; every random generator inside each copy is replaced by a child
    spawned from the original's (a plain deep copy would give each layer the same dropout masks)."""
    def generators(root):
        return [(sub, sub.rng) for sub in root.modules() if isinstance(getattr(sub, "rng", None), np.random.Generator)]

    originals = generators(module)
    children = {id(rng): rng.spawn(n) for _, rng in originals}
    clones = [copy.deepcopy(module) for _ in range(n)]
    for index, clone in enumerate(clones):
        for (_, rng), (sub, _) in zip(originals, generators(clone)):
            sub.rng = children[id(rng)][index]
    return clones


def _canonical_mask(mask, name, dtype):
    """torch's F._canonical_mask: None, a float mask of src's dtype as it is, or a boolean mask as 0 / -inf."""
    if mask is None:
        return None
    if not isinstance(mask, np.ndarray) or not (mask.dtype == bool or mask.dtype == dtype):
        raise TypeError(f"TransformerEncoder {name}: expected a bool or {np.dtype(dtype)} ndarray, got {_describe(mask)}")
    if mask.dtype == bool:
        return np.where(mask, dtype.type(-np.inf), dtype.type(0))
    return mask


def _detect_is_causal_mask(mask, is_causal, length):
    """torch's rule: an explicit is_causal wins; None means "is mask exactly the (L, L) causal mask?"."""
    if is_causal is not None or mask is None:
        return is_causal is True
    causal = np.where(np.triu(np.ones((length, length), dtype=bool), 1), mask.dtype.type(-np.inf), mask.dtype.type(0))
    return mask.shape == causal.shape and bool((mask == causal).all())


class PositionalEncoding(Module):
    """Sinusoidal positions (Vaswani et al., 2017, section 3.5) added to a sequence of embeddings:
    pe[pos, 2i] = sin(pos / 10000^(2i / d_model)), pe[pos, 2i + 1] = cos(pos / 10000^(2i / d_model)).

    forward(x) = dropout(x + pe[:L]) for x (N, L, E) with batch_first, (L, N, E) without, or unbatched
    (L, E); backward(grad) -> the gradient of x. ``pe`` (max_len, d_model) is a non-persistent buffer:
    rebuilt from the formula, never in the state_dict. ``rng`` draws the dropout masks.
    """

    def __init__(self, d_model, max_len=512, dropout=0.0, batch_first=True, device=None, dtype=None, rng=None):
        super().__init__()
        dtype = factory_dtype(dtype, device)
        for name, value in (("d_model", d_model), ("max_len", max_len)):
            check_size(value, f"PositionalEncoding({name})")
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.dropout = Dropout(dropout, rng=rng)
        position = np.arange(max_len, dtype=np.float64)[:, None]  # (max_len, 1)
        div_term = np.exp(np.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))  # 1 / 10000^(2i/d)
        pe = np.empty((max_len, d_model))
        pe[:, 0::2] = np.sin(position * div_term)
        pe[:, 1::2] = np.cos(position * div_term[: d_model // 2])  # an odd d_model has one cosine fewer
        self.register_buffer("pe", pe.astype(dtype), persistent=False)

    def forward(self, x):
        check_array(x, "PositionalEncoding input", ndim=(2, 3), dtype=self.pe.dtype, last_dim=self.d_model)
        length = x.shape[1] if x.ndim == 3 and self.batch_first else x.shape[0]
        if length > self.max_len:
            raise ValueError(f"PositionalEncoding input: sequence length {length} exceeds max_len={self.max_len} "
                             f"(shape {x.shape}); build the module with a larger max_len")
        pe = self.pe[:length] if x.ndim == 2 or self.batch_first else self.pe[:length, None]  # (L, E) or (L, 1, E)
        return self.dropout(x + pe)

    def backward(self, grad):
        require_forward(self, self.dropout._output)
        return self.dropout.backward(grad)  # adding a constant passes the gradient through

    def extra_repr(self):
        return f"d_model={self.d_model}, max_len={self.max_len}, batch_first={self.batch_first}"
