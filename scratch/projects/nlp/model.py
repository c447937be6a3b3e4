"""Project 3: a transformer text classifier (Vaswani et al., 2017, encoder only). Token ids
(N, L), padded with ``pad_id``, are embedded, given sinusoidal positions, read by a stack of
self-attention encoder layers that never attend to padding, averaged over each document's
real tokens (masked mean pooling) and mapped to class logits by a linear head.

The embedding is not scaled by sqrt(d_model): torch's Embedding starts at N(0, 1) per
component, already the size of the positional code (in [-1, 1]), so scaling would drown
the positions. The padding mask comes from X itself, so ``fit`` is the shared loop of
scratch/training.py. Checkpoints hold the weights, the architecture and the training
vocabulary in one .npz, so prediction reads text the way training did.
Twin of reference/projects/nlp/model.py: diff the two to see what autograd does.
"""
import numpy as np

from scratch import nn, serialization, training
from scratch.projects.nlp.config import check_architecture, check_token_ids, check_weights, checkpoint, split_checkpoint


class TransformerClassifier(nn.Module):
    """token ids X (N, L) -> logits (N, num_classes); keys embedding.*, encoder.layers.<i>.*, head.* as torch's."""

    def __init__(self, vocab_size, num_classes, d_model=64, nhead=4, num_layers=2, dim_feedforward=128, dropout=0.1,
                 max_len=256, pad_id=0, norm_first=False, activation="relu", dtype=None, rng=None):
        super().__init__()
        check_architecture(vocab_size, num_classes, d_model, nhead, num_layers, dim_feedforward, max_len, pad_id)
        rng = np.random.default_rng() if rng is None else rng
        self.architecture = dict(vocab_size=vocab_size, num_classes=num_classes, d_model=d_model, nhead=nhead,
                                 num_layers=num_layers, dim_feedforward=dim_feedforward, dropout=dropout,
                                 max_len=max_len, pad_id=pad_id, norm_first=norm_first, activation=activation)
        self.vocab_size, self.num_classes, self.max_len, self.pad_id = vocab_size, num_classes, max_len, pad_id
        self.embedding = nn.Embedding(vocab_size, d_model, padding_idx=pad_id, dtype=dtype, rng=rng)
        self.pos_encoding = nn.PositionalEncoding(d_model, max_len, dropout, batch_first=True, dtype=dtype, rng=rng)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation, batch_first=True,
                                           norm_first=norm_first, dtype=dtype, rng=rng)
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, num_classes, dtype=dtype, rng=rng)
        self._keep = None

    def forward(self, X):
        check_token_ids(X, self.vocab_size, self.max_len, self.pad_id)
        padding = X == self.pad_id  # (N, L), True where there is no token
        h = self.encoder(self.pos_encoding(self.embedding(X)), src_key_padding_mask=padding)  # (N, L, d_model)
        keep = (~padding)[:, :, None].astype(h.dtype)  # (N, L, 1)
        self._keep = keep / keep.sum(axis=1, keepdims=True)  # each real token's share of its document's mean
        return self.head((h * self._keep).sum(axis=1))  # (N, d_model) -> (N, num_classes)

    def backward(self, grad, input_grad=True):
        dpooled = self.head.backward(grad)  # (N, num_classes) -> (N, d_model)
        dh = dpooled[:, None, :] * self._keep  # (N, L, d_model): padding positions get no gradient
        self.embedding.backward(self.pos_encoding.backward(self.encoder.backward(dh)))
        return None  # token ids have no gradient

    def attention_weights(self, X, average_attn_weights=True):
        """The first encoder layer's self-attention weights, in eval mode: (N, L, L) averaged over
        the heads, or (N, nhead, L, L); row i is what token i reads, zero on padding."""
        check_token_ids(X, self.vocab_size, self.max_len, self.pad_id)
        self.eval()
        x = self.pos_encoding(self.embedding(X))  # (N, L, d_model)
        layer = self.encoder.layers[0]
        x = layer.norm1(x) if layer.norm_first else x
        return layer.self_attn(x, x, x, key_padding_mask=X == self.pad_id, need_weights=True,
                               average_attn_weights=average_attn_weights)[1]


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
    serialization.save(checkpoint(model.state_dict(), vocab, model.architecture), path)


def load(path):
    """(model in eval mode, vocabulary) from a checkpoint written by :func:`save` (by either twin)."""
    weights, vocab, architecture, dtype = split_checkpoint(serialization.load(path), path)
    model = TransformerClassifier(**architecture, dtype=dtype)
    check_weights(weights, model.state_dict(), path)
    model.load_state_dict(weights)
    return model.eval(), vocab
