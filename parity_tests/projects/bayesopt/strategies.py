"""Hypothesis strategies shared by the bayesopt parity tests: random kernel trees, built as twins
(scratch and scikit-learn from one spec, so their constructors and hyperparameter order must agree)."""
import numpy as np
from hypothesis import strategies as st

from reference.projects.bayesopt import kernels as reference_kernels
from scratch.projects.bayesopt import kernels as scratch_kernels

positive = st.floats(0.3, 3.0)
BOUNDS = (1e-3, 1e3)


@st.composite
def leaf_specs(draw, n_features, ard=True):
    """(class name, kwargs) of one leaf kernel, hyperparameters drawn, some of them fixed."""
    # ExpSineSquared of the euclidean distance is positive definite in one dimension only
    names = ["RBF", "Matern", "RationalQuadratic", "DotProduct", "ConstantKernel", "WhiteKernel"]
    name = draw(st.sampled_from(names + (["ExpSineSquared"] if n_features == 1 else [])))
    fixed = draw(st.booleans()) and draw(st.booleans())  # a quarter of leaves hold their values fixed
    bounds = "fixed" if fixed else BOUNDS
    if name in ("RBF", "Matern"):
        isotropic = not ard or n_features == 1 or draw(st.booleans())
        scale = draw(positive) if isotropic else list(draw(st.lists(positive, min_size=n_features, max_size=n_features)))
        kwargs = {"length_scale": scale, "length_scale_bounds": bounds}
        if name == "Matern":
            kwargs["nu"] = draw(st.sampled_from([0.5, 1.5, 2.5]))
        return name, kwargs
    if name == "RationalQuadratic":
        return name, {"length_scale": draw(positive), "alpha": draw(positive), "length_scale_bounds": bounds,
                      "alpha_bounds": draw(st.sampled_from([bounds, BOUNDS]))}
    if name == "ExpSineSquared":
        return name, {"length_scale": draw(positive), "periodicity": draw(st.floats(1.0, 5.0)),
                      "length_scale_bounds": bounds, "periodicity_bounds": draw(st.sampled_from([bounds, BOUNDS]))}
    argument = {"DotProduct": "sigma_0", "ConstantKernel": "constant_value", "WhiteKernel": "noise_level"}[name]
    return name, {argument: draw(positive), f"{argument}_bounds": bounds}


@st.composite
def kernel_specs(draw, n_features, depth=2):
    """A leaf, or ('+' or '*', left, right) of smaller trees."""
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return draw(leaf_specs(n_features))
    return (draw(st.sampled_from("+*")), draw(kernel_specs(n_features, depth - 1)), draw(kernel_specs(n_features, depth - 1)))


def build(spec, module):
    """The kernel of ``spec`` from ``module`` (scratch's or the reference's kernels)."""
    if isinstance(spec[0], str) and spec[0] in "+*":
        left, right = build(spec[1], module), build(spec[2], module)
        return left + right if spec[0] == "+" else left * right
    name, kwargs = spec
    kwargs = {key: (np.array(value) if isinstance(value, list) else value) for key, value in kwargs.items()}
    return getattr(module, name)(**kwargs)


def kernel_twins(spec):
    return build(spec, scratch_kernels), build(spec, reference_kernels)
