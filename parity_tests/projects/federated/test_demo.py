"""Project 18: `twins run federated --quick` runs the sweep and Flower's simulation and writes every
deliverable; the benchmark's cases run."""
import json

import numpy as np

from benchmarks import bench_federated
from twins.cli import main


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
