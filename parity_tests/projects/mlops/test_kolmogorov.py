"""Parity of the Kolmogorov-Smirnov distribution written from scratch (scratch/projects/mlops/kolmogorov.py)
with SciPy's: the two-sided tail scipy.stats.kstwo.sf in every region of (n, n x^2) where a different
formula applies, the one-sided tail scipy.special.smirnov, and ks_2samp past 10,000 samples a side,
where both sides switch from the exact count to that distribution."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special, stats

from reference.projects.mlops import drift as reference_drift
from scratch.projects.mlops import drift, kolmogorov
from twins.parity import assert_close, seeds, tolerance

RTOL, ATOL = tolerance(np.float64, "forward")
ONE_SIDED_EXACT_UP_TO = 1_000_000  # SciPy's smirnov sums exactly up to here and expands asymptotically beyond

# (n, x) inside each region of kolmogorov_sf, named by the formula that answers there.
REGIONS = [
    ("Ruben-Gambino, n x <= 1", 50, 0.015),
    ("Ruben-Gambino, n x >= n - 1", 50, 0.985),
    ("twice the one-sided tail, x >= 0.5", 30, 0.6),
    ("Durbin's matrix, small n, n x^2 <= 0.754693", 100, 0.08),
    ("Durbin's matrix where SciPy uses Pomeranz, small n, n x^2 <= 4", 100, 0.15),
    ("twice the one-sided tail, small n, n x^2 > 4", 100, 0.25),
    ("Durbin's matrix, large n, n x^1.5 <= 1.4", 5000, 0.004),
    ("Pelz-Good, large n, n x^1.5 > 1.4", 5000, 0.018),
    ("Pelz-Good, n > 100,000", 200_000, 0.002),
    ("twice the one-sided tail, large n, n x^2 >= 2.2", 5000, 0.03),
    ("zero, n x^2 >= 370", 5000, 0.3),
]


@pytest.mark.parametrize("region, n, x", REGIONS, ids=[region for region, _, _ in REGIONS])
def test_kolmogorov_sf_equals_scipy_in_every_region(region, n, x):
    assert_close(np.array(kolmogorov.kolmogorov_sf(n, x)), np.array(stats.kstwo.sf(x, n)), f"kolmogorov_sf({n}, {x}): {region}", RTOL, 1e-300)


@given(st.integers(1, 400), st.floats(0, 3.5))
def test_kolmogorov_sf_equals_scipy_for_small_n(n, z):
    """x = z / sqrt(n) sweeps the body and the tail of the distribution for each n."""
    x = min(z / math.sqrt(n), 1.0)
    assert_close(np.array(kolmogorov.kolmogorov_sf(n, x)), np.array(stats.kstwo.sf(x, n)), f"kolmogorov_sf({n}, {x})", RTOL, 1e-300)


@given(st.integers(141, 300_000), st.floats(0.05, 4.0))
def test_kolmogorov_sf_equals_scipy_for_large_n(n, z):
    x = z / math.sqrt(n)
    assert_close(np.array(kolmogorov.kolmogorov_sf(n, x)), np.array(stats.kstwo.sf(x, n)), f"kolmogorov_sf({n}, {x})", RTOL, 1e-300)


@given(st.integers(1, 100_000), st.floats(0.02, 1.0))
def test_durbin_cdf_equals_scipy_where_scipy_is_exact(n, share):
    """The cdf itself, not 1 - it: where SciPy answers with an exact method (Durbin's or Pomeranz's:
    n <= 140 and n x^2 <= 4, or n x^1.5 <= 1.4), ``share`` of the way from x = 1/(2n) to that edge."""
    edge = 2 / math.sqrt(n) if n <= kolmogorov.SMALL_N else (1.4 / n) ** (2 / 3)
    x = 1 / (2 * n) + share * (min(edge, 0.5) - 1 / (2 * n))
    assert_close(np.array(kolmogorov.durbin_cdf(n, x)), np.array(stats.kstwo.cdf(x, n)), f"durbin_cdf({n}, {x})", RTOL, 1e-300)


@given(st.integers(kolmogorov.SMALL_N + 1, 2_000_000), st.floats(0.3, 1.48))
def test_pelz_good_cdf_equals_scipy_where_scipy_uses_it(n, z):
    """n > 140, n x^2 < 2.2 and outside Durbin's region (n x^1.5 > 1.4, or n > 100,000)."""
    x = z / math.sqrt(n)
    if n <= kolmogorov.DURBIN_MAX_N:
        x = max(x, 1.01 * (1.4 / n) ** (2 / 3))  # n x^2 stays below 1.6 n^(-1/3) < 2.2 there
    assert_close(np.array(kolmogorov.pelz_good_cdf(n, x)), np.array(stats.kstwo.cdf(x, n)), f"pelz_good_cdf({n}, {x})", RTOL, 1e-300)


@given(st.integers(1, ONE_SIDED_EXACT_UP_TO), st.floats(0, 1))
def test_one_sided_tail_equals_scipy_smirnov(n, u):
    """Birnbaum & Tingey's sum in Loader's form keeps its digits at large n: x over the whole range
    and near sqrt(n) scale (u^2 squeezes half the draws towards 0)."""
    x = u if u > 0.5 else u * u * 8 / math.sqrt(n)
    assert_close(np.array(kolmogorov.smirnov_sf(n, x)), np.array(special.smirnov(n, x)), f"smirnov_sf({n}, {x})", RTOL, 1e-300)


@given(seeds, st.integers(drift.EXACT_KS_LIMIT + 1, 30_000), st.integers(1, 30_000), st.floats(0, 0.2))
def test_ks_2samp_past_the_exact_limit_equals_scipy(seed, n1, n2, shift):
    """max(n1, n2) > 10,000: SciPy's 'auto' and the scratch test both take kstwo.sf at round(n1 n2 / (n1 + n2))."""
    rng = np.random.default_rng(seed)
    reference, current = rng.normal(size=n1), rng.normal(shift, 1.0, size=n2)
    if rng.random() < 0.5:
        reference, current = current, reference
    assert_close(np.array(drift.ks_2samp(reference, current)), np.array(reference_drift.ks_2samp(reference, current)),
                 f"ks_2samp (D, p), sizes {n1} and {n2}", RTOL, 1e-300)
