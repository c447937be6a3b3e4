"""What the explain tests share: random smooth models with feature interactions, drawn from a
seed, and the background/instances they are explained on."""
import numpy as np
from hypothesis import strategies as st

from twins.parity import seeds


def smooth_model(M, K, rng):
    """A small tanh network plus a pairwise product: non-additive, so coalitions matter. K None:
    one output (rows,), else (rows, K)."""
    W1, W2 = rng.normal(size=(M, 4)), rng.normal(size=(4, K or 1))
    pair = (0, min(1, M - 1))

    def model(Z):
        y = np.tanh(Z @ W1) @ W2 + 0.5 * (Z[:, pair[0]] * Z[:, pair[1]])[:, None]  # (rows, K)
        return y[:, 0] if K is None else y
    return model


@st.composite
def problems(draw, max_features=6, max_background=12, outputs=(None, 1, 3)):
    """(model, background (B, M), instances (n, M), rng) drawn from hypothesis."""
    M = draw(st.integers(1, max_features))
    B, n = draw(st.integers(1, max_background)), draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(seeds))
    model = smooth_model(M, draw(st.sampled_from(outputs)), rng)
    return model, rng.normal(size=(B, M)), rng.normal(size=(n, M)), rng
