"""Benchmark cases for the seq2seq project (curriculum Project 17).

- TransformerDecoderLayer forward+backward (batch 32, target 24, memory 24, d_model 128, 8 heads,
  feed-forward 512, train mode, dropout 0.1): the gradients of tgt and memory on both sides.
- One teacher-forced training step of the G2P model (the demo's default architecture, batch 64 of
  random words of 4 to 14 letters and pronunciations of 3 to 12 phonemes), Adam + the schedule included.
- Decoding T target positions, batch 32, with the key/value cache and by recomputing the prefix, for
  T = 8, 16, 32: the cache's step costs O(t), recomputation's O(t^2), so its total grows ~T^2 against ~T.
"""
import dataclasses

import numpy as np
import torch

from reference.bridge import copy_to_torch, torch_dtype, twin_pair
from reference.projects.seq2seq import model as torch_seq2seq
from scratch import nn
from scratch.projects.seq2seq import model as scratch_seq2seq
from scratch.projects.seq2seq.config import EOS, PAD, Seq2SeqConfig

from .core import Case

BATCH, LENGTH, D_MODEL, NHEAD, DIM_FEEDFORWARD, DROPOUT = 32, 24, 128, 8, 512, 0.1
SRC_VOCAB, TGT_VOCAB = 32, 72  # the G2P vocabularies' sizes: 29 letters, 69 phonemes, + 3 reserved ids


def decoder_layer_case(dtype, rng):
    kwargs = {"dim_feedforward": DIM_FEEDFORWARD, "dropout": DROPOUT, "batch_first": True}
    layer = nn.TransformerDecoderLayer(D_MODEL, NHEAD, dtype=dtype, rng=rng, **kwargs)
    twin = copy_to_torch(layer, torch.nn.TransformerDecoderLayer(D_MODEL, NHEAD, dtype=torch_dtype(dtype), **kwargs)).train()
    tgt, memory = (rng.standard_normal((BATCH, LENGTH, D_MODEL)).astype(dtype) for _ in range(2))
    grad = rng.standard_normal(tgt.shape).astype(dtype)
    causal = nn.Transformer.generate_square_subsequent_mask(LENGTH, dtype=dtype)
    tgt_t, memory_t = (torch.from_numpy(x).requires_grad_(True) for x in (tgt, memory))
    causal_t, grad_t = torch.from_numpy(causal), torch.from_numpy(grad)

    def scratch_step():
        layer.zero_grad()
        layer(tgt, memory, tgt_mask=causal, tgt_is_causal=True)
        layer.backward(grad)

    def torch_step():
        twin.zero_grad()
        tgt_t.grad = memory_t.grad = None
        twin(tgt_t, memory_t, tgt_mask=causal_t, tgt_is_causal=True).backward(grad_t)

    return Case(f"TransformerDecoderLayer({D_MODEL}, {NHEAD}, {DIM_FEEDFORWARD})", f"b{BATCH} x T{LENGTH} x S{LENGTH}",
                scratch_step, torch_step, note=f"causal, train mode, dropout {DROPOUT}; dtgt and dmemory")


def _random_batch(rng, size):
    """(src, tgt_in, tgt_out) ids shaped like G2P batches: words of 4-14 letters, 3-12 phonemes."""
    src_len, tgt_len = rng.integers(4, 15, size), rng.integers(3, 13, size)
    src = np.where(np.arange(14) < src_len[:, None], rng.integers(3, SRC_VOCAB, (size, 14)), PAD)
    target = np.where(np.arange(12) < tgt_len[:, None], rng.integers(3, TGT_VOCAB, (size, 12)), PAD)
    tgt_in = np.concatenate([np.full((size, 1), 1), target], axis=1)
    tgt_out = np.concatenate([target, np.full((size, 1), PAD)], axis=1)
    tgt_out[np.arange(size), tgt_len] = EOS
    return src, tgt_in, tgt_out


def training_step_case(dtype, rng, quick=False):
    config = dataclasses.replace(Seq2SeqConfig(), num_epochs=1, batch_size=64)
    model, twin = twin_pair(scratch_seq2seq.Seq2SeqTransformer, torch_seq2seq.Seq2SeqTransformer, 0, dtype,
                            **config.architecture(SRC_VOCAB, TGT_VOCAB))
    train = _random_batch(rng, 64)
    val = tuple(x[:8] for x in train)
    return Case("Seq2SeqTransformer training step", f"b64, d{config.d_model}, {config.num_encoder_layers}+"
                f"{config.num_decoder_layers} layers", lambda: scratch_seq2seq.fit(model, train, val, config),
                lambda: torch_seq2seq.fit(twin, train, val, config), note="one batch of fit (Adam + LambdaLR), a val batch included")


def decoding_case(model, twin, steps, use_cache, rng):
    src = _random_batch(rng, BATCH)[0]
    tokens = rng.integers(3, TGT_VOCAB, (BATCH, steps))

    def run(module):
        memory, padding = module.encode(src)
        cache = module.init_cache() if use_cache else None
        for t in range(1, steps + 1):
            _, cache = module.decode_step(tokens[:, :t], memory, padding, cache)

    return Case(f"decode {'with KV cache' if use_cache else 'recomputing the prefix'}", f"b{BATCH} x T{steps}",
                lambda: run(model), lambda: run(twin), note="encode + T decode steps, eval mode")


def cases(dtype=np.float32, quick=False, seed=0):
    """The seq2seq project's benchmark cases, built with fresh weights and data from ``seed``."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    config = Seq2SeqConfig(max_len=40)
    model, twin = twin_pair(scratch_seq2seq.Seq2SeqTransformer, torch_seq2seq.Seq2SeqTransformer, seed, dtype,
                            **config.architecture(SRC_VOCAB, TGT_VOCAB))
    lengths = (8, 16) if quick else (8, 16, 32)
    return ([decoder_layer_case(dtype, rng), training_step_case(dtype, rng, quick)]
            + [decoding_case(model, twin.eval(), steps, use_cache, rng) for steps in lengths for use_cache in (True, False)])
