"""Differentially private SGD for a client (Abadi et al., 2016) and its Renyi-DP accountant, by Opacus.

- Per-sample gradients: Opacus' GradSampleModule hooks torch's autograd and leaves each sample's
  gradient in ``param.grad_sample``.
- ``dp_sgd_step``: Opacus' DPOptimizer clips each sample's gradient to norm C, sums, adds Gaussian
  noise of std sigma C (from torch's generator), divides by the expected batch size, and steps.
- ``RDPAccountant``: Opacus' accountant (the sampled Gaussian mechanism's Renyi divergence,
  Balle et al.'s conversion to (epsilon, delta)).

Twin of scratch/projects/federated/privacy.py, where each of these is written out by hand.
"""
import torch
from opacus import GradSampleModule
from opacus.accountants import RDPAccountant  # the twin's accountant, used as it is
from opacus.optimizers import DPOptimizer
from torch import nn

DEFAULT_ALPHAS = RDPAccountant.DEFAULT_ALPHAS


def per_sample_gradients(model, X, y):
    """{parameter name: (N, *shape)} gradients of each sample's cross-entropy, and the summed loss."""
    sampled = GradSampleModule(model, loss_reduction="sum")
    loss = nn.CrossEntropyLoss(reduction="sum")(sampled(torch.from_numpy(X)), torch.from_numpy(y))
    loss.backward()
    grads = {name: param.grad_sample.detach().numpy().copy() for name, param in model.named_parameters()}
    sampled._close()  # take the hooks off: the model is torch's own again
    model.zero_grad()
    return grads, loss.item()


def dp_sgd_step(model, X, y, lr, max_grad_norm, noise_multiplier, expected_batch_size, generator=None):
    """One DP-SGD step on the batch (X, y) through Opacus' DPOptimizer; returns the batch's mean loss."""
    sampled = GradSampleModule(model, loss_reduction="mean")
    optimizer = DPOptimizer(torch.optim.SGD(model.parameters(), lr=lr), noise_multiplier=noise_multiplier,
                            max_grad_norm=max_grad_norm, expected_batch_size=expected_batch_size, loss_reduction="mean",
                            generator=generator)
    loss = nn.CrossEntropyLoss()(sampled(torch.from_numpy(X)), torch.from_numpy(y))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    sampled._close()
    return loss.item()

