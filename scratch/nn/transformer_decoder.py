"""The transformer decoder and the whole encoder-decoder Transformer (Vaswani et al., 2017).

TransformerDecoderLayer: causal self-attention over the target, cross-attention from the target to the
encoder's output (the memory), then a feed-forward block; each with a residual connection and LayerNorm,
after the block (post-norm, the paper's) or before it (norm_first). TransformerDecoder: a stack of deep
copies of one layer, then an optional final norm. Transformer: an encoder stack and a decoder stack with
a final LayerNorm each. Twins of torch.nn.TransformerDecoderLayer, TransformerDecoder and Transformer,
with their signatures, defaults, submodule names and state_dict keys.

The lesson autograd hides: the memory feeds the key and the value of every decoder layer's
cross-attention, so its gradient is the sum of 2 x num_layers contributions, and only then flows into
the encoder.
"""
import numpy as np

from . import init
from .activation import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module, _describe, check_array, check_grad, check_size, factory_dtype, require_forward
from .normalization import LayerNorm
from .transformer import TransformerEncoder, TransformerEncoderLayer, _activation, _clones, _detect_is_causal_mask


class TransformerDecoderLayer(Module):
    """forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False) -> tgt's shape;
    backward(grad) -> (the gradient of tgt, the gradient of memory). ``rng`` initialises the weights and
    draws the dropout masks."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None, rng=None):
        super().__init__()
        for arg, value in (("d_model", d_model), ("nhead", nhead), ("dim_feedforward", dim_feedforward)):
            check_size(value, f"TransformerDecoderLayer({arg})")
        activation = _activation(activation, "TransformerDecoderLayer")
        rng = np.random.default_rng() if rng is None else rng
        factory = {"device": device, "dtype": dtype}
        attention = dict(dropout=dropout, bias=bias, batch_first=batch_first, rng=rng, **factory)
        self.self_attn = MultiheadAttention(d_model, nhead, **attention)
        self.multihead_attn = MultiheadAttention(d_model, nhead, **attention)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, rng=rng, **factory)
        self.dropout = Dropout(dropout, rng=rng)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, rng=rng, **factory)
        self.norm_first = norm_first
        self.norm1, self.norm2, self.norm3 = (LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory) for _ in range(3))
        self.dropout1, self.dropout2, self.dropout3 = (Dropout(dropout, rng=rng) for _ in range(3))
        object.__setattr__(self, "activation", activation)  # a function in torch, so not a submodule
        self._dtype = factory_dtype(dtype, device)
        self._attn_kwargs = self._output = None

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        batch_first = self.self_attn.batch_first
        _check_pair(tgt, memory, "tgt", "memory", self.self_attn.embed_dim, self._dtype, batch_first)
        length, source, batch = _seq_len(tgt, batch_first), _seq_len(memory, batch_first), _batch(tgt, batch_first)
        heads = self.self_attn.num_heads
        check_masks({"tgt_mask": (tgt_mask, length, length), "memory_mask": (memory_mask, length, source)},
                    {"tgt_key_padding_mask": (tgt_key_padding_mask, length),
                         "memory_key_padding_mask": (memory_key_padding_mask, source)}, batch, heads, self._dtype)
        self._attn_kwargs = ({"attn_mask": tgt_mask, "key_padding_mask": tgt_key_padding_mask, "is_causal": tgt_is_causal},
                             {"attn_mask": memory_mask, "key_padding_mask": memory_key_padding_mask, "is_causal": memory_is_causal})
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x))
            x = x + self._mha_block(self.norm2(x), memory)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x))
            x = self.norm2(x + self._mha_block(x, memory))
            x = self.norm3(x + self._ff_block(x))
        self._output = x
        return x

    def backward(self, grad):
        check_grad(grad, require_forward(self, self._output))
        if self.norm_first:
            dx = grad + self.norm3.backward(self._ff_block_backward(grad))  # through both branches of each residual
            dquery, dmemory = self._mha_block_backward(dx)
            dx = dx + self.norm2.backward(dquery)
            return dx + self.norm1.backward(self._sa_block_backward(dx)), dmemory
        dx = self.norm3.backward(grad)
        dx = dx + self._ff_block_backward(dx)
        dx = self.norm2.backward(dx)
        dquery, dmemory = self._mha_block_backward(dx)
        dx = self.norm1.backward(dx + dquery)
        return dx + self._sa_block_backward(dx), dmemory

    def _sa_block(self, x):
        return self.dropout1(self.self_attn(x, x, x, need_weights=False, **self._attn_kwargs[0])[0])

    def _sa_block_backward(self, grad):
        dq, dk, dv = self.self_attn.backward(self.dropout1.backward(grad), None)
        return dq + dk + dv  # x fed the query, the key and the value

    def _mha_block(self, x, memory):
        return self.dropout2(self.multihead_attn(x, memory, memory, need_weights=False, **self._attn_kwargs[1])[0])

    def _mha_block_backward(self, grad):
        dq, dk, dv = self.multihead_attn.backward(self.dropout2.backward(grad), None)
        return dq, dk + dv  # the memory fed the key and the value

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))  # (*, d_model)

    def _ff_block_backward(self, grad):
        for layer in (self.dropout3, self.linear2, self.dropout, self.activation, self.linear1):
            grad = layer.backward(grad)
        return grad


class TransformerDecoder(Module):
    """num_layers deep copies of decoder_layer (each with its own dropout generator), then ``norm`` if
    given. forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False) -> tgt's shape;
    backward(grad) -> (the gradient of tgt, the gradient of memory). ``tgt_is_causal=None`` detects a
    causal (T, T) tgt_mask, as torch does."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        if not isinstance(decoder_layer, Module):
            raise TypeError(f"TransformerDecoder(decoder_layer): expected a scratch Module, got {_describe(decoder_layer)}")
        check_size(num_layers, "TransformerDecoder(num_layers)")
        if norm is not None and not isinstance(norm, Module):
            raise TypeError(f"TransformerDecoder(norm): expected a scratch Module or None, got {_describe(norm)}")
        self.layers = ModuleList(_clones(decoder_layer, num_layers))
        self.num_layers = num_layers
        self.norm = norm
        self._output = None

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        check_array(tgt, "TransformerDecoder tgt", ndim=(2, 3))
        length = _seq_len(tgt, self.layers[0].self_attn.batch_first)
        # a bool causal mask is detected too, as torch's comparison with a bool triu does; a mask of any
        # other type is refused by the first layer, naming tgt_mask
        detectable = isinstance(tgt_mask, np.ndarray) and tgt_mask.dtype.kind in "bf"
        tgt_is_causal = _detect_is_causal_mask(tgt_mask if detectable else None, tgt_is_causal, length)
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask, tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                           memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        self._output = output
        return output

    def backward(self, grad):
        check_grad(grad, require_forward(self, self._output))
        if self.norm is not None:
            grad = self.norm.backward(grad)
        dmemory = 0
        for layer in reversed(list(self.layers)):
            grad, dmemory_layer = layer.backward(grad)
            dmemory = dmemory + dmemory_layer  # every layer attended to the same memory
        return grad, dmemory


class Transformer(Module):
    """torch.nn.Transformer: forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
    src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None,
    tgt_is_causal=None, memory_is_causal=False) -> tgt's shape; backward(grad) -> (the gradient of src, the
    gradient of tgt). Every weight matrix is re-initialised Xavier-uniform, as torch's _reset_parameters
    does. ``activation`` is 'relu', 'gelu' or a scratch Module (torch's default is F.relu)."""

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048, dropout=0.1,
                 activation="relu", custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-5, batch_first=False,
                 norm_first=False, bias=True, device=None, dtype=None, rng=None):
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        factory = {"device": device, "dtype": dtype}
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first, bias)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(TransformerEncoderLayer(*layer_args, rng=rng, **factory), num_encoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(TransformerDecoderLayer(*layer_args, rng=rng, **factory), num_decoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))
        for param in self.parameters():
            if param.data.ndim > 1:
                init.xavier_uniform_(param, rng=rng)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        self._dtype = factory_dtype(dtype, device)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        _check_pair(tgt, src, "tgt", "src", self.d_model, self._dtype, self.batch_first)
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask, tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)

    def backward(self, grad):
        dtgt, dmemory = self.decoder.backward(grad)
        return self.encoder.backward(dmemory), dtgt

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """The (sz, sz) causal mask: -inf above the diagonal (position i may not see j > i), 0 elsewhere."""
        sz = check_size(sz, "generate_square_subsequent_mask(sz)")
        dtype = factory_dtype(dtype, device)
        return np.triu(np.full((sz, sz), -np.inf, dtype=dtype), 1)


def _seq_len(x, batch_first):
    """The sequence length of a (T, E), (T, N, E) or batch-first (N, T, E) array."""
    return x.shape[1] if x.ndim == 3 and batch_first else x.shape[0]


def _batch(x, batch_first):
    return None if x.ndim == 2 else x.shape[0] if batch_first else x.shape[1]


def _check_pair(tgt, other, name, other_name, d_model, dtype, batch_first):
    """tgt and memory (or src) as torch needs them: the module's dtype, width d_model, the same rank and batch."""
    for arg, x in ((name, tgt), (other_name, other)):
        check_array(x, arg, ndim=(2, 3), dtype=dtype, last_dim=d_model)
    if tgt.ndim != other.ndim:
        raise ValueError(f"{other_name}: expected a rank-{tgt.ndim} array like {name} (both batched or both unbatched), "
                         f"got shape {other.shape} beside {name} {tgt.shape}")
    if _batch(tgt, batch_first) != _batch(other, batch_first):
        raise ValueError(f"{other_name}: expected batch size {_batch(tgt, batch_first)} (that of {name} {tgt.shape}, "
                         f"batch_first={batch_first}), got shape {other.shape}")


def check_masks(attn_masks, padding_masks, batch, heads, dtype):
    """Each mask None, or a bool / ``dtype`` array of the shape torch accepts: an attention mask (L, S) or
    (N * heads, L, S); a key padding mask (N, S), or (S,) for an unbatched call. Errors name the argument."""
    def check(name, mask, shapes):
        if mask is None:
            return
        if not isinstance(mask, np.ndarray) or not (mask.dtype == bool or mask.dtype == dtype):
            raise TypeError(f"{name}: expected a bool or {np.dtype(dtype)} ndarray, got {_describe(mask)}")
        if mask.shape not in shapes:
            raise ValueError(f"{name}: expected shape {' or '.join(map(str, shapes))}, got {mask.shape}")

    for name, (mask, length, source) in attn_masks.items():
        check(name, mask, [(length, source), ((batch or 1) * heads, length, source)])
    for name, (mask, source) in padding_masks.items():
        check(name, mask, [(source,) if batch is None else (batch, source)])
