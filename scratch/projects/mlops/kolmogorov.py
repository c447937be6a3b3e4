"""Project 20: the distribution of the Kolmogorov-Smirnov statistic, for KS p-values past the exact
two-sample count (scipy.stats.ks_2samp's 'asymp': kstwo.sf(D, round(n1 n2 / (n1 + n2)))).

D_n = sup |F_n - F| for n uniform draws. Its survival function P(D_n >= x) has no single formula
that is both exact and cheap everywhere, so ``kolmogorov_sf`` picks one per region of (n, n x^2),
as Simard & L'Ecuyer (2011) recommend and SciPy's ``kstwo`` does:
- the closed forms of Ruben & Gambino near x = 1/(2n) and x = 1;
- twice the one-sided tail (exact when the two one-sided events cannot both happen, x >= 0.5;
  elsewhere off by the chance of crossing both bounds, which is small beside the tail once n x^2
  is large, and the same approximation SciPy makes there);
- Durbin's matrix (exact, the cost growing with n x);
- Pelz & Good's expansion in 1/sqrt(n) for large n.
Where SciPy uses Pomeranz's recursion (n <= 140, 0.754693 < n x^2 <= 4) this uses Durbin's
matrix: both are exact, so they agree to rounding. NumPy and the standard library only.
"""
import math

import numpy as np

SMALL_N = 140  # Simard & L'Ecuyer's split between the small-n and large-n regions
DURBIN_MAX_N = 100_000
STIRLING_ERROR_TABLE = np.array([0.0] + [math.lgamma(i + 1) - (i + 0.5) * math.log(i) + i - 0.5 * math.log(2 * math.pi)
                                         for i in range(1, 16)])  # stirling_error(k) for k = 1..15 (index 0 unused)


def log_factorial_over_power(n):
    """log(n! / n^n) = sum of log(i / n) for i = 1..n."""
    return float(np.sum(np.log(np.arange(1, n + 1) / n)))


def stirling_error(k):
    """log(k!) - (k + 1/2) log k + k - log(2 pi)/2 for integers k >= 1: exact (from lgamma) up to 15,
    Stirling's series above, where its sixth term is below 1e-16 of the value."""
    k = np.asarray(k, dtype=np.float64)
    small = np.minimum(k, 15).astype(np.int64)
    inverse_square = 1 / (k * k)
    series = (1 / 12 - inverse_square * (1 / 360 - inverse_square * (1 / 1260 - inverse_square * (1 / 1680 - inverse_square / 1188)))) / k
    return np.where(k <= 15, STIRLING_ERROR_TABLE[small], series)


def smirnov_sf(n, x):
    """P(D_n^+ >= x), the one-sided tail, exactly (Birnbaum & Tingey, 1951):
    x * sum_{j <= n (1 - x)} C(n, j) a_j^(n - j) b_j^(j - 1), with b_j = x + j/n and a_j = 1 - b_j.

    Term j is a binomial probability, P(Bin(n, b_j) = j) / b_j, and is summed in Loader's (2000)
    form: Stirling's corrections plus two deviances, each of them no larger than n x, so the
    logarithms never reach the size of log(n!) and the tail keeps its digits for large n."""
    if x <= 0:
        return 1.0
    if x >= 1:
        return 0.0
    v = n * x
    j = np.arange(1, int(np.floor(n - v + 1e-9)) + 1)  # j = 0 apart: its binomial is (1 - x)^n
    j = j[n - j - v > 0]  # a_j > 0 (a_j = 0 makes the term 0)
    deviance = -j * np.log1p(v / j) + (n - j) * np.log1p(v / (n - v - j))  # -log of P(Bin(n, b_j) = j) / its Stirling part
    log_terms = (stirling_error(n) - stirling_error(j) - stirling_error(n - j) - deviance
                 + 0.5 * np.log(n / (2 * math.pi * j * (n - j))) - np.log(x + j / n))
    total = math.exp(n * math.log1p(-x) - math.log(x)) + np.sum(np.exp(log_terms))
    return float(np.clip(x * total, 0.0, 1.0))


def durbin_cdf(n, x):
    """P(D_n < x) by Durbin's matrix (Marsaglia, Tsang & Wang, 2003): with n x = k - h (k an integer,
    0 <= h < 1) and m = 2k - 1, the probability is n!/n^n times the (k, k) entry of H^n, where
    H[i, j] = 1/(i - j + 1)! below the first superdiagonal, and the first column and last row carry
    the boundary corrections (1 - h^r)/r!. H^n by repeated squaring, each product rescaled by a
    power of two so nothing overflows; the powers are added back in logs at the end."""
    k = int(np.ceil(n * x))
    h, m = k - n * x, 2 * k - 1
    r = np.arange(1, m + 1)
    inverse_factorial = np.exp(-np.cumsum(np.log(r)))  # 1/r!, r = 1..m
    diagonal = np.subtract.outer(np.arange(m), np.arange(m)) + 1  # i - j + 1
    H = np.where(diagonal >= 0, np.concatenate([[1.0], inverse_factorial])[np.clip(diagonal, 0, m)], 0.0)
    H[:, 0] = (1 - h ** r) * inverse_factorial  # (m,)
    H[-1, :] = H[::-1, 0]
    H[-1, 0] = (1 - 2 * h ** m + max(0.0, 2 * h - 1) ** m) * inverse_factorial[-1]
    power, power_exponent = np.eye(m), 0  # H^(bits so far) = power * 2^power_exponent
    square, square_exponent = H, 0
    remaining = n
    while remaining:
        if remaining & 1:
            power = power @ square
            power_exponent += square_exponent
            power, power_exponent = _rescaled(power, power_exponent)
        remaining >>= 1
        if remaining:
            square = square @ square
            square, square_exponent = _rescaled(square, 2 * square_exponent)
    entry = power[k - 1, k - 1]
    if entry <= 0:
        return 0.0
    log_p = math.log(entry) + power_exponent * math.log(2) + log_factorial_over_power(n)
    return float(np.clip(math.exp(log_p), 0.0, 1.0))


def _rescaled(matrix, exponent):
    """(matrix / 2^e, exponent + e) with the largest entry brought into [0.5, 1)."""
    shift = np.frexp(np.abs(matrix).max())[1]
    return np.ldexp(matrix, -shift), exponent + shift


def pelz_good_cdf(n, x):
    """P(D_n <= x) ~ K0(z) + K1(z)/sqrt(n) + K2(z)/n + K3(z)/n^1.5, z = x sqrt(n) (Pelz & Good, 1976,
    written for small z as Simard & L'Ecuyer give it): sums over odd m = 2k - 1 of polynomials in m
    times exp(-pi^2 m^2 / (8 z^2)), and two over all k of exp(-pi^2 k^2 / (2 z^2))."""
    z = x * math.sqrt(n)
    if math.pi ** 2 / (8 * z * z) > 700:  # every term underflows: the cdf is 0 to double precision
        return 0.0
    k = np.arange(1, int(np.ceil(16 * z / np.pi)) + 1, dtype=np.float64)
    m2 = (2 * k - 1) ** 2 * np.pi ** 2  # pi^2 m^2
    odd = np.exp(-m2 / (8 * z * z))
    k2 = (k * np.pi) ** 2  # pi^2 k^2
    every = np.exp(-k2 / (2 * z * z))
    z2 = z * z
    root = math.sqrt(2 * math.pi)
    K0 = root / z * odd.sum()
    K1 = root / (6 * z ** 4) * np.sum((m2 / 4 - z2) * odd)
    K2 = (root / (72 * z ** 7) * np.sum((6 * z2 ** 3 + 2 * z2 ** 2 + (2 * z2 ** 2 - 5 * z2) * m2 / 4
                                         + (1 - 2 * z2) * m2 ** 2 / 16) * odd)
          - root / (36 * z ** 3) * np.sum(k2 * every))
    K3 = (root / (6480 * z ** 10) * np.sum(((5 - 30 * z2) * m2 ** 3 / 64 + (212 * z2 ** 2 - 60 * z2) * m2 ** 2 / 16
                                           + (135 * z2 ** 2 - 96 * z2 ** 3) * m2 / 4 - 30 * z2 ** 3 - 90 * z2 ** 4) * odd)
          + root / (216 * z ** 6) * np.sum((3 * z2 - k2) * k2 * every))
    return float(np.clip(K0 + K1 / math.sqrt(n) + K2 / n + K3 / n ** 1.5, 0.0, 1.0))


def kolmogorov_sf(n, x):
    """P(D_n >= x) for the two-sided statistic of n draws: scipy.stats.kstwo.sf(x, n)."""
    if not (isinstance(n, (int, np.integer)) and n >= 1):
        raise ValueError(f"n: expected a positive integer, got {n!r}")
    if not (isinstance(x, (int, float, np.integer, np.floating)) and math.isfinite(x)):
        raise ValueError(f"x: expected a finite real number, got {x!r}")
    if x >= 1:
        return 0.0
    t = n * x
    if t <= 0.5:
        return 1.0
    if t <= 1:  # Ruben & Gambino: P(D_n < x) = n!/n^n (2 n x - 1)^n
        return 1.0 - math.exp(log_factorial_over_power(n) + n * math.log(2 * t - 1))
    if t >= n - 1:  # Ruben & Gambino: P(D_n >= x) = 2 (1 - x)^n
        return 2 * (1 - x) ** n
    if x >= 0.5:  # D_n^+ >= x and D_n^- >= x exclude each other
        return 2 * smirnov_sf(n, x)
    nx2 = t * x
    if n <= SMALL_N:
        return 1.0 - durbin_cdf(n, x) if nx2 <= 4 else 2 * smirnov_sf(n, x)
    if nx2 >= 370:
        return 0.0
    if nx2 >= 2.2:
        return min(2 * smirnov_sf(n, x), 1.0)
    if n <= DURBIN_MAX_N and n * x ** 1.5 <= 1.4:
        return 1.0 - durbin_cdf(n, x)
    return 1.0 - pelz_good_cdf(n, x)
