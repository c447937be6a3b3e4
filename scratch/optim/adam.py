"""Adam (Kingma & Ba, 2015) with AMSGrad and optional decoupled weight decay: torch's _single_tensor_adam."""
import numpy as np

from .optimizer import Optimizer, check_range, lerp_


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _validate(self, group):
        super()._validate(group)
        check_range(self, "eps", group["eps"], 0.0)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{type(self).__name__}: betas must be a pair (beta1, beta2), got {betas!r}")
        check_range(self, "betas[0]", betas[0], 0.0, 1.0)
        check_range(self, "betas[1]", betas[1], 0.0, 1.0)
        check_range(self, "weight_decay", group["weight_decay"], 0.0)

    def _state_names(self, group):
        return ("step", "exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if group["amsgrad"] else ())

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = np.zeros((), np.float32)  # torch keeps the step count as a float32 scalar
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        lr, (beta1, beta2), eps = float(group["lr"]), map(float, group["betas"]), float(group["eps"])
        state["step"] += 1
        step = float(state["step"])
        if group["decoupled_weight_decay"] and group["weight_decay"] != 0:
            param *= 1 - lr * float(group["weight_decay"])
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        lerp_(exp_avg, grad, 1 - beta1)
        scratch = np.multiply(grad, 1 - beta2, out=np.empty_like(grad))  # reused below: few temporaries
        scratch *= grad
        exp_avg_sq *= beta2
        exp_avg_sq += scratch
        bias_correction1 = 1 - beta1 ** step
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        if group["amsgrad"]:
            # normalise by the largest second moment seen so far
            second = np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
        else:
            second = exp_avg_sq
        denom = np.sqrt(second, out=scratch)
        denom /= bias_correction2_sqrt
        denom += eps
        step_size = lr / bias_correction1
        update = np.multiply(exp_avg, step_size, out=np.empty_like(exp_avg))
        param -= np.divide(update, denom, out=update)  # torch's addcdiv: (value * m) / denom
