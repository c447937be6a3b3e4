import numpy as np
import pytest

from reference.projects.explain.shapley import ExactExplainer


@pytest.fixture(scope="session")
def shap_compiled():
    """shap's first ExactExplainer call compiles its numba kernels (7-10 s): paid once per session."""
    ExactExplainer(lambda Z: Z.sum(axis=1), np.zeros((2, 2))).shap_values(np.ones((1, 2)))
