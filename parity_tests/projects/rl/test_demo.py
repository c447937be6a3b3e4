"""Project 11: `twins run rl --quick` writes metrics.json and the plots, every job at smoke size."""
import json

from twins.cli import main


def test_quick_demo_writes_metrics_and_plots(tmp_path, capsys):
    out = tmp_path / "rl"
    assert main(["run", "rl", "--quick", "--no-progress", "--out", str(out)]) == 0
    expected = {"metrics.json", "frozenlake-v1_values.png", "frozenlake-v1_q_error.png", "taxi-v4_q_error.png",
                "cliffwalking_sarsa_vs_q_learning.png", "cliffwalking_paths.png", "cartpole-v1_dqn_returns.png", "cartpole-v1_greedy.gif"}
    assert expected <= {p.name for p in out.iterdir()}
    report = json.loads((out / "metrics.json").read_text())
    assert report["quick"] is True
    assert report["frozenlake"]["FrozenLake-v1"]["bellman_residual_Q_star"] <= 1e-10
    assert report["cliffwalking"]["q_learning"]["greedy_path_return_seed0"] == -13  # along the edge
    cartpole = report["cartpole"]
    # the twins start from the same weights and take the same steps: the same first greedy evaluation
    assert cartpole["scratch"]["runs"][0]["eval_returns"][0] == cartpole["torch"]["runs"][0]["eval_returns"][0]
    assert cartpole["sb3"]["runs"][0]["eval_steps"] == cartpole["scratch"]["runs"][0]["eval_steps"]
    assert cartpole["gif"]["frames"] >= 2
    assert "cartpole DQN" in capsys.readouterr().out
