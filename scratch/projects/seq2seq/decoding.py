"""Decoding, written once for both twins: plain NumPy over a model's three-call interface,

    memory, memory_padding = model.encode(src)            # src (N, S) ids
    cache = model.init_cache()                            # or None: recompute the whole prefix each step
    log_probs, cache = model.decode_step(tokens, memory, memory_padding, cache)   # tokens (N, t) -> (N, V)

which the scratch twin implements in NumPy and the torch twin with torch (its memory and cache stay
tensors; the row index arrays below index both alike). The cache holds each decoder layer's projected
keys and values of the positions decoded so far, so a step projects one new position and attends over
t cached ones: O(t) work, not the O(t^2) of recomputing the prefix.

Sequences come back as (N, L) ids without BOS and EOS, padded with PAD.
"""
import numpy as np

from scratch.projects.seq2seq.config import BOS, EOS, PAD, check_decoding


def greedy_decode(model, src, max_len, use_cache=True, cross_attention=False):
    """The most likely token at each step, until EOS or ``max_len`` tokens. With ``cross_attention`` (which
    needs the cache), also the last decoder layer's cross-attention weights, heads averaged: (N, T, S)."""
    check_decoding(1, max_len)
    _check_max_len(model, max_len)
    memory, padding = model.encode(src)
    n = len(memory)
    tokens, done = np.full((n, 1), BOS, dtype=np.int64), np.zeros(n, dtype=bool)
    cache = model.init_cache() if use_cache else None
    for _ in range(max_len):
        log_probs, cache = model.decode_step(tokens, memory, padding, cache)  # (N, V)
        next_token = np.where(done, PAD, log_probs.argmax(axis=1))
        tokens = np.concatenate([tokens, next_token[:, None]], axis=1)
        done |= next_token == EOS
        if done.all():
            break
    if cross_attention:
        return _strip(tokens[:, 1:]), np.asarray(cache[-1]["cross_weights"]).mean(axis=1)
    return _strip(tokens[:, 1:])


def beam_search(model, src, beam_width, max_len, length_penalty=1.0, early_stopping=True, use_cache=True):
    """The best of ``beam_width`` hypotheses per sentence, all sentences searched together as N * B rows.

    Hypotheses are ranked by log-probability / length ** length_penalty (length counts EOS; 0: raw sum,
    > 0 favours longer ones). A hypothesis that emits EOS is finished: it stays in the beam, frozen (its
    only continuation is PAD at no cost), and competes with the growing ones. A sentence stops once its
    best-ranked hypothesis is finished (``early_stopping``) or once all its B hypotheses are (otherwise).
    """
    check_decoding(beam_width, max_len, length_penalty)
    _check_max_len(model, max_len)
    memory, padding = model.encode(src)
    n, width = len(memory), beam_width
    rows = np.repeat(np.arange(n), width)  # row n * B + b is beam b of sentence n
    memory, padding = memory[rows], padding[rows]
    tokens = np.full((n * width, 1), BOS, dtype=np.int64)
    scores = np.full((n, width), -np.inf)
    scores[:, 0] = 0.0  # all beams start equal: expand one, or the first step fills the beam with copies
    lengths, finished = np.zeros((n, width), dtype=np.int64), np.zeros((n, width), dtype=bool)
    cache = model.init_cache() if use_cache else None
    for step in range(1, max_len + 1):
        log_probs, cache = model.decode_step(tokens, memory, padding, cache)
        log_probs = log_probs.reshape(n, width, -1).astype(np.float64)  # (N, B, V)
        vocab = log_probs.shape[-1]
        candidates = scores[..., None] + log_probs
        candidates[..., PAD] = -np.inf  # a growing hypothesis never emits PAD ...
        candidates[finished] = -np.inf
        candidates[finished, PAD] = scores[finished]  # ... and a finished one emits only PAD, for free
        new_lengths = np.where(finished, lengths, step)[..., None].repeat(vocab, axis=2)  # (N, B, V)
        ranked = candidates / new_lengths ** length_penalty
        top = np.argsort(-ranked.reshape(n, -1), axis=1, kind="stable")[:, :width]  # (N, B) flat (beam, token)
        beam, token = top // vocab, top % vocab
        scores = np.take_along_axis(candidates.reshape(n, -1), top, axis=1)
        lengths = np.take_along_axis(new_lengths.reshape(n, -1), top, axis=1)
        finished = np.take_along_axis(finished, beam, axis=1) | (token == EOS)
        index = (np.arange(n)[:, None] * width + beam).reshape(-1)
        tokens = np.concatenate([tokens[index], token.reshape(-1, 1)], axis=1)
        cache = _reorder(cache, index)
        stopped = finished[:, 0] if early_stopping else finished.all(axis=1)  # column 0 is the best-ranked
        finished[stopped] = True  # a stopped sentence's beams freeze: their ranking can no longer change
        if stopped.all():
            break
    ranked = scores / np.maximum(lengths, 1) ** length_penalty
    best = np.arange(n) * width + np.argmax(np.where(np.isfinite(ranked), ranked, -np.inf), axis=1)
    return _strip(tokens[best, 1:])


def _check_max_len(model, max_len):
    if max_len > model.max_len:
        raise ValueError(f"max_len: expected at most the model's max_len={model.max_len} (its positional table), got {max_len}")


def _reorder(cache, index):
    """The cache's rows in the order ``index`` (beams that survived, repeated as they branch)."""
    if cache is None:
        return None
    if isinstance(cache, dict):
        return {key: _reorder(value, index) for key, value in cache.items()}
    if isinstance(cache, (list, tuple)):
        return type(cache)(_reorder(value, index) for value in cache)
    return cache[index]


def _strip(tokens):
    """(N, L) ids with EOS and everything after it set to PAD, and all-PAD trailing columns dropped."""
    ended = np.cumsum(tokens == EOS, axis=1) > 0
    out = np.where(ended, PAD, tokens)
    width = int((out != PAD).sum(axis=1).max(initial=0))
    return out[:, :max(width, 1)]
