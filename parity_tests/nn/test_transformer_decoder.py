"""TransformerDecoderLayer, TransformerDecoder and Transformer against torch, with finite-difference oracles.

Every case draws sizes, heads, layout, norm placement, activation and the six masks; the gradient of the
memory (the encoder output every decoder layer attends to) is compared as an input gradient."""
import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from parity_tests.nn.test_attention import _attention_inputs, _masks
from parity_tests.nn.test_transformer import _freeze_dropout_masks, _hand_to_torch
from scratch import nn
from twins.parity import compare_modules, dtypes, finite_difference_check, randomise, seeds, torch_dtype

pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning",
                                        "ignore:Support for mismatched:UserWarning")


@st.composite
def decoder_cases(draw):
    """One decoder call: sizes, layout, layer options and masks. Masks never hide key 0, so no row is fully
    masked; a 'causal' mask comes with or without the is_causal hint (torch trusts the hint)."""
    heads, batch = draw(st.integers(1, 3)), draw(st.none() | st.integers(1, 3))
    head_dim = draw(st.integers(1 if heads > 1 else 2, 3))  # d_model >= 2: see the LayerNorm test on size 1
    case = dict(heads=heads, embed_dim=heads * head_dim, batch=batch, length=draw(st.integers(1, 5)),
                source=draw(st.integers(1, 5)), batch_first=draw(st.booleans()), seed=draw(seeds),
                tgt_mask=draw(st.sampled_from([None, "causal", "bool", "float", "bool-3d"])),
                memory_mask=draw(st.sampled_from([None, "causal", "bool", "float", "float-3d"])),
                tgt_key_padding_mask=draw(st.sampled_from([None, "bool", "float"])),
                memory_key_padding_mask=draw(st.sampled_from([None, "bool", "float"])))
    case["tgt_is_causal"] = case["tgt_mask"] == "causal" and draw(st.booleans())
    case["memory_is_causal"] = case["memory_mask"] == "causal" and draw(st.booleans())
    layer_kwargs = dict(dim_feedforward=draw(st.integers(1, 12)), activation=draw(st.sampled_from(["relu", "gelu"])),
                        batch_first=case["batch_first"], norm_first=draw(st.booleans()), bias=draw(st.booleans()),
                        layer_norm_eps=draw(st.sampled_from([1e-5, 1e-3])))
    return case, layer_kwargs, draw(st.booleans())


def _decoder_call(case, rng, dtype):
    """(tgt, memory) and the decoder-layer keyword arguments of one case."""
    sequences = {**case, "self_attention": False, "kdim": None, "vdim": None}
    tgt, memory = _attention_inputs(sequences, rng, dtype)[:2]
    self_masks = _masks({**case, "source": case["length"], "attn_mask": case["tgt_mask"],
                         "key_padding_mask": case["tgt_key_padding_mask"]}, rng, dtype)
    cross_masks = _masks({**case, "attn_mask": case["memory_mask"], "key_padding_mask": case["memory_key_padding_mask"]},
                         rng, dtype)
    kwargs = {"tgt_mask": self_masks.get("attn_mask"), "tgt_key_padding_mask": self_masks.get("key_padding_mask"),
              "memory_mask": cross_masks.get("attn_mask"), "memory_key_padding_mask": cross_masks.get("key_padding_mask"),
              "tgt_is_causal": case["tgt_is_causal"], "memory_is_causal": case["memory_is_causal"]}
    return (tgt, memory), kwargs


def _reduction(case, layer_kwargs, num_layers=1):
    """float32 rounding adds up through two attentions, the feed-forward block and three LayerNorms per layer."""
    return 4 * case["embed_dim"] * (case["length"] + case["source"] + layer_kwargs["dim_feedforward"]) * num_layers


def _layer_twins(case, layer_kwargs, dtype, rng, dropout):
    layer = nn.TransformerDecoderLayer(case["embed_dim"], case["heads"], dropout=dropout, dtype=dtype, rng=rng, **layer_kwargs)
    twin = torch.nn.TransformerDecoderLayer(case["embed_dim"], case["heads"], dropout=dropout, dtype=torch_dtype(dtype),
                                            **layer_kwargs)
    return randomise(layer, rng, scale=0.5), twin  # N(0, 1) weights saturate the softmax and the LayerNorms


def _decoder_twins(case, layer_kwargs, num_layers, final_norm, dtype, rng, dropout):
    layer, twin_layer = _layer_twins(case, layer_kwargs, dtype, rng, dropout)
    eps, d_model = layer_kwargs["layer_norm_eps"], case["embed_dim"]
    norm = nn.LayerNorm(d_model, eps=eps, dtype=dtype) if final_norm else None
    twin_norm = torch.nn.LayerNorm(d_model, eps=eps, dtype=torch_dtype(dtype)) if final_norm else None
    decoder = randomise(nn.TransformerDecoder(layer, num_layers, norm=norm), rng, scale=0.5)  # the copies differ now
    return decoder, torch.nn.TransformerDecoder(twin_layer, num_layers, norm=twin_norm)


def _without_attention_dropout(model, twin):
    """Attention dropout runs inside torch's fused scaled_dot_product_attention, out of reach of a given
    mask: off for the torch comparison, on in the finite-difference tests."""
    for module in (model, twin):
        for sub in module.modules():
            if isinstance(sub, (nn.MultiheadAttention, torch.nn.MultiheadAttention)):
                sub.dropout = 0.0


@given(decoder=decoder_cases(), dtype=dtypes)
def test_transformer_decoder_layer_matches_torch(decoder, dtype):
    case, layer_kwargs, training = decoder
    assume(dtype == np.float64 or case["embed_dim"] >= 4)  # see test_transformer_encoder_layer_matches_torch
    rng = np.random.default_rng(case["seed"])
    layer, twin = _layer_twins(case, layer_kwargs, dtype, rng, dropout=0.0 if training else 0.3)  # eval ignores p
    layer.train(training), twin.train(training)
    inputs, kwargs = _decoder_call(case, rng, dtype)
    out = compare_modules(layer, twin, inputs, rng, "TransformerDecoderLayer", reduction=_reduction(case, layer_kwargs),
                          forward_kwargs=kwargs)
    assert out.shape == inputs[0].shape
    assert list(layer.state_dict()) == list(twin.state_dict())


@settings(max_examples=20)
@given(decoder=decoder_cases(), num_layers=st.integers(1, 3), final_norm=st.booleans(),
       tgt_is_causal=st.sampled_from([None, False]), dtype=dtypes)
def test_transformer_decoder_matches_torch(decoder, num_layers, final_norm, tgt_is_causal, dtype):
    """input[1] is the memory: its gradient sums the key and value gradients of every layer's cross-attention."""
    case, layer_kwargs, training = decoder
    assume(dtype == np.float64 or case["embed_dim"] >= 4)
    rng = np.random.default_rng(case["seed"])
    model, twin = _decoder_twins(case, layer_kwargs, num_layers, final_norm, dtype, rng, dropout=0.0 if training else 0.3)
    model.train(training), twin.train(training)
    inputs, kwargs = _decoder_call(case, rng, dtype)
    kwargs["tgt_is_causal"] = True if kwargs["tgt_is_causal"] else tgt_is_causal  # None: detect a causal mask, as torch
    compare_modules(model, twin, inputs, rng, "TransformerDecoder", reduction=_reduction(case, layer_kwargs, num_layers),
                    forward_kwargs=kwargs)
    assert list(model.state_dict()) == list(twin.state_dict())


@settings(max_examples=15)
@given(decoder=decoder_cases(), num_layers=st.integers(1, 2), p=st.sampled_from([0.2, 0.5]), dtype=dtypes)
def test_transformer_decoder_train_mode_with_the_dropout_masks_scratch_drew(decoder, num_layers, p, dtype):
    """torch draws its own masks, so each of its Dropouts is swapped for the one scratch drew."""
    case, layer_kwargs, _ = decoder
    assume(dtype == np.float64 or case["embed_dim"] >= 4)
    rng = np.random.default_rng(case["seed"])
    model, twin = _decoder_twins(case, layer_kwargs, num_layers, True, dtype, rng, dropout=p)
    _without_attention_dropout(model, twin)
    inputs, kwargs = _decoder_call(case, rng, dtype)
    model(*inputs, **kwargs)
    masks = _freeze_dropout_masks(model)
    assert len(masks) == 4 * num_layers  # dropout (feed-forward), dropout1, dropout2, dropout3
    _hand_to_torch(masks, twin)
    compare_modules(model, twin, inputs, rng, "TransformerDecoder train", reduction=_reduction(case, layer_kwargs, num_layers),
                    forward_kwargs=kwargs)


@settings(max_examples=12)
@given(decoder=decoder_cases(), num_layers=st.integers(1, 2), training=st.booleans())
def test_transformer_decoder_finite_differences(decoder, num_layers, training):
    """Every mask, attention dropout included, drawn once and replayed; the memory's gradient included."""
    case, layer_kwargs, _ = decoder
    rng = np.random.default_rng(case["seed"])
    model = _decoder_twins(case, layer_kwargs, num_layers, True, np.float64, rng, dropout=0.3)[0].train(training)
    inputs, kwargs = _decoder_call(case, rng, np.float64)
    for x in inputs:
        x[np.abs(x) < 1e-3] = 0.5  # keep ReLU inputs off the kink
    model(*inputs, **kwargs)
    _freeze_dropout_masks(model)
    finite_difference_check(model, inputs, rng, max_entries=4, forward_kwargs=kwargs)


@st.composite
def transformer_cases(draw):
    """A decoder case plus the encoder's own mask, a source padding mask shared with the memory (the usual
    use) or drawn apart, and the layer counts."""
    case, layer_kwargs, training = draw(decoder_cases())
    case["src_mask"] = draw(st.sampled_from([None, "causal", "bool", "float"]))
    case["src_is_causal"] = case["src_mask"] == "causal" and draw(st.booleans())
    layers = dict(num_encoder_layers=draw(st.integers(1, 2)), num_decoder_layers=draw(st.integers(1, 2)))
    return case, layer_kwargs, layers, training


def _transformer_call(case, rng, dtype):
    (tgt, memory), kwargs = _decoder_call(case, rng, dtype)
    src_masks = _masks({**case, "length": case["source"], "attn_mask": case["src_mask"],
                        "key_padding_mask": case["memory_key_padding_mask"]}, rng, dtype)
    kwargs.update(src_mask=src_masks.get("attn_mask"), src_key_padding_mask=src_masks.get("key_padding_mask"),
                  src_is_causal=True if case["src_is_causal"] else None)
    if kwargs["src_key_padding_mask"] is not None and kwargs["memory_key_padding_mask"] is not None:
        kwargs["memory_key_padding_mask"] = kwargs["src_key_padding_mask"]
    return (memory, tgt), kwargs  # memory's shape is the source's


def _transformer_twins(case, layer_kwargs, layers, dtype, rng, dropout):
    kwargs = dict(d_model=case["embed_dim"], nhead=case["heads"], dropout=dropout, **layers, **layer_kwargs)
    model = randomise(nn.Transformer(dtype=dtype, rng=rng, **kwargs), rng, scale=0.5)
    return model, torch.nn.Transformer(dtype=torch_dtype(dtype), **kwargs)


@settings(max_examples=15)
@given(transformer=transformer_cases(), dtype=dtypes)
def test_transformer_matches_torch(transformer, dtype):
    case, layer_kwargs, layers, training = transformer
    assume(dtype == np.float64 or case["embed_dim"] >= 4)
    rng = np.random.default_rng(case["seed"])
    model, twin = _transformer_twins(case, layer_kwargs, layers, dtype, rng, dropout=0.0 if training else 0.3)
    model.train(training), twin.train(training)
    inputs, kwargs = _transformer_call(case, rng, dtype)
    reduction = _reduction(case, layer_kwargs, layers["num_encoder_layers"] + layers["num_decoder_layers"])
    out = compare_modules(model, twin, inputs, rng, "Transformer", reduction=reduction, forward_kwargs=kwargs)
    assert out.shape == inputs[1].shape
    assert list(model.state_dict()) == list(twin.state_dict())


@settings(max_examples=10)
@given(transformer=transformer_cases(), p=st.sampled_from([0.2, 0.5]), dtype=dtypes)
def test_transformer_train_mode_with_the_dropout_masks_scratch_drew(transformer, p, dtype):
    case, layer_kwargs, layers, _ = transformer
    assume(dtype == np.float64 or case["embed_dim"] >= 4)
    rng = np.random.default_rng(case["seed"])
    model, twin = _transformer_twins(case, layer_kwargs, layers, dtype, rng, dropout=p)
    _without_attention_dropout(model, twin)
    inputs, kwargs = _transformer_call(case, rng, dtype)
    model(*inputs, **kwargs)
    masks = _freeze_dropout_masks(model)
    assert len(masks) == 3 * layers["num_encoder_layers"] + 4 * layers["num_decoder_layers"]
    _hand_to_torch(masks, twin)
    reduction = _reduction(case, layer_kwargs, layers["num_encoder_layers"] + layers["num_decoder_layers"])
    compare_modules(model, twin, inputs, rng, "Transformer train", reduction=reduction, forward_kwargs=kwargs)


@settings(max_examples=8)
@given(transformer=transformer_cases(), training=st.booleans())
def test_transformer_finite_differences(transformer, training):
    case, layer_kwargs, layers, _ = transformer
    rng = np.random.default_rng(case["seed"])
    model = _transformer_twins(case, layer_kwargs, layers, np.float64, rng, dropout=0.3)[0].train(training)
    inputs, kwargs = _transformer_call(case, rng, np.float64)
    for x in inputs:
        x[np.abs(x) < 1e-3] = 0.5
    model(*inputs, **kwargs)
    _freeze_dropout_masks(model)
    finite_difference_check(model, inputs, rng, max_entries=3, forward_kwargs=kwargs)


def test_transformer_init_keys_and_shapes_match_torch():
    model = nn.Transformer(16, 4, 2, 3, 32, rng=np.random.default_rng(0))
    twin = torch.nn.Transformer(16, 4, 2, 3, 32)
    assert [(k, v.shape) for k, v in model.state_dict().items()] == [(k, tuple(v.shape)) for k, v in twin.state_dict().items()]
    weight = model.decoder.layers[2].multihead_attn.in_proj_weight.data
    bound = np.sqrt(6 / (48 + 16))  # every matrix re-initialised Xavier-uniform, as torch's _reset_parameters
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.9 * bound
    linear = model.decoder.layers[0].linear1.weight.data  # (32, 16): Xavier, not Linear's Kaiming bound 1/4
    assert np.abs(linear).max() > 0.9 * np.sqrt(6 / 48)
    assert not np.array_equal(model.decoder.layers[0].linear1.weight.data, model.decoder.layers[1].linear1.weight.data)
    layer = nn.TransformerDecoderLayer(8, 2, dropout=0.2)
    assert layer.dropout3.p == 0.2 and type(layer.activation).__name__ == "ReLU" and "activation" not in dict(layer.named_modules())


@pytest.mark.parametrize("size", [1, 4])
@pytest.mark.parametrize("dtype", [None, np.float64])
def test_generate_square_subsequent_mask_matches_torch(size, dtype):
    mask = nn.Transformer.generate_square_subsequent_mask(size, dtype=dtype)
    expected = torch.nn.Transformer.generate_square_subsequent_mask(size, dtype=None if dtype is None else torch.float64)
    assert mask.dtype == (np.float32 if dtype is None else np.float64)
    np.testing.assert_array_equal(mask, expected.numpy())


def test_transformer_decoder_detects_a_causal_tgt_mask_as_torch():
    layer = nn.TransformerDecoderLayer(4, 2, 8, batch_first=True, dtype=np.float64)
    decoder = nn.TransformerDecoder(layer, 2)
    tgt, memory = np.zeros((1, 3, 4)), np.zeros((1, 2, 4))
    for mask, detected in ((nn.Transformer.generate_square_subsequent_mask(3, dtype=np.float64), True),
                           (np.triu(np.ones((3, 3), dtype=bool), 1), True), (np.zeros((3, 3), dtype=bool), False)):
        decoder(tgt, memory, tgt_mask=mask)
        assert [sub._attn_kwargs[0]["is_causal"] for sub in decoder.layers] == [detected] * 2


def test_transformer_decoder_errors():
    layer = nn.TransformerDecoderLayer(4, 2, 8, batch_first=True)
    decoder = nn.TransformerDecoder(layer, 2)
    tgt, memory = np.zeros((2, 3, 4), dtype=np.float32), np.zeros((2, 5, 4), dtype=np.float32)
    with pytest.raises(ValueError, match="num_layers\\): expected a positive int, got 0"):
        nn.TransformerDecoder(layer, 0)
    with pytest.raises(TypeError, match="decoder_layer\\): expected a scratch Module"):
        nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(4, 2), 2)
    with pytest.raises(ValueError, match=r"activation\): expected 'relu', 'gelu' or a scratch Module, got str 'tanh'"):
        nn.TransformerDecoderLayer(4, 2, activation="tanh")
    with pytest.raises(ValueError, match="nhead\\): expected a positive int"):
        nn.TransformerDecoderLayer(4, 0)
    with pytest.raises(RuntimeError, match="before forward"):
        decoder.backward(tgt)
    with pytest.raises(TypeError, match="tgt_mask: expected a bool or float32 ndarray, got ndarray .* int64"):
        decoder(tgt, memory, tgt_mask=np.zeros((3, 3), dtype=np.int64))
    with pytest.raises(TypeError, match="memory_key_padding_mask: expected a bool or float32 ndarray, got list"):
        decoder(tgt, memory, memory_key_padding_mask=[[False] * 5] * 2)
    with pytest.raises(ValueError, match=r"memory_mask: expected shape \(3, 5\) or \(4, 3, 5\), got \(3, 3\)"):
        decoder(tgt, memory, memory_mask=np.zeros((3, 3), dtype=bool))
    with pytest.raises(ValueError, match=r"tgt_key_padding_mask: expected shape \(2, 3\), got \(2, 5\)"):
        decoder(tgt, memory, tgt_key_padding_mask=np.zeros((2, 5), dtype=bool))
    with pytest.raises(ValueError, match=r"memory: expected batch size 2 .* got shape \(1, 5, 4\)"):
        decoder(tgt, memory[:1])
    with pytest.raises(ValueError, match="memory: expected a rank-3 array"):
        decoder(tgt, memory[0])
    with pytest.raises(ValueError, match="memory: expected last dimension 4"):
        decoder(tgt, memory[..., :3])
    with pytest.raises(TypeError, match="tgt: expected dtype float32"):
        decoder(tgt.astype(np.float64), memory)
    model = nn.Transformer(4, 2, 1, 1, 8, batch_first=True)
    with pytest.raises(ValueError, match=r"src: expected batch size 2"):
        model(memory[:1], tgt)
    with pytest.raises(ValueError, match="sz\\): expected a positive int, got 0"):
        nn.Transformer.generate_square_subsequent_mask(0)
    decoder(tgt, memory)
    with pytest.raises(ValueError, match=r"expected shape \(2, 3, 4\)"):
        decoder.backward(tgt[:1])
