"""Project 15's acquisition functions, the reference: BoTorch's analytic ``ExpectedImprovement``,
``LogExpectedImprovement``, ``ProbabilityOfImprovement`` and ``UpperConfidenceBound``, run on the
posterior of a fitted GP written in torch ops (reference/projects/bayesopt/gp.py), so the values
are BoTorch's own and the gradients in x come from autograd. The same names and constructor
arguments as scratch's; the twin of scratch/projects/bayesopt/acquisition.py.
"""
import numpy as np
import torch
from botorch.acquisition import analytic
from botorch.models.model import Model
from botorch.posteriors.gpytorch import GPyTorchPosterior
from gpytorch.distributions import MultivariateNormal


class PosteriorModel(Model):
    """A BoTorch model whose posterior at X (b, q, d) is a fitted reference GP's, in torch ops."""

    def __init__(self, gp):
        super().__init__()
        self.gp = gp

    @property
    def num_outputs(self):
        return 1

    def posterior(self, X, output_indices=None, observation_noise=False, posterior_transform=None, **kwargs):
        batch, q, d = X.shape
        mean, var = self.gp.posterior(X.reshape(-1, d))  # q = 1 for the analytic acquisitions
        mean, var = mean.reshape(batch, q), var.reshape(batch, q)
        return GPyTorchPosterior(MultivariateNormal(mean, torch.diag_embed(var)))


class _BoTorchAcquisition:
    botorch_class = None

    def __init__(self, model, best_f, maximize=True):
        self.model, self.best_f, self.maximize = model, best_f, maximize
        self.acquisition = self.botorch_class(PosteriorModel(model), best_f, maximize=maximize)

    def __call__(self, X):
        return self.value_and_gradient(X, eval_gradient=False)

    def value_and_gradient(self, X, eval_gradient=True):
        X = torch.tensor(np.asarray(X, dtype=np.float64)[:, None, :], requires_grad=eval_gradient)  # (m, q=1, d)
        value = self.acquisition(X)
        if not eval_gradient:
            return value.detach().numpy()
        if not value.requires_grad:  # a constant kernel: the posterior does not depend on x
            return value.detach().numpy(), np.zeros((X.shape[0], X.shape[2]))
        grad, = torch.autograd.grad(value.sum(), X)
        return value.detach().numpy(), grad[:, 0, :].numpy()


class ExpectedImprovement(_BoTorchAcquisition):
    botorch_class = analytic.ExpectedImprovement


class LogExpectedImprovement(_BoTorchAcquisition):
    botorch_class = analytic.LogExpectedImprovement


class ProbabilityOfImprovement(_BoTorchAcquisition):
    botorch_class = analytic.ProbabilityOfImprovement


class UpperConfidenceBound(_BoTorchAcquisition):
    """BoTorch's UCB takes beta and adds sqrt(beta) sigma, as scratch's does."""
    botorch_class = analytic.UpperConfidenceBound

    def __init__(self, model, beta, maximize=True):
        self.model, self.beta, self.maximize = model, beta, maximize
        self.acquisition = analytic.UpperConfidenceBound(PosteriorModel(model), beta, maximize=maximize)


ACQUISITIONS = {"ei": ExpectedImprovement, "log_ei": LogExpectedImprovement, "pi": ProbabilityOfImprovement,
                "ucb": UpperConfidenceBound}
