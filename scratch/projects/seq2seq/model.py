"""Project 17: a sequence-to-sequence transformer (Vaswani et al., 2017, the whole encoder-decoder),
here spelling -> pronunciation on the CMU Pronouncing Dictionary.

Source and target ids are embedded (scaled by sqrt(d_model), the embeddings initialised N(0, 1/d_model)
so both sides of the sum with the sinusoidal positions are of size ~1), read by nn.Transformer with a
causal mask on the target and the source's padding masked, and mapped to next-token logits by a linear
layer whose weight is, optionally, the target embedding itself (tied: one matrix, two uses, so its
gradient is the sum of both). Training is teacher forcing: position t reads the true tokens before t,
scored by label-smoothed cross-entropy that ignores padding, under Adam and the warm-up then
inverse-square-root schedule. ``encode``/``init_cache``/``decode_step`` serve decoding.py, written once
for both twins; ``decode_step`` with a cache runs one new position through each decoder layer against
the keys and values cached for the earlier ones.
Twin of reference/projects/seq2seq/model.py: diff the two to see what autograd does.
"""
import math

import numpy as np

from scratch import nn, optim, serialization
from scratch.plumbing import check_finite, minibatches, progress_range
from scratch.projects.seq2seq.config import PAD, check_architecture, check_ids, checkpoint, inverse_sqrt_schedule, split_checkpoint


class Seq2SeqTransformer(nn.Module):
    """(src (N, S), tgt (N, T)) ids -> next-token logits (N, T, tgt_vocab_size); keys src_embedding.weight,
    tgt_embedding.weight, transformer.encoder.*, transformer.decoder.*, generator.* as torch's."""

    def __init__(self, src_vocab_size, tgt_vocab_size, d_model=128, nhead=4, num_encoder_layers=3, num_decoder_layers=3,
                 dim_feedforward=256, dropout=0.1, max_len=40, tie_embeddings=True, norm_first=False, dtype=None, rng=None):
        super().__init__()
        check_architecture(src_vocab_size, tgt_vocab_size, d_model, nhead, max_len)
        rng = np.random.default_rng() if rng is None else rng
        self.architecture = {"src_vocab_size": src_vocab_size, "tgt_vocab_size": tgt_vocab_size, "d_model": d_model, "nhead": nhead,
                             "num_encoder_layers": num_encoder_layers, "num_decoder_layers": num_decoder_layers,
                             "dim_feedforward": dim_feedforward, "dropout": dropout, "max_len": max_len,
                             "tie_embeddings": tie_embeddings, "norm_first": norm_first}
        self.src_vocab_size, self.tgt_vocab_size, self.d_model, self.max_len = src_vocab_size, tgt_vocab_size, d_model, max_len
        self.src_embedding = nn.Embedding(src_vocab_size, d_model, padding_idx=PAD, dtype=dtype, rng=rng)
        self.tgt_embedding = nn.Embedding(tgt_vocab_size, d_model, padding_idx=PAD, dtype=dtype, rng=rng)
        for embedding in (self.src_embedding, self.tgt_embedding):
            nn.init.normal_(embedding.weight, std=d_model ** -0.5, rng=rng)
            embedding.weight.data[PAD] = 0
        # max_len + 1 positions: the target input is BOS then up to max_len tokens
        self.src_pos_encoding = nn.PositionalEncoding(d_model, max_len + 1, dropout, batch_first=True, dtype=dtype, rng=rng)
        self.tgt_pos_encoding = nn.PositionalEncoding(d_model, max_len + 1, dropout, batch_first=True, dtype=dtype, rng=rng)
        self.transformer = nn.Transformer(d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward, dropout,
                                          batch_first=True, norm_first=norm_first, dtype=dtype, rng=rng)
        self.generator = nn.Linear(d_model, tgt_vocab_size, dtype=dtype, rng=rng)
        if tie_embeddings:
            self.generator.weight = self.tgt_embedding.weight
        self._scale = self.src_embedding.weight.data.dtype.type(math.sqrt(d_model))

    def forward(self, src, tgt):
        src, tgt = check_ids(src, self.src_vocab_size, self.max_len, "src"), check_ids(tgt, self.tgt_vocab_size, self.max_len + 1, "tgt")
        if len(src) != len(tgt):
            raise ValueError(f"tgt: expected {len(src)} rows, one per source sequence, got {len(tgt)}")
        padding = src == PAD  # (N, S): padded source positions are never attended to
        causal = nn.Transformer.generate_square_subsequent_mask(tgt.shape[1], dtype=self._scale.dtype)
        x = self.src_pos_encoding(self.src_embedding(src) * self._scale)  # (N, S, E)
        y = self.tgt_pos_encoding(self.tgt_embedding(tgt) * self._scale)  # (N, T, E)
        h = self.transformer(x, y, tgt_mask=causal, src_key_padding_mask=padding, memory_key_padding_mask=padding,
                             tgt_is_causal=True)  # (N, T, E)
        return self.generator(h)  # (N, T, V)

    def backward(self, grad, input_grad=False):
        dh = self.generator.backward(grad)  # (N, T, V) -> (N, T, E)
        dx, dy = self.transformer.backward(dh)
        self.src_embedding.backward(self.src_pos_encoding.backward(dx) * self._scale)
        self.tgt_embedding.backward(self.tgt_pos_encoding.backward(dy) * self._scale)  # adds to generator's if tied
        return None, None  # token ids have no gradient

    def encode(self, src):
        """(memory (N, S, E), source padding (N, S)), in eval mode."""
        src = check_ids(src, self.src_vocab_size, self.max_len, "src")
        self.eval()
        padding = src == PAD
        x = self.src_pos_encoding(self.src_embedding(src) * self._scale)
        return self.transformer.encoder(x, src_key_padding_mask=padding), padding

    def init_cache(self):
        return [{} for _ in self.transformer.decoder.layers]

    def decode_step(self, tokens, memory, memory_padding, cache=None):
        """Log-probabilities (N, V) of the token after ``tokens`` (N, t). Without a cache the whole prefix
        runs through the decoder; with one, only the last token does, and the cache grows by it."""
        decoder = self.transformer.decoder
        if cache is None:
            y = self.tgt_pos_encoding(self.tgt_embedding(tokens) * self._scale)  # (N, t, E)
            causal = nn.Transformer.generate_square_subsequent_mask(tokens.shape[1], dtype=self._scale.dtype)
            h = decoder(y, memory, tgt_mask=causal, memory_key_padding_mask=memory_padding, tgt_is_causal=True)[:, -1:]
        else:
            h = self.tgt_embedding(tokens[:, -1:]) * self._scale + self.tgt_pos_encoding.pe[tokens.shape[1] - 1]  # (N, 1, E)
            for layer, layer_cache in zip(decoder.layers, cache):
                h = _decoder_layer_step(layer, h, memory, memory_padding, layer_cache)
            h = h if decoder.norm is None else decoder.norm(h)
        logits = self.generator(h[:, 0])  # (N, V)
        return logits - _logsumexp(logits), cache


def _decoder_layer_step(layer, x, memory, memory_padding, cache):
    """One new target position x (N, 1, E) through a decoder layer (eval mode): self-attention over the
    keys and values cached for the earlier positions plus its own, cross-attention over the memory's,
    projected once on the first step. The cross-attention weights of every step pile up in the cache
    ("cross_weights", (N, H, t, S)): what each decoded token read of the source."""
    self_attn, cross_attn = layer.self_attn, layer.multihead_attn
    if not cache:
        cache["memory"] = (_project(cross_attn, memory, 1), _project(cross_attn, memory, 2))
        cache["self"] = None
    h = layer.norm1(x) if layer.norm_first else x
    keys, values = _project(self_attn, h, 1), _project(self_attn, h, 2)  # (N, H, 1, D)
    if cache["self"] is not None:
        keys, values = (np.concatenate([old, new], axis=2) for old, new in zip(cache["self"], (keys, values)))  # (N, H, t, D)
    cache["self"] = (keys, values)
    a, _ = _attend(self_attn, _project(self_attn, h, 0), keys, values, None)
    x = x + a if layer.norm_first else layer.norm1(x + a)
    h = layer.norm2(x) if layer.norm_first else x
    a, weights = _attend(cross_attn, _project(cross_attn, h, 0), *cache["memory"], memory_padding)
    cache["cross_weights"] = weights if "cross_weights" not in cache else np.concatenate([cache["cross_weights"], weights], axis=2)
    x = x + a if layer.norm_first else layer.norm2(x + a)
    h = layer.norm3(x) if layer.norm_first else x
    f = layer.linear2(layer.activation(layer.linear1(h)))
    return x + f if layer.norm_first else layer.norm3(x + f)


def _project(attention, x, part):
    """The query (part 0), key (1) or value (2) projection of x (N, L, E), split into heads: (N, H, L, D)."""
    rows = slice(part * attention.embed_dim, (part + 1) * attention.embed_dim)
    bias = None if attention.in_proj_bias is None else attention.in_proj_bias.data[rows]
    y = nn.functional.linear(x, attention.in_proj_weight.data[rows], bias)
    return y.reshape(*x.shape[:2], attention.num_heads, attention.head_dim).transpose(0, 2, 1, 3)


def _attend(attention, q, keys, values, padding):
    """softmax(q k^T / sqrt(D) + mask) v for q (N, H, 1, D), then the output projection: (N, 1, E); and the
    attention weights (N, H, 1, S)."""
    scores = q @ keys.swapaxes(-1, -2) / np.sqrt(attention.head_dim).astype(q.dtype)  # (N, H, 1, S)
    if padding is not None:
        scores = np.where(padding[:, None, None, :], -np.inf, scores)
    weights = nn.functional.softmax(scores, dim=-1)
    out = (weights @ values).transpose(0, 2, 1, 3).reshape(q.shape[0], -1, attention.embed_dim)  # (N, 1, E)
    return attention.out_proj(out), weights


def _logsumexp(logits):
    peak = logits.max(axis=1, keepdims=True)
    return peak + np.log(np.exp(logits - peak).sum(axis=1, keepdims=True))


def fit(model, train, val, config, progress=False):
    """Teacher forcing: ``train`` and ``val`` are (src, tgt_in, tgt_out) id arrays (config.teacher_forcing_batch).
    Adam (betas 0.9, 0.98, eps 1e-9, as the paper) under LambdaLR(inverse_sqrt_schedule), stepped every batch;
    returns the history: the loss of every step, and each epoch's mean train and validation loss."""
    rng = np.random.default_rng(config.seed)  # batch order only: the same on both twins
    optimizer = optim.Adam(model.parameters(), lr=config.lr, betas=(0.9, 0.98), eps=1e-9)
    scheduler = optim.lr_scheduler.LambdaLR(optimizer, inverse_sqrt_schedule(model.d_model, config.warmup))
    criterion = nn.CrossEntropyLoss(ignore_index=PAD, label_smoothing=config.label_smoothing)
    history = {"step_loss": [], "lr": [], "train_loss": [], "val_loss": []}
    epochs = progress_range(1, config.num_epochs + 1, progress=progress, desc="scratch Seq2SeqTransformer", unit="epoch")
    for epoch in epochs:
        model.train()
        losses = []
        for step, idx in enumerate(minibatches(len(train[0]), config.batch_size, rng)):
            src, tgt_in, tgt_out = _trimmed(train, idx)
            logits = model(src, tgt_in)  # (N, T, V)
            loss = criterion(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))
            check_finite(float(loss), epoch, step)
            optimizer.zero_grad()
            model.backward(criterion.backward().reshape(logits.shape))
            optimizer.step()
            history["lr"].append(scheduler.get_last_lr()[0])
            scheduler.step()
            losses.append(float(loss))
        history["step_loss"] += losses
        history["train_loss"].append(float(np.mean(losses)))
        history["val_loss"].append(evaluate(model, val, config))
        if progress:
            epochs.set_postfix(loss=f"{history['train_loss'][-1]:.4f}", val_loss=f"{history['val_loss'][-1]:.4f}")
    return history


def evaluate(model, data, config, batch_size=512):
    """The label-smoothed loss per target token over (src, tgt_in, tgt_out), in eval mode."""
    model.eval()
    criterion = nn.CrossEntropyLoss(ignore_index=PAD, label_smoothing=config.label_smoothing, reduction="sum")
    total = 0.0
    for idx in minibatches(len(data[0]), batch_size):
        src, tgt_in, tgt_out = _trimmed(data, idx)
        logits = model(src, tgt_in)
        total += float(criterion(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1)))
    return total / int((data[2] != PAD).sum())


def _trimmed(data, idx):
    """The batch's rows, without the columns that are padding in all of them."""
    src, tgt_in, tgt_out = (array[idx] for array in data)
    width = int((src != PAD).sum(axis=1).max()), int((tgt_out != PAD).sum(axis=1).max())
    return src[:, :width[0]], tgt_in[:, :width[1]], tgt_out[:, :width[1]]


def save(path, model, src_vocab, tgt_vocab):
    """Write the weights, the architecture and both vocabularies to one .npz."""
    serialization.save(checkpoint(model.state_dict(), src_vocab, tgt_vocab, model.architecture), path)


def load(path):
    """(model in eval mode, source vocabulary, target vocabulary) from a checkpoint either twin saved."""
    weights, src_vocab, tgt_vocab, architecture = split_checkpoint(serialization.load(path), path)
    model = Seq2SeqTransformer(**architecture, dtype=weights["generator.bias"].dtype)
    model.load_state_dict(weights)
    return model.eval(), src_vocab, tgt_vocab
