"""Project 12: `twins run gan --quick` writes every deliverable, and the benchmark's cases run."""
import json

import numpy as np

from benchmarks import bench_gan
from twins.cli import main


def test_quick_run_writes_grids_curves_and_metrics(tmp_path, capsys):
    out = tmp_path / "gan"
    assert main(["run", "gan", "--quick", "--epochs", "3", "--no-progress", "--out", str(out)]) == 0
    expected = {"metrics.json", "digits_curves.png", "digits_samples.png", "digits_samples.gif", "digits_samples",
                "digits_conditional.png", "digits_nearest.png", "digits_interpolation.png"}
    assert expected <= {p.name for p in out.iterdir()}
    assert sorted(p.name for p in (out / "digits_samples").iterdir()) == [f"epoch_{e:03d}.png" for e in (1, 2, 3)]
    report = json.loads((out / "metrics.json").read_text())["digits"]
    assert report["scratch"]["epochs"] == 3 and len(report["torch"]["per_epoch"]["D_G_z"]) == 3
    assert report["lockstep_float64"]["max_weight_gap"] < 1e-10 and report["lockstep_float64"]["max_history_gap"] < 1e-10
    assert report["coverage"]["real test images"]["classes_covered"] == 10 and report["coverage_classifier"]["test_accuracy"] > 0.8
    quality = report["quality"]  # in the CNN judge's features: the floor far below an untrained G, the twins alike
    assert quality["floor: real training images"]["fid"] < 0.1 * quality["start: untrained G"]["fid"]
    assert quality["floor: real training images"]["precision"] > 0.5 and quality["start: untrained G"]["recall"] < 0.1
    assert abs(report["fid_scratch_over_torch"] - 1) < 0.1
    assert 0 <= report["conditional"]["scratch"]["asked_class_share"] <= 1
    assert report["memorisation"]["median_rms_distance_real_test"] > 0
    assert "classes covered" in capsys.readouterr().out


def test_benchmark_cases_run_the_same_round_on_both_sides():
    cases = bench_gan.cases(np.float32, quick=True, seed=0)
    assert [case.name.split()[0] for case in cases] == ["ConvTranspose2d"] * 3 + ["DCGAN"]
    for case in cases[:1] + cases[-1:]:
        case.scratch(), case.torch()
