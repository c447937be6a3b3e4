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


def test_the_full_runs_gp_peers_run_a_short_budget():
    """Optuna's GP sampler and BoTorch's loop (SingleTaskGP + log EI), the full run's peers beside gp_minimize: each
    returns one value per evaluation, starts with the same initial design size, and improves on a poor start."""
    import numpy as np

    from scratch.projects.bayesopt.functions import TEST_FUNCTIONS
    from twins.demos import bayesopt

    branin = TEST_FUNCTIONS["branin"]
    for peer in (bayesopt._optuna_gp, bayesopt._botorch):
        values = peer(branin, 12, 6, seed=1)
        assert values.shape == (12,) and np.isfinite(values).all() and values.min() >= branin.minimum - 1e-9, peer.__name__
        assert values.min() < 10.0, (peer.__name__, values)  # Branin's values run from 0.398 to about 308 on its box
