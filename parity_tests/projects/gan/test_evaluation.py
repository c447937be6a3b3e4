"""Project 12's sample-quality measures against what they must give: FID's closed form for Gaussians,
KID's unbiasedness, precision and recall on sets whose manifolds are known; no torch needed."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratch.projects.gan.evaluation import frechet_distance, kernel_distance, precision_recall
from twins.parity import seeds


@settings(max_examples=10)
@given(seed=seeds, features=st.integers(1, 5), shift=st.floats(-3, 3))
def test_fid_is_the_frechet_distance_of_the_fitted_gaussians(seed, features, shift):
    """A shifted copy has the same covariance: FID = |shift|^2 per feature, summed. A copy scaled by c
    (means 0) gives tr(S) (1 - c)^2, from tr(S + c^2 S - 2 c S)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((50, features)) @ rng.standard_normal((features, features))
    X -= X.mean(axis=0)
    assert frechet_distance(X, X + shift) == pytest.approx(features * shift ** 2, abs=1e-6)
    trace = np.trace(np.atleast_2d(np.cov(X, rowvar=False)))
    assert frechet_distance(X, 2.5 * X) == pytest.approx(trace * 1.5 ** 2, rel=1e-6)
    assert frechet_distance(X, X) == pytest.approx(0.0, abs=1e-6)


def test_kid_is_unbiased_near_zero_for_one_distribution_and_large_for_two():
    rng = np.random.default_rng(0)
    same = [kernel_distance(rng.standard_normal((60, 4)), rng.standard_normal((60, 4))) for _ in range(40)]
    assert abs(np.mean(same)) < 3 * np.std(same) / np.sqrt(len(same))  # the mean of the unbiased estimate sits at 0
    assert kernel_distance(rng.standard_normal((60, 4)), rng.standard_normal((60, 4)) + 2) > 10 * np.std(same)


def test_precision_and_recall_see_a_missing_mode_and_off_manifold_samples():
    rng = np.random.default_rng(1)
    modes = np.array([[0.0, 0.0], [10.0, 0.0]])
    real = np.concatenate([mode + 0.3 * rng.standard_normal((100, 2)) for mode in modes])
    one_mode = modes[0] + 0.3 * rng.standard_normal((200, 2))  # mode collapse: precise, half the recall
    precision, recall = precision_recall(real, one_mode)
    assert precision > 0.9 and 0.4 < recall < 0.6
    far = real + 50.0  # nothing on the real manifold
    assert precision_recall(real, far) == (0.0, 0.0)
    assert precision_recall(real, real.copy()) == (1.0, 1.0)


def test_bad_features_are_refused():
    with pytest.raises(ValueError, match="generated: expected a float array"):
        frechet_distance(np.zeros((5, 2)), np.zeros(5))
    with pytest.raises(ValueError, match="real: expected finite features"):
        kernel_distance(np.full((5, 2), np.nan), np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"k: expected an int in \[1, 4\], got 5"):
        precision_recall(np.zeros((5, 2)), np.ones((6, 2)), k=5)
