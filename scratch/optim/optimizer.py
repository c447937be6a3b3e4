"""Optimizer: torch.optim.Optimizer's bookkeeping (param_groups, per-parameter state, state_dict).

Subclasses give their ``defaults``, a ``_validate`` of one group's options and an
``_update`` of one parameter; the base class walks the groups, skips parameters
without a gradient, applies ``maximize`` and coupled (L2) weight decay the way every
torch single-tensor rule starts, and keeps the state keyed by parameter.
"""
import numbers
from collections.abc import Mapping

import numpy as np

from ..nn.module import Parameter, _describe, _state_array

# Keys a group may hold besides its options: set by torch's schedulers and named parameters.
_GROUP_BOOKKEEPING = ("params", "param_names", "initial_lr")


class Optimizer:
    def __init__(self, params, defaults):
        if isinstance(params, Parameter):
            raise TypeError("params argument given to the optimizer should be an iterable of Parameters or dicts, "
                            "but got a Parameter")
        self.defaults = dict(defaults)
        self.state = {}  # Parameter -> dict of ndarrays
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Append a group; options it leaves out take the optimizer's defaults, as in torch."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {_describe(param_group)}")
        group = dict(param_group)
        if "params" not in group:
            raise ValueError("param_group: missing the 'params' key")
        params = group["params"]
        if isinstance(params, Parameter):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be an ordered collection (a list), not a set")
        params = list(params)
        if params and all(isinstance(p, tuple) for p in params):
            group["param_names"] = [name for name, _ in params]
            params = [p for _, p in params]
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(f"{type(self).__name__} can only optimize Parameters, got {_describe(p)}")
        if not params:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list")
        unknown = sorted(set(group) - set(self.defaults) - set(_GROUP_BOOKKEEPING))
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown option(s) {unknown} in a parameter group; "
                             f"expected some of {sorted(self.defaults)}")
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        group["params"] = params
        self._validate(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or seen & {id(p) for p in params}:
            raise ValueError("some parameters appear more than once in the optimizer's parameter groups")
        self.param_groups.append(group)

    def _validate(self, group):
        """Raise a ValueError naming any option of ``group`` out of its range."""
        check_range(self, "lr", group["lr"], 0.0)

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad[...] = 0

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given.

        Every gradient and every parameter's state is checked before any parameter moves, so a
        refused step changes nothing."""
        loss = None if closure is None else closure()
        for number, group in enumerate(self.param_groups):
            for index, p in enumerate(group["params"]):
                if p.grad is not None:
                    _checked_grad(p)
                    self._check_state(p, self.state.get(p, {}), f"param_groups[{number}]['params'][{index}]")
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"] != 0 and not group.get("decoupled_weight_decay", False):
                    grad = grad + float(group["weight_decay"]) * p.data
                grad = np.asarray(grad)  # arithmetic on a 0-d array returns a scalar, which has no buffer to update
                state = self.state.get(p, {})
                self._update(p.data, grad, state, group)
                if state:
                    self.state[p] = state
        return loss

    def _update(self, param, grad, state, group):
        """Update ``param`` (an ndarray, in place) from ``grad`` and this parameter's ``state``."""
        raise NotImplementedError(f"{type(self).__name__} has no update rule")

    def _state_names(self, group):
        """The names of the per-parameter state that ``_update`` keeps under ``group``'s options."""
        raise NotImplementedError(f"{type(self).__name__} does not name its state")

    def _check_state(self, p, state, where):
        """The state of ``p`` holds this optimizer's arrays, shaped and typed as ``p`` now is: state
        never follows a parameter whose ``.data`` was replaced by one of another shape or dtype."""
        for name, value in state.items():
            if value.ndim == 0:  # a step count
                continue
            if value.shape != p.shape or value.dtype != p.dtype:
                error = ValueError if value.shape != p.shape else TypeError
                raise error(f"{type(self).__name__}: {where}: expected the shape {value.shape} and dtype {value.dtype} "
                            f"its state {name!r} was made for, got a parameter of shape {p.shape} and dtype {p.dtype}; "
                            f"the state cannot follow a changed parameter: build a new optimizer or drop its state "
                            f"(del optimizer.state[param])")

    def state_dict(self):
        """torch's layout: {"state": {index: {name: ndarray}}, "param_groups": [{..., "params": [index]}]}.

        Parameters are numbered in group order; arrays are copies.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: {key: np.array(value, copy=True) for key, value in s.items()}
                 for p, s in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore groups' options and per-parameter state; shapes, dtypes and state names must match.

        A None entry (torch's SGD keeps ``momentum_buffer: None`` without momentum) means no state."""
        saved_groups = _check_optimizer_state(state_dict)
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, the optimizer has "
                             f"{len(self.param_groups)}")
        groups, owners = [], {}  # owners: saved index -> (the parameter, its restored group)
        for number, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"loaded state dict's parameter group {number} has {len(saved['params'])} "
                                 f"parameters, the optimizer's has {len(group['params'])}")
            options = set(saved) - set(_GROUP_BOOKKEEPING)
            if options != set(self.defaults):
                raise ValueError(f"state_dict['param_groups'][{number}]: expected the options {sorted(self.defaults)} of "
                                 f"{type(self).__name__}, got {sorted(options)}")
            restored = dict(saved, params=group["params"])
            self._validate(restored)
            groups.append(restored)
            owners.update((key, (p, restored)) for key, p in zip(saved["params"], group["params"]))
        state = {}
        for key, values in state_dict["state"].items():
            if key not in owners:
                raise ValueError(f"loaded state dict has state for parameter {key!r}, which no group holds")
            p, group = owners[key]
            arrays = {name: _state_array(value, f"state_dict['state'][{key!r}][{name!r}]")
                      for name, value in values.items() if value is not None}
            expected = set(self._state_names(group))
            if arrays and set(arrays) != expected:
                raise ValueError(f"state_dict['state'][{key!r}]: expected the state {sorted(expected)} that "
                                 f"{type(self).__name__} keeps with these options, got {sorted(arrays)}")
            for name, value in arrays.items():
                if value.ndim and (value.shape != p.shape or value.dtype != p.dtype):
                    raise ValueError(f"state {name!r} of parameter {key}: expected shape {p.shape} and dtype "
                                     f"{p.dtype}, got {value.shape} and {value.dtype}")
            if arrays:
                state[p] = {name: np.array(value, copy=True) for name, value in arrays.items()}
        self.param_groups, self.state = groups, state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for number, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {number}")
            lines += [f"    {key}: {value}" for key, value in sorted(group.items()) if key != "params"]
        return "\n".join(lines + [")"])


def check_range(optimizer, name, value, low, high=None):
    """``low <= value`` (and ``value < high`` when given) or a ValueError naming the option."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{type(optimizer).__name__}: {name} must be a real number, got {_describe(value)}")
    if not low <= value or (high is not None and not value < high):
        interval = f"[{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"{type(optimizer).__name__}: invalid {name} {value!r}, expected {interval}")


def lerp_(start, end, weight):
    """start += weight * (end - start) in place, with torch's two-sided formula for accuracy."""
    diff = end - start
    if abs(weight) < 0.5:
        diff *= weight
        start += diff
    else:
        start[...] = end - diff * (1 - weight)
    return start


def _check_optimizer_state(state_dict):
    """The saved param_groups of an optimizer state_dict, once its layout is torch's."""
    layout = "a mapping {'state': {index: {name: array}}, 'param_groups': [{..., 'params': [index]}]}"
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict: expected {layout} (what Optimizer.state_dict() returns), got {_describe(state_dict)}")
    missing = [key for key in ("state", "param_groups") if key not in state_dict]
    if missing:
        raise ValueError(f"state_dict: expected {layout}, got one without {missing} (keys {sorted(map(str, state_dict))})")
    if not isinstance(state_dict["state"], Mapping) or not all(isinstance(s, Mapping) for s in state_dict["state"].values()):
        raise TypeError(f"state_dict['state']: expected a mapping of parameter index -> {{name: array}}, "
                        f"got {_describe(state_dict['state'])}")
    groups = state_dict["param_groups"]
    if not isinstance(groups, (list, tuple)) or not all(isinstance(g, Mapping) and isinstance(g.get("params"), (list, tuple))
                                                       for g in groups):
        raise TypeError(f"state_dict['param_groups']: expected a list of dicts, each with a 'params' list, "
                        f"got {_describe(groups)}")
    return groups


def _checked_grad(p):
    grad = p.grad
    if not isinstance(grad, np.ndarray) or grad.shape != p.shape or grad.dtype != p.dtype:
        raise TypeError(f"a parameter of shape {p.shape} and dtype {p.dtype} has a gradient that is "
                        f"{_describe(grad)}; expected the same shape and dtype")
    return grad
