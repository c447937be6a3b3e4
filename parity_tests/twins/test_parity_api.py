"""twins.parity as a public tool: the README's example runs, and it catches a wrong backward."""
import re

import numpy as np
import pytest
import torch

from scratch import nn
from twins import parity
from twins.registry import ROOT


def readme_example():
    section = (ROOT / "README.md").read_text().split("## Check your own layer against torch", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_runs():
    exec(compile(readme_example(), "README.md", "exec"), {})


class WrongSwish(nn.Module):
    """x * sigmoid(x) with a backward that forgets the product rule's second term."""

    def forward(self, x):
        self._s = 1 / (1 + np.exp(-x))
        return x * self._s

    def backward(self, dy):
        return dy * self._s


def test_a_wrong_backward_fails_both_checks_and_says_where():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5))
    with pytest.raises(AssertionError, match=r"WrongSwish grad of input\[0\]: \d+ of 20 elements differ; max abs error"):
        parity.compare_modules(WrongSwish(), torch.nn.SiLU(), (x,), rng, name="WrongSwish")
    with pytest.raises(AssertionError, match=r"finite differences \(Richardson-extrapolated\): grad of input\[0\]"):
        parity.finite_difference_check(WrongSwish(), (x,), rng)


class SharpSine(nn.Module):
    """sin(k x) / k: a gradient of size 1 under a third derivative of size k^2."""
    k = 1e4

    def forward(self, x):
        self._x = x
        return np.sin(self.k * x) / self.k

    def backward(self, dy):
        return dy * np.cos(self.k * self._x)


def test_richardson_extrapolation_rescues_a_correct_gradient_under_sharp_curvature():
    """Central differences alone err by eps^2 k^2 / 6 ~ 2e-5 here, above rtol 1e-5; the
    extrapolated ones by ~eps^4 k^4 ~ 1e-8. A wrong gradient of the same function still fails."""
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (3, 4))
    parity.finite_difference_check(SharpSine(), (x,), rng)

    class WrongSharpSine(SharpSine):
        def backward(self, dy):
            return dy * np.cos(self.k * self._x) * (1 + 1e-4)

    with pytest.raises(AssertionError, match="Richardson-extrapolated"):
        parity.finite_difference_check(WrongSharpSine(), (x,), rng)


def test_make_twins_and_assert_lockstep():
    model, twin = parity.make_twins(nn.Linear, torch.nn.Linear, seed=3, dtype=np.float64, scale=0.5,
                                    in_features=3, out_features=2)
    assert twin.weight.dtype == torch.float64
    np.testing.assert_array_equal(model.weight.data, twin.weight.detach().numpy())
    parity.assert_lockstep({"loss": [1.0]}, {"loss": [1.0]}, model, twin, 1e-12, 0, keys=("loss",))
    with torch.no_grad():
        twin.bias[0] += 1e-3
    with pytest.raises(AssertionError, match="bias after training"):
        parity.assert_lockstep({"loss": [1.0]}, {"loss": [1.0]}, model, twin, 1e-12, 0, keys=("loss",))


def test_torch_dtype_refuses_what_torch_twins_cannot_hold():
    assert parity.torch_dtype(np.float32) is torch.float32
    with pytest.raises(ValueError, match="dtype: expected float32 or float64, got int64"):
        parity.torch_dtype(np.int64)
