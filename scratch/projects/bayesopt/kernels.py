"""Covariance functions for Gaussian processes, composable with ``+`` and ``*``, with
scikit-learn's API and semantics (Rasmussen & Williams 2006, ch. 4).

A kernel is called as ``k(X, Y=None, eval_gradient=False)``: the matrix K (n_X, n_Y), and with
``eval_gradient`` (Y None) also dK/dtheta (n, n, n_dims), the gradient with respect to ``theta``,
the log of every non-fixed hyperparameter, so that the marginal likelihood is optimised in log
space. ``gradient_x(X, Y)`` gives dK[i, j]/dX[i] (n_X, n_Y, d) and ``diag_gradient_x(X)`` the
gradient of k(x, x): what the acquisition gradients need. Hyperparameters are listed in name
order, sums and products prefix theirs with ``k1__``/``k2__``, as scikit-learn does, so theta
and bounds line up entry for entry with its kernels. Twin of reference/projects/bayesopt/kernels.py
(scikit-learn's kernels, and the same formulas in torch ops for autograd).
"""
import copy
import inspect
import math
from collections import namedtuple

import numpy as np
from scipy.spatial.distance import cdist, pdist, squareform


class Hyperparameter(namedtuple("Hyperparameter", ("name", "value_type", "bounds", "n_elements", "fixed"))):
    """A kernel hyperparameter: its bounds (one (low, high) row per element) or "fixed"."""
    __slots__ = ()

    def __new__(cls, name, value_type, bounds, n_elements=1, fixed=None):
        if not (isinstance(bounds, str) and bounds == "fixed"):
            bounds = np.atleast_2d(np.asarray(bounds, dtype=np.float64))
            if bounds.shape[1:] != (2,) or not np.all(bounds[:, 0] < bounds[:, 1]) or not np.all(bounds > 0):
                raise ValueError(f"{name}_bounds: expected (low, high) with 0 < low < high (the log is taken), "
                                 f"got {bounds.tolist()}")
            if n_elements > 1 and bounds.shape[0] == 1:
                bounds = np.repeat(bounds, n_elements, 0)
            elif n_elements > 1 and bounds.shape[0] != n_elements:
                raise ValueError(f"{name}_bounds: expected 1 or {n_elements} rows, got {bounds.shape[0]}")
        if fixed is None:
            fixed = isinstance(bounds, str) and bounds == "fixed"
        return super().__new__(cls, name, value_type, bounds, n_elements, fixed)


def _positive(value, name):
    """``value`` as a float array, refused unless every entry is finite and > 0."""
    array = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(array)) or not np.all(array > 0):
        raise ValueError(f"{name}: expected positive finite values, got {array.tolist()}")
    return array


def _as_2d(X, name="X"):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{name}: expected a 2-d array (samples, features), got shape {X.shape}")
    return X


def _length_scale(X, length_scale):
    length_scale = np.squeeze(_positive(length_scale, "length_scale"))
    if length_scale.ndim == 1 and X.shape[1] != length_scale.shape[0]:
        raise ValueError(f"length_scale: expected {X.shape[1]} entries (one per feature of X), got {length_scale.shape[0]}")
    return length_scale


class Kernel:
    """Hyperparameter bookkeeping shared by every kernel: params, theta and bounds in log space."""

    def get_params(self, deep=True):
        params = {name: getattr(self, name) for name in inspect.signature(type(self).__init__).parameters if name != "self"}
        if deep:
            for name, value in list(params.items()):
                if isinstance(value, Kernel):
                    params.update({f"{name}__{key}": item for key, item in value.get_params().items()})
        return params

    def set_params(self, **params):
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in self.get_params(deep=False):
                raise ValueError(f"{key}: expected a parameter of {type(self).__name__}, got an unknown name")
            if sub:
                getattr(self, name).set_params(**{sub: value})
            else:
                setattr(self, name, value)
        return self

    def clone_with_theta(self, theta):
        clone = copy.deepcopy(self)  # not exp(log(value)): fixed values must survive bit for bit
        clone.theta = theta
        return clone

    @property
    def hyperparameters(self):
        return [getattr(self, name) for name in sorted(dir(type(self))) if name.startswith("hyperparameter_")]

    @property
    def n_dims(self):
        return self.theta.shape[0]

    @property
    def theta(self):
        values = [getattr(self, h.name) for h in self.hyperparameters if not h.fixed]
        return np.log(np.hstack(values).astype(np.float64)) if values else np.array([])

    @theta.setter
    def theta(self, theta):
        theta, i = np.asarray(theta, dtype=np.float64), 0
        params = {}
        for h in self.hyperparameters:
            if h.fixed:
                continue
            params[h.name] = np.exp(theta[i:i + h.n_elements]) if h.n_elements > 1 else np.exp(theta[i])
            i += h.n_elements
        if i != len(theta):
            raise ValueError(f"theta: expected {i} entries, got {len(theta)}")
        self.set_params(**params)

    @property
    def bounds(self):
        bounds = [h.bounds for h in self.hyperparameters if not h.fixed]
        return np.log(np.vstack(bounds)) if bounds else np.array([])

    def __add__(self, other):
        return Sum(self, other if isinstance(other, Kernel) else ConstantKernel(other))

    def __radd__(self, other):
        return Sum(ConstantKernel(other), self)

    def __mul__(self, other):
        return Product(self, other if isinstance(other, Kernel) else ConstantKernel(other))

    def __rmul__(self, other):
        return Product(ConstantKernel(other), self)

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_params(deep=False).items())})"

    def _no_gradient(self, Y, eval_gradient):
        if Y is not None and eval_gradient:
            raise ValueError("eval_gradient: expected False when Y is given (the gradient is of k(X, X)), got True")

    def _empty_gradient(self, n):
        return np.empty((n, n, 0))

    is_stationary = True
    requires_vector_input = True


class KernelOperator(Kernel):
    """A sum or product of two kernels: their hyperparameters are k1's, then k2's."""

    def __init__(self, k1, k2):
        self.k1, self.k2 = k1, k2

    @property
    def hyperparameters(self):
        return [Hyperparameter(f"{side}__{h.name}", h.value_type, h.bounds, h.n_elements, h.fixed)
                for side, kernel in (("k1", self.k1), ("k2", self.k2)) for h in kernel.hyperparameters]

    @property
    def theta(self):
        return np.append(self.k1.theta, self.k2.theta)

    @theta.setter
    def theta(self, theta):
        split = self.k1.n_dims
        self.k1.theta, self.k2.theta = theta[:split], theta[split:]

    @property
    def bounds(self):
        parts = [b for b in (self.k1.bounds, self.k2.bounds) if b.size]
        return np.vstack(parts) if parts else np.array([])

    @property
    def is_stationary(self):
        return self.k1.is_stationary and self.k2.is_stationary


class Sum(KernelOperator):
    def __call__(self, X, Y=None, eval_gradient=False):
        if eval_gradient:
            K1, dK1 = self.k1(X, Y, eval_gradient=True)
            K2, dK2 = self.k2(X, Y, eval_gradient=True)
            return K1 + K2, np.dstack((dK1, dK2))
        return self.k1(X, Y) + self.k2(X, Y)

    def diag(self, X):
        return self.k1.diag(X) + self.k2.diag(X)

    def gradient_x(self, X, Y):
        return self.k1.gradient_x(X, Y) + self.k2.gradient_x(X, Y)

    def diag_gradient_x(self, X):
        return self.k1.diag_gradient_x(X) + self.k2.diag_gradient_x(X)

    def __repr__(self):
        return f"{self.k1!r} + {self.k2!r}"


class Product(KernelOperator):
    def __call__(self, X, Y=None, eval_gradient=False):
        if eval_gradient:
            K1, dK1 = self.k1(X, Y, eval_gradient=True)
            K2, dK2 = self.k2(X, Y, eval_gradient=True)
            return K1 * K2, np.dstack((dK1 * K2[:, :, None], dK2 * K1[:, :, None]))  # product rule
        return self.k1(X, Y) * self.k2(X, Y)

    def diag(self, X):
        return self.k1.diag(X) * self.k2.diag(X)

    def gradient_x(self, X, Y):
        return self.k1.gradient_x(X, Y) * self.k2(X, Y)[..., None] + self.k1(X, Y)[..., None] * self.k2.gradient_x(X, Y)

    def diag_gradient_x(self, X):
        return self.k1.diag_gradient_x(X) * self.k2.diag(X)[:, None] + self.k1.diag(X)[:, None] * self.k2.diag_gradient_x(X)

    def __repr__(self):
        return f"{self.k1!r} * {self.k2!r}"


class StationaryKernel(Kernel):
    """k(x, y) depends on x - y only: k(x, x) is constant, so its gradient in x is zero."""

    def diag_gradient_x(self, X):
        return np.zeros_like(_as_2d(X))


class ConstantKernel(StationaryKernel):
    """k(x, y) = constant_value: scales another kernel in a product, shifts it in a sum."""

    def __init__(self, constant_value=1.0, constant_value_bounds=(1e-5, 1e5)):
        self.constant_value, self.constant_value_bounds = constant_value, constant_value_bounds

    @property
    def hyperparameter_constant_value(self):
        return Hyperparameter("constant_value", "numeric", self.constant_value_bounds)

    def __call__(self, X, Y=None, eval_gradient=False):
        self._no_gradient(Y, eval_gradient)
        X = _as_2d(X)
        Y = X if Y is None else _as_2d(Y, "Y")
        K = np.full((len(X), len(Y)), float(self.constant_value))
        if not eval_gradient:
            return K
        # d c / d log c = c
        return K, (self._empty_gradient(len(X)) if self.hyperparameter_constant_value.fixed else K[:, :, None].copy())

    def diag(self, X):
        return np.full(len(X), float(self.constant_value))

    def gradient_x(self, X, Y):
        return np.zeros((len(X), len(Y), _as_2d(X).shape[1]))


class WhiteKernel(StationaryKernel):
    """k(x, y) = noise_level if x is y (the same row of X) else 0: independent noise."""

    def __init__(self, noise_level=1.0, noise_level_bounds=(1e-5, 1e5)):
        self.noise_level, self.noise_level_bounds = noise_level, noise_level_bounds

    @property
    def hyperparameter_noise_level(self):
        return Hyperparameter("noise_level", "numeric", self.noise_level_bounds)

    def __call__(self, X, Y=None, eval_gradient=False):
        self._no_gradient(Y, eval_gradient)
        X = _as_2d(X)
        if Y is not None:  # distinct points never share noise, even where they coincide
            return np.zeros((len(X), len(_as_2d(Y, "Y"))))
        K = self.noise_level * np.eye(len(X))
        if not eval_gradient:
            return K
        return K, (self._empty_gradient(len(X)) if self.hyperparameter_noise_level.fixed else K[:, :, None].copy())

    def diag(self, X):
        return np.full(len(X), float(self.noise_level))

    def gradient_x(self, X, Y):
        return np.zeros((len(X), len(Y), _as_2d(X).shape[1]))


class _LengthScaleKernel(StationaryKernel):
    """A kernel of the scaled distance ||(x - y) / length_scale||: isotropic (a scalar) or ARD (one per feature)."""

    def __init__(self, length_scale=1.0, length_scale_bounds=(1e-5, 1e5)):
        self.length_scale, self.length_scale_bounds = length_scale, length_scale_bounds

    @property
    def anisotropic(self):
        return np.iterable(self.length_scale) and len(self.length_scale) > 1

    @property
    def hyperparameter_length_scale(self):
        n = len(self.length_scale) if self.anisotropic else 1
        return Hyperparameter("length_scale", "numeric", self.length_scale_bounds, n)

    def diag(self, X):
        return np.ones(len(X))

    def _scaled_distances(self, X, Y, metric):
        """(X, length_scale, distances (n_X, n_Y)): pdist when Y is None, as scikit-learn does,
        so the two agree to the last bit."""
        X = _as_2d(X)
        length_scale = _length_scale(X, self.length_scale)
        if Y is None:
            return X, length_scale, squareform(pdist(X / length_scale, metric=metric))
        return X, length_scale, cdist(X / length_scale, _as_2d(Y, "Y") / length_scale, metric=metric)

    def _per_feature(self, X, length_scale):
        """D[i, j, k] = (X[i, k] - X[j, k])^2 / l_k^2 (n, n, d): each feature's share of d^2."""
        return (X[:, None, :] - X[None, :, :]) ** 2 / length_scale ** 2

    def _difference(self, X, Y):
        """(x - y) / l^2 (n_X, n_Y, d): the gradient in x of d^2 / 2."""
        X, Y = _as_2d(X), _as_2d(Y, "Y")
        return (X[:, None, :] - Y[None, :, :]) / _length_scale(X, self.length_scale) ** 2


class RBF(_LengthScaleKernel):
    """k = exp(-d^2 / 2), d = ||(x - y) / length_scale||: the squared-exponential kernel."""

    def __call__(self, X, Y=None, eval_gradient=False):
        self._no_gradient(Y, eval_gradient)
        X, length_scale, sq = self._scaled_distances(X, Y, "sqeuclidean")
        K = np.exp(-0.5 * sq)
        if not eval_gradient:
            return K
        if self.hyperparameter_length_scale.fixed:
            return K, self._empty_gradient(len(X))
        if not self.anisotropic:  # dK / dlog l = K d^2
            return K, (K * sq)[:, :, None]
        return K, self._per_feature(X, length_scale) * K[..., None]

    def gradient_x(self, X, Y):
        return -self(X, Y)[..., None] * self._difference(X, Y)


class Matern(_LengthScaleKernel):
    """Matérn kernel of smoothness nu in {0.5, 1.5, 2.5} (once, twice differentiable sample paths
    for 1.5 and 2.5; nu = 0.5 is the exponential kernel)."""

    def __init__(self, length_scale=1.0, length_scale_bounds=(1e-5, 1e5), nu=1.5):
        super().__init__(length_scale, length_scale_bounds)
        self.nu = nu

    def _check_nu(self):
        if self.nu not in (0.5, 1.5, 2.5):
            raise ValueError(f"nu: expected 0.5, 1.5 or 2.5, got {self.nu!r}")

    def __call__(self, X, Y=None, eval_gradient=False):
        self._no_gradient(Y, eval_gradient)
        self._check_nu()
        X, length_scale, d = self._scaled_distances(X, Y, "euclidean")
        if self.nu == 0.5:
            K = np.exp(-d)
        elif self.nu == 1.5:
            K = (1.0 + math.sqrt(3) * d) * np.exp(-math.sqrt(3) * d)
        else:
            K = (1.0 + math.sqrt(5) * d + 5.0 / 3.0 * d ** 2) * np.exp(-math.sqrt(5) * d)
        if not eval_gradient:
            return K
        if self.hyperparameter_length_scale.fixed:
            return K, self._empty_gradient(len(X))
        # dK/dlog l_k = -dK/dd * d(d)/dlog l_k, with d(d)/dlog l_k = -D_k / d
        D = self._per_feature(X, length_scale) if self.anisotropic else (d ** 2)[:, :, None]
        r = np.sqrt(D.sum(-1))[..., None]
        if self.nu == 0.5:
            dK = K[..., None] * np.divide(D, r, out=np.zeros_like(D), where=r != 0)
        elif self.nu == 1.5:
            dK = 3 * D * np.exp(-math.sqrt(3) * r)
        else:
            dK = 5.0 / 3.0 * D * (1 + math.sqrt(5) * r) * np.exp(-math.sqrt(5) * r)
        return K, dK

    def gradient_x(self, X, Y):
        """dK/dx = dK/dd * (x - y) / (l^2 d); for nu > 0.5 the 1/d cancels, so it is smooth at x = y."""
        self._check_nu()
        _, _, d = self._scaled_distances(X, Y, "euclidean")
        diff = self._difference(X, Y)
        if self.nu == 0.5:
            return -np.divide(np.exp(-d), d, out=np.zeros_like(d), where=d != 0)[..., None] * diff
        if self.nu == 1.5:
            return -3 * np.exp(-math.sqrt(3) * d)[..., None] * diff
        return -5.0 / 3.0 * ((1 + math.sqrt(5) * d) * np.exp(-math.sqrt(5) * d))[..., None] * diff

    def __repr__(self):
        return f"Matern(length_scale={self.length_scale!r}, nu={self.nu})"


class RationalQuadratic(StationaryKernel):
    """k = (1 + d^2 / (2 alpha l^2))^-alpha: a scale mixture of RBFs (isotropic only)."""

    def __init__(self, length_scale=1.0, alpha=1.0, length_scale_bounds=(1e-5, 1e5), alpha_bounds=(1e-5, 1e5)):
        self.length_scale, self.alpha = length_scale, alpha
        self.length_scale_bounds, self.alpha_bounds = length_scale_bounds, alpha_bounds

    @property
    def hyperparameter_length_scale(self):
        return Hyperparameter("length_scale", "numeric", self.length_scale_bounds)

    @property
    def hyperparameter_alpha(self):
        return Hyperparameter("alpha", "numeric", self.alpha_bounds)

    def _base(self, X, Y):
        if np.iterable(self.length_scale):
            raise ValueError(f"length_scale: expected a scalar (RationalQuadratic is isotropic), got {self.length_scale!r}")
        l, a = float(_positive(self.length_scale, "length_scale")), float(_positive(self.alpha, "alpha"))
        X = _as_2d(X)
        sq = squareform(pdist(X, metric="sqeuclidean")) if Y is None else cdist(X, _as_2d(Y, "Y"), metric="sqeuclidean")
        return X, l, a, sq, 1 + sq / (2 * a * l ** 2)

    def __call__(self, X, Y=None, eval_gradient=False):
        self._no_gradient(Y, eval_gradient)
        X, l, a, sq, base = self._base(X, Y)
        K = base ** -a
        if not eval_gradient:
            return K
        n = len(X)
        dl = self._empty_gradient(n) if self.hyperparameter_length_scale.fixed else (sq * K / (l ** 2 * base))[..., None]
        da = (self._empty_gradient(n) if self.hyperparameter_alpha.fixed
              else (K * (-a * np.log(base) + sq / (2 * l ** 2 * base)))[..., None])
        return K, np.dstack((da, dl))  # alpha first: name order

    def diag(self, X):
        return np.ones(len(X))

    def gradient_x(self, X, Y):
        X, l, a, _sq, base = self._base(X, Y)
        return -(base ** (-a - 1))[..., None] * (X[:, None, :] - _as_2d(Y, "Y")[None, :, :]) / l ** 2


class ExpSineSquared(StationaryKernel):
    """k = exp(-2 sin^2(pi d / periodicity) / l^2), d = ||x - y||: periodic functions."""

    def __init__(self, length_scale=1.0, periodicity=1.0, length_scale_bounds=(1e-5, 1e5), periodicity_bounds=(1e-5, 1e5)):
        self.length_scale, self.periodicity = length_scale, periodicity
        self.length_scale_bounds, self.periodicity_bounds = length_scale_bounds, periodicity_bounds

    @property
    def hyperparameter_length_scale(self):
        return Hyperparameter("length_scale", "numeric", self.length_scale_bounds)

    @property
    def hyperparameter_periodicity(self):
        return Hyperparameter("periodicity", "numeric", self.periodicity_bounds)

    def _arg(self, X, Y):
        l, p = float(_positive(self.length_scale, "length_scale")), float(_positive(self.periodicity, "periodicity"))
        X = _as_2d(X)
        d = squareform(pdist(X, metric="euclidean")) if Y is None else cdist(X, _as_2d(Y, "Y"), metric="euclidean")
        return X, l, p, d, np.pi * d / p

    def __call__(self, X, Y=None, eval_gradient=False):
        self._no_gradient(Y, eval_gradient)
        X, l, _p, _d, arg = self._arg(X, Y)
        sin = np.sin(arg)
        K = np.exp(-2 * (sin / l) ** 2)
        if not eval_gradient:
            return K
        n = len(X)
        dl = self._empty_gradient(n) if self.hyperparameter_length_scale.fixed else (4 / l ** 2 * sin ** 2 * K)[..., None]
        dp = (self._empty_gradient(n) if self.hyperparameter_periodicity.fixed
              else (4 * arg / l ** 2 * np.cos(arg) * sin * K)[..., None])
        return K, np.dstack((dl, dp))

    def diag(self, X):
        return np.ones(len(X))

    def gradient_x(self, X, Y):
        """dK/dd = -K 2 pi sin(2 arg) / (p l^2), times (x - y) / d; the ratio sin(2 arg)/d is finite at 0."""
        X, l, p, d, arg = self._arg(X, Y)
        K = np.exp(-2 * (np.sin(arg) / l) ** 2)
        ratio = np.divide(np.sin(2 * arg), d, out=np.full_like(d, 2 * np.pi / p), where=d != 0)
        return -(K * 2 * np.pi * ratio / (p * l ** 2))[..., None] * (X[:, None, :] - _as_2d(Y, "Y")[None, :, :])


class DotProduct(Kernel):
    """k = sigma_0^2 + x . y: Bayesian linear regression (not stationary)."""

    is_stationary = False

    def __init__(self, sigma_0=1.0, sigma_0_bounds=(1e-5, 1e5)):
        self.sigma_0, self.sigma_0_bounds = sigma_0, sigma_0_bounds

    @property
    def hyperparameter_sigma_0(self):
        return Hyperparameter("sigma_0", "numeric", self.sigma_0_bounds)

    def __call__(self, X, Y=None, eval_gradient=False):
        self._no_gradient(Y, eval_gradient)
        X = _as_2d(X)
        K = X @ (X if Y is None else _as_2d(Y, "Y")).T + self.sigma_0 ** 2
        if not eval_gradient:
            return K
        if self.hyperparameter_sigma_0.fixed:
            return K, self._empty_gradient(len(X))
        return K, np.full((len(X), len(X), 1), 2 * self.sigma_0 ** 2)  # d sigma^2 / d log sigma

    def diag(self, X):
        X = _as_2d(X)
        return np.einsum("ij,ij->i", X, X) + self.sigma_0 ** 2

    def gradient_x(self, X, Y):
        return np.broadcast_to(_as_2d(Y, "Y")[None, :, :], (len(X), len(Y), _as_2d(X).shape[1])).copy()

    def diag_gradient_x(self, X):
        return 2 * _as_2d(X)
