"""Gradient utilities, as in torch.nn.utils."""
import numpy as np

from .module import Parameter


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale gradients in place so that their joint norm is at most ``max_norm``; return that norm.

    The norm is taken over all gradients together, as if concatenated into one vector;
    ``norm_type`` may be ``inf`` (the largest absolute entry).
    """
    parameters = [parameters] if isinstance(parameters, Parameter) else list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return np.float32(0.0)
    dtype = np.result_type(*grads)
    norms = np.array([np.linalg.norm(g.ravel(), norm_type) for g in grads], dtype=dtype)
    total_norm = dtype.type(np.linalg.norm(norms, norm_type))
    if error_if_nonfinite and not np.isfinite(total_norm):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
                           "so it cannot be clipped. To scale the gradients by it anyway, set error_if_nonfinite=False")
    # torch multiplies even when the coefficient clamps to 1, so NaN and inf propagate the same way
    clip_coef = min(float(max_norm) / (total_norm + dtype.type(1e-6)), dtype.type(1.0))
    for g in grads:
        g *= g.dtype.type(clip_coef)
    return total_norm
