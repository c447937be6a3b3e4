"""Embedding, LayerNorm, MultiheadAttention and TransformerEncoderLayer against torch.nn, with finite-difference oracles."""
import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from scratch import nn
from twins.parity import compare_modules, dtypes, finite_difference_check, randomise, seeds, torch_dtype


@given(num=st.integers(1, 12), dim=st.integers(1, 8), index_shape=st.lists(st.integers(1, 5), max_size=3).map(tuple),
       data=st.data(), scale_grad=st.booleans(), dtype=dtypes, seed=seeds, training=st.booleans())
def test_embedding_matches_torch(num, dim, index_shape, data, scale_grad, dtype, seed, training):
    rng = np.random.default_rng(seed)
    padding_idx = data.draw(st.none() | st.integers(-num, num - 1))
    kwargs = dict(padding_idx=padding_idx, scale_grad_by_freq=scale_grad)
    layer = randomise(nn.Embedding(num, dim, dtype=dtype, rng=rng, **kwargs), rng).train(training)
    twin = torch.nn.Embedding(num, dim, dtype=torch_dtype(dtype), **kwargs).train(training)
    index = rng.integers(0, num, index_shape)  # repeated indices exercise the scatter-add
    out = compare_modules(layer, twin, (index,), rng, "Embedding", reduction=index.size)
    assert out.shape == (*index_shape, dim)


@given(num=st.integers(2, 10), dim=st.integers(1, 6), max_norm=st.floats(0.1, 3.0), norm_type=st.sampled_from([1.0, 2.0, 3.0]),
       dtype=dtypes, seed=seeds)
def test_embedding_max_norm_renormalises_rows_in_place_as_torch(num, dim, max_norm, norm_type, dtype, seed):
    rng = np.random.default_rng(seed)
    layer = randomise(nn.Embedding(num, dim, max_norm=max_norm, norm_type=norm_type, dtype=dtype, rng=rng), rng)
    twin = torch.nn.Embedding(num, dim, max_norm=max_norm, norm_type=norm_type, dtype=torch_dtype(dtype))
    index = rng.integers(0, num, (3, 4))
    compare_modules(layer, twin, (index,), rng, "Embedding max_norm", reduction=index.size)
    np.testing.assert_allclose(layer.weight.data, twin.weight.detach().numpy(), rtol=1e-6)


def test_embedding_init_and_padding_row():
    layer = nn.Embedding(2000, 20, padding_idx=-1, rng=np.random.default_rng(0))
    assert layer.padding_idx == 1999 and not layer.weight.data[1999].any()
    assert abs(layer.weight.data.std() - 1) < 0.02 and abs(layer.weight.data.mean()) < 0.02
    layer(np.array([[1999, 3, 3]]))
    layer.backward(np.ones((1, 3, 20), dtype=np.float32))
    assert not layer.weight.grad[1999].any() and (layer.weight.grad[3] == 2).all()


def test_embedding_given_weight_and_freeze():
    weight = np.arange(12, dtype=np.float64).reshape(4, 3)
    frozen = nn.Embedding(4, 3, padding_idx=0, _weight=weight, _freeze=True)
    assert frozen.weight.data is weight and weight[0].any()  # a given weight keeps its padding row, as torch
    frozen(np.array([1, 2]))
    frozen.backward(np.ones((2, 3)))
    assert frozen.weight.grad is None
    with pytest.raises(ValueError, match=r"_weight\): expected shape \(4, 2\)"):
        nn.Embedding(4, 2, _weight=weight)


def test_embedding_errors():
    layer = nn.Embedding(5, 3)
    with pytest.raises(ValueError, match=r"index 5 is out of range \[0, 5\)"):
        layer(np.array([0, 5]))
    with pytest.raises(ValueError, match="index -1 is out of range"):
        layer(np.array([-1]))
    with pytest.raises(TypeError, match="integer ndarray of indices"):
        layer(np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="integer ndarray of indices"):
        layer([0, 1])
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(5, 3, padding_idx=5)
    with pytest.raises(NotImplementedError, match="sparse=True"):
        nn.Embedding(5, 3, sparse=True)
    with pytest.raises(RuntimeError, match="before forward"):
        nn.Embedding(5, 3).backward(np.zeros((1, 3), dtype=np.float32))


@given(normalized_shape=st.lists(st.integers(1, 8), min_size=1, max_size=2).map(tuple),
       lead=st.lists(st.integers(1, 4), max_size=2).map(tuple), affine=st.booleans(), bias=st.booleans(),
       eps=st.sampled_from([1e-5, 1e-3]), dtype=dtypes, seed=seeds, training=st.booleans())
def test_layer_norm_matches_torch(normalized_shape, lead, affine, bias, eps, dtype, seed, training):
    # one element per sample normalises to 0 exactly here, while torch's fused x * rstd - mean * rstd
    # leaves float32 rounding noise times rstd = eps^-1/2: only float64 can compare that case. Two
    # elements normalise to +-s with s^2 = var / (var + eps): the input gradient is (1 - s^2) = eps / var
    # times the gradient's size, a cancellation that leaves both twins' float32 rounding noise
    # var / eps times larger than the result (seen: 2.8e-5 against atol 1.4e-5). float64 compares it.
    assume(dtype == np.float64 or np.prod(normalized_shape) > 2)
    rng = np.random.default_rng(seed)
    kwargs = dict(eps=eps, elementwise_affine=affine, bias=bias)
    layer = randomise(nn.LayerNorm(normalized_shape, dtype=dtype, **kwargs), rng).train(training)
    twin = torch.nn.LayerNorm(normalized_shape, dtype=torch_dtype(dtype), **kwargs).train(training)
    x = (rng.normal(size=(*lead, *normalized_shape)) * 3 + 1).astype(dtype)
    compare_modules(layer, twin, (x,), rng, "LayerNorm", reduction=int(np.prod(x.shape)))


@given(normalized_shape=st.lists(st.integers(2, 5), min_size=1, max_size=2).map(tuple), affine=st.booleans(), seed=seeds)
def test_layer_norm_finite_differences(normalized_shape, affine, seed):
    rng = np.random.default_rng(seed)
    layer = randomise(nn.LayerNorm(normalized_shape, elementwise_affine=affine, dtype=np.float64), rng)
    finite_difference_check(layer, (rng.normal(size=(3, *normalized_shape)),), rng)


def test_layer_norm_errors():
    layer = nn.LayerNorm((3, 4))
    with pytest.raises(ValueError, match=r"trailing dimensions \(3, 4\), got shape \(2, 4, 3\)"):
        layer(np.zeros((2, 4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="trailing dimensions"):
        layer(np.zeros(4, dtype=np.float32))
    with pytest.raises(TypeError, match="float32"):
        layer(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="positive sizes"):
        nn.LayerNorm(())
    assert not nn.LayerNorm(4, elementwise_affine=False).state_dict()
    assert list(nn.LayerNorm(4, bias=False).state_dict()) == ["weight"]


@st.composite
def attention_cases(draw):
    """Shapes, layout, options and masks for one MultiheadAttention call. Masks never hide key 0, so no
    row is fully masked (that case has its own test). add_bias_kv and add_zero_attn append keys that
    the masks do not cover; kdim/vdim other than embed_dim give the separate projection weights."""
    heads, head_dim = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    embed_dim = heads * head_dim
    batch = draw(st.none() | st.integers(1, 3))  # None: unbatched
    length, source = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    self_attention = draw(st.booleans())
    kdim = vdim = None
    if self_attention:
        source = length
    else:
        kdim, vdim = draw(st.none() | st.integers(1, 6)), draw(st.none() | st.integers(1, 6))
    case = dict(heads=heads, embed_dim=embed_dim, batch=batch, length=length, source=source, kdim=kdim, vdim=vdim,
                self_attention=self_attention, batch_first=draw(st.booleans()), bias=draw(st.booleans()),
                need_weights=draw(st.booleans()), average=draw(st.booleans()), training=draw(st.booleans()),
                attn_mask=draw(st.sampled_from([None, "bool", "float", "bool-3d", "float-3d", "causal"])),
                key_padding_mask=draw(st.sampled_from([None, "bool", "float"])), add_bias_kv=draw(st.booleans()),
                add_zero_attn=draw(st.booleans()), seed=draw(seeds))
    # torch treats is_causal as a hint: it trusts the given mask, except without a key padding mask and
    # weights, where it lets SDPA build the causal mask itself; scratch mirrors both, so any mask may come
    case["is_causal"] = case["attn_mask"] is not None and draw(st.booleans())
    return case


def _masks(case, rng, dtype):
    n, length, source, heads = case["batch"], case["length"], case["source"], case["heads"]
    kinds = {}
    kind = case["attn_mask"]
    if kind is not None:
        shape = (length, source) if not kind.endswith("3d") else ((heads if n is None else n * heads), length, source)
        if kind == "causal":
            mask = np.triu(np.ones(shape, dtype=bool), 1)
        elif kind.startswith("bool"):
            mask = rng.random(shape) < 0.4
        else:
            mask = rng.normal(size=shape).astype(dtype)
        mask[..., 0] = 0
        kinds["attn_mask"] = mask
    kind = case["key_padding_mask"]
    if kind is not None:
        shape = (source,) if n is None else (n, source)
        mask = rng.random(shape) < 0.4 if kind == "bool" else rng.normal(size=shape).astype(dtype)
        mask[..., 0] = 0
        kinds["key_padding_mask"] = mask
    return kinds


def _attention_inputs(case, rng, dtype):
    n, embed_dim = case["batch"], case["embed_dim"]

    def sequence(length, width):
        shape = (length, width) if n is None else (n, length, width) if case["batch_first"] else (length, n, width)
        return rng.normal(size=shape).astype(dtype)

    query = sequence(case["length"], embed_dim)
    if case["self_attention"]:
        return query, query, query
    return query, sequence(case["source"], case["kdim"] or embed_dim), sequence(case["source"], case["vdim"] or embed_dim)


def _extra_keys(case):
    """The keys MultiheadAttention appends to the source: bias_k, then the zero key."""
    return case.get("add_bias_kv", False) + case.get("add_zero_attn", False)


def _attention_pair(case, dtype, rng, dropout=0.0):
    kwargs = dict(bias=case["bias"], kdim=case["kdim"], vdim=case["vdim"], batch_first=case["batch_first"], dropout=dropout,
                  add_bias_kv=case.get("add_bias_kv", False), add_zero_attn=case.get("add_zero_attn", False))
    layer = randomise(nn.MultiheadAttention(case["embed_dim"], case["heads"], dtype=dtype, rng=rng, **kwargs), rng)
    twin = torch.nn.MultiheadAttention(case["embed_dim"], case["heads"], dtype=torch_dtype(dtype), **kwargs)
    return layer.train(case["training"]), twin.train(case["training"])


def _forward_kwargs(case, rng, dtype):
    kwargs = dict(need_weights=case["need_weights"], average_attn_weights=case["average"], is_causal=case["is_causal"])
    return {**kwargs, **_masks(case, rng, dtype)}


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask and attn_mask:UserWarning")
@given(case=attention_cases(), dtype=dtypes)
def test_multihead_attention_matches_torch(case, dtype):
    rng = np.random.default_rng(case["seed"])
    layer, twin = _attention_pair(case, dtype, rng, dropout=0.0 if case["training"] else 0.5)  # eval ignores dropout
    inputs = _attention_inputs(case, rng, dtype)
    kwargs = _forward_kwargs(case, rng, dtype)
    source = case["source"] + _extra_keys(case)
    out, weights = compare_modules(layer, twin, inputs, rng, "MultiheadAttention",
                                   reduction=case["embed_dim"] * source, forward_kwargs=kwargs)
    assert out.shape == inputs[0].shape[:-1] + (case["embed_dim"],)
    assert (weights is None) == (not case["need_weights"])
    assert weights is None or weights.shape[-1] == source


@given(case=attention_cases())
def test_multihead_attention_finite_differences(case):
    rng = np.random.default_rng(case["seed"])
    layer = _attention_pair({**case, "training": False}, np.float64, rng)[0]
    inputs = tuple(x.copy() for x in _attention_inputs(case, rng, np.float64))  # nudged one at a time
    finite_difference_check(layer, inputs, rng, max_entries=16,
                            forward_kwargs=_forward_kwargs(case, rng, np.float64))


@pytest.mark.parametrize("appended", [{}, {"add_bias_kv": True}, {"add_zero_attn": True}], ids=["plain", "bias_kv", "zero_attn"])
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multihead_attention_fully_masked_rows_as_torch(need_weights, dtype, appended):
    """torch 2.14: NaN in a fully masked row when the weights are returned, zeros when they are not;
    with an appended key (bias_k or the zero key), which the masks never cover, no row is fully masked."""
    rng = np.random.default_rng(0)
    case = dict(heads=2, embed_dim=4, bias=True, kdim=None, vdim=None, batch_first=True, training=True, **appended)
    layer, twin = _attention_pair(case, dtype, rng)
    attn_mask = np.zeros((3, 5), dtype=bool)
    attn_mask[1] = True  # query 1 may attend to nothing
    key_padding_mask = np.zeros((2, 5), dtype=bool)
    key_padding_mask[0] = True  # nor may any query of sample 0
    q, k = rng.normal(size=(2, 3, 4)).astype(dtype), rng.normal(size=(2, 5, 4)).astype(dtype)
    kwargs = dict(attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=need_weights)
    out, _ = compare_modules(layer, twin, (q, k, k), rng, "fully masked", reduction=20, forward_kwargs=kwargs)
    nan = need_weights and not appended
    assert np.isnan(out[0]).all() == nan and np.isnan(out[1, 1]).all() == nan
    assert not np.isnan(out[1, [0, 2]]).any()


@given(case=attention_cases(), p=st.sampled_from([0.2, 0.5]))
def test_multihead_attention_applies_the_given_dropout_mask(case, p):
    """torch draws its own dropout mask, so scratch is checked against itself: the weights are the
    eval-mode weights times the mask, and backward through the mask agrees with finite differences."""
    rng = np.random.default_rng(case["seed"])
    layer = _attention_pair(case, np.float64, rng, dropout=p)[0]
    inputs = tuple(x.copy() for x in _attention_inputs(case, rng, np.float64))
    kwargs = {**_forward_kwargs(case, rng, np.float64), "need_weights": True, "average_attn_weights": False}
    clean = layer.eval()(*inputs, **kwargs)[1]
    shape = (case["batch"] or 1, case["heads"], case["length"], case["source"] + _extra_keys(case))  # (N, H, L, S')
    mask = nn.functional.dropout_mask(shape, p, rng, np.dtype(np.float64))
    dropped = layer.train()(*inputs, dropout_mask=mask, **kwargs)[1]
    np.testing.assert_allclose(dropped, clean * (mask[0] if case["batch"] is None else mask), rtol=1e-12, atol=1e-15)
    assert layer._dropout_mask is mask
    finite_difference_check(layer, inputs, rng, max_entries=8, forward_kwargs={**kwargs, "dropout_mask": mask})
    drawn = layer(*inputs, **kwargs)[1]  # the layer's own rng draws a fresh mask
    assert layer._dropout_mask is not mask and layer._dropout_mask.shape == mask.shape and drawn.shape == dropped.shape


def test_multihead_attention_init_and_state_dict_match_torch():
    layer = nn.MultiheadAttention(8, 2, rng=np.random.default_rng(0))
    twin = torch.nn.MultiheadAttention(8, 2)
    assert {k: v.shape for k, v in layer.state_dict().items()} == {k: tuple(v.shape) for k, v in twin.state_dict().items()}
    assert not layer.in_proj_bias.data.any() and not layer.out_proj.bias.data.any()
    bound = np.sqrt(6 / (8 + 24))  # Xavier on the packed (3E, E) weight, as torch
    assert np.abs(layer.in_proj_weight.data).max() <= bound and np.abs(layer.in_proj_weight.data).max() > 0.8 * bound
    for kwargs in (dict(kdim=3, vdim=5, bias=False), dict(add_bias_kv=True, add_zero_attn=True),
                   dict(kdim=3, add_bias_kv=True, bias=False)):
        ours, theirs = nn.MultiheadAttention(8, 2, **kwargs), torch.nn.MultiheadAttention(8, 2, **kwargs)
        assert [(k, v.shape) for k, v in ours.state_dict().items()] == [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
        for name in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight", "bias_k", "bias_v"):
            assert (getattr(ours, name) is None) == (getattr(theirs, name) is None), name
        assert ours.add_zero_attn == theirs.add_zero_attn
    wide = nn.MultiheadAttention(400, 2, add_bias_kv=True, rng=np.random.default_rng(0))
    for bias in (wide.bias_k.data, wide.bias_v.data):  # Xavier normal on (1, 1, E): fans E and E, std 1/sqrt(E)
        assert bias.shape == (1, 1, 400) and abs(bias.std() - 0.05) < 0.006 and abs(bias.mean()) < 0.008


def test_multihead_attention_errors():
    layer = nn.MultiheadAttention(4, 2)
    x = np.zeros((3, 2, 4), dtype=np.float32)
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(5, 2)
    with pytest.raises(ValueError, match="last dimension 4"):
        layer(x, x[..., :3], x)
    with pytest.raises(ValueError, match="all be batched"):
        layer(x, x[0], x[0])
    with pytest.raises(ValueError, match="same batch size"):
        layer(x, x[:, :1], x[:, :1])
    with pytest.raises(ValueError, match="same batch and sequence sizes"):
        layer(x, x, x[:2])
    with pytest.raises(ValueError, match=r"attn_mask: expected shape \(3, 3\) or \(4, 3, 3\), got \(3, 2\)"):
        layer(x, x, x, attn_mask=np.zeros((3, 2), dtype=bool))
    with pytest.raises(TypeError, match="key_padding_mask: expected a bool or float32"):
        layer(x, x, x, key_padding_mask=np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="is_causal=True .* pass the attn_mask"):
        layer(x, x, x, is_causal=True)
    layer(x, x, x, need_weights=False)
    with pytest.raises(ValueError, match="need_weights=False"):
        layer.backward(x, np.zeros((2, 3, 3), dtype=np.float32))
    layer(x, x, x)
    with pytest.raises(ValueError, match=r"grad_weights: expected shape \(2, 3, 3\)"):
        layer.backward(x, np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="dropout_mask: expected shape"):
        nn.MultiheadAttention(4, 2, dropout=0.5)(x, x, x, dropout_mask=np.ones((2, 2, 3), dtype=np.float32))


@st.composite
def encoder_cases(draw):
    nhead, batch = draw(st.integers(1, 3)), draw(st.none() | st.integers(1, 3))
    length = draw(st.integers(1, 5))
    head_dim = draw(st.integers(1 if nhead > 1 else 2, 3))  # d_model >= 2: see the LayerNorm test on size 1
    case = dict(heads=nhead, embed_dim=nhead * head_dim, batch=batch, length=length, source=length,
                self_attention=True, kdim=None, vdim=None, batch_first=draw(st.booleans()), need_weights=False,
                average=True, attn_mask=draw(st.sampled_from([None, "bool", "float", "bool-3d", "causal"])),
                key_padding_mask=draw(st.sampled_from([None, "bool", "float"])), seed=draw(seeds))
    case["is_causal"] = case["attn_mask"] == "causal" and draw(st.booleans())
    layer_kwargs = dict(dim_feedforward=draw(st.integers(1, 12)), activation=draw(st.sampled_from(["relu", "gelu"])),
                        batch_first=case["batch_first"], norm_first=draw(st.booleans()), bias=draw(st.booleans()),
                        layer_norm_eps=draw(st.sampled_from([1e-5, 1e-3])))
    return case, layer_kwargs, draw(st.booleans())


def _encoder_call(case, rng, dtype):
    masks = _masks(case, rng, dtype)
    kwargs = dict(src_mask=masks.get("attn_mask"), src_key_padding_mask=masks.get("key_padding_mask"), is_causal=case["is_causal"])
    return _attention_inputs(case, rng, dtype)[:1], kwargs


@pytest.mark.filterwarnings("ignore:Support for mismatched:UserWarning")
@given(encoder=encoder_cases(), dtype=dtypes)
def test_transformer_encoder_layer_matches_torch(encoder, dtype):
    case, layer_kwargs, training = encoder
    # LayerNorm over 2 or 3 features amplifies float32 rounding by 1/|x1 - x2| (float64 agrees to 1e-12 there)
    assume(dtype == np.float64 or case["embed_dim"] >= 4)
    rng = np.random.default_rng(case["seed"])
    d_model, nhead = case["embed_dim"], case["heads"]
    layer = nn.TransformerEncoderLayer(d_model, nhead, dropout=0.0, dtype=dtype, rng=rng, **layer_kwargs)
    twin = torch.nn.TransformerEncoderLayer(d_model, nhead, dropout=0.0, dtype=torch_dtype(dtype), **layer_kwargs)
    randomise(layer, rng, scale=0.5).train(training)  # N(0, 1) weights saturate the softmax and the LayerNorms
    twin.train(training)
    inputs, kwargs = _encoder_call(case, rng, dtype)
    # float32 rounding passes through attention, the feed-forward block and two LayerNorms in turn
    reduction = 4 * d_model * (case["length"] + layer_kwargs["dim_feedforward"])
    out = compare_modules(layer, twin, inputs, rng, "TransformerEncoderLayer", reduction=reduction, forward_kwargs=kwargs)
    assert out.shape == inputs[0].shape


@given(encoder=encoder_cases())
def test_transformer_encoder_layer_finite_differences(encoder):
    case, layer_kwargs, _ = encoder
    rng = np.random.default_rng(case["seed"])
    layer = nn.TransformerEncoderLayer(case["embed_dim"], case["heads"], dropout=0.0, dtype=np.float64, rng=rng, **layer_kwargs)
    inputs, kwargs = _encoder_call(case, rng, np.float64)
    inputs[0][np.abs(inputs[0]) < 1e-3] = 0.5
    finite_difference_check(randomise(layer, rng, scale=0.5), inputs, rng, max_entries=8, forward_kwargs=kwargs)


def test_transformer_encoder_layer_dropout_draws_from_rng_and_backward_uses_the_masks():
    x = np.random.default_rng(1).normal(size=(4, 2, 6))
    make = lambda: nn.TransformerEncoderLayer(6, 2, 8, dropout=0.3, dtype=np.float64, rng=np.random.default_rng(7))
    first, second = make(), make()
    np.testing.assert_array_equal(first(x), second(x))  # the same rng gives the same weights and masks
    assert not np.allclose(first(x), first.eval()(x))
    first.train()
    y = first(x)
    masks = [first.dropout._mask, first.dropout1._mask, first.dropout2._mask, first.self_attn._dropout_mask]
    assert all(mask is not None and (mask == 0).any() for mask in masks)
    g = np.random.default_rng(2).normal(size=y.shape)
    first.zero_grad()
    dx = first.backward(g)
    eps, index = 1e-6, (1, 0, 3)
    replay = lambda: float(np.sum(g * _replay(first, x, masks)))
    x[index] += eps
    plus = replay()
    x[index] -= 2 * eps
    minus = replay()
    x[index] += eps
    np.testing.assert_allclose(dx[index], (plus - minus) / (2 * eps), rtol=1e-5, atol=1e-7)


def _replay(layer, x, masks):
    """layer(x) again under the same dropout masks."""
    for module, mask in zip((layer.dropout, layer.dropout1, layer.dropout2), masks):
        module.rng = _Fixed(mask)
    layer.self_attn.rng = _Fixed(masks[3])
    return layer(x)


class _Fixed(np.random.Generator):
    """A Generator whose random() returns the uniforms that reproduce a given keep-mask."""

    def __init__(self, mask):
        super().__init__(np.random.PCG64(0))
        self.mask = mask

    def random(self, shape=None):
        return np.where(self.mask != 0, 0.99, 0.0).reshape(shape)


def test_transformer_encoder_layer_errors():
    with pytest.raises(ValueError, match=r"activation\): expected 'relu', 'gelu' or a scratch Module, got str 'tanh'"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.TransformerEncoderLayer(5, 2)
    with pytest.raises(RuntimeError, match="before forward"):
        nn.TransformerEncoderLayer(4, 2).backward(np.zeros((1, 4), dtype=np.float32))
