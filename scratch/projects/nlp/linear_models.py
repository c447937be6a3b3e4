"""Project 3's baselines on TF-IDF features: multinomial logistic regression (softmax
regression with an L2 penalty) and multinomial naive Bayes (McCallum & Nigam, 1998).

Both follow scikit-learn's conventions and objective, so they can be checked against it:
``LogisticRegression(C)`` minimises ``C * sum_i CE_i + ||coef||^2 / 2``, which is
``mean_i CE_i + lambda / 2 ||coef||^2`` with ``lambda = 1 / (C n)``; the intercept is not
penalised. It is fitted full-batch by L-BFGS (scipy.optimize, as scikit-learn's default
solver), on a gradient written by hand here: forward ``X @ coef.T + intercept``, backward
``grad.T @ X``. X may be a dense array or a scipy.sparse matrix (TF-IDF is mostly zeros).
Twin of reference/projects/nlp/linear_models.py (scikit-learn's estimators).

Input follows scikit-learn's conventions, and its own estimator checks run on both classes
(parity_tests/test_sklearn_estimator_checks.py): X is converted as ``check_array`` converts it
(``check_features``, in scratch/validation.py with the other shared checks), y as a classifier's targets (``check_target``: a column vector is raveled
with a DataConversionWarning, a continuous target is an 'Unknown label type'), and anything
that cannot be converted is refused naming the argument, what was expected and what came.
"""
import warnings

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax, logsumexp

from scratch.plumbing import check_bool, check_int, check_real
from scratch.text import NotFittedError
from scratch.validation import ConvergenceWarning, DataConversionWarning, check_features, check_labels, check_sample_weight, check_target  # noqa: F401


def _require_fit(estimator, X):
    if not hasattr(estimator, "classes_"):
        raise NotFittedError(f"This {type(estimator).__name__} instance is not fitted yet: call fit before predicting")
    return check_features(X, n_features=estimator.n_features_in_, estimator=type(estimator).__name__)


class _Classifier:
    """predict / predict_proba / score from ``predict_log_proba``, as every probabilistic classifier."""

    def predict_proba(self, X):
        return np.exp(self.predict_log_proba(X))

    def predict(self, X):
        index = np.argmax(self.predict_log_proba(X), axis=1)  # checks the fit first
        return self.classes_[index]

    def score(self, X, y):
        """The mean accuracy on (X, y)."""
        y_hat = self.predict(X)
        return float(np.mean(y_hat == check_target(y, len(y_hat))))


class LogisticRegression(_Classifier):
    """Softmax regression over K classes (always multinomial: K weight rows, also for K = 2,
    where scikit-learn fits one binomial row instead), L2-penalised, fitted by L-BFGS.

    Learned: ``coef_`` (K, n_features), ``intercept_`` (K,) summing to 0, ``classes_``, ``n_iter_``.
    """

    def __init__(self, C=1.0, tol=1e-4, max_iter=100, fit_intercept=True):
        self.C, self.tol, self.max_iter, self.fit_intercept = C, tol, max_iter, fit_intercept

    def forward(self, X):
        return X @ self.coef_.T + self.intercept_  # (N, F) @ (F, K) -> (N, K) logits

    def backward(self, grad):
        """grad (N, K) of the logits -> (dcoef (K, F), dintercept (K,)); X's own gradient is not needed."""
        dcoef = np.asarray((self._X.T @ grad).T)  # (K, N) @ (N, F) -> (K, F), X sparse or dense
        return dcoef, grad.sum(axis=0) if self.fit_intercept else np.zeros(grad.shape[1])

    def loss_and_grad(self, theta, X, Y, sample_weight=None):
        """The objective mean CE + ||coef||^2 / (2 C n) at flat parameters ``theta`` and its gradient. With
        ``sample_weight`` w, as scikit-learn: sum_i w_i CE_i / sum(w) + ||coef||^2 / (2 C sum(w))."""
        n, num_classes = Y.shape
        self._unpack(theta, num_classes, X.shape[1])
        self._X = X
        logits = self.forward(X)
        log_p = log_softmax(logits, axis=1)
        if sample_weight is None:
            penalty = 1.0 / (self.C * n)
            loss = -np.sum(Y * log_p) / n + 0.5 * penalty * np.sum(self.coef_ ** 2)
            dcoef, dintercept = self.backward((np.exp(log_p) - Y) / n)  # softmax + CE backward, mean over N
        else:
            total = np.sum(sample_weight)
            penalty = 1.0 / (self.C * total)
            loss = -np.sum(sample_weight[:, None] * Y * log_p) / total + 0.5 * penalty * np.sum(self.coef_ ** 2)
            dcoef, dintercept = self.backward(sample_weight[:, None] * (np.exp(log_p) - Y) / total)
        return loss, np.concatenate([(dcoef + penalty * self.coef_).ravel(), dintercept])

    def _unpack(self, theta, num_classes, n_features):
        self.coef_ = theta[:num_classes * n_features].reshape(num_classes, n_features)
        self.intercept_ = theta[num_classes * n_features:]

    def fit(self, X, y, sample_weight=None):
        """Fit on X (N, F), any array-like or scipy.sparse matrix (see ``check_features``), and y (N,)
        class labels (see ``check_target``), each row weighted by ``sample_weight`` if given; returns
        self. Warns (ConvergenceWarning) when L-BFGS stops before converging, as scikit-learn does."""
        check_real(self.C, "C", 0, np.inf, low_open=True, expected="a positive number")
        tol = check_real(self.tol, "tol", 0, np.inf, expected="a number >= 0")
        max_iter = check_int(self.max_iter, "max_iter", 0)
        check_bool(self.fit_intercept, "fit_intercept")
        X = check_features(X, estimator=type(self).__name__).astype(np.float64, copy=False)
        classes, index = check_labels(X, y)
        if len(classes) < 2:
            raise ValueError(f"y: expected at least 2 classes, got 1 class ({classes.tolist()[0]!r})")
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
        Y = np.eye(len(classes))[index]  # (N, K) one-hot
        theta = np.zeros(len(classes) * (X.shape[1] + 1))
        # scikit-learn's lbfgs settings: gradient tolerance tol, function tolerance 64 eps
        result = minimize(self.loss_and_grad, theta, args=(X, Y, sample_weight), jac=True, method="L-BFGS-B",
                          options={"maxiter": max_iter, "gtol": tol, "ftol": 64 * np.finfo(float).eps})
        if result.status == 1:
            warnings.warn(f"lbfgs failed to converge after {result.nit} iteration(s): {result.message}. Increase "
                          f"the number of iterations (max_iter={max_iter}) or scale the data.", ConvergenceWarning,
                          stacklevel=2)
        self._unpack(result.x, len(classes), X.shape[1])
        self.classes_, self.n_features_in_, self.n_iter_, self._X = classes, X.shape[1], np.array([result.nit]), None
        return self

    def decision_function(self, X):
        """The logits (N, K); for two classes (N,), the logit of ``classes_[1]`` less that of
        ``classes_[0]``: scikit-learn's binary convention (positive means ``classes_[1]``)."""
        logits = self.forward(_require_fit(self, X))
        return logits[:, 1] - logits[:, 0] if logits.shape[1] == 2 else logits

    def predict_log_proba(self, X):
        return log_softmax(self.forward(_require_fit(self, X)), axis=1)


class MultinomialNB(_Classifier):
    """Naive Bayes with multinomial feature likelihoods and additive (Laplace/Lidstone) smoothing.

    Learned: ``class_count_`` (K,), ``feature_count_`` (K, F), ``feature_log_prob_`` (K, F) =
    log P(feature | class), ``class_log_prior_`` (K,), ``classes_``, as scikit-learn's.

    ``alpha`` is used as given, never clipped: scikit-learn's current behaviour (its default
    ``force_alpha=True``; only with ``force_alpha=False`` does it raise an alpha below 1e-10 to
    1e-10 with a warning). ``alpha = 0`` is the maximum-likelihood estimate: a feature a class
    never showed in training has probability 0 under that class, so a document holding it is
    impossible for that class; where a document does not hold it the term x log p is 0 (p^0 = 1),
    which scikit-learn also gets on sparse X but turns into NaN on dense X (0 * -inf). A
    document impossible under every class, or a class without any feature count at alpha = 0,
    is refused. As scikit-learn, fit refuses negative X and predict does not check the sign;
    ``class_prior`` need not sum to 1 (it only shifts every log probability by one constant)
    but must be non-negative with a positive sum.
    """

    def __init__(self, alpha=1.0, fit_prior=True, class_prior=None):
        self.alpha, self.fit_prior, self.class_prior = alpha, fit_prior, class_prior

    def fit(self, X, y):
        """Fit on X (N, F) non-negative counts or frequencies, any array-like or scipy.sparse matrix
        (see ``check_features``), and y (N,) class labels (see ``check_target``); returns self."""
        alpha = check_real(self.alpha, "alpha", 0, np.inf, high_open=True, expected="a finite number >= 0")
        check_bool(self.fit_prior, "fit_prior")
        X = check_features(X, non_negative=True, estimator=type(self).__name__)
        classes, index = check_labels(X, y)
        Y = np.eye(len(classes))[index]  # (N, K) one-hot
        feature_count = np.asarray((X.T @ Y).T)  # (K, F): each class's summed features
        smoothed = feature_count + alpha
        totals = smoothed.sum(axis=1, keepdims=True)
        if not totals.all():
            empty = classes.tolist()[int(np.argmin(totals))]
            raise ValueError(f"alpha: expected a positive alpha, as class {empty!r} has no feature counts (all its "
                             f"rows of X are 0), got {self.alpha!r}")
        class_count = Y.sum(axis=0)
        class_log_prior = self._log_prior(class_count)  # checks class_prior before anything is set
        self.classes_, self.n_features_in_ = classes, X.shape[1]
        self.class_count_, self.feature_count_, self.class_log_prior_ = class_count, feature_count, class_log_prior
        with np.errstate(divide="ignore"):  # log 0 = -inf: alpha = 0 and a feature the class never showed
            self.feature_log_prob_ = np.log(smoothed) - np.log(totals)
        return self

    def _log_prior(self, class_count):
        num_classes = len(class_count)
        if self.class_prior is not None:
            prior = np.asarray(self.class_prior)
            if prior.shape != (num_classes,) or prior.dtype.kind not in "iuf":
                raise ValueError(f"class_prior: expected {num_classes} probabilities, got shape {prior.shape} "
                                 f"dtype {prior.dtype}")
            if not (np.isfinite(prior).all() and (prior >= 0).all() and prior.sum() > 0):
                raise ValueError(f"class_prior: expected finite non-negative probabilities with a positive sum, "
                                 f"got {prior.tolist()}")
            with np.errstate(divide="ignore"):  # a prior of 0 rules its class out
                return np.log(prior.astype(np.float64))
        if self.fit_prior:
            return np.log(class_count) - np.log(class_count.sum())
        return np.full(num_classes, -np.log(num_classes))

    def predict_joint_log_proba(self, X):
        """log P(x, class) up to the multinomial coefficient: X @ feature_log_prob_.T + class_log_prior_,
        with x log p = 0 where x = 0 (see the class docstring)."""
        X = _require_fit(self, X)
        unseen = np.isneginf(self.feature_log_prob_)  # (K, F): only with alpha = 0
        joint = np.asarray(X @ np.where(unseen, 0.0, self.feature_log_prob_).T) + self.class_log_prior_  # (N, K)
        if unseen.any():
            holds = np.asarray((X != 0).astype(np.float64) @ unseen.T.astype(np.float64))  # (N, K) unseen features held
            joint[holds > 0] = -np.inf
        return joint

    def predict_log_proba(self, X):
        joint = self.predict_joint_log_proba(X)
        evidence = logsumexp(joint, axis=1, keepdims=True)  # (N, 1) log P(x)
        impossible = np.isneginf(evidence[:, 0])
        if impossible.any():
            raise ValueError(f"X: rows {np.flatnonzero(impossible)[:10].tolist()} have probability 0 under every "
                             f"class: each class gives one of their features probability 0 (a feature it never showed in "
                             f"training, at alpha=0); expected documents some class can generate: fit with alpha > 0")
        return joint - evidence
