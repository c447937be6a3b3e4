"""Sequential and ModuleList, as in torch.nn. Sequential's backward runs its layers in reverse."""
from .linear import Linear
from .module import Module


class _Container(Module):
    """Children named '0', '1', ...: len, iteration and indexing over them."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        return list(self._modules.values())[index]


class Sequential(_Container):
    def __init__(self, *modules):
        super().__init__()
        for index, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: argument {index} is a {type(module).__name__}, not a Module")
            setattr(self, str(index), module)

    def forward(self, x):
        for module in self:
            x = module(x)
        return x

    def backward(self, grad, input_grad=True):
        """The layers' backward in reverse. ``input_grad=False``: the input is data that needs no
        gradient (torch: requires_grad=False); a first layer that can skip it (Linear, Sequential) does,
        and None is returned."""
        modules = list(self)
        for module in reversed(modules[1:]):
            grad = module.backward(grad)
        first = modules[0] if modules else None
        if isinstance(first, (Linear, Sequential)):
            return first.backward(grad, input_grad=input_grad)
        if first is not None:
            grad = first.backward(grad)
        return grad if input_grad else None


class ModuleList(_Container):
    def __init__(self, modules=()):
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module):
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList.append: expected a Module, got {type(module).__name__}")
        setattr(self, str(len(self._modules)), module)
        return self

    def __repr__(self):
        # like torch, runs of identical modules print once: "(0-2): 3 x Linear(...)"
        blocks = []  # [first index, last index, repr]
        for index, module in enumerate(self):
            text = repr(module)
            if blocks and blocks[-1][2] == text:
                blocks[-1][1] = index
            else:
                blocks.append([index, index, text])
        lines = [(f"({first}): " if first == last else f"({first}-{last}): {last - first + 1} x ") + text.replace("\n", "\n  ")
                 for first, last, text in blocks]
        return f"{type(self).__name__}(" + ("\n  " + "\n  ".join(lines) + "\n)" if lines else ")")
