"""Project 15's Gaussian-process regression, the reference: scikit-learn's
``GaussianProcessRegressor``, with the log marginal likelihood and the posterior moments written
once more in torch ops and differentiated by autograd (``log_marginal_likelihood_autograd``,
``posterior_moments``), the independent check of scratch's hand-written gradients.
Twin of scratch/projects/bayesopt/gp.py.
"""
import math

import numpy as np
import torch
from sklearn import gaussian_process

from reference.projects.bayesopt.kernels import kernel_matrix


def log_marginal_likelihood(kernel, theta, X, y, alpha):
    """log p(y | X, theta) in torch: -y^T (K + alpha I)^-1 y / 2 - log det(K + alpha I) / 2 - n/2 log 2 pi,
    summed over the columns of y (n,) or (n, k)."""
    K = kernel_matrix(kernel, theta, X) + torch.diag(torch.as_tensor(alpha, dtype=X.dtype).expand(len(X)))
    L = torch.linalg.cholesky(K)
    y = y[:, None] if y.ndim == 1 else y
    a = torch.cholesky_solve(y, L)
    return (-0.5 * (y * a).sum() - y.shape[1] * torch.log(torch.diagonal(L)).sum()
            - y.shape[1] * len(X) / 2 * math.log(2 * math.pi))


class GaussianProcessRegressor(gaussian_process.GaussianProcessRegressor):
    def __init__(self, kernel=None, *, alpha=1e-10, optimizer="fmin_l_bfgs_b", n_restarts_optimizer=0,
                 normalize_y=False, copy_X_train=True, n_targets=None, random_state=None):
        super().__init__(kernel=kernel, alpha=alpha, optimizer=optimizer, n_restarts_optimizer=n_restarts_optimizer,
                         normalize_y=normalize_y, copy_X_train=copy_X_train, n_targets=n_targets, random_state=random_state)

    def _tensors(self):
        return torch.from_numpy(self.X_train_), torch.from_numpy(np.asarray(self.y_train_, dtype=np.float64))

    def log_marginal_likelihood_autograd(self, theta):
        """(LML, dLML/dtheta) at ``theta`` by torch autograd, the twin of log_marginal_likelihood(theta, True)."""
        X, y = self._tensors()
        theta = torch.tensor(np.asarray(theta, dtype=np.float64), requires_grad=True)
        alpha = torch.as_tensor(np.asarray(self.alpha, dtype=np.float64))
        lml = log_marginal_likelihood(self.kernel_, theta, X, y, alpha)
        if not lml.requires_grad:  # every hyperparameter fixed
            return lml.item(), np.zeros(0)
        lml.backward()
        return lml.item(), theta.grad.numpy()

    def posterior(self, X):
        """Posterior mean and variance (m,) at torch X (m, d), in torch ops (differentiable in X)."""
        X_train, _ = self._tensors()
        theta = torch.from_numpy(self.kernel_.theta)
        K_trans = kernel_matrix(self.kernel_, theta, X, X_train)  # (m, n)
        L, alpha_ = torch.from_numpy(self.L_), torch.from_numpy(self.alpha_)
        V = torch.linalg.solve_triangular(L, K_trans.T, upper=False)  # (n, m)
        prior = torch.diagonal(kernel_matrix(self.kernel_, theta, X))
        scale, shift = float(np.squeeze(self._y_train_std)), float(np.squeeze(self._y_train_mean))
        return scale * (K_trans @ alpha_) + shift, scale ** 2 * (prior - (V * V).sum(0))

    def posterior_moments(self, X, eval_gradient=False):
        """Twin of scratch's: mean, var (m,) and their gradients in X (m, d) by autograd (each output
        depends on its own row of X only, so the gradient of the sum is each row's gradient)."""
        X = torch.tensor(np.asarray(X, dtype=np.float64), requires_grad=eval_gradient)
        mean, var = self.posterior(X)
        if not eval_gradient:
            return mean.detach().numpy(), var.detach().numpy()
        dmean, dvar = (_gradient(output.sum(), X) for output in (mean, var))
        return mean.detach().numpy(), var.detach().numpy(), dmean, dvar


def _gradient(output, X):
    """d output / d X by autograd; zeros where X does not enter (a constant kernel)."""
    if not output.requires_grad:
        return np.zeros(tuple(X.shape))
    grad, = torch.autograd.grad(output, X, retain_graph=True, allow_unused=True)
    return np.zeros(tuple(X.shape)) if grad is None else grad.numpy()
