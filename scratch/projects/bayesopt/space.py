"""Search spaces for the tuner: continuous (optionally log-scaled), integer and categorical
dimensions, mapped to and from the unit cube the GP and the acquisition work in.

A real or integer dimension is one coordinate in [0, 1] (of its log when ``log``); an integer is
rounded on the way back; a categorical of k choices is k one-hot coordinates, decoded by argmax
(the acquisition is maximised over the relaxation, and the point evaluated and remembered is the
decoded one). Shared by the tuner and the demos; not twinned.
"""
import math
from dataclasses import dataclass

import numpy as np


def _check_bounds(name, low, high, log):
    for which, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise TypeError(f"{name}.{which}: expected a finite number, got {value!r}")
    if not low < high:
        raise ValueError(f"{name}: expected bounds low < high, got low={low!r}, high={high!r}")
    if log and low <= 0:
        raise ValueError(f"{name}: expected low > 0 on a log scale, got low={low!r}")


@dataclass(frozen=True)
class Real:
    low: float
    high: float
    log: bool = False

    size = 1

    def _ends(self):
        return (math.log(self.low), math.log(self.high)) if self.log else (self.low, self.high)

    def encode(self, values):  # (n,) -> (n, 1)
        low, high = self._ends()
        values = np.asarray(values, dtype=np.float64)
        return (((np.log(values) if self.log else values) - low) / (high - low))[:, None]

    def decode(self, unit):  # (n, 1) -> (n,)
        low, high = self._ends()
        values = low + np.clip(unit[:, 0], 0, 1) * (high - low)
        return np.clip(np.exp(values) if self.log else values, self.low, self.high)


@dataclass(frozen=True)
class Integer(Real):
    def decode(self, unit):
        return np.clip(np.round(super().decode(unit)), self.low, self.high).astype(np.int64)


@dataclass(frozen=True)
class Categorical:
    choices: tuple

    @property
    def size(self):
        return len(self.choices)

    def encode(self, values):
        index = np.array([self.choices.index(value) for value in values])
        return np.eye(len(self.choices))[index]

    def decode(self, unit):
        return np.array(self.choices, dtype=object)[np.argmax(unit, axis=1)]


class Space:
    """An ordered {name: dimension} search space."""

    def __init__(self, dimensions):
        if not isinstance(dimensions, dict) or not dimensions:
            raise TypeError(f"space: expected a non-empty dict of name -> Real/Integer/Categorical, got {dimensions!r}")
        for name, dimension in dimensions.items():
            if isinstance(dimension, (Real, Integer)):
                _check_bounds(f"space[{name!r}]", dimension.low, dimension.high, dimension.log)
            elif isinstance(dimension, Categorical):
                if len(dimension.choices) < 2 or len(set(dimension.choices)) != len(dimension.choices):
                    raise ValueError(f"space[{name!r}]: expected at least 2 distinct choices, got {dimension.choices!r}")
            else:
                raise TypeError(f"space[{name!r}]: expected Real, Integer or Categorical, got {type(dimension).__name__} "
                                f"{dimension!r}")
        self.dimensions = dict(dimensions)
        self.n_dims = sum(dimension.size for dimension in self.dimensions.values())

    def encode(self, params):
        """A list of {name: value} -> unit-cube points (n, n_dims)."""
        return np.hstack([dimension.encode([p[name] for p in params]) for name, dimension in self.dimensions.items()])

    def decode(self, unit):
        """Unit-cube points (n, n_dims) -> a list of {name: value} (ints as int, reals as float)."""
        columns, start = {}, 0
        for name, dimension in self.dimensions.items():
            columns[name] = dimension.decode(unit[:, start:start + dimension.size])
            start += dimension.size
        return [{name: _python(values[i]) for name, values in columns.items()} for i in range(len(unit))]

    def round_trip(self, unit):
        """The unit-cube image of the decoded points: what is evaluated is what the GP sees."""
        return self.encode(self.decode(unit))


def _python(value):
    return value.item() if isinstance(value, np.generic) else value
