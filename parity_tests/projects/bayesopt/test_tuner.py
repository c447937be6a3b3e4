"""Project 15's BO loop: it finds Branin's minimum far better than random search on the same budget,
handles mixed spaces and constant-liar batches, reproduces itself from a seed, and the test
functions have their published minima."""
import numpy as np
import pytest

from scratch.projects.bayesopt import tuner
from scratch.projects.bayesopt.functions import TEST_FUNCTIONS, branin, hartmann6
from scratch.projects.bayesopt.space import Categorical, Integer, Real, Space


def test_test_functions_reach_their_published_minima():
    assert np.allclose(branin(np.array([[-np.pi, 12.275], [np.pi, 2.275], [9.42478, 2.475]])), 0.397887, atol=1e-6)
    assert np.isclose(hartmann6(np.array([[0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]]))[0], -3.32237, atol=1e-5)
    assert TEST_FUNCTIONS["ackley5"](dict.fromkeys([f"x{i}" for i in range(5)], 0.0)) == pytest.approx(0.0, abs=1e-12)
    assert TEST_FUNCTIONS["rosenbrock4"](dict.fromkeys([f"x{i}" for i in range(4)], 1.0)) == 0.0


def test_bo_beats_random_search_on_branin():
    f = TEST_FUNCTIONS["branin"]
    study = tuner.minimize(f, f.space, n_calls=20, n_initial_points=8, rng=np.random.default_rng(0))
    random = tuner.random_search(f, f.space, 20, np.random.default_rng(0))
    assert len(study.trials) == 20 and study.best_value - f.minimum < 0.5
    assert study.best_value < random.best_value
    assert np.all(np.diff(study.best_so_far) <= 0) and study.best_so_far[-1] == study.best_value


def test_mixed_space_batches_and_reproducibility():
    space = {"lr": Real(1e-4, 1.0, log=True), "width": Integer(1, 10), "act": Categorical(("relu", "tanh", "gelu"))}

    def objective(p):
        return (np.log10(p["lr"]) + 2) ** 2 + (p["width"] - 3) ** 2 + (p["act"] != "tanh")

    runs = [tuner.minimize(objective, space, 22, 6, batch_size=4, initial_design_method="lhs", acquisition="ei",
                           rng=np.random.default_rng(1)) for _ in range(2)]
    assert [t.params for t in runs[0].trials] == [t.params for t in runs[1].trials]
    assert [t.iteration for t in runs[0].trials] == [0] * 6 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4
    for trial in runs[0].trials:
        assert isinstance(trial.params["width"], int) and 1e-4 <= trial.params["lr"] <= 1.0
        assert trial.params["act"] in ("relu", "tanh", "gelu")
    random = tuner.random_search(objective, space, 22, np.random.default_rng(1))
    assert runs[0].best_value < 0.05 < random.best_value
    assert runs[0].best_params["act"] == "tanh" and runs[0].best_params["width"] == 3


def test_space_round_trip():
    space = Space({"a": Real(-1.0, 2.0), "b": Integer(0, 4), "c": Categorical(("x", "y"))})
    params = [{"a": 0.5, "b": 3, "c": "y"}, {"a": -1.0, "b": 0, "c": "x"}]
    unit = space.encode(params)
    assert unit.shape == (2, 4) and np.all((unit >= 0) & (unit <= 1))
    assert space.decode(unit) == params


def test_a_failed_trial_is_skipped_when_asked():
    calls = []

    def objective(p):
        calls.append(p)
        return float("nan") if len(calls) == 5 else (p["x"] - 0.3) ** 2

    study = tuner.minimize(objective, {"x": Real(0.0, 1.0)}, 8, 4, on_nonfinite="skip", rng=np.random.default_rng(0))
    assert [t.state for t in study.trials].count("failed") == 1 and np.isnan(study.trials[4].value)
    assert study.best_trial.state == "complete"
