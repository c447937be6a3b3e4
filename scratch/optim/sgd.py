"""SGD with momentum, dampening, Nesterov and weight decay: torch's _single_tensor_sgd."""
from .optimizer import Optimizer, check_range


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        super()._validate(group)
        check_range(self, "momentum", group["momentum"], 0.0)
        check_range(self, "dampening", group["dampening"], float("-inf"))
        check_range(self, "weight_decay", group["weight_decay"], 0.0)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: nesterov=True requires momentum > 0 and dampening == 0, got momentum="
                             f"{group['momentum']!r}, dampening={group['dampening']!r}")

    def _state_names(self, group):
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    def _update(self, param, grad, state, group):
        momentum = float(group["momentum"])
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.copy()  # the first step takes the gradient undamped
            else:
                buf *= momentum
                buf += (1 - float(group["dampening"])) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        param -= float(group["lr"]) * grad
