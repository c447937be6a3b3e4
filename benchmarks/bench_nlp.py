"""Benchmark cases for the NLP project (curriculum Project 3).

Forward+backward at the issue's size (batch 32, sequence 64, d_model 128, 8 heads, batch_first):
self-attention alone (MultiheadAttention, no weights returned, as the encoder layer calls it) and a
full TransformerEncoderLayer (feed-forward 512) with ReLU and with exact GELU, in train mode with
dropout 0.1. Scratch and torch CPU hold the same weights and see the same input and upstream
gradient; both compute the input gradient. ``classifier_epoch_case`` times one epoch of the shared
training loop (scratch/training.py fit vs reference/training.py fit) for any pair of classifier twins.
"""
import copy
import dataclasses

import numpy as np
import torch

from reference import training as torch_training
from reference.bridge import copy_to_torch, torch_dtype, twin_pair
from reference.projects.nlp import model as torch_nlp
from scratch import nn
from scratch import training as scratch_training
from scratch.projects.nlp import model as scratch_nlp
from scratch.projects.nlp.config import CONFIGS
from scratch.text import Vocabulary

from .core import Case

BATCH_SIZE, SEQ_LEN, D_MODEL, NHEAD, DIM_FEEDFORWARD, DROPOUT = 32, 64, 128, 8, 512, 0.1


def attention_case(dtype, rng):
    layer = nn.MultiheadAttention(D_MODEL, NHEAD, batch_first=True, dtype=dtype, rng=rng)
    twin = copy_to_torch(layer, torch.nn.MultiheadAttention(D_MODEL, NHEAD, batch_first=True, dtype=torch_dtype(dtype)))
    X = rng.standard_normal((BATCH_SIZE, SEQ_LEN, D_MODEL)).astype(dtype)
    grad = rng.standard_normal(X.shape).astype(dtype)

    def scratch_step():
        layer.zero_grad()
        layer(X, X, X, need_weights=False)
        layer.backward(grad, None)

    def forward(model, Xt):
        return model(Xt, Xt, Xt, need_weights=False)[0]

    return Case(f"MultiheadAttention({D_MODEL}, {NHEAD})", f"b{BATCH_SIZE} x L{SEQ_LEN}", scratch_step,
                _torch_forward_backward(twin, forward, X, grad, "cpu"), gpu=_gpu(twin, forward, X, grad),
                note="self-attention, need_weights=False; dq + dk + dv on both sides")


def encoder_layer_case(activation, dtype, rng):
    kwargs = dict(dim_feedforward=DIM_FEEDFORWARD, dropout=DROPOUT, activation=activation, batch_first=True)
    layer = nn.TransformerEncoderLayer(D_MODEL, NHEAD, dtype=dtype, rng=rng, **kwargs)
    twin = copy_to_torch(layer, torch.nn.TransformerEncoderLayer(D_MODEL, NHEAD, dtype=torch_dtype(dtype), **kwargs))
    X = rng.standard_normal((BATCH_SIZE, SEQ_LEN, D_MODEL)).astype(dtype)
    grad = rng.standard_normal(X.shape).astype(dtype)

    def scratch_step():
        layer.zero_grad()
        layer(X)
        layer.backward(grad)

    return Case(f"TransformerEncoderLayer({D_MODEL}, {NHEAD}, {DIM_FEEDFORWARD}, {activation})", f"b{BATCH_SIZE} x L{SEQ_LEN}",
                scratch_step, _torch_forward_backward(twin, _call, X, grad, "cpu"), gpu=_gpu(twin, _call, X, grad),
                note=f"post-norm, train mode, dropout {DROPOUT}")


def _call(model, Xt):
    return model(Xt)


def _gpu(twin, forward, X, grad):
    return _torch_forward_backward(twin, forward, X, grad, "cuda") if torch.cuda.is_available() else None


def _torch_forward_backward(twin, forward, X, grad, device):
    model = copy.deepcopy(twin).to(device).train()
    Xt = torch.from_numpy(X).to(device).requires_grad_(True)
    gt = torch.from_numpy(grad).to(device)

    def step():
        model.zero_grad()
        Xt.grad = None
        forward(model, Xt).backward(gt)
        if device == "cuda":
            torch.cuda.synchronize()
    return step


def classifier_epoch_case(name, model, twin, X, y, X_val, y_val, config):
    """One epoch of the shared fit loop (num_epochs=1, validation included) on a scratch classifier and
    its torch twin: any pair whose forward maps X to (N, num_classes) logits, e.g. the transformer text
    classifier on (N, L) token ids. The twins start from the same weights."""
    config = dataclasses.replace(config, num_epochs=1)
    copy_to_torch(model, twin)
    return Case(f"{name} epoch ({config.optimizer})", f"{len(X)} x {X.shape[1:]}, b{config.batch_size}",
                lambda: scratch_training.fit(model, X, y, X_val, y_val, config),
                lambda: torch_training.fit(twin, X, y, X_val, y_val, config),
                note="the project's fit loop, validation included")


def transformer_classifier_epoch_case(dtype, rng, quick=False, vocab_size=5000, num_classes=8):
    """One epoch of the Reuters demo's transformer classifier (d_model 64, 4 heads, 2 layers) on random
    documents of 8 to 64 tokens, padded to 64: the shape of the real run, without its data."""
    config = dataclasses.replace(CONFIGS["reuters-r8"], max_len=SEQ_LEN)
    num_docs = 64 if quick else 512
    lengths = rng.integers(8, SEQ_LEN + 1, num_docs)
    X = np.where(np.arange(SEQ_LEN) < lengths[:, None], rng.integers(Vocabulary.UNK, vocab_size, (num_docs, SEQ_LEN)),
                 Vocabulary.PAD)
    y = rng.integers(0, num_classes, num_docs)
    model, twin = twin_pair(scratch_nlp.TransformerClassifier, torch_nlp.TransformerClassifier, config.seed, dtype,
                            vocab_size=vocab_size, num_classes=num_classes, **config.architecture())
    return classifier_epoch_case("TransformerClassifier", model, twin, X, y, X[:64], y[:64], config)


def cases(dtype=np.float32, quick=False, seed=0):
    """The NLP project's benchmark cases, built with fresh weights and data from ``seed``."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    return ([attention_case(dtype, rng)] + [encoder_layer_case(activation, dtype, rng) for activation in ("relu", "gelu")]
            + [transformer_classifier_epoch_case(dtype, rng, quick)])
