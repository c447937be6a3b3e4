"""Project 3's baselines on TF-IDF features: multinomial logistic regression (softmax
regression with an L2 penalty) and multinomial naive Bayes (McCallum & Nigam, 1998).

Both follow scikit-learn's conventions and objective, so they can be checked against it:
``LogisticRegression(C)`` minimises ``C * sum_i CE_i + ||coef||^2 / 2``, which is
``mean_i CE_i + lambda / 2 ||coef||^2`` with ``lambda = 1 / (C n)``; the intercept is not
penalised. It is fitted full-batch by L-BFGS (scipy.optimize, as scikit-learn's default
solver), on a gradient written by hand here: forward ``X @ coef.T + intercept``, backward
``grad.T @ X``. X may be a dense array or a scipy.sparse matrix (TF-IDF is mostly zeros).
Twin of reference/projects/nlp/linear_models.py (scikit-learn's estimators).
"""
import numpy as np
import scipy.sparse
from scipy.optimize import minimize
from scipy.special import log_softmax, logsumexp

from scratch.text import NotFittedError


def check_features(X, name="X", n_features=None, non_negative=False):
    """A 2-d float array or scipy.sparse matrix of samples x features, finite (CSR if sparse)."""
    sparse = scipy.sparse.issparse(X)
    if not (sparse or isinstance(X, np.ndarray)) or X.ndim != 2 or not np.issubdtype(X.dtype, np.floating):
        raise ValueError(f"{name}: expected a 2-d float array or scipy.sparse matrix (samples, features), "
                         f"got {type(X).__name__} {getattr(X, 'shape', '')} {getattr(X, 'dtype', '')}")
    X = X.tocsr() if sparse else X
    values = X.data if sparse else X
    if not np.isfinite(values).all():
        raise ValueError(f"{name}: contains NaN or inf")
    if non_negative and values.size and values.min() < 0:
        raise ValueError(f"{name}: expected non-negative counts or frequencies, got a minimum of {values.min()}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{name}: expected {n_features} features (as in fit), got {X.shape[1]}")
    return X


def check_labels(X, y):
    """y (n_samples,) class labels -> (classes_, class index of each sample)."""
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y: expected {X.shape[0]} labels (one per row of X), got shape {y.shape}")
    if X.shape[0] == 0:
        raise ValueError("X: expected at least one sample, got 0")
    return np.unique(y, return_inverse=True)


def _require_fit(estimator, X):
    if not hasattr(estimator, "classes_"):
        raise NotFittedError(f"This {type(estimator).__name__} instance is not fitted yet: call fit before predicting")
    return check_features(X, n_features=estimator.n_features_in_)


class _Classifier:
    """predict / predict_proba / score from ``predict_log_proba``, as every probabilistic classifier."""

    def predict_proba(self, X):
        return np.exp(self.predict_log_proba(X))

    def predict(self, X):
        index = np.argmax(self.predict_log_proba(X), axis=1)  # checks the fit first
        return self.classes_[index]

    def score(self, X, y):
        return float(np.mean(self.predict(X) == np.asarray(y)))


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

    def loss_and_grad(self, theta, X, Y):
        """The objective mean CE + ||coef||^2 / (2 C n) at flat parameters ``theta`` and its gradient."""
        n, num_classes = Y.shape
        self._unpack(theta, num_classes, X.shape[1])
        self._X = X
        logits = self.forward(X)
        log_p = log_softmax(logits, axis=1)
        penalty = 1.0 / (self.C * n)
        loss = -np.sum(Y * log_p) / n + 0.5 * penalty * np.sum(self.coef_ ** 2)
        dcoef, dintercept = self.backward((np.exp(log_p) - Y) / n)  # softmax + CE backward, mean over N
        return loss, np.concatenate([(dcoef + penalty * self.coef_).ravel(), dintercept])

    def _unpack(self, theta, num_classes, n_features):
        self.coef_ = theta[:num_classes * n_features].reshape(num_classes, n_features)
        self.intercept_ = theta[num_classes * n_features:]

    def fit(self, X, y):
        if not self.C > 0:
            raise ValueError(f"C: expected a positive number, got {self.C!r}")
        X = check_features(X).astype(np.float64)
        self.classes_, index = check_labels(X, y)
        if len(self.classes_) < 2:
            raise ValueError(f"y: expected at least 2 classes, got {len(self.classes_)}")
        Y = np.eye(len(self.classes_))[index]  # (N, K) one-hot
        theta = np.zeros(len(self.classes_) * (X.shape[1] + 1))
        # scikit-learn's lbfgs settings: gradient tolerance tol, function tolerance 64 eps
        result = minimize(self.loss_and_grad, theta, args=(X, Y), jac=True, method="L-BFGS-B",
                          options={"maxiter": self.max_iter, "gtol": self.tol, "ftol": 64 * np.finfo(float).eps})
        self._unpack(result.x, len(self.classes_), X.shape[1])
        self.n_features_in_, self.n_iter_, self._X = X.shape[1], np.array([result.nit]), None
        return self

    def decision_function(self, X):
        return self.forward(_require_fit(self, X))

    def predict_log_proba(self, X):
        return log_softmax(self.decision_function(X), axis=1)


class MultinomialNB(_Classifier):
    """Naive Bayes with multinomial feature likelihoods and additive (Laplace/Lidstone) smoothing.

    Learned: ``class_count_`` (K,), ``feature_count_`` (K, F), ``feature_log_prob_`` (K, F) =
    log P(feature | class), ``class_log_prior_`` (K,), ``classes_``, as scikit-learn's.
    """

    def __init__(self, alpha=1.0, fit_prior=True, class_prior=None):
        self.alpha, self.fit_prior, self.class_prior = alpha, fit_prior, class_prior

    def fit(self, X, y):
        if not np.isscalar(self.alpha) or not self.alpha >= 0:
            raise ValueError(f"alpha: expected a non-negative number, got {self.alpha!r}")
        X = check_features(X, non_negative=True)
        self.classes_, index = check_labels(X, y)
        Y = np.eye(len(self.classes_))[index]  # (N, K) one-hot
        self.n_features_in_ = X.shape[1]
        self.class_count_ = Y.sum(axis=0)
        self.feature_count_ = np.asarray((X.T @ Y).T)  # (K, F): each class's summed features
        smoothed = self.feature_count_ + self.alpha
        self.feature_log_prob_ = np.log(smoothed) - np.log(smoothed.sum(axis=1, keepdims=True))
        self.class_log_prior_ = self._log_prior()
        return self

    def _log_prior(self):
        num_classes = len(self.classes_)
        if self.class_prior is not None:
            prior = np.asarray(self.class_prior, dtype=np.float64)
            if prior.shape != (num_classes,):
                raise ValueError(f"class_prior: expected {num_classes} probabilities, got shape {prior.shape}")
            return np.log(prior)
        if self.fit_prior:
            return np.log(self.class_count_) - np.log(self.class_count_.sum())
        return np.full(num_classes, -np.log(num_classes))

    def predict_joint_log_proba(self, X):
        """log P(x, class) up to the multinomial coefficient: X @ feature_log_prob_.T + class_log_prior_."""
        X = _require_fit(self, X)
        return np.asarray(X @ self.feature_log_prob_.T) + self.class_log_prior_  # (N, K)

    def predict_log_proba(self, X):
        joint = self.predict_joint_log_proba(X)
        return joint - logsumexp(joint, axis=1, keepdims=True)
