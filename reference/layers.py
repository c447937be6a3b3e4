"""Layers the projects share that torch.nn lacks, built from torch: the sinusoidal PositionalEncoding
(Vaswani et al., 2017, section 3.5). Twin of scratch.nn.PositionalEncoding (scratch/nn/transformer.py).
"""
import math

import torch
from torch import nn


class PositionalEncoding(nn.Module):
    """Sinusoidal positions added to a sequence of embeddings:
    pe[pos, 2i] = sin(pos / 10000^(2i / d_model)), pe[pos, 2i + 1] = cos(pos / 10000^(2i / d_model)).

    forward(x) = dropout(x + pe[:L]) for x (N, L, E) with batch_first, (L, N, E) without, or unbatched
    (L, E). ``pe`` (max_len, d_model) is a non-persistent buffer: rebuilt from the formula, never in
    the state_dict. Dropout draws from torch's global generator (scratch takes an ``rng``).
    """

    def __init__(self, d_model, max_len=512, dropout=0.0, batch_first=True, device=None, dtype=None):
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.dropout = nn.Dropout(dropout)
        position = torch.arange(max_len, dtype=torch.float64)[:, None]  # (max_len, 1)
        div_term = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(10000.0) / d_model))
        pe = torch.empty(max_len, d_model, dtype=torch.float64)
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term[: d_model // 2])  # an odd d_model has one cosine fewer
        self.register_buffer("pe", pe.to(device=device, dtype=dtype or torch.get_default_dtype()), persistent=False)

    def forward(self, x):
        length = x.shape[1] if x.dim() == 3 and self.batch_first else x.shape[0]
        pe = self.pe[:length] if x.dim() == 2 or self.batch_first else self.pe[:length, None]  # (L, E) or (L, 1, E)
        return self.dropout(x + pe)

    def extra_repr(self):
        return f"d_model={self.d_model}, max_len={self.max_len}, batch_first={self.batch_first}"
