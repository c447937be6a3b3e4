"""TransformerEncoderLayer (Vaswani et al., 2017): self-attention then a feed-forward block, each with
a residual connection and LayerNorm, after (post-norm, the paper's) or before (norm_first) the block.
Twin of torch.nn.TransformerEncoderLayer, with its submodule names and state_dict keys.
"""
import numpy as np

from .activation import GELU, MultiheadAttention, ReLU
from .dropout import Dropout
from .linear import Linear
from .module import Module, _describe, require_forward
from .normalization import LayerNorm


class TransformerEncoderLayer(Module):
    """forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False) -> src's shape;
    backward(grad) -> the gradient of src. ``rng`` initialises the weights and draws the dropout masks."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None, rng=None):
        super().__init__()
        if activation in ("relu", "gelu"):
            activation = ReLU() if activation == "relu" else GELU()
        elif not isinstance(activation, Module):
            raise ValueError(f"TransformerEncoderLayer(activation): expected 'relu', 'gelu' or a scratch Module, "
                             f"got {_describe(activation)}")
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
