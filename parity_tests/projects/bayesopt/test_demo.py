"""`twins run bayesopt --quick` writes every deliverable of its default data set (Branin regret
curves and the 1-D posterior GIF) and a metrics.json that says scratch BO beat random search."""
import json

from twins.cli import main


def test_quick_demo_writes_regret_curves_gif_and_metrics(tmp_path, capsys):
    out = tmp_path / "bayesopt"
    assert main(["run", "bayesopt", "--quick", "--no-progress", "--out", str(out)]) == 0
    assert {"branin_regret.png", "bo_1d.gif", "bo_1d_last.png", "metrics.json"} <= {p.name for p in out.iterdir()}
    report = json.loads((out / "metrics.json").read_text())
    regret = report["branin"]["final_log10_regret"]
    assert set(regret) == {"scratch BO (log EI)", "random", "optuna tpe"}
    assert regret["scratch BO (log EI)"]["mean"] < regret["random"]["mean"]
    assert "branin: final log10 simple regret" in capsys.readouterr().out
