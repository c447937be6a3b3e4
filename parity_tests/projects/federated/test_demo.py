"""Project 18: `twins run federated --quick` runs the sweep and Flower's simulation and writes every
deliverable; `--deploy` goes to the deployment engine instead (its process run: test_deploy.py); the
benchmark's cases run."""
import json

import numpy as np

from benchmarks import bench_federated
from twins.cli import main
from twins.demos import federated


def test_quick_run_writes_curves_drift_and_flower_metrics(tmp_path, capsys):
    out = tmp_path / "federated"
    assert main(["run", "federated", "--quick", "--no-progress", "--out", str(out)]) == 0
    assert {"metrics.json", "digits_accuracy.png", "digits_drift.png", "digits_splits.png", "digits_privacy.png"} <= {p.name for p in out.iterdir()}
    report = json.loads((out / "metrics.json").read_text())["digits"]
    assert set(report["results"]) == {"iid", "pathological", "dirichlet-0.5"}
    for by_strategy in report["results"].values():
        assert set(by_strategy) == {"fedsgd", "fedavg", "fedprox", "scaffold", "fedadam"}
        assert all(len(entry["test_accuracy_mean"]) == 10 and len(entry["drift_mean"]) == 10 for entry in by_strategy.values())
    assert report["results"]["iid"]["fedavg"]["final_accuracy"] > 0.8
    flower = report["flower_simulation"]
    assert flower["max_weight_gap_vs_in_process"] == 0.0 and len(flower["test_accuracy"]) == 2
    assert all(len(clients) == 2 for clients in flower["clients"])  # C = 0.1 of 20
    assert all(gap["max_weight_gap"] < 1e-12 for gap in report["lockstep_float64"].values())
    private = [row for row in report["privacy_utility"]["rows"] if row["epsilon"] is not None]
    assert len(private) == 1 and 0 < private[0]["epsilon"] < 100 and 0 <= private[0]["test_accuracy"] <= 1
    assert "Flower simulation" in capsys.readouterr().out


def test_benchmark_cases_run():
    for case in bench_federated.cases(np.float32, quick=True, seed=0):
        case.scratch(), case.torch()


def test_deploy_flag_runs_the_deployment_instead_of_the_sweep(tmp_path, monkeypatch, capsys):
    """The wiring only (no processes): ``--deploy`` reaches ``deploy_dataset`` with the data set, rounds and
    ``--quick``; the sweep is not run; the report is saved and summarised."""
    calls = []

    def fake_deploy(name, out_dir, num_rounds=None, quick=False):
        calls.append((name, num_rounds, quick))
        return {"dataset": name, "deployment": {"num-clients": 4, "rounds": num_rounds, "wall_seconds": 1.0,
                                                "test_accuracy": [0.5, 0.7], "max_weight_gap_vs_in_process": 0.0}}

    def no_sweep(*args, **kwargs):
        raise AssertionError("--deploy ran the sweep")

    monkeypatch.setattr(federated, "deploy_dataset", fake_deploy)
    monkeypatch.setattr(federated, "run_dataset", no_sweep)
    out = tmp_path / "deployed"
    assert main(["run", "federated", "--deploy", "--quick", "--epochs", "2", "--out", str(out)]) == 0
    assert calls == [("digits", 2, True)]
    assert json.loads((out / "metrics.json").read_text())["digits"]["deployment"]["test_accuracy"] == [0.5, 0.7]
    assert "FedAvg on 4 SuperNodes, 2 rounds" in capsys.readouterr().out
