"""RMSprop (Hinton's lecture 6e), centered and with momentum: torch's _single_tensor_rmsprop."""
import numpy as np

from .optimizer import Optimizer, check_range, lerp_


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
                 maximize=False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        super()._validate(group)
        check_range(self, "eps", group["eps"], 0.0)
        check_range(self, "momentum", group["momentum"], 0.0)
        check_range(self, "weight_decay", group["weight_decay"], 0.0)
        check_range(self, "alpha", group["alpha"], 0.0)

    def _state_names(self, group):
        return (("step", "square_avg") + (("momentum_buffer",) if group["momentum"] > 0 else ())
                + (("grad_avg",) if group["centered"] else ()))

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = np.zeros((), np.float32)
            state["square_avg"] = np.zeros_like(param)
            if group["momentum"] > 0:
                state["momentum_buffer"] = np.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(param)
        lr, alpha, eps, momentum = (float(group[k]) for k in ("lr", "alpha", "eps", "momentum"))
        state["step"] += 1
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            # variance instead of the raw second moment: subtract the running mean's square
            grad_avg = lerp_(state["grad_avg"], grad, 1 - alpha)
            avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += eps
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += grad / avg
            param -= lr * buf
        else:
            param -= lr * (grad / avg)
