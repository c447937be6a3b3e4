"""`twins run mlops --quick` end to end through the command line, against a temporary MLflow store:
train, gate (the under-trained challenger refused), register, serve (no torch in the server, the
torch shadow agreeing), send 2000-2016 as traffic, detect the drift, retrain, promote, reload,
roll back; metrics.json, the dashboard and the plots written."""
import json

from twins.cli import main


def test_quick_pipeline_end_to_end(tmp_path, capsys):
    out = tmp_path / "mlops"
    assert main(["run", "mlops", "--quick", "--no-progress", "--out", str(out)]) == 0
    assert {"metrics.json", "dashboard.html", "gapminder_drift.png", "latency.png", "v1_curves.png"} <= {p.name for p in out.iterdir()}
    report = json.loads((out / "metrics.json").read_text())["gapminder"]
    first, worse = report["candidates"]
    assert first["promoted"] and first["holdout"]["mae"] < 4.0  # years of life expectancy
    assert not worse["promoted"] and {g["name"] for g in worse["gate"] if not g["passed"]} >= {"beats champion"}
    serving = report["serving"]
    assert serving["torch_in_server"] is False and serving["rows"] > 2000
    assert serving["shadow_disagreement_rate"] == 0.0 and serving["shadow_max_abs_difference"] < 1e-3
    monitored = report["monitor"]
    assert monitored["report"]["features"]["infant_mortality"]["drifted"] and monitored["report"]["features"]["fertility"]["drifted"]
    assert monitored["retrain"] and report["retrained"]["promoted"]
    assert report["reloaded_version"] == report["retrained"]["version"] and report["rollback"]["served"] == first["version"]
    assert "the server reloaded version" in capsys.readouterr().out
