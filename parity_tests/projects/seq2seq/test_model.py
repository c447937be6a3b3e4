"""Project 17's twins: the seq2seq transformer forward and backward by parameter name, finite differences,
the shared decoders giving the same sequences from both twins, the key/value cache equal to recomputing
the prefix, lockstep teacher-forced training, checkpoints across twins, and the LambdaLR schedule."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.projects.seq2seq import model as torch_model
from scratch import nn, optim
from scratch.projects.seq2seq import data, decoding
from scratch.projects.seq2seq import model as scratch_model
from scratch.projects.seq2seq.config import BOS, EOS, PAD, Seq2SeqConfig, TokenVocabulary, inverse_sqrt_schedule, teacher_forcing_batch
from twins.parity import assert_close, assert_lockstep, compare_modules, dtypes, finite_difference_check, make_twins, randomise, seeds, tolerance

pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning",
                                        "ignore:The PyTorch API of nested tensors is in prototype:UserWarning")
VOCAB = TokenVocabulary(list(data.DIGITS))


@st.composite
def model_cases(draw):
    heads = draw(st.integers(1, 2))
    kwargs = {"d_model": heads * draw(st.integers(2, 4)), "nhead": heads, "num_encoder_layers": draw(st.integers(1, 2)),
              "num_decoder_layers": draw(st.integers(1, 2)), "dim_feedforward": draw(st.integers(2, 8)), "dropout": 0.0,
              "max_len": 8, "tie_embeddings": draw(st.booleans()), "norm_first": draw(st.booleans())}
    return kwargs, draw(st.sampled_from(data.TASKS)), draw(st.integers(1, 4)), draw(seeds)


def _twins(kwargs, dtype, seed, scale=None):
    return make_twins(scratch_model.Seq2SeqTransformer, torch_model.Seq2SeqTransformer, seed=seed, dtype=dtype, scale=scale,
                      src_vocab_size=len(VOCAB), tgt_vocab_size=len(VOCAB), **kwargs)


def _batch(task, num_samples, seed, max_len=6, min_len=1):
    sources, targets = data.synthetic_task(task, num_samples, np.random.default_rng(seed), min_len, max_len)
    return teacher_forcing_batch(VOCAB, VOCAB, sources, targets)


@settings(max_examples=20)
@given(case=model_cases(), dtype=dtypes)
def test_seq2seq_forward_and_every_gradient_match_torch(case, dtype):
    kwargs, task, batch, seed = case
    model, twin = _twins(kwargs, dtype, seed)
    src, tgt_in, _ = _batch(task, batch, seed)
    reduction = 4 * kwargs["d_model"] * (src.shape[1] + tgt_in.shape[1] + kwargs["dim_feedforward"] + len(VOCAB))
    reduction *= kwargs["num_encoder_layers"] + kwargs["num_decoder_layers"]
    logits = compare_modules(model, twin, (src, tgt_in), np.random.default_rng(seed), "Seq2SeqTransformer", reduction=reduction)
    assert logits.shape == (batch, tgt_in.shape[1], len(VOCAB))
    assert (model.generator.weight is model.tgt_embedding.weight) == kwargs["tie_embeddings"]


@settings(max_examples=6)
@given(case=model_cases())
def test_seq2seq_finite_differences(case):
    """Tied weights: the output projection's and the embedding's gradients add up in one matrix. The rows
    are of one length: a padding position reads the embedding's padding row, whose gradient is zero by
    definition (padding_idx), which differences would see."""
    kwargs, task, batch, seed = case
    rng = np.random.default_rng(seed)
    model = randomise(_twins(kwargs, np.float64, seed)[0], rng, scale=0.5)
    finite_difference_check(model, _batch(task, batch, seed, max_len=4, min_len=4)[:2], rng, max_entries=2)


@settings(max_examples=10)
@given(case=model_cases(), beam_width=st.integers(1, 3), length_penalty=st.sampled_from([0.0, 1.0]),
       early_stopping=st.booleans())
def test_twins_decode_the_same_sequences(case, beam_width, length_penalty, early_stopping):
    kwargs, task, batch, seed = case
    model, twin = _twins(kwargs, np.float64, seed, scale=1.0)  # random weights: varied, confident outputs
    src = _batch(task, batch, seed)[0]
    greedy = decoding.greedy_decode(model, src, 8)
    np.testing.assert_array_equal(greedy, decoding.greedy_decode(twin, src, 8))
    beams = decoding.beam_search(model, src, beam_width, 8, length_penalty, early_stopping)
    np.testing.assert_array_equal(beams, decoding.beam_search(twin, src, beam_width, 8, length_penalty, early_stopping))
    assert beams.shape[0] == batch and not (beams == EOS).any()


@settings(max_examples=10)
@given(case=model_cases(), dtype=dtypes, use_twin=st.booleans())
def test_key_value_cache_equals_recomputing_the_prefix(case, dtype, use_twin):
    kwargs, task, batch, seed = case
    model = _twins(kwargs, dtype, seed, scale=0.5)[use_twin]
    src = _batch(task, batch, seed)[0]
    memory, padding = model.encode(src)
    tokens = np.random.default_rng(seed).integers(1, len(VOCAB), (batch, 7))
    cache = model.init_cache()
    for t in range(1, tokens.shape[1] + 1):
        cached, cache = model.decode_step(tokens[:, :t], memory, padding, cache)
        full, _ = model.decode_step(tokens[:, :t], memory, padding, None)
        assert_close(cached, full, f"log-probabilities at step {t}", *tolerance(dtype, "forward", 8 * kwargs["d_model"]))
    assert cache[0]["self"][0].shape == (batch, kwargs["nhead"], 7, kwargs["d_model"] // kwargs["nhead"])
    assert np.allclose(np.exp(np.asarray(full)).sum(axis=1), 1)
    np.testing.assert_array_equal(decoding.greedy_decode(model, src, 8), decoding.greedy_decode(model, src, 8, use_cache=False))


def test_beam_width_one_is_greedy_and_a_wider_beam_scores_at_least_as_well():
    kwargs = {"d_model": 8, "nhead": 2, "num_encoder_layers": 1, "num_decoder_layers": 1, "dim_feedforward": 8, "dropout": 0.0, "max_len": 8}
    model = _twins(kwargs, np.float64, 3, scale=1.0)[0]
    src = _batch("copy", 6, 3)[0]
    np.testing.assert_array_equal(decoding.beam_search(model, src, 1, 8, length_penalty=0.0), decoding.greedy_decode(model, src, 8))
    greedy, beam = decoding.greedy_decode(model, src, 8), decoding.beam_search(model, src, 4, 8, 0.0, early_stopping=False)
    assert (_log_probability(model, src, beam) >= _log_probability(model, src, greedy) - 1e-9).all()


def _log_probability(model, src, sequences):
    """log p(sequence + EOS | src) under the model, per row."""
    lengths = (sequences != PAD).sum(axis=1)
    tgt_in = np.concatenate([np.full((len(src), 1), BOS), sequences], axis=1)
    tgt_out = np.concatenate([sequences, np.full((len(src), 1), PAD)], axis=1)
    tgt_out[np.arange(len(src)), lengths] = EOS
    logits = model.eval()(src, tgt_in)
    log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_probs, tgt_out[..., None], axis=-1)[..., 0]
    return np.where(tgt_out != PAD, picked, 0).sum(axis=1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("tie_embeddings", [True, False])
def test_lockstep_teacher_forced_training(dtype, tie_embeddings):
    kwargs = {"d_model": 8, "nhead": 2, "num_encoder_layers": 1, "num_decoder_layers": 2, "dim_feedforward": 16, "dropout": 0.0, "max_len": 8,
              "tie_embeddings": tie_embeddings}
    model, twin = _twins(kwargs, dtype, 0)
    config = Seq2SeqConfig(**kwargs, batch_size=8, num_epochs=2, warmup=4, label_smoothing=0.1)
    train, val = _batch("reverse", 24, 1), _batch("reverse", 8, 2)
    history, torch_history = scratch_model.fit(model, train, val, config), torch_model.fit(twin, train, val, config)
    assert len(history["step_loss"]) == 6 and history["step_loss"][-1] < history["step_loss"][0]
    _zero_key_biases(model, twin)
    assert_lockstep(history, torch_history, model, twin, *tolerance(dtype, "train"), keys=("step_loss", "lr", "val_loss"))


def _zero_key_biases(model, twin):
    """The key bias of an attention adds q . b_k to every score of a query's row, which the softmax cancels:
    its true gradient is 0, and each twin computes rounding noise there that Adam (eps 1e-9) turns into
    full-size, different steps. Those entries change no output (the losses agree), so they are set to 0
    in both twins before the weights are compared."""
    twin_modules = dict(twin.named_modules())
    for name, attention in model.named_modules():
        if isinstance(attention, nn.MultiheadAttention):
            keys = slice(attention.embed_dim, 2 * attention.embed_dim)
            attention.in_proj_bias.data[keys] = 0
            with torch.no_grad():
                twin_modules[name].in_proj_bias[keys] = 0


def test_lambda_lr_matches_torch_with_the_inverse_sqrt_schedule():
    schedule = inverse_sqrt_schedule(64, 5)
    params = [nn.Linear(2, 2).weight]
    ours = optim.lr_scheduler.LambdaLR(optim.Adam(params, lr=2.0), schedule)
    theirs = torch.optim.lr_scheduler.LambdaLR(torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], lr=2.0), schedule)
    lrs = []
    for _ in range(12):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-15)
        lrs.append(ours.get_last_lr()[0])
        ours.optimizer.step(), theirs.optimizer.step()
        ours.step(), theirs.step()
    assert np.argmax(lrs) == 4 and lrs[4] == pytest.approx(2.0 * (64 * 5) ** -0.5)  # the peak at the warm-up's end


def test_checkpoint_loads_into_either_twin(tmp_path):
    kwargs = {"d_model": 8, "nhead": 2, "num_encoder_layers": 1, "num_decoder_layers": 1, "dim_feedforward": 8, "dropout": 0.0, "max_len": 8}
    model = _twins(kwargs, np.float32, 0, scale=0.5)[0]
    scratch_model.save(tmp_path / "m.npz", model, VOCAB, VOCAB)
    src, tgt_in, _ = _batch("sort", 3, 0)
    for loader in (scratch_model.load, torch_model.load):
        loaded, src_vocab, tgt_vocab = loader(tmp_path / "m.npz")
        assert src_vocab == VOCAB and tgt_vocab == VOCAB
        out = loaded(src, tgt_in)
        np.testing.assert_allclose(out if isinstance(out, np.ndarray) else out.detach().numpy(), model.eval()(src, tgt_in),
                                   rtol=1e-5, atol=1e-6)


def test_teacher_forcing_batch_shifts_the_target():
    src, tgt_in, tgt_out = teacher_forcing_batch(VOCAB, VOCAB, ["12", "3"], ["21", "3"])
    assert src.tolist() == [[4, 5], [6, 0]]
    assert tgt_in.tolist() == [[1, 5, 4], [1, 6, 0]] and tgt_out.tolist() == [[5, 4, 2], [6, 2, 0]]
