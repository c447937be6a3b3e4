"""Project 18: secure aggregation by pairwise masking: exact sums, masked inputs, dropout recovery."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratch.projects.federated import secagg
from twins.parity import seeds


@st.composite
def federations(draw):
    """n clients, a threshold t, and up to n - t of them dropping after the keys are agreed."""
    num_clients = draw(st.integers(2, 6))
    threshold = draw(st.integers(2, num_clients))
    dropped = draw(st.lists(st.integers(1, num_clients), unique=True, max_size=num_clients - threshold))
    return num_clients, threshold, tuple(dropped)


@settings(max_examples=15)
@given(federation=federations(), shape=st.sampled_from([(1,), (7,), (3, 4)]), seed=seeds)
def test_secure_sum_equals_the_plain_sum_exactly(federation, shape, seed):
    """The unmasked total is the exact integer sum of the survivors' fixed-point encodings."""
    num_clients, threshold, dropped = federation
    rng = np.random.default_rng(seed)
    updates = {i: rng.normal(0, 3, shape) for i in range(1, num_clients + 1)}
    total, masked = secagg.secure_sum(updates, threshold, dropped, rng)
    survivors = [i for i in updates if i not in dropped]
    assert sorted(masked) == survivors  # the dropped never sent an input
    exact = sum((secagg.encode(updates[i], num_clients) for i in survivors), np.zeros(shape, np.uint32))
    np.testing.assert_array_equal(total, secagg.decode(exact))
    np.testing.assert_allclose(total, sum(updates[i] for i in survivors), atol=len(survivors) / secagg.SCALE)


def test_the_server_sees_only_masked_inputs():
    """Each masked input looks uniform on [0, 2^32) and shares nothing with its update's encoding."""
    rng = np.random.default_rng(0)
    updates = {i: rng.normal(0, 0.1, 20_000) for i in range(1, 5)}
    _, masked = secagg.secure_sum(updates, 3, (), rng)
    for i, y in masked.items():
        encoded = secagg.encode(updates[i], 4)
        assert np.mean(y == encoded) < 1e-3
        assert abs(y.astype(np.float64).mean() / 2 ** 32 - 0.5) < 0.01  # the encoding alone sits near 0 and 2^32
        assert abs(np.abs(secagg.decode(y)).mean() - np.abs(updates[i]).mean()) > 1000


@settings(max_examples=15)
@given(threshold=st.integers(1, 6), extra=st.integers(0, 4), seed=seeds)
def test_shamir_threshold(threshold, extra, seed):
    """Any t of the n shares give the secret back; t - 1 shares give something else."""
    rng = np.random.default_rng(seed)
    secret = int.from_bytes(rng.bytes(15), "big")
    shares = secagg.share(secret, threshold + extra, threshold, rng)
    chosen = rng.choice(list(shares), threshold, replace=False).tolist()
    assert secagg.reconstruct({x: shares[x] for x in chosen}) == secret
    if threshold > 1:
        assert secagg.reconstruct({x: shares[x] for x in chosen[1:]}) != secret


def test_more_dropouts_than_the_threshold_allows_are_refused():
    updates = {i: np.ones(3) for i in range(1, 6)}
    with pytest.raises(ValueError, match="dropped: expected at least threshold=4 of 5 clients to survive, got 3"):
        secagg.secure_sum(updates, 4, (1, 2), np.random.default_rng(0))


def test_fixed_point_round_trip():
    x = np.random.default_rng(0).uniform(-100, 100, 1000)
    np.testing.assert_allclose(secagg.decode(secagg.encode(x)), x, atol=0.5 / secagg.SCALE)
