"""Project 3: a transformer text classifier (Vaswani et al., 2017, encoder only). Token ids
(N, L), padded with ``pad_id``, are embedded, given sinusoidal positions, read by a stack of
self-attention encoder layers that never attend to padding, averaged over each document's
real tokens (masked mean pooling) and mapped to class logits by a linear head.

Autograd runs the backward pass through the pooling, the encoder and the embedding.
Checkpoints are the scratch twin's .npz (weights, architecture, vocabulary), so either
twin loads what the other saved. Twin of scratch/projects/nlp/model.py: the same names, arguments and
state_dict keys.
"""
import numpy as np
import torch
from torch import nn

from reference import training
from reference.layers import PositionalEncoding
from scratch import serialization
from scratch.projects.nlp.config import check_architecture, check_token_ids, check_weights, checkpoint, split_checkpoint


class TransformerClassifier(nn.Module):
    """token ids X (N, L) -> logits (N, num_classes); keys embedding.*, encoder.layers.<i>.*, head.*"""

    def __init__(self, vocab_size, num_classes, d_model=64, nhead=4, num_layers=2, dim_feedforward=128, dropout=0.1,
                 max_len=256, pad_id=0, norm_first=False, activation="relu", dtype=None):
        super().__init__()
        check_architecture(vocab_size, num_classes, d_model, nhead, num_layers, dim_feedforward, max_len, pad_id)
        self.architecture = dict(vocab_size=vocab_size, num_classes=num_classes, d_model=d_model, nhead=nhead,
                                 num_layers=num_layers, dim_feedforward=dim_feedforward, dropout=dropout,
                                 max_len=max_len, pad_id=pad_id, norm_first=norm_first, activation=activation)
        self.vocab_size, self.num_classes, self.max_len, self.pad_id = vocab_size, num_classes, max_len, pad_id
        self.embedding = nn.Embedding(vocab_size, d_model, padding_idx=pad_id, dtype=dtype)
        self.pos_encoding = PositionalEncoding(d_model, max_len, dropout, batch_first=True, dtype=dtype)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation, batch_first=True,
                                           norm_first=norm_first, dtype=dtype)
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, num_classes, dtype=dtype)

    def forward(self, X):
        check_token_ids(X, self.vocab_size, self.max_len, self.pad_id)
        padding = X == self.pad_id  # (N, L), True where there is no token
        h = self.encoder(self.pos_encoding(self.embedding(X)), src_key_padding_mask=padding)  # (N, L, d_model)
        keep = (~padding)[:, :, None].to(h.dtype)  # (N, L, 1)
        keep = keep / keep.sum(dim=1, keepdim=True)  # each real token's share of its document's mean
        return self.head((h * keep).sum(dim=1))  # (N, d_model) -> (N, num_classes)

    @torch.no_grad()
    def attention_weights(self, X, average_attn_weights=True):
        """The first encoder layer's self-attention weights, in eval mode: (N, L, L) averaged over
        the heads, or (N, nhead, L, L); row i is what token i reads, zero on padding."""
        check_token_ids(X, self.vocab_size, self.max_len, self.pad_id)
        self.eval()
        X = torch.as_tensor(X)
        x = self.pos_encoding(self.embedding(X))  # (N, L, d_model)
        layer = self.encoder.layers[0]
        x = layer.norm1(x) if layer.norm_first else x
        return layer.self_attn(x, x, x, key_padding_mask=X == self.pad_id, need_weights=True,
                               average_attn_weights=average_attn_weights)[1].numpy()


def predict(model, X, batch_size=256):
    """The predicted class of each document of token ids X (N, L)."""
    return training.predict(model, X, batch_size)


def classify(model, vocab, texts, batch_size=256):
    """The predicted class of each raw text, read with the training vocabulary."""
    X, _ = vocab.encode_batch(texts, model.max_len)
    return predict(model, X, batch_size)


def fit(model, X, y, X_val, y_val, config, progress=False):
    """Train ``model`` on token ids X (N, L) and labels y (N,) by cross-entropy with the shared
    training loop; keeps the weights of the best validation loss."""
    for name, ids in (("X", X), ("X_val", X_val)):
        check_token_ids(ids, model.vocab_size, model.max_len, model.pad_id, name)
    return training.fit(model, X, y, X_val, y_val, config, progress=progress)


def save(path, model, vocab):
    """Write the weights, the architecture and the training vocabulary to one .npz."""
    weights = {key: value.detach().cpu().numpy() for key, value in model.state_dict().items()}
    serialization.save(checkpoint(weights, vocab, model.architecture), path)


def load(path):
    """(model in eval mode, vocabulary) from a checkpoint written by :func:`save` (by either twin)."""
    weights, vocab, architecture, dtype = split_checkpoint(serialization.load(path), path)
    model = TransformerClassifier(**architecture, dtype=torch.float64 if dtype == np.float64 else torch.float32)
    check_weights(weights, model.state_dict(), path)
    model.load_state_dict({key: torch.from_numpy(value) for key, value in weights.items()})
    return model.eval(), vocab
