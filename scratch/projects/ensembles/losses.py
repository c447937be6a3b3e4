"""The losses that gradient boosting descends, with their links (never twinned; the boosting twins
compare through them): half squared error (identity link), half binomial deviance (logit link) and
half multinomial deviance (softmax link with the symmetric multinomial logit).

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


class HalfSquaredError:
    """0.5 (raw - y)^2; gradient raw - y. ``factor`` 2: scikit-learn reports twice it (the squared error)."""

    n_trees, factor, is_multiclass = 1, 2.0, False

    def loss(self, y, raw):
        d = raw[:, 0] - y
        return 0.5 * d * d

    def gradient(self, y, raw):  # (n, 1)
        return raw - y[:, None]

    def init_raw(self, y, sample_weight):
        """The best constant: the weighted mean of y (scikit-learn's DummyRegressor)."""
        return np.array([np.average(y, axis=0, weights=sample_weight)])

    def mean(self, y, raw, sample_weight):
        return self.factor * np.average(self.loss(y, raw), weights=sample_weight)


class HalfBinomialLoss(HalfSquaredError):
    """log(1 + e^raw) - y raw, the logistic loss of P(y=1) = expit(raw); one tree per stage."""

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

    def proba(self, raw):
        proba = np.empty((raw.shape[0], 2))
        proba[:, 1] = expit(raw[:, 0])
        proba[:, 0] = 1 - proba[:, 1]
        return proba

    def newton_step(self, neg_g, y, sample_weight):
        """A leaf's Newton step: mean(y - p) / mean(p (1 - p)) (Friedman 2001, algorithm 5)."""
        prob = y - neg_g
        return _safe_divide(np.average(neg_g, weights=sample_weight),
                            np.average(prob * (1 - prob), weights=sample_weight))


class HalfMultinomialLoss(HalfSquaredError):
    """log(sum_k e^raw_k) - raw_y; one tree per class and stage. scikit-learn reports it as is (``factor`` 1)."""

    factor, is_multiclass = 1.0, True

    def __init__(self, n_classes):
        self.n_trees = self.n_classes = n_classes

    def loss(self, y, raw):
        top, _, total = softmax_terms(raw)
        return np.log(total) + top - raw[np.arange(raw.shape[0]), y.astype(np.intp)]

    def gradient(self, y, raw):
        _, exps, total = softmax_terms(raw)
        return exps / total[:, None] - (y[:, None] == np.arange(raw.shape[1]))

    def init_raw(self, y, sample_weight):
        """The symmetric multinomial logit of the class prior: log(p_k) minus the mean of log(p)."""
        eps = np.finfo(np.float64).eps
        prior = np.clip(class_prior(y, self.n_classes, sample_weight), eps, 1 - eps)[None, :]
        gmean = np.exp(np.mean(np.log(prior), axis=1))
        return np.log(prior / gmean[:, None])[0]

    def proba(self, raw):
        exps = np.exp(raw - np.max(raw, axis=1)[:, None])
        return exps / np.sum(exps, axis=1)[:, None]

    def newton_step(self, neg_g, y, sample_weight):
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
