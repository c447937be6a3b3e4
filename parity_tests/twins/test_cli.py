"""The `twins` command line: listing, running a demo, diffing a pair, and its errors."""
import json
import os
import subprocess
import sys

import pytest

from twins.cli import main
from twins.registry import PROJECTS, ROOT, markdown_table


def test_list_names_each_project_and_its_twin_files(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name, project in PROJECTS.items():
        assert name in out and project.title in out and ", ".join(project.twinned) in out


def test_the_readme_project_table_is_the_registry(capsys):
    assert main(["list", "--markdown"]) == 0
    table = capsys.readouterr().out.strip()
    assert table == markdown_table() and table in (ROOT / "README.md").read_text()


def test_diff_shows_the_lesson(capsys):
    assert main(["diff", "mlp"]) == 0
    out = capsys.readouterr().out
    assert "-            model.backward(criterion.backward(), input_grad=False)" in out
    assert "+            loss.backward()" in out
    assert main(["diff", "mlp", "--side-by-side"]) == 0
    assert "|" in capsys.readouterr().out


def test_run_writes_metrics_and_plots(tmp_path, capsys):
    out = tmp_path / "mlp"
    assert main(["run", "mlp", "--dataset", "digits", "--epochs", "2", "--no-study", "--no-sklearn",
                 "--no-progress", "--out", str(out)]) == 0
    assert {"digits_curves.png", "digits_confusion.png", "metrics.json"} <= {p.name for p in out.iterdir()}
    report = json.loads((out / "metrics.json").read_text())["digits"]
    assert report["scratch"]["epochs"] == 2 and 0 < report["scratch"]["test_accuracy"] <= 1
    assert report["lockstep_float64"]["max_weight_gap"] < 1e-10
    assert "digits: test accuracy scratch" in capsys.readouterr().out


def test_run_forecasting_writes_metrics_and_plots(tmp_path, capsys):
    out = tmp_path / "forecasting"
    assert main(["run", "forecasting", "--dataset", "sunspots", "--epochs", "2", "--no-progress", "--out", str(out)]) == 0
    expected = {"metrics.json", "sunspots_forecast.png", "sunspots_residuals.png",
                "sunspots_lstm_curves.png", "sunspots_gru_curves.png"}
    assert expected <= {p.name for p in out.iterdir()}
    report = json.loads((out / "metrics.json").read_text())["sunspots"]
    assert report["lstm"]["scratch"]["epochs"] == 2 and report["lstm"]["twin_forecast_gap"] < 1e-3
    assert {"naive", "seasonal naive", "SARIMAX", "scratch lstm", "torch gru"} <= set(report["metrics"])
    assert all(row["mase"] > 0 for row in report["metrics"].values())
    assert "sunspots: one-step forecasts" in capsys.readouterr().out


def test_diff_forecasting_shows_the_backward_and_the_loop(capsys):
    assert main(["diff", "forecasting"]) == 0
    out = capsys.readouterr().out
    assert "--- scratch/projects/forecasting/model.py" in out and "--- scratch/projects/forecasting/baselines.py" in out
    assert "--- scratch/training.py" in out
    assert "-    def backward(self, grad, input_grad=True):" in out
    assert "-            model.backward(criterion.backward(), input_grad=False)" in out and "+            loss.backward()" in out


def test_run_recommender_writes_the_table_and_plots(tmp_path, capsys):
    out = tmp_path / "recommender"
    argv = ["run", "recommender", "--dataset", "movielens-sample", "--epochs", "1", "--no-study", "--no-progress"]
    assert main(argv + ["--out", str(out)]) == 0
    expected = {"metrics.json", "report.md", "rmse_epochs.png", "rmse_epochs_sparse.png", "item_similarity.png", "user_similarity.png", "item_factors_pca.png",
                "sgd_epoch_speed.png"}
    assert expected <= {p.name for p in out.iterdir()}
    report = json.loads((out / "metrics.json").read_text())["movielens-sample"]
    assert {"popularity", "ALS", "scratch MF (SGD)", "torch MF (SGD)", "item kNN (cosine)"} <= set(report["models"])
    assert all(0 <= row["ndcg@10"] <= 1 for row in report["models"].values())
    # PureSVD ranks; its rating predictions (unrated pairs pulled to 0) are not meant to be good
    assert all(0 < row["rmse"] < 2 for name, row in report["models"].items() if not name.startswith("PureSVD"))
    assert report["twin_prediction_gap"] < 1e-3 and len(report["histories"]["torch MF"]["val_loss"]) == 1
    assert report["sparse_twin_prediction_gap"] < 1e-3 and len(report["histories"]["torch MF sparse SGD"]["val_loss"]) == 1
    assert {"scratch MF (sparse SGD)", "surprise SVD (50)"} <= set(report["models"])
    assert "| popularity |" in (out / "report.md").read_text()
    performance = report["performance"]
    assert performance["naive_ratings_per_second"] < min(performance["scratch_ratings_per_second"],
                                                          performance["sparse_scratch_ratings_per_second"])
    assert "NDCG@10 above popularity" in capsys.readouterr().out


def test_run_nlp_quick_writes_every_deliverable(tmp_path, capsys):
    out = tmp_path / "nlp"
    assert main(["run", "nlp", "--quick", "--epochs", "1", "--no-progress", "--out", str(out)]) == 0
    models = ("scratch_logistic_regression", "sklearn_logistic_regression", "scratch_naive_Bayes", "sklearn_naive_Bayes",
              "scratch_transformer", "torch_transformer")
    expected = {"metrics.json", "reports.txt", "reuters-r8_curves.png", "reuters-r8_attention.png", "reuters-r8_comparison.png",
                "reuters-r8_transformer.npz"} | {f"reuters-r8_confusion_{model}.png" for model in models}
    assert expected <= {p.name for p in out.iterdir()}
    report = json.loads((out / "metrics.json").read_text())["reuters-r8"]
    rows = report["models"]
    assert rows["scratch naive Bayes"]["accuracy"] == rows["sklearn naive Bayes"]["accuracy"]
    assert abs(rows["scratch logistic regression"]["accuracy"] - rows["sklearn logistic regression"]["accuracy"]) < 0.01
    assert report["twin_prediction_agreement"] > 0.95 and report["lockstep_float64"]["max_weight_gap"] < 1e-10
    assert report["attention"]["twin_gap"] < 1e-4
    assert "scratch transformer" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_diff_html_is_one_page_with_every_twinned_file(tmp_path, name):
    page = tmp_path / f"{name}.html"
    assert main(["diff", name, "--html", str(page)]) == 0
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "<script" not in text and "http" not in text.split("<body>")[0]
    for scratch, reference in PROJECTS[name].twin_paths():
        assert scratch.relative_to(ROOT).as_posix() in text and reference.relative_to(ROOT).as_posix() in text
    assert text.count("<table") == len(PROJECTS[name].twin_paths())
    assert "diff_chg" in text  # the twins differ somewhere: the lesson is marked


def test_quick_runs_the_mlp_demo_on_a_slice(tmp_path, capsys):
    out = tmp_path / "mlp"
    assert main(["run", "mlp", "--quick", "--no-progress", "--out", str(out)]) == 0
    report = json.loads((out / "metrics.json").read_text())["digits"]
    assert report["scratch"]["epochs"] == 2 and report["samples"]["train"] + report["samples"]["val"] <= 2000
    assert "study" not in json.loads((out / "metrics.json").read_text())


def test_quick_runs_the_cnn_demo(tmp_path):
    out = tmp_path / "cnn"
    assert main(["run", "cnn", "--quick", "--no-progress", "--out", str(out)]) == 0
    assert {"metrics.json", "digits_curves.png", "digits_confusion.png", "digits_filters.png", "digits_feature_maps.png"} <= {
        p.name for p in out.iterdir()}
    report = json.loads((out / "metrics.json").read_text())["digits"]
    assert report["scratch"]["epochs"] == 2 and report["lockstep_float64"]["max_weight_gap"] < 1e-10


@pytest.mark.parametrize("given, expected", [(None, "20"), ("28", "28")])
def test_the_app_shortens_openblas_spin_unless_set(given, expected):
    """`import twins` before NumPy sets OPENBLAS_THREAD_TIMEOUT (as the benchmark CLI does) and keeps a user's value."""
    env = {key: value for key, value in os.environ.items() if key != "OPENBLAS_THREAD_TIMEOUT"}
    if given is not None:
        env["OPENBLAS_THREAD_TIMEOUT"] = given
    code = "import twins, os, sys; print(os.environ['OPENBLAS_THREAD_TIMEOUT'], 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert out == [expected, "False"]
