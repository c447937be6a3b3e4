"""`twins run autoencoder --quick` writes every deliverable: the MSE-against-code chart, grids, 2-d codes,
VAE samples and traversal, denoising, anomaly AUROCs,
logistic regression on the codes, metrics.json with the twins' VAE ELBOs and the theory check."""
import json

from twins.cli import main


def test_quick_runs_the_autoencoder_demo(tmp_path, capsys):
    out = tmp_path / "autoencoder"
    assert main(["run", "autoencoder", "--quick", "--epochs", "1", "--no-progress", "--out", str(out)]) == 0
    stems = ("mse_vs_code", "reconstructions", "codes_2d", "vae_samples", "vae_traversal", "vae_curves", "denoising", "denoising_mse")
    assert {"metrics.json"} | {f"digits_{stem}.png" for stem in stems} <= {p.name for p in out.iterdir()}
    report = json.loads((out / "metrics.json").read_text())["digits"]
    assert set(report["reconstruction_mse"]) == {"PCA", "kernel PCA", "linear AE", "dense AE", "conv AE", "VAE"}
    assert all(set(row) == {"2", "8", "32"} for row in report["reconstruction_mse"].values())
    vae = report["vae_twins"]
    assert vae["elbo_relative_gap"] < 0.01 and vae["scratch"]["epochs"] == 1
    assert vae["scratch"]["iw_log_likelihood"] >= vae["scratch"]["test_elbo"] - 1.0  # the IW bound is the tighter one
    assert report["theory"]["max_principal_angle_degrees"] < 1.0
    assert set(report["anomaly_detection"]["auroc"]) == {"dense AE", "PCA", "IsolationForest"}
    assert all(0 <= auroc <= 1 for auroc in report["anomaly_detection"]["auroc"].values())
    assert set(report["downstream_logistic_regression"]) == {"2", "8", "32"}
    assert max(report["lockstep_float64"]["max_weight_gap"].values()) < 1e-10
    assert "test reconstruction MSE" in capsys.readouterr().out
