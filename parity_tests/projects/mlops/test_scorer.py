"""The deployable scorer (scratch/projects/mlops/scorer.py) against its torch shadow twin: forward,
every gradient by name, both float tiers, finite differences, lockstep training on gapminder-like
regression and on digits, predictions from one checkpoint file, and the checkpoint's no-pickle rule."""
import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import training as torch_training
from reference.bridge import copy_to_torch
from reference.projects.mlops import scorer as torch_scorer
from scratch import datasets, nn
from scratch import training as scratch_training
from scratch.projects.mlops import checkpoint
from scratch.projects.mlops.config import CONFIGS
from scratch.projects.mlops.scorer import Scorer
from twins.parity import assert_close, assert_lockstep, compare_modules, finite_difference_check, make_twins, seeds, tolerance


def twins(seed, dtype, in_features, hidden_sizes, num_outputs, task):
    """A scorer pair with every weight and buffer random; the scale kept positive, as a std is."""
    rng = np.random.default_rng(seed)
    model, twin = make_twins(Scorer, torch_scorer.Scorer, seed, dtype, 0.5, in_features=in_features,
                             hidden_sizes=hidden_sizes, num_outputs=num_outputs, task=task)
    model.scale[...] = rng.uniform(0.5, 2.0, in_features)
    return model, copy_to_torch(model, twin)


shapes = st.tuples(st.integers(1, 9), st.lists(st.integers(1, 12), min_size=1, max_size=3), st.integers(1, 5), st.integers(1, 17))


@given(shapes, st.sampled_from([np.float32, np.float64]), st.sampled_from(["classification", "regression"]), seeds)
def test_forward_and_every_gradient_match_torch(shape, dtype, task, seed):
    in_features, hidden, outputs, batch = shape
    model, twin = twins(seed, dtype, in_features, tuple(hidden), outputs, task)
    X = np.random.default_rng(seed).normal(size=(batch, in_features)).astype(dtype)
    compare_modules(model, twin, (X,), np.random.default_rng(seed + 1), name="Scorer", reduction=max(hidden + [in_features]))


@settings(max_examples=15)
@given(shapes, seeds)
def test_backward_matches_finite_differences(shape, seed):
    in_features, hidden, outputs, batch = shape
    model, _ = twins(seed, np.float64, in_features, tuple(hidden), outputs, "regression")
    X = np.random.default_rng(seed).normal(size=(batch, in_features))
    finite_difference_check(model, (X,), np.random.default_rng(seed + 2))


@given(shapes, st.sampled_from([np.float32, np.float64]), st.sampled_from(["classification", "regression"]), seeds)
def test_predictions_from_one_checkpoint_agree(tmp_path_factory, shape, dtype, task, seed):
    """The file the NumPy server serves is the file the torch shadow loads: same state, same answers."""
    in_features, hidden, outputs, batch = shape
    model, _ = twins(seed, dtype, in_features, tuple(hidden), outputs, task)
    path = tmp_path_factory.mktemp("ckpt") / "scorer.npz"
    meta = {"task": task, "in_features": in_features, "hidden_sizes": list(hidden), "num_outputs": outputs,
            "activation": "relu", "feature_names": [f"x{i}" for i in range(in_features)]}
    checkpoint.save(model.state_dict(), meta, path)
    served, served_meta = Scorer.load(path)
    shadow, _ = torch_scorer.Scorer.load(path)
    assert served_meta == {**meta, "hidden_sizes": tuple(hidden)}
    X = np.random.default_rng(seed).normal(size=(batch, in_features))
    (labels, scores), (torch_labels, torch_scores) = served.predict(X), shadow.predict(X)
    rtol, atol = tolerance(dtype, "forward", max(hidden + [in_features]))
    assert_close(scores, torch_scores, "scores", rtol, atol)
    if task == "regression":
        assert_close(labels, torch_labels, "predicted values", rtol, atol)
    else:  # argmax of equal-to-tolerance logits: equal unless two logits tie within it
        margin = np.sort(scores, axis=1)[:, -1] - np.sort(scores, axis=1)[:, -2] if outputs > 1 else np.ones(batch)
        decided = margin > 10 * atol
        np.testing.assert_array_equal(labels[decided], torch_labels[decided])


@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lockstep_training_matches_torch(task, dtype):
    """Digits through the training loops twice: as classes (cross-entropy) and as a regression of the label."""
    X, y = datasets.load("digits", "train", dtype=dtype)
    X, y, X_val, y_val = X[:320], y[:320], X[320:400], y[320:400]
    criterion_pair = (None, None)
    if task == "regression":
        import torch
        y, y_val = y[:, None].astype(dtype), y_val[:, None].astype(dtype)
        criterion_pair = (nn.MSELoss(), torch.nn.MSELoss())
    config = dataclasses.replace(CONFIGS["digits"], hidden_sizes=(16,), num_epochs=2, batch_size=32, optimizer="adam")
    outputs = 10 if task == "classification" else 1
    model, twin = make_twins(Scorer, torch_scorer.Scorer, 0, dtype, in_features=64, hidden_sizes=(16,), num_outputs=outputs, task=task)
    model.mean[...], model.scale[...] = X.mean(axis=0), X.std(axis=0) + 0.1
    copy_to_torch(model, twin)
    history = scratch_training.fit(model, X, y, X_val, y_val, config, criterion=criterion_pair[0])
    torch_history = torch_training.fit(twin, X, y, X_val, y_val, config, criterion=criterion_pair[1])
    assert_lockstep(history, torch_history, model, twin, *tolerance(dtype, "train", reduction=64))


def test_a_pickled_checkpoint_is_refused(tmp_path):
    """Checkpoints load with allow_pickle=False: an object array (which would need pickle) is refused."""
    path = tmp_path / "evil.npz"
    np.savez(path, mean=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        Scorer.load(path)
