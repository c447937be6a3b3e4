"""Project 20: drift statistics written from scratch in NumPy (the standard library's lgamma aside).

PSI and the binned shares follow Evidently's definitions (``get_binned_data`` and ``_psi`` in
evidently/legacy/calculations/stattests): a numerical feature with more than 20 distinct reference
values is cut into Sturges bins over the pooled sample; otherwise each distinct value is a bin.
An empty bin's share becomes 1e-4, or the smallest non-empty share / 1e6 when that is <= 1e-4,
so that PSI's logarithm stays finite. The others equal SciPy's functions: the two-sample KS test
(its exact two-sided p-value by counting lattice paths up to 10,000 samples a side, the
Kolmogorov distribution of kolmogorov.py beyond), the 1-d Wasserstein distance, the
Jensen-Shannon distance and Pearson's chi-square test.
Twin of reference/projects/mlops/drift.py, which calls SciPy (and ports Evidently's binning to pandas).
"""
import math

import numpy as np

from scratch.projects.mlops.kolmogorov import kolmogorov_sf

CATEGORY_LIMIT = 20  # Evidently: a numerical feature with at most this many distinct values is binned by value
EMPTY_SHARE = 1e-4  # Evidently's share for an empty bin
EXACT_KS_LIMIT = 10_000  # as SciPy's 'auto': the exact p-value up to this many samples per side, the asymptotic beyond


def check_sample(values, name, numeric=True):
    """A non-empty 1-d array (finite floats when ``numeric``); a ValueError naming ``name`` otherwise."""
    values = np.asarray(values)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-d sample, got shape {values.shape}")
    if numeric:
        if not (np.issubdtype(values.dtype, np.number) or values.dtype == bool) or np.iscomplexobj(values):
            raise TypeError(f"{name}: expected real numbers, got dtype {values.dtype}")
        values = values.astype(np.float64)
        if not np.isfinite(values).all():
            raise ValueError(f"{name}: expected finite values, got {int(np.sum(~np.isfinite(values)))} NaN or inf")
    return values


def sturges_edges(values):
    """np.histogram_bin_edges(values, 'sturges'): width ptp / (log2(n) + 1) over [min, max]."""
    first, last = float(values.min()), float(values.max())
    if first == last:  # one value: NumPy widens the range by a half each side
        first, last = first - 0.5, last + 0.5
        return np.linspace(first, last, 2)
    width = (last - first) / (np.log2(values.size) + 1.0)
    num_bins = int(np.ceil((last - first) / width))
    return np.linspace(first, last, num_bins + 1)


def histogram(values, edges):
    """Counts in [e_i, e_{i+1}), the last bin closed, as np.histogram counts them."""
    index = np.searchsorted(edges, values, side="right") - 1
    index[values == edges[-1]] = len(edges) - 2
    inside = (index >= 0) & (index < len(edges) - 1)
    return np.bincount(index[inside], minlength=len(edges) - 1)


def fill_zeros(shares):
    """Evidently's floor for empty bins (see the module docstring)."""
    smallest = shares[shares > 0].min()
    return np.where(shares == 0, smallest / 1e6 if smallest <= EMPTY_SHARE else EMPTY_SHARE, shares)


def binned_shares(reference, current, categorical=False, fill_empty=True):
    """(reference shares, current shares) per bin: Sturges bins for a numerical feature with more
    than 20 distinct reference values, else one bin per distinct value (sorted)."""
    reference = check_sample(reference, "reference", numeric=not categorical)
    current = check_sample(current, "current", numeric=not categorical)
    if not categorical and np.unique(reference).size > CATEGORY_LIMIT:
        edges = sturges_edges(np.concatenate([reference, current]))
        ref_counts, cur_counts = histogram(reference, edges), histogram(current, edges)
    else:
        keys = np.unique(np.concatenate([reference, current]))
        ref_counts = np.bincount(np.searchsorted(keys, reference), minlength=keys.size)
        cur_counts = np.bincount(np.searchsorted(keys, current), minlength=keys.size)
    ref_shares, cur_shares = ref_counts / reference.size, cur_counts / current.size
    if fill_empty:
        ref_shares, cur_shares = fill_zeros(ref_shares), fill_zeros(cur_shares)
    return ref_shares, cur_shares


def psi(reference, current, categorical=False):
    """Population stability index: sum over bins of (ref - cur) * ln(ref / cur)."""
    ref_shares, cur_shares = binned_shares(reference, current, categorical)
    return float(np.sum((ref_shares - cur_shares) * np.log(ref_shares / cur_shares)))


def ks_2samp(reference, current):
    """Two-sample Kolmogorov-Smirnov test, two-sided: (D, p-value) as scipy.stats.ks_2samp's default.
    D is the largest gap between the empirical CDFs. Up to 10,000 samples a side the p-value is exact:
    the share of the C(n1+n2, n1) orderings of the pooled sample whose gap reaches D. Beyond, it is
    the one-sample tail P(D_m >= D) at the effective size m = round(n1 n2 / (n1 + n2)) (kolmogorov.py)."""
    reference, current = check_sample(reference, "reference"), check_sample(current, "current")
    n1, n2 = reference.size, current.size
    pooled = np.concatenate([reference, current])
    cdf1 = np.searchsorted(np.sort(reference), pooled, side="right") / n1
    cdf2 = np.searchsorted(np.sort(current), pooled, side="right") / n2
    if max(n1, n2) > EXACT_KS_LIMIT:
        statistic = float(np.max(np.abs(cdf1 - cdf2)))
        return statistic, float(np.clip(kolmogorov_sf(round(n1 * n2 / (n1 + n2)), statistic), 0, 1))
    g = math.gcd(n1, n2)
    h = int(np.round(np.max(np.abs(cdf1 - cdf2)) * (n1 // g) * n2))  # D in units of 1 / lcm(n1, n2)
    if h == 0:
        return h / ((n1 // g) * n2), 1.0
    return h / ((n1 // g) * n2), float(np.clip(_outside_probability(n1, n2, g, h), 0, 1))


def _outside_probability(n1, n2, g, h):
    """P(a uniformly random lattice path from (0, 0) to (n1, n2) touches |i n2/g - j n1/g| >= h).

    Walk the anti-diagonals i + j = s: the path reaches (i, j) from (i-1, j) with probability
    i / s and from (i, j-1) with probability j / s, so q(i, j), the chance that a path to (i, j)
    has been outside, is that mix of its two predecessors, or 1 where (i, j) is itself outside.
    Probabilities, not path counts: nothing overflows, and the tail needs no 1 - (inside)."""
    q = np.zeros(1)  # the diagonal s = 0: the origin, inside
    for s in range(1, n1 + n2 + 1):
        i = np.arange(max(0, s - n2), min(n1, s) + 1)  # the cells (i, s - i) of diagonal s
        j = s - i
        prev_low = max(0, s - 1 - n2)  # the first i on diagonal s - 1
        from_left = np.where(i > 0, q[np.clip(i - 1 - prev_low, 0, q.size - 1)], 0.0)   # (i-1, j)
        from_below = np.where(j > 0, q[np.clip(i - prev_low, 0, q.size - 1)], 0.0)     # (i, j-1)
        q = (i * from_left + j * from_below) / s
        q[np.abs(i * (n2 // g) - j * (n1 // g)) >= h] = 1.0
    return q[-1]


def wasserstein_distance(u_values, v_values):
    """1-d Wasserstein (earth mover's) distance: the area between the two empirical CDFs."""
    u_values, v_values = check_sample(u_values, "u_values"), check_sample(v_values, "v_values")
    u_sorted, v_sorted = np.sort(u_values), np.sort(v_values)
    pooled = np.sort(np.concatenate([u_values, v_values]))
    deltas = np.diff(pooled)  # (n - 1,) the widths between consecutive pooled values
    u_cdf = np.searchsorted(u_sorted, pooled[:-1], side="right") / u_values.size
    v_cdf = np.searchsorted(v_sorted, pooled[:-1], side="right") / v_values.size
    return float(np.sum(np.abs(u_cdf - v_cdf) * deltas))


def _relative_entropy(p, m):
    """Elementwise p ln(p / m), 0 where p = 0 (as scipy.special.rel_entr for m > 0)."""
    return np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0) / np.where(p > 0, m, 1.0)), 0.0)


def jensenshannon(p, q, base=None):
    """Jensen-Shannon distance of two probability vectors (normalised first): sqrt((KL(p||m) + KL(q||m)) / 2)."""
    p, q = check_sample(p, "p"), check_sample(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"q: expected the shape of p {p.shape}, got {q.shape}")
    for name, vector in (("p", p), ("q", q)):
        if vector.min() < 0 or vector.sum() <= 0:
            raise ValueError(f"{name}: expected non-negative weights with a positive sum, got min {vector.min()}, sum {vector.sum()}")
    if base is not None and (base <= 0 or base == 1):
        raise ValueError(f"base: expected a positive number other than 1, got {base!r}")
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    divergence = np.sum(_relative_entropy(p, m)) + np.sum(_relative_entropy(q, m))
    if base is not None:
        divergence /= np.log(base)
    return float(np.sqrt(divergence / 2.0))


def chisquare(f_obs, f_exp):
    """Pearson's chi-square goodness-of-fit test: (sum (obs - exp)^2 / exp, P(chi2(k - 1) >= it)).
    As SciPy, the two must have the same sum (relative 1e-8)."""
    f_obs, f_exp = check_sample(f_obs, "f_obs"), check_sample(f_exp, "f_exp")
    if f_obs.shape != f_exp.shape:
        raise ValueError(f"f_exp: expected the shape of f_obs {f_obs.shape}, got {f_exp.shape}")
    if f_exp.min() <= 0:
        raise ValueError(f"f_exp: expected positive expected frequencies, got min {f_exp.min()}")
    if f_obs.size < 2:
        raise ValueError(f"f_obs: expected at least 2 categories, got {f_obs.size}")
    if abs(f_obs.sum() - f_exp.sum()) > 1e-8 * max(f_obs.sum(), f_exp.sum()):
        raise ValueError(f"f_exp: expected the sum of f_obs ({float(f_obs.sum())!r}) to relative 1e-8, got {float(f_exp.sum())!r}")
    statistic = float(np.sum((f_obs - f_exp) ** 2 / f_exp))
    return statistic, chi2_sf(statistic, f_obs.size - 1)


def chi2_sf(x, df):
    """P(chi2(df) >= x) = Q(df / 2, x / 2), the regularised upper incomplete gamma function: its
    power series below a + 1, Lentz's continued fraction above (Numerical Recipes, section 6.2)."""
    a, x = df / 2.0, x / 2.0
    if x <= 0:
        return 1.0
    log_prefactor = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:  # P(a, x) = x^a e^-x / Gamma(a + 1) * sum x^n / ((a + 1)...(a + n))
        term = total = 1.0 / a
        n = 0
        while abs(term) > abs(total) * 1e-17 and n < 10_000:
            n += 1
            term *= x / (a + n)
            total += term
        return 1.0 - total * math.exp(log_prefactor)
    tiny = 1e-300  # Q(a, x) = x^a e^-x / Gamma(a) * 1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - ...))
    b = x + 1.0 - a
    c, d = 1.0 / tiny, 1.0 / b
    fraction = d
    for n in range(1, 10_000):
        an = -n * (n - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        fraction *= d * c
        if abs(d * c - 1.0) < 1e-16:
            break
    return math.exp(log_prefactor) * fraction
