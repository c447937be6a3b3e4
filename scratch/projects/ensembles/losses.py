"""The losses that gradient boosting descends, with their links (never twinned; the boosting twins
compare through them): half squared error, absolute error, the pinball (quantile) loss and Huber's
(identity link), half binomial deviance (logit link), the exponential loss of AdaBoost (half-logit
link) and half multinomial deviance (softmax link with the symmetric multinomial logit).

After each tree is grown on the negative gradient, ``leaf_value`` re-fits its leaves to the loss
itself (Friedman's line search, algorithm 1 step 5): a Newton step for the smooth classification
losses, the weighted median or quantile of the residuals for the robust regression losses, and
nothing for squared error (the tree's mean already is the step: ``updates_leaves`` False).

Each follows scikit-learn's ``sklearn/_loss`` formulas to the float operation, since boosting
feeds every rounding of one stage into the next: ``log(1 + e^x)`` by the same five-piece
cut-offs, the binomial gradient as ``((1 - y) - y e^{-x}) / (1 + e^{-x})``, the softmax's
exponentials summed class after class (the Cython loop's order, not NumPy's pairwise sum), and
the logit with SciPy's two branches. ``mean`` is the weighted average ``np.average`` computes.
"""
import numpy as np


def log1pexp(x):
    """log(1 + e^x), stable for large |x| (scikit-learn's cut-offs at -37, -2, 18 and 33.3)."""
    out = np.array(x, dtype=np.float64, copy=True)  # x > 33.3: x itself
    with np.errstate(over="ignore"):
        pieces = ((x <= -37, lambda v: np.exp(v)), ((x > -37) & (x <= -2), lambda v: np.log1p(np.exp(v))),
                  ((x > -2) & (x <= 18), lambda v: np.log(1.0 + np.exp(v))),
                  ((x > 18) & (x <= 33.3), lambda v: v + np.exp(-v)))
        for mask, formula in pieces:
            out[mask] = formula(x[mask])
    return out


def logit(p):
    """log(p / (1 - p)), with SciPy's ``log1p`` form where p is near 1/2 (there the quotient loses bits)."""
    s = 2.0 * (p - 0.5)
    with np.errstate(divide="ignore"):
        return np.where((p < 0.3) | (p > 0.65), np.log(p / (1.0 - p)), np.log1p(s) - np.log1p(-s))


def expit(x):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def softmax_terms(raw):
    """(max over classes (n,), e^{raw - max} (n, K), their sum (n,)) with the sum taken class by class."""
    top = raw[:, 0].copy()
    for k in range(1, raw.shape[1]):
        top = np.where(top < raw[:, k], raw[:, k], top)
    exps = np.exp(raw - top[:, None])
    total = np.zeros(raw.shape[0])
    for k in range(raw.shape[1]):
        total = total + exps[:, k]
    return top, exps, total


def weighted_percentile(values, sample_weight, percentile_rank, average=False):
    """The smallest value whose cumulative weight reaches ``percentile_rank`` percent of the total (the
    "inverted cdf"; scikit-learn's ``_weighted_percentile``): NaN when every weight is 0. ``average``: the
    "averaged inverted cdf", the mean of that value and the next one with weight when the rank lands exactly
    on a step of the cumulative weight (NumPy's method of that name when the weights are equal).
    ``percentile_rank`` may be an array of ranks: one sort serves them all."""
    if np.all(sample_weight == 0):
        return np.nan
    ranks = np.asarray(percentile_rank, dtype=np.float64)
    order = np.argsort(values)
    sorted_weights = sample_weight[order]
    cdf = np.cumsum(sorted_weights)  # (n,) cumulative weight in value order
    rank = np.atleast_1d(ranks / 100 * cdf[-1])
    rank[rank == 0] = np.nextafter(0.0, 1.0)  # rank 0 skips leading zero weights
    last = len(values) - 1
    at = np.minimum(np.searchsorted(cdf, rank), last)  # (R,) cdf[at - 1] < rank <= cdf[at]
    found = values[order[at]]
    if average:
        on_step = ~(cdf[at] - rank > np.finfo(np.float64).eps)
        after = np.minimum(at + 1, last)
        next_weighted = np.searchsorted(cdf, cdf[at], side="right")  # past any zero weights after ``at``
        after = np.where(sorted_weights[after] == 0, np.where(next_weighted > last, at, next_weighted), after)
        found = np.where(on_step, (found + values[order[after]]) / 2, found)
    return found if ranks.ndim else found[0]


def quantile_constant(y, sample_weight, quantile):
    """The best constant of a quantile loss: y's quantile, interpolated when unweighted (scikit-learn's
    DummyRegressor), the weighted inverted cdf otherwise; as a (1,) raw score."""
    if sample_weight is None:
        return np.array([np.percentile(y, quantile * 100.0)])
    return np.array([weighted_percentile(y, sample_weight, quantile * 100.0)])


class HalfSquaredError:
    """0.5 (raw - y)^2; gradient raw - y. ``factor`` 2: scikit-learn reports twice it (the squared error)."""

    n_trees, factor, is_multiclass, updates_leaves = 1, 2.0, False, False

    def loss(self, y, raw):
        d = raw[:, 0] - y
        return 0.5 * d * d

    def gradient(self, y, raw):  # (n, 1)
        return raw - y[:, None]

    def init_raw(self, y, sample_weight):
        """The best constant: the weighted mean of y (scikit-learn's DummyRegressor)."""
        return np.array([np.average(y, axis=0, weights=sample_weight)])

    def mean(self, y, raw, sample_weight):
        if sample_weight is not None and not np.sum(sample_weight) > 0:
            raise ValueError("sample_weight: expected a positive total weight on the rows a score averages over, got "
                             "0 (with subsample < 1, every out-of-bag row may weigh 0; scikit-learn: Weights sum to "
                             "zero, can't be normalized)")
        return self.factor * np.average(self.loss(y, raw), weights=sample_weight)

    def link(self, prediction):
        """(n,) predictions -> (n, 1) raw scores (the identity link)."""
        return prediction.reshape(-1, 1)


class AbsoluteError(HalfSquaredError):
    """|raw - y|; gradient sign(raw - y) (-1 on a tie). Its best constant is the median."""

    factor, updates_leaves, quantile = 1.0, True, 0.5

    def loss(self, y, raw):
        return np.abs(raw[:, 0] - y)

    def gradient(self, y, raw):
        return np.where(raw > y[:, None], 1.0, -1.0)

    def init_raw(self, y, sample_weight):
        return quantile_constant(y, sample_weight, self.quantile)

    def leaf_value(self, neg_g, y, raw, sample_weight):
        """The weighted quantile of the leaf's residuals y - raw."""
        return weighted_percentile(y - raw, sample_weight, 100 * self.quantile)


class PinballLoss(AbsoluteError):
    """The quantile loss: q (y - raw) where y >= raw, else (1 - q)(raw - y). Its best constant is y's q-quantile."""

    def __init__(self, quantile):
        self.quantile = quantile

    def loss(self, y, raw):
        d = y - raw[:, 0]
        return np.where(d >= 0, self.quantile * d, (1 - self.quantile) * -d)

    def gradient(self, y, raw):
        return np.where(y[:, None] >= raw, -self.quantile, 1 - self.quantile)


class HuberLoss(HalfSquaredError):
    """0.5 r^2 for |r| <= delta, else delta (|r| - delta / 2), with r = y - raw; gradient clipped at +-delta.
    Boosting resets ``delta`` before each stage to the ``quantile`` of the current absolute residuals
    (``set_delta``), so only the largest (1 - quantile) of them are treated as outliers."""

    factor, updates_leaves = 1.0, True

    def __init__(self, quantile, delta=0.5):
        self.quantile, self.delta = quantile, delta

    def set_delta(self, y, raw, sample_weight):
        self.delta = float(weighted_percentile(np.abs(y - raw[:, 0]), sample_weight, 100 * self.quantile))

    def loss(self, y, raw):
        abserr = np.abs(y - raw[:, 0])
        return np.where(abserr <= self.delta, 0.5 * abserr ** 2, self.delta * (abserr - 0.5 * self.delta))

    def gradient(self, y, raw):
        res = raw - y[:, None]
        return np.where(np.abs(res) <= self.delta, res, np.where(res >= 0, self.delta, -self.delta))

    def init_raw(self, y, sample_weight):
        return quantile_constant(y, sample_weight, 0.5)  # the median, whatever ``quantile`` picks delta by

    def leaf_value(self, neg_g, y, raw, sample_weight):
        """Friedman's one-step Huber estimate (before his algorithm 4): the median of the residuals plus the
        mean of their deviations from it, each clipped to +-delta."""
        residual = y - raw
        median = weighted_percentile(residual, sample_weight, 50)
        diff = residual - median
        return median + np.average(np.sign(diff) * np.minimum(self.delta, np.abs(diff)), weights=sample_weight)


class HalfBinomialLoss(HalfSquaredError):
    """log(1 + e^raw) - y raw, the logistic loss of P(y=1) = expit(raw); one tree per stage."""

    updates_leaves = True

    def loss(self, y, raw):
        return log1pexp(raw[:, 0]) - y * raw[:, 0]

    def gradient(self, y, raw):
        x, grad = raw[:, 0], np.empty(raw.shape[0])
        high = x > -37
        with np.errstate(over="ignore"):
            e = np.exp(-x[high])
        grad[high] = ((1.0 - y[high]) - y[high] * e) / (1.0 + e)
        grad[~high] = np.exp(x[~high]) - y[~high]  # expit(x) = e^x below -37
        return grad[:, None]

    def init_raw(self, y, sample_weight):
        """The logit of the class prior (scikit-learn's DummyClassifier, clipped to [eps, 1 - eps])."""
        eps = np.finfo(np.float64).eps
        return logit(np.clip(class_prior(y, 2, sample_weight)[1:], eps, 1 - eps))

    def link(self, proba):
        """P(y = 1), (n,) -> (n, 1) raw scores: the logit."""
        return logit(proba).reshape(-1, 1)

    def proba(self, raw):
        proba = np.empty((raw.shape[0], 2))
        proba[:, 1] = expit(raw[:, 0])
        proba[:, 0] = 1 - proba[:, 1]
        return proba

    def leaf_value(self, neg_g, y, raw, sample_weight):
        """A leaf's Newton step: mean(y - p) / mean(p (1 - p)) (Friedman 2001, algorithm 5)."""
        prob = y - neg_g
        return _safe_divide(np.average(neg_g, weights=sample_weight),
                            np.average(prob * (1 - prob), weights=sample_weight))


class ExponentialLoss(HalfBinomialLoss):
    """AdaBoost's y e^-raw + (1 - y) e^raw with P(y=1) = expit(2 raw) (Friedman, Hastie & Tibshirani 2000):
    boosting with it is AdaBoost. One tree per stage; reported as is (``factor`` 1)."""

    factor = 1.0

    def loss(self, y, raw):
        e = np.exp(raw[:, 0])
        return y / e + (1 - y) * e

    def gradient(self, y, raw):
        e = np.exp(raw[:, 0])
        return (-y / e + (1 - y) * e)[:, None]

    def init_raw(self, y, sample_weight):
        """Half the logit of the class prior."""
        return 0.5 * super().init_raw(y, sample_weight)

    def link(self, proba):
        return 0.5 * super().link(proba)

    def proba(self, raw):
        return super().proba(2.0 * raw)

    def leaf_value(self, neg_g, y, raw, sample_weight):
        """The Newton step: the Hessian is e^-raw for y = 1 and e^raw for y = 0, i.e. +-neg_g."""
        return _safe_divide(np.average(neg_g, weights=sample_weight),
                            np.average(np.where(y == 0, -neg_g, neg_g), weights=sample_weight))


class HalfMultinomialLoss(HalfSquaredError):
    """log(sum_k e^raw_k) - raw_y; one tree per class and stage. scikit-learn reports it as is (``factor`` 1)."""

    factor, is_multiclass, updates_leaves = 1.0, True, True

    def __init__(self, n_classes):
        self.n_trees = self.n_classes = n_classes

    def loss(self, y, raw):
        top, _, total = softmax_terms(raw)
        return np.log(total) + top - raw[np.arange(raw.shape[0]), y.astype(np.intp)]

    def gradient(self, y, raw):
        _, exps, total = softmax_terms(raw)
        return exps / total[:, None] - (y[:, None] == np.arange(raw.shape[1]))

    def init_raw(self, y, sample_weight):
        """The symmetric multinomial logit of the class prior."""
        eps = np.finfo(np.float64).eps
        return self.link(np.clip(class_prior(y, self.n_classes, sample_weight), eps, 1 - eps)[None, :])[0]

    def link(self, proba):
        """(n, K) probabilities -> (n, K) raw scores: log(p_k) minus the mean of log(p) over the classes."""
        gmean = np.exp(np.mean(np.log(proba), axis=1))
        return np.log(proba / gmean[:, None])

    def proba(self, raw):
        exps = np.exp(raw - np.max(raw, axis=1)[:, None])
        return exps / np.sum(exps, axis=1)[:, None]

    def leaf_value(self, neg_g, y, raw, sample_weight):
        """Friedman's multiclass step, with his (K - 1) / K factor, kept by scikit-learn."""
        prob = y - neg_g
        numerator = np.average(neg_g, weights=sample_weight) * ((self.n_classes - 1) / self.n_classes)
        return _safe_divide(numerator, np.average(prob * (1 - prob), weights=sample_weight))


def class_prior(y, n_classes, sample_weight):
    counts = np.bincount(y.astype(np.intp), weights=sample_weight, minlength=n_classes)
    return counts / counts.sum()


def _safe_divide(numerator, denominator):
    """numerator / denominator, or 0 where the Hessian vanishes (a pure leaf: no step improves the loss)."""
    if abs(denominator) < 1e-150:
        return 0.0
    return float(numerator) / float(denominator)
