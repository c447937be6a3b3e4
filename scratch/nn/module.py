"""Module and Parameter: the bookkeeping half of torch.nn.Module, in NumPy.

Assignment registers parameters, submodules and buffers; state_dict keys are dotted
paths exactly as torch builds them. What torch's autograd does for free, each module
here does by hand: ``forward`` keeps what its backward needs, ``backward`` takes the
gradient of each output and returns the gradient of each input, and parameter
gradients accumulate in ``Parameter.grad``.

What a forward keeps for its backward is forward state: any plain attribute a module sets
while a ``Module.__call__`` is running. A forward that raises leaves none of it behind
(``__call__`` clears it in the whole subtree), so a later backward cannot differentiate a
stale pass; it says that forward must run first. (Call the module, as in torch: a bare
``.forward`` call is not watched.)

Where torch accepts input silently, so does scratch: a batch of zero samples goes through
every layer (empty outputs and input gradients, zero parameter gradients; a loss's mean over
it is NaN, its sum 0), and NaN or inf flows through a layer unchecked, to be caught where a
model cannot go on (the training loop's finite-loss check).
"""
import numbers
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

_FLOAT_DTYPES = (np.float32, np.float64)
_forward_depth = [0]  # how many Module.__call__ are running: attributes set meanwhile are forward state


class Parameter:
    """A learnable array (``.data``) and the gradient accumulated for it (``.grad``)."""

    def __init__(self, data):
        if not isinstance(data, np.ndarray) or data.dtype.type not in _FLOAT_DTYPES:
            raise TypeError(f"Parameter: expected a float32 or float64 ndarray, got {_describe(data)}")
        self._data = data
        self.grad = None

    @property
    def data(self):
        return self._data

    @data.setter
    def data(self, value):
        # as torch, the shape and dtype may change (an optimizer's state then refuses the parameter),
        # but it stays a float array: an int array would truncate every update
        if not isinstance(value, np.ndarray) or value.dtype.type not in _FLOAT_DTYPES:
            raise TypeError(f"Parameter.data: expected a float32 or float64 ndarray, got {_describe(value)}")
        self._data = value

    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)

    def accumulate_grad(self, grad, owned=False):
        """Add ``grad`` to ``.grad``, as torch's autograd does for a leaf tensor.

        ``owned=True`` says ``grad`` is a fresh array nobody else holds, so the first
        gradient is stored as it is instead of copied.
        """
        if grad.shape != self.data.shape:
            raise ValueError(f"gradient of shape {grad.shape} for a parameter of shape {self.data.shape}")
        if grad.dtype != self.data.dtype:
            raise TypeError(f"gradient of dtype {grad.dtype} for a parameter of dtype {self.data.dtype}")
        if self.grad is None:
            self.grad = grad if owned else grad.copy()
        else:
            self.grad += grad

    def __repr__(self):
        return f"Parameter containing:\n{self.data!r}"


class Module:
    """Base class of every scratch layer and model, with torch.nn.Module's bookkeeping."""

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_forward_state", set())  # names of the attributes forward has set

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() before assigning {name!r}")
        if name in self._parameters and not isinstance(value, Parameter) and value is not None:
            raise TypeError(f"cannot assign {_describe(value)} as parameter {name!r} (Parameter or None expected)")
        if isinstance(value, Parameter):
            table = self._parameters
        elif isinstance(value, Module):
            table = self._modules
        elif name in self._buffers:
            if isinstance(value, np.generic):
                value = np.asarray(value)  # ``buf += 1`` on a 0-d array yields a NumPy scalar
            elif value is not None and not isinstance(value, np.ndarray):
                raise TypeError(f"cannot assign {_describe(value)} as buffer {name!r} (ndarray or None expected)")
            table = self._buffers
        else:
            table = None
        for other in (self._parameters, self._buffers, self._modules):
            if other is not table:
                other.pop(name, None)
        if table is not self._buffers:
            self._non_persistent_buffers_set.discard(name)
        if table is None:
            object.__setattr__(self, name, value)
            if _forward_depth[0]:
                self._forward_state.add(name)
        else:
            self.__dict__.pop(name, None)
            table[name] = value

    def __getattr__(self, name):
        for table in ("_parameters", "_buffers", "_modules"):
            found = self.__dict__.get(table, {})
            if name in found:
                return found[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def register_buffer(self, name, array, persistent=True):
        """A named array that is state but not learned, e.g. running_mean.

        A persistent buffer is saved and loaded with the state_dict; ``persistent=False`` keeps it
        out of the state_dict (a constant the module rebuilds itself, such as a positional table),
        while named_buffers still lists it, as in torch.
        """
        if array is not None and not isinstance(array, np.ndarray):
            raise TypeError(f"register_buffer({name!r}): expected an ndarray or None, got {_describe(array)}")
        if name in self._parameters or name in self._modules:
            raise KeyError(f"register_buffer({name!r}): attribute {name!r} already exists")
        self.__dict__.pop(name, None)
        self._buffers[name] = array
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__} has no forward")

    def backward(self, *grads):
        raise NotImplementedError(f"{type(self).__name__} has no backward")

    def __call__(self, *inputs, **kwargs):
        _forward_depth[0] += 1
        try:
            return self.forward(*inputs, **kwargs)
        except BaseException:
            self._forget_forward()
            raise
        finally:
            _forward_depth[0] -= 1

    def _forget_forward(self):
        """Drop the forward state of every module in the tree: after a forward that raised, the
        caches hold a mix of the last good pass and the failed one, and backward must not use them."""
        for module in self.modules():
            for name in module._forward_state:
                object.__setattr__(module, name, None)

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return (module for _, module in self.named_modules())

    def named_children(self):
        return iter(self._modules.items())

    def children(self):
        return iter(self._modules.values())

    def _named_members(self, table, prefix, recurse):
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, table).items():
                if value is not None:
                    yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix="", recurse=True):
        seen = set()
        for name, param in self._named_members("_parameters", prefix, recurse):
            if id(param) not in seen:
                seen.add(id(param))
                yield name, param

    def parameters(self, recurse=True):
        return (param for _, param in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix="", recurse=True):
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        return (buf for _, buf in self.named_buffers(recurse=recurse))

    def state_dict(self):
        """Copies of every parameter and buffer under torch's dotted keys and order."""
        state = OrderedDict()
        for prefix, module in self.named_modules():
            dot = f"{prefix}." if prefix else ""
            for name, param in module._parameters.items():
                state[dot + name] = param.data.copy()
            for name, buf in module._buffers.items():
                if buf is not None and name not in module._non_persistent_buffers_set:
                    state[dot + name] = buf.copy()
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays in by key; with strict, missing/unexpected keys are an error, as in torch.

        Shapes and dtypes must match exactly: nothing is broadcast or cast.
        Returns (missing_keys, unexpected_keys) like torch's named tuple.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"state_dict: expected a mapping of key -> array (what state_dict() returns), "
                            f"got {_describe(state_dict)}")
        own = self._state_slots()
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        problems = []
        for key, (module, name, is_param) in own.items():
            if key not in state_dict:
                continue
            value = _state_array(state_dict[key], f"state_dict[{key!r}]")
            current = module._parameters[name].data if is_param else module._buffers[name]
            if value.shape != current.shape:
                problems.append(f"size mismatch for {key}: got shape {value.shape}, the model has {current.shape}")
            elif value.dtype != current.dtype:
                problems.append(f"dtype mismatch for {key}: got {value.dtype}, the model has {current.dtype}")
        if strict:
            problems = ([f"missing key(s): {', '.join(missing)}"] if missing else []) + (
                [f"unexpected key(s): {', '.join(unexpected)}"] if unexpected else []) + problems
        if problems:
            raise ValueError(f"Error(s) in loading state_dict for {type(self).__name__}:\n  " + "\n  ".join(problems))
        for key, (module, name, is_param) in own.items():
            if key in state_dict:
                value = np.array(_state_array(state_dict[key], f"state_dict[{key!r}]"), copy=True)
                if is_param:
                    module._parameters[name].data[...] = value
                else:
                    module._buffers[name][...] = value
        return missing, unexpected

    def _state_slots(self):
        slots = OrderedDict()
        for prefix, module in self.named_modules():
            dot = f"{prefix}." if prefix else ""
            for name in module._parameters:
                slots[dot + name] = (module, name, True)
            for name, buf in module._buffers.items():
                if buf is not None and name not in module._non_persistent_buffers_set:
                    slots[dot + name] = (module, name, False)
        return slots

    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode): expected a bool, got {_describe(mode)}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad[...] = 0

    def extra_repr(self):
        return ""

    def __repr__(self):
        # torch's layout: a lone one-line extra_repr stays inline, anything else goes one item a line
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + repr(child).replace("\n", "\n  ") for name, child in self._modules.items()]
        if len(extra_lines) == 1 and not child_lines:
            return f"{type(self).__name__}({extra_lines[0]})"
        lines = extra_lines + child_lines
        return f"{type(self).__name__}(" + ("\n  " + "\n  ".join(lines) + "\n)" if lines else ")")


def _describe(value):
    """A short description of a value for error messages: type, and shape/dtype for arrays."""
    if isinstance(value, np.ndarray):
        return f"ndarray of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:120]


def _state_array(value, name):
    """A state_dict value as an ndarray of numbers (an ndarray, a NumPy scalar or a tensor), else a TypeError naming it."""
    if isinstance(value, (np.ndarray, np.generic)) or hasattr(value, "__array__"):
        array = np.asarray(value)
        if array.dtype.kind in "biuf":
            return array
    raise TypeError(f"{name}: expected an array of numbers, got {_describe(value)}")


def check_size(value, name):
    """A layer's size argument (features, channels, heads, layers) as an int: a positive integer,
    never a bool or a float; a ValueError naming ``name``, such as ``"Linear(in_features)"``, otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}: expected a positive int, got {value!r}")
    return int(value)


def check_array(x, name, ndim=None, dtype=None, last_dim=None):
    """Raise a clear error unless ``x`` is a float ndarray of the expected rank, dtype and width.

    ``ndim`` is an int or a tuple of accepted ranks; ``dtype`` the dtype the module's
    parameters have (inputs are never cast); ``last_dim`` the required size of axis -1.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name}: expected a numpy ndarray, got {_describe(x)}")
    if x.dtype.type not in _FLOAT_DTYPES:
        raise TypeError(f"{name}: expected a float32 or float64 array, got dtype {x.dtype}")
    if dtype is not None and x.dtype != dtype:
        raise TypeError(f"{name}: expected dtype {np.dtype(dtype)} (the module's dtype), got {x.dtype}")
    if ndim is not None and x.ndim not in (ndim if isinstance(ndim, tuple) else (ndim,)):
        raise ValueError(f"{name}: expected an array of rank {ndim}, got shape {x.shape}")
    if last_dim is not None and (x.ndim == 0 or x.shape[-1] != last_dim):
        raise ValueError(f"{name}: expected last dimension {last_dim}, got shape {x.shape}")
    return x


def check_grad(grad, like, name="grad_output"):
    """The gradient handed to backward must have exactly its output's shape and dtype."""
    if not isinstance(grad, np.ndarray):
        raise TypeError(f"{name}: expected an ndarray, got {_describe(grad)}")
    if grad.shape != like.shape:
        raise ValueError(f"{name}: expected shape {like.shape} (the forward output), got {grad.shape}")
    if grad.dtype != like.dtype:
        raise TypeError(f"{name}: expected dtype {like.dtype} (the forward output), got {grad.dtype}")
    return grad


def factory_dtype(dtype, device=None):
    """Resolve torch-style ``dtype=``/``device=`` arguments: float32 by default, CPU only."""
    if device not in (None, "cpu"):
        raise ValueError(f"device: scratch modules run on NumPy arrays, so only None or 'cpu' is accepted, got {device!r}")
    resolved = np.dtype(np.float32 if dtype is None else dtype)
    if resolved.type not in _FLOAT_DTYPES:
        raise TypeError(f"dtype: expected float32 or float64, got {resolved}")
    return resolved


def require_forward(module, cached):
    """backward needs the cache of a forward pass; say so instead of failing obscurely."""
    if cached is None:
        raise RuntimeError(f"{type(module).__name__}.backward called before forward (or after a forward "
                           "that raised): run a successful forward first")
    return cached
