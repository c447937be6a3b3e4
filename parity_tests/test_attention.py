"""Embedding, LayerNorm and MultiheadAttention against torch.nn, with finite-difference oracles."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from parity_tests.harness import compare_modules, dtypes, finite_difference_check, randomise, seeds
from scratch import nn

TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}


@given(num=st.integers(1, 12), dim=st.integers(1, 8), index_shape=st.lists(st.integers(1, 5), max_size=3).map(tuple),
       data=st.data(), scale_grad=st.booleans(), dtype=dtypes, seed=seeds, training=st.booleans())
def test_embedding_matches_torch(num, dim, index_shape, data, scale_grad, dtype, seed, training):
    rng = np.random.default_rng(seed)
    padding_idx = data.draw(st.none() | st.integers(-num, num - 1))
    kwargs = dict(padding_idx=padding_idx, scale_grad_by_freq=scale_grad)
    layer = randomise(nn.Embedding(num, dim, dtype=dtype, rng=rng, **kwargs), rng).train(training)
    twin = torch.nn.Embedding(num, dim, dtype=TORCH_DTYPE[dtype], **kwargs).train(training)
    index = rng.integers(0, num, index_shape)  # repeated indices exercise the scatter-add
    out = compare_modules(layer, twin, (index,), rng, "Embedding", reduction=index.size)
    assert out.shape == (*index_shape, dim)


@given(num=st.integers(2, 10), dim=st.integers(1, 6), max_norm=st.floats(0.1, 3.0), norm_type=st.sampled_from([1.0, 2.0, 3.0]),
       dtype=dtypes, seed=seeds)
def test_embedding_max_norm_renormalises_rows_in_place_as_torch(num, dim, max_norm, norm_type, dtype, seed):
    rng = np.random.default_rng(seed)
    layer = randomise(nn.Embedding(num, dim, max_norm=max_norm, norm_type=norm_type, dtype=dtype, rng=rng), rng)
    twin = torch.nn.Embedding(num, dim, max_norm=max_norm, norm_type=norm_type, dtype=TORCH_DTYPE[dtype])
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
    rng = np.random.default_rng(seed)
    kwargs = dict(eps=eps, elementwise_affine=affine, bias=bias)
    layer = randomise(nn.LayerNorm(normalized_shape, dtype=dtype, **kwargs), rng).train(training)
    twin = torch.nn.LayerNorm(normalized_shape, dtype=TORCH_DTYPE[dtype], **kwargs).train(training)
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
