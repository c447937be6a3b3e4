"""Parity of the scratch drift statistics (scratch/projects/mlops/drift.py) with SciPy's functions
and Evidently's PSI binning (reference/projects/mlops/drift.py), under hypothesis-drawn samples:
sizes from 1 to a few hundred, ties (values rounded to a grid), shifted and rescaled currents,
few and many distinct values (both of Evidently's binnings), empty bins."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from reference.projects.mlops import drift as reference_drift
from scratch.projects.mlops import drift
from twins.parity import assert_close, seeds, tolerance

RTOL, ATOL = tolerance(np.float64, "forward")


@st.composite
def sample_pairs(draw, max_size=300):
    """(reference, current): normal samples, the current shifted and scaled, both rounded to a grid
    of ``decimals`` (0 decimals: few distinct values, ties, Evidently's per-value bins)."""
    rng = np.random.default_rng(draw(seeds))
    n1, n2 = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    shift, scale = draw(st.floats(-2, 2)), draw(st.floats(0.2, 3))
    decimals = draw(st.sampled_from([0, 1, 3, None]))
    reference, current = rng.normal(size=n1), rng.normal(shift, scale, size=n2)
    if decimals is not None:
        reference, current = np.round(reference, decimals), np.round(current, decimals)
    return reference, current


@given(sample_pairs())
def test_ks_2samp_equals_scipy_exact(pair):
    assert_close(np.array(drift.ks_2samp(*pair)), np.array(reference_drift.ks_2samp(*pair)), "ks_2samp (D, p)", RTOL, ATOL)


@given(sample_pairs(max_size=60))
def test_ks_2samp_p_value_is_small_for_far_samples_and_equal_sizes(pair):
    reference, current = pair
    current = np.resize(current, reference.shape) + 10.0  # equal sizes: SciPy's closed form for n1 = n2
    assert_close(np.array(drift.ks_2samp(reference, current)), np.array(reference_drift.ks_2samp(reference, current)),
                 "ks_2samp (D, p), n1 = n2", RTOL, ATOL)


@given(sample_pairs())
def test_wasserstein_distance_equals_scipy(pair):
    assert_close(np.array(drift.wasserstein_distance(*pair)), np.array(reference_drift.wasserstein_distance(*pair)),
                 "wasserstein_distance", RTOL, ATOL)


@given(sample_pairs(), st.booleans(), st.booleans())
def test_binned_shares_and_psi_equal_evidentlys(pair, categorical, fill_empty):
    for side, got, want in zip(("reference", "current"), drift.binned_shares(*pair, categorical, fill_empty),
                               reference_drift.binned_shares(*pair, categorical, fill_empty)):
        assert_close(got, want, f"binned shares of {side}", 0, 0)  # counts over the same edges: bit-equal
    assert_close(np.array(drift.psi(*pair, categorical)), np.array(reference_drift.psi(*pair, categorical)), "psi", RTOL, ATOL)


@given(seeds, st.integers(2, 40), st.sampled_from([None, 2.0, 10.0]), st.floats(0, 0.5))
def test_jensenshannon_equals_scipy(seed, size, base, zero_share):
    rng = np.random.default_rng(seed)
    p, q = rng.random(size), rng.random(size)
    p[rng.random(size) < zero_share] = 0.0  # zeros in one or both: rel_entr's 0 log 0 = 0
    q[rng.random(size) < zero_share] = 0.0
    p[0] = q[-1] = 1.0  # each sums to more than 0
    assert_close(np.array(drift.jensenshannon(p, q, base)), np.array(reference_drift.jensenshannon(p, q, base)),
                 "jensenshannon", RTOL, ATOL)


@given(seeds, st.integers(2, 60), st.floats(0.5, 2000))
def test_chisquare_equals_scipy(seed, categories, mean_count):
    rng = np.random.default_rng(seed)
    f_obs = rng.poisson(mean_count, categories).astype(np.float64) + 1
    f_exp = rng.random(categories) + 0.05
    f_exp *= f_obs.sum() / f_exp.sum()
    assert_close(np.array(drift.chisquare(f_obs, f_exp)), np.array(reference_drift.chisquare(f_obs, f_exp)),
                 "chisquare (statistic, p)", RTOL, ATOL)


@given(st.floats(1e-6, 5000), st.integers(1, 800))
def test_chi2_survival_function_equals_scipy(x, df):
    """Both branches of the incomplete gamma (series below a + 1, continued fraction above), far into the tails."""
    assert_close(np.array(drift.chi2_sf(x, df)), np.array(reference_drift.chi2_sf(x, df)), f"chi2_sf({x}, {df})", RTOL, 1e-300)


def test_sturges_edges_and_counts_equal_numpys():
    rng = np.random.default_rng(0)
    for values in (rng.normal(size=1000), np.full(7, 3.0), np.arange(50.0)):
        edges = drift.sturges_edges(values)
        np.testing.assert_array_equal(edges, np.histogram_bin_edges(values, "sturges"))
        np.testing.assert_array_equal(drift.histogram(values, edges), np.histogram(values, edges)[0])


def test_a_shift_is_drift_and_the_same_sample_is_not():
    rng = np.random.default_rng(1)
    reference = rng.normal(size=500)
    for name, statistic in (("psi", drift.psi), ("wasserstein_distance", drift.wasserstein_distance),
                            ("jensenshannon", lambda a, b: drift.jensenshannon(*drift.binned_shares(a, b, fill_empty=False)))):
        assert statistic(reference, reference.copy()) == 0.0 and statistic(reference, reference + 1.0) > 0.1, name
    assert drift.ks_2samp(reference, reference.copy()) == (0.0, 1.0) and drift.ks_2samp(reference, reference + 1.0)[1] < 1e-10


@given(seeds, st.integers(10_001, 30_000), st.integers(1, 50), st.booleans())
def test_psi_zero_share_floor_below_1e4(seed, n1, n2, categorical):
    """Evidently's other floor: with more than 10,000 samples a bin can hold a share <= 1e-4, and the
    empty bins then get that share / 1e6 (the small samples above only reach the 1e-4 floor)."""
    rng = np.random.default_rng(seed)
    reference = np.round(rng.standard_t(2, size=n1), 0 if categorical else 2)  # heavy tails: bins with one sample
    current = np.round(rng.normal(size=n2), 0 if categorical else 2)
    shares = drift.binned_shares(reference, current, categorical)
    assert shares[0].min() < 1e-4 or shares[1].min() < 1e-4
    assert_close(np.array(drift.psi(reference, current, categorical)), np.array(reference_drift.psi(reference, current, categorical)),
                 "psi", RTOL, ATOL)
