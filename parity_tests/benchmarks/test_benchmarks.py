"""Smoke test of the benchmark machinery: structure only, never timing."""
import inspect
import json
import os

import numpy as np
import pytest
import torch

from benchmarks import SPIN_ENV, THREAD_ENV_VARS, bench_mlp, core, limit_threads_env
from scratch import nn
from scratch.nn import _threads


@pytest.fixture(scope="module")
def digits_case():
    return bench_mlp.forward_backward_case((64, 128, 10), 64, "digits", np.dtype(np.float32), np.random.default_rng(0))


def test_one_case_runs_and_reports_consistent_numbers(digits_case, tmp_path):
    result = core.run_case(digits_case, repeats=1, warmup=1, threads=1)
    assert set(result.times_ms) >= {"scratch", "torch"}
    assert all(t > 0 for t in result.times_ms.values())
    assert result.ratio == pytest.approx(result.times_ms["scratch"] / result.times_ms["torch"])
    assert result.naive_ratio is None
    assert "digits" in core.format_table([result])

    path = core.write_json([result], tmp_path / "r.json", core.machine_info(1, np.float32), {"repeats": 1})
    payload = json.loads(path.read_text())
    assert payload["machine"]["dtype"] == "float32" and payload["machine"]["threads"] == 1
    assert payload["results"][0]["ratio"] == pytest.approx(result.ratio)
    assert core.plot([result], tmp_path / "r.png", "smoke").stat().st_size > 0


def test_naive_time_is_scaled_to_the_full_workload():
    calls = []
    case = core.Case("c", "s", scratch=lambda: None, torch=lambda: None, naive=lambda: calls.append(1), naive_scale=10.0)
    result = core.run_case(case, repeats=1, warmup=0, threads=1)
    assert result.spread_ms["naive"][0] == pytest.approx(result.times_ms["naive"])  # one repeat: min = median
    assert result.naive_ratio == pytest.approx(result.times_ms["naive"] / result.times_ms["scratch"])


@pytest.mark.parametrize("threads", [1, 2])
def test_scratch_kernel_threads_follow_the_benchmarks_thread_count(threads):
    """run_case holds BLAS to its thread count (threadpoolctl); scratch's own kernel threads follow BLAS."""
    if threads > (os.cpu_count() or 1):
        pytest.skip(f"{threads} threads need as many cores")
    seen = []
    case = core.Case("c", "s", scratch=lambda: seen.append(_threads.get_num_threads()), torch=lambda: None)
    core.run_case(case, repeats=1, warmup=0, threads=threads)
    assert set(seen) == {threads}


def test_thread_env_sets_the_counts_and_shortens_openblas_spin_unless_the_user_chose(monkeypatch):
    for var in (*THREAD_ENV_VARS, *SPIN_ENV):
        monkeypatch.delenv(var, raising=False)
    limit_threads_env(3)
    assert [os.environ[var] for var in THREAD_ENV_VARS] == ["3"] * len(THREAD_ENV_VARS)
    assert os.environ["OPENBLAS_THREAD_TIMEOUT"] == SPIN_ENV["OPENBLAS_THREAD_TIMEOUT"]
    monkeypatch.setenv("OPENBLAS_THREAD_TIMEOUT", "28")
    limit_threads_env(1)
    assert os.environ["OPENBLAS_THREAD_TIMEOUT"] == "28"


def test_naive_loop_computes_the_twins_gradients():
    """The baseline must do the same work: the naive per-sample loop's loss and gradients equal scratch's."""
    rng = np.random.default_rng(0)
    model, twin = bench_mlp.build_twins((8, 16, 4), np.dtype(np.float64), seed=0)
    X, y, Y = bench_mlp.synthetic_data(5, 8, 4, np.float64, rng)
    criterion = nn.CrossEntropyLoss()
    loss = criterion(model(X), y)
    torch_loss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(X)), torch.from_numpy(y))
    assert float(loss) == pytest.approx(torch_loss.item(), rel=1e-10)
    naive = bench_mlp.naive_mlp(model)
    assert naive.compute_gradients(X, Y) == pytest.approx(float(loss), rel=1e-10)
    model.backward(criterion.backward())
    np.testing.assert_allclose(naive.weight_gradients[0], model.layers[0].weight.grad, rtol=1e-10, atol=1e-12)


def test_mlp_epoch_case_runs_without_the_data_gradient_on_either_side():
    """The epoch times the training loop's work: torch's data has requires_grad=False, and scratch's
    backward is told input_grad=False, so neither side computes the gradient of the batch."""
    case = bench_mlp.epoch_case(np.dtype(np.float32), np.random.default_rng(0), quick=True)
    assert "input_grad=False" in inspect.getsource(case.scratch)
    result = core.run_case(case, repeats=1, warmup=0, threads=1)
    assert set(result.times_ms) >= {"scratch", "torch", "naive"}


def test_cnn_cases_run():
    from benchmarks import bench_cnn
    cases = bench_cnn.cases(np.float32, quick=True, seed=0)
    assert [case.name for case in cases][:4] == ["Conv2d 1->32 k3 p1", "Conv2d 32->64 k3 p1", "MaxPool2d(2, 2)",
                                                 "BatchNorm2d(32) train"]
    result = core.run_case(cases[0], repeats=1, warmup=0, threads=1)
    assert set(result.times_ms) >= {"scratch", "torch", "naive"}


def test_recommender_cases_run_and_the_naive_loop_is_funk_sgd():
    from benchmarks import bench_recommender
    cases = bench_recommender.cases(np.float32, quick=True, seed=0)
    assert [case.name for case in cases] == ["MF SGD epoch (50 factors)", "MF sparse SGD epoch (50 factors)",
                                             "Embedding(9066, 50) fwd+bwd", "recommend(all users, k=10)"]
    result = core.run_case(cases[2], repeats=1, warmup=0, threads=1)
    assert set(result.times_ms) == {"scratch", "torch"}
    P, Q = np.array([[1.0, 2.0]]), np.array([[0.5, -1.0], [3.0, 0.0]])
    bench_recommender.naive_sgd_epoch(P, Q, [0], [1], [4.0], learning_rate=0.1, reg_param=0.5)
    # error = 4 - 3 = 1; p += 0.1 (1 * q - 0.5 p); then q uses the updated p
    np.testing.assert_allclose(P, [[1.25, 1.9]])
    np.testing.assert_allclose(Q[1], [3.0 + 0.1 * (1.25 - 1.5), 0.1 * 1.9])


def test_nlp_cases_run_and_time_the_same_work():
    from benchmarks import bench_nlp
    cases = bench_nlp.cases(np.float32, quick=True, seed=0)
    assert [case.name for case in cases] == ["MultiheadAttention(128, 8)", "TransformerEncoderLayer(128, 8, 512, relu)",
                                             "TransformerEncoderLayer(128, 8, 512, gelu)", "TransformerClassifier epoch (adam)"]
    result = core.run_case(cases[0], repeats=1, warmup=0, threads=1)
    assert set(result.times_ms) >= {"scratch", "torch"}


def test_classifier_epoch_case_trains_both_twins_one_epoch_from_the_same_weights():
    from benchmarks import bench_nlp
    from reference.projects.mlp import model as torch_mlp
    from scratch.projects.mlp import model as scratch_mlp
    from scratch.projects.mlp.config import MLPConfig
    from twins.parity import make_twins
    config = MLPConfig(hidden_sizes=(8,), dropout=0.0, batch_size=16, num_epochs=5, lr=0.01)
    model, twin = make_twins(scratch_mlp.MLP, torch_mlp.MLP, config.seed, np.float32, in_features=6, num_classes=3,
                             **config.architecture())
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 6)).astype(np.float32), rng.integers(0, 3, 40)
    case = bench_nlp.classifier_epoch_case("MLP", model, twin, X, y, X[:8], y[:8], config)
    assert case.name == "MLP epoch (adam)" and case.size == "40 x (6,), b16"
    history, torch_history = case.scratch(), case.torch()
    assert len(history["train_loss"]) == len(torch_history["train_loss"]) == 1
    assert history["train_loss"][0] == pytest.approx(torch_history["train_loss"][0], rel=1e-4)


def test_transformer_classifier_epoch_case_runs():
    from benchmarks import bench_nlp
    case = bench_nlp.transformer_classifier_epoch_case(np.dtype(np.float64), np.random.default_rng(0), quick=True)
    assert case.name == "TransformerClassifier epoch (adam)" and case.size == "64 x (64,), b32"
    result = core.run_case(case, repeats=1, warmup=0, threads=1)
    assert set(result.times_ms) >= {"scratch", "torch"}
