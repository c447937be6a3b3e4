"""Test functions for global optimisation (Surjanovic & Bingham's library): Branin, Hartmann-6,
Ackley and Rosenbrock, each with its search space and known minimum. Vectorised over rows."""
from dataclasses import dataclass

import numpy as np

from scratch.projects.bayesopt.space import Real

_HARTMANN_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_HARTMANN_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                        [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_HARTMANN_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                               [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])


def branin(X):
    x1, x2 = X[:, 0], X[:, 1]
    b, c, t = 5.1 / (4 * np.pi ** 2), 5 / np.pi, 1 / (8 * np.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * np.cos(x1) + 10


def hartmann6(X):
    inner = np.einsum("kd,nkd->nk", _HARTMANN_A, (X[:, None, :] - _HARTMANN_P[None]) ** 2)  # (n, 4)
    return -np.exp(-inner) @ _HARTMANN_ALPHA


def ackley(X):
    d = X.shape[1]
    return (-20 * np.exp(-0.2 * np.sqrt((X ** 2).sum(1) / d)) - np.exp(np.cos(2 * np.pi * X).sum(1) / d) + 20 + np.e)


def rosenbrock(X):
    return (100 * (X[:, 1:] - X[:, :-1] ** 2) ** 2 + (1 - X[:, :-1]) ** 2).sum(1)


@dataclass(frozen=True)
class TestFunction:
    name: str
    function: object
    bounds: tuple  # one (low, high) per coordinate
    minimum: float

    @property
    def space(self):
        return {f"x{i}": Real(low, high) for i, (low, high) in enumerate(self.bounds)}

    def __call__(self, params):
        """The objective the tuner calls: one {name: value} -> float."""
        return float(self.function(np.array([[params[f"x{i}"] for i in range(len(self.bounds))]]))[0])


TEST_FUNCTIONS = {
    "branin": TestFunction("branin", branin, ((-5.0, 10.0), (0.0, 15.0)), 0.397887),
    "hartmann6": TestFunction("hartmann6", hartmann6, ((0.0, 1.0),) * 6, -3.32237),
    "ackley5": TestFunction("ackley5", ackley, ((-32.768, 32.768),) * 5, 0.0),
    "rosenbrock4": TestFunction("rosenbrock4", rosenbrock, ((-5.0, 10.0),) * 4, 0.0),
}
