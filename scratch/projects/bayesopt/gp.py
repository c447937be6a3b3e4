"""Gaussian-process regression (Rasmussen & Williams 2006, algorithms 2.1 and 5.1) with
scikit-learn's ``GaussianProcessRegressor`` API and semantics: ``alpha`` added to the diagonal,
``normalize_y``, hyperparameters fitted by L-BFGS-B on the log marginal likelihood in log space
from the kernel's theta and then ``n_restarts_optimizer`` uniform draws inside the bounds,
``predict(return_std, return_cov)``, ``sample_y``.

The log marginal likelihood and its gradient are written by hand from the Cholesky factor L of
K + alpha I (alpha_ = K^-1 y):

    log p(y | X, theta) = -y^T alpha_ / 2 - sum log diag L - n/2 log 2 pi
    d/dtheta_j          = tr((alpha_ alpha_^T - K^-1) dK/dtheta_j) / 2

``posterior_moments`` adds what scikit-learn does not have: the posterior mean and variance at
X with their gradients in X, which the acquisition functions chain through.
Twin of reference/projects/bayesopt/gp.py (scikit-learn's estimator; the same likelihood and
posterior in torch ops, differentiated by autograd).
"""
import copy
import numbers
import warnings

import numpy as np
import scipy.optimize
import scipy.sparse
from scipy.linalg import LinAlgError, cho_solve, cholesky, solve_triangular

from scratch.projects.bayesopt.kernels import RBF, ConstantKernel, Kernel
from scratch.validation import check_features


class NotFittedError(ValueError, AttributeError):
    """The estimator is used before ``fit``."""


class ConvergenceWarning(UserWarning):
    """A fitted hyperparameter sits on its bound, or L-BFGS-B stopped early."""


def check_random_state(seed):
    """None, an int or a RandomState -> a RandomState (an int draws the very numbers scikit-learn's
    would); a numpy Generator is used as it is."""
    if seed is None:
        return np.random.mtrand._rand
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return np.random.RandomState(seed)
    if isinstance(seed, (np.random.RandomState, np.random.Generator)):
        return seed
    raise ValueError(f"random_state: expected None, an int, a RandomState or a Generator, got {seed!r}")


def _finite_2d(X, name, n_features=None):
    """X as scikit-learn's check_array converts it (project 3's ``check_features``, whose messages carry
    scikit-learn's wording), dense only, then float64 (the GP computes in float64, as scikit-learn's does)."""
    if scipy.sparse.issparse(X):
        raise TypeError(f"{name}: expected a dense array, got a {type(X).__name__} (sparse input is not supported: "
                        f"A sparse matrix was passed, but dense data is required; use X.toarray())")
    return check_features(X, name, n_features, estimator="GaussianProcessRegressor").astype(np.float64)


def _targets(y, n_samples):
    """y as (n,) or (n, n_targets) finite float64, refused with scikit-learn's wording otherwise."""
    if y is None:
        raise ValueError("y: expected targets, got None (this estimator requires y to be passed, but the target y is None)")
    given = np.asarray(y)
    try:  # numbers held in an object array are numbers, as scikit-learn reads them
        y = given.astype(np.float64) if given.dtype.kind in "biufO" else None
    except (TypeError, ValueError):
        y = None
    if y is None:
        raise ValueError(f"y: expected numeric targets, got dtype {given.dtype} (Unknown label type: not numbers)")
    if y.ndim not in (1, 2) or len(y) != n_samples:
        raise ValueError(f"y: expected {n_samples} targets (n,) or (n, n_targets), got shape {y.shape} (y should be a 1d array)")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"y: expected finite targets, got {np.sum(~np.isfinite(y))} NaN or inf (Input y contains NaN or infinity)")
    return y


def _prior_kernel():
    return ConstantKernel(1.0, constant_value_bounds="fixed") * RBF(1.0, length_scale_bounds="fixed")


class GaussianProcessRegressor:
    def __init__(self, kernel=None, *, alpha=1e-10, optimizer="fmin_l_bfgs_b", n_restarts_optimizer=0,
                 normalize_y=False, copy_X_train=True, n_targets=None, random_state=None):
        self.kernel, self.alpha, self.optimizer = kernel, alpha, optimizer
        self.n_restarts_optimizer, self.normalize_y, self.copy_X_train = n_restarts_optimizer, normalize_y, copy_X_train
        self.n_targets, self.random_state = n_targets, random_state

    def _check_params(self):
        if self.kernel is not None and not isinstance(self.kernel, Kernel):
            raise TypeError(f"kernel: expected a kernel from scratch.projects.bayesopt.kernels or None, got {self.kernel!r}")
        if self.optimizer not in ("fmin_l_bfgs_b", None) and not callable(self.optimizer):
            raise ValueError(f"optimizer: expected 'fmin_l_bfgs_b', None or a callable, got {self.optimizer!r}")
        if isinstance(self.n_restarts_optimizer, bool) or not isinstance(self.n_restarts_optimizer, numbers.Integral) \
                or self.n_restarts_optimizer < 0:
            raise ValueError(f"n_restarts_optimizer: expected an int >= 0, got {self.n_restarts_optimizer!r}")
        alpha = np.asarray(self.alpha, dtype=np.float64)
        if alpha.ndim > 1 or not np.all(np.isfinite(alpha)) or np.any(alpha < 0):
            raise ValueError(f"alpha: expected a non-negative float or 1-d array, got {self.alpha!r}")
        return alpha

    def fit(self, X, y):
        alpha = self._check_params()
        # scikit-learn fits C() * RBF() by default; its prior (predict before fit) holds both fixed at 1
        self.kernel_ = ConstantKernel() * RBF() if self.kernel is None else copy.deepcopy(self.kernel)
        self._rng = check_random_state(self.random_state)
        X = _finite_2d(X, "X")
        y = _targets(y, len(X))
        n_targets = y.shape[1] if y.ndim == 2 else 1
        if self.n_targets is not None and n_targets != self.n_targets:
            raise ValueError(f"n_targets: expected {self.n_targets} targets in y, got {n_targets}")
        self.n_features_in_ = X.shape[1]
        if self.normalize_y:
            self._y_train_mean = np.mean(y, axis=0)
            std = np.atleast_1d(np.std(y, axis=0))
            std[std < 10 * np.finfo(std.dtype).eps] = 1.0  # a constant target: leave its scale alone
            self._y_train_std = std if y.ndim == 2 else std[0]
            y = (y - self._y_train_mean) / self._y_train_std
        else:
            shape = (y.shape[1],) if y.ndim == 2 else 1
            self._y_train_mean, self._y_train_std = np.zeros(shape), np.ones(shape)
        if alpha.ndim == 1 and alpha.shape[0] != y.shape[0]:
            if alpha.shape[0] != 1:
                raise ValueError(f"alpha: expected a scalar or {y.shape[0]} entries (one per sample), got {alpha.shape[0]}")
            alpha = alpha[0]
        self._alpha = alpha
        self.X_train_ = np.copy(X) if self.copy_X_train else X
        self.y_train_ = np.copy(y) if self.copy_X_train else y

        if self.optimizer is not None and self.kernel_.n_dims > 0:
            def objective(theta):
                lml, grad = self.log_marginal_likelihood(theta, eval_gradient=True, clone_kernel=False)
                return -lml, -grad

            optima = [self._constrained_optimization(objective, self.kernel_.theta, self.kernel_.bounds)]
            bounds = self.kernel_.bounds
            if self.n_restarts_optimizer > 0 and not np.all(np.isfinite(bounds)):
                raise ValueError("n_restarts_optimizer: restarts are drawn inside the bounds, which must all be finite")
            for _ in range(self.n_restarts_optimizer):
                optima.append(self._constrained_optimization(objective, self._rng.uniform(bounds[:, 0], bounds[:, 1]), bounds))
            best = int(np.argmin([value for _, value in optima]))
            self.kernel_.theta = optima[best][0]
            self._warn_on_bounds()
            self.log_marginal_likelihood_value_ = -optima[best][1]
        else:
            self.log_marginal_likelihood_value_ = self.log_marginal_likelihood(self.kernel_.theta, clone_kernel=False)

        K = self.kernel_(self.X_train_)
        K[np.diag_indices_from(K)] += self._alpha
        self.L_ = self._cholesky(K, "fit")
        self.alpha_ = cho_solve((self.L_, True), self.y_train_, check_finite=False)
        return self

    def _cholesky(self, K, where):
        try:
            return cholesky(K, lower=True, check_finite=False)
        except LinAlgError as error:
            raise LinAlgError(f"alpha: expected a kernel matrix K + alpha I that is positive definite in {where}, got "
                              f"one that is not (kernel {self.kernel_!r}); increase alpha or add a WhiteKernel") from error

    def _constrained_optimization(self, objective, theta, bounds):
        if self.optimizer == "fmin_l_bfgs_b":
            result = scipy.optimize.minimize(objective, theta, method="L-BFGS-B", jac=True, bounds=bounds)
            if result.status != 0:
                warnings.warn(f"L-BFGS-B stopped before converging: {result.message}", ConvergenceWarning)
            return result.x, result.fun
        return self.optimizer(objective, theta, bounds=bounds)

    def _warn_on_bounds(self):
        close = np.isclose(self.kernel_.bounds, np.atleast_2d(self.kernel_.theta).T)
        names = [f"{h.name}[{i}]" for h in self.kernel_.hyperparameters if not h.fixed for i in range(h.n_elements)]
        for name, (low, high) in zip(names, close):
            if low or high:
                warnings.warn(f"{name}: the fitted value is close to its {'lower' if low else 'upper'} bound; "
                              f"widen the bound and fit again", ConvergenceWarning)

    def log_marginal_likelihood(self, theta=None, eval_gradient=False, clone_kernel=True):
        """log p(y | X, theta) at log-hyperparameters ``theta`` (and its gradient in theta);
        -inf (and a zero gradient) where K + alpha I is not positive definite."""
        if theta is None:
            if eval_gradient:
                raise ValueError("theta: expected log-hyperparameters when eval_gradient=True, got None")
            return self.log_marginal_likelihood_value_
        theta = np.asarray(theta, dtype=np.float64)
        kernel = self.kernel_.clone_with_theta(theta) if clone_kernel else self.kernel_
        if not clone_kernel:
            kernel.theta = theta
        if eval_gradient:
            K, dK = kernel(self.X_train_, eval_gradient=True)  # (n, n), (n, n, n_dims)
        else:
            K = kernel(self.X_train_)
        K[np.diag_indices_from(K)] += self._alpha
        try:
            L = cholesky(K, lower=True, check_finite=False)
        except LinAlgError:
            return (-np.inf, np.zeros_like(theta)) if eval_gradient else -np.inf
        y = self.y_train_[:, None] if self.y_train_.ndim == 1 else self.y_train_  # (n, k)
        alpha = cho_solve((L, True), y, check_finite=False)  # (n, k)
        lml = -0.5 * np.einsum("ik,ik->k", y, alpha) - np.log(np.diag(L)).sum() - len(K) / 2 * np.log(2 * np.pi)
        if not eval_gradient:
            return lml.sum()
        inner = np.einsum("ik,jk->ijk", alpha, alpha) - cho_solve((L, True), np.eye(len(K)), check_finite=False)[..., None]
        grad = 0.5 * np.einsum("ijl,jik->kl", inner, dK)  # (n_dims, k): tr(inner dK) / 2 per target
        return lml.sum(), grad.sum(axis=-1)

    def _check_fitted(self):
        if not hasattr(self, "X_train_"):
            raise NotFittedError("This GaussianProcessRegressor instance is not fitted yet; call 'fit' first.")

    def predict(self, X, return_std=False, return_cov=False):
        if return_std and return_cov:
            raise RuntimeError("return_std, return_cov: expected at most one of them True, got both")
        X = _finite_2d(X, "X", getattr(self, "n_features_in_", None))
        if not hasattr(self, "X_train_"):  # the prior
            kernel = _prior_kernel() if self.kernel is None else self.kernel
            n_targets = self.n_targets or 1
            mean = np.zeros((len(X), n_targets)).squeeze()
            if return_cov:
                cov = kernel(X)
                return mean, (cov if n_targets == 1 else np.repeat(cov[..., None], n_targets, axis=-1))
            if return_std:
                std = np.sqrt(kernel.diag(X))
                return mean, (std if n_targets == 1 else np.repeat(std[..., None], n_targets, axis=-1))
            return mean
        K_trans = self.kernel_(X, self.X_train_)  # (m, n)
        mean = self._y_train_std * (K_trans @ self.alpha_) + self._y_train_mean
        if mean.ndim > 1 and mean.shape[1] == 1:
            mean = mean[:, 0]
        V = solve_triangular(self.L_, K_trans.T, lower=True, check_finite=False)  # (n, m)
        if return_cov:
            cov = self.kernel_(X) - V.T @ V
            cov = np.outer(cov, self._y_train_std ** 2).reshape(*cov.shape, -1)
            return mean, (cov[..., 0] if cov.shape[2] == 1 else cov)
        if return_std:
            var = self.kernel_.diag(X).copy() - np.einsum("ij,ij->j", V, V)
            if np.any(var < 0):
                warnings.warn("Predicted variances smaller than 0. Setting those variances to 0.")
                var[var < 0] = 0.0
            var = np.outer(var, self._y_train_std ** 2).reshape(*var.shape, -1)
            return mean, np.sqrt(var[:, 0] if var.shape[1] == 1 else var)
        return mean

    def sample_y(self, X, n_samples=1, random_state=0):
        """Draws of the posterior (prior before fit) at X: (m, n_samples), or (m, n_targets, n_samples)."""
        rng = check_random_state(random_state)
        mean, cov = self.predict(X, return_cov=True)
        if mean.ndim == 1:
            return rng.multivariate_normal(mean, cov, n_samples).T
        return np.stack([rng.multivariate_normal(mean[:, t], cov[..., t], n_samples).T for t in range(mean.shape[1])], axis=1)

    def posterior_moments(self, X, eval_gradient=False):
        """Posterior mean and variance at X (m,) in y's units, and with ``eval_gradient`` their
        gradients in X (m, d): dmean = dk(x, X)/dx alpha_, dvar = dk(x, x)/dx - 2 dk(x, X)/dx K^-1 k(X, x).
        Single-target fits only; the variance is not clipped (the acquisitions clamp it)."""
        self._check_fitted()
        if self.alpha_.ndim != 1:
            raise ValueError(f"y: expected one target for posterior_moments, got {self.alpha_.shape[1]}")
        X = _finite_2d(X, "X", self.n_features_in_)
        K_trans = self.kernel_(X, self.X_train_)  # (m, n)
        V = solve_triangular(self.L_, K_trans.T, lower=True, check_finite=False)  # (n, m)
        scale = float(np.squeeze(self._y_train_std))
        mean = scale * (K_trans @ self.alpha_) + float(np.squeeze(self._y_train_mean))
        var = scale ** 2 * (self.kernel_.diag(X) - np.einsum("ij,ij->j", V, V))
        if not eval_gradient:
            return mean, var
        dK_trans = self.kernel_.gradient_x(X, self.X_train_)  # (m, n, d)
        Kinv_k = solve_triangular(self.L_.T, V, lower=False, check_finite=False)  # (n, m): K^-1 k(X_train, x)
        dmean = scale * np.einsum("mnd,n->md", dK_trans, self.alpha_)
        dvar = scale ** 2 * (self.kernel_.diag_gradient_x(X) - 2 * np.einsum("mnd,nm->md", dK_trans, Kinv_k))
        return mean, var, dmean, dvar
