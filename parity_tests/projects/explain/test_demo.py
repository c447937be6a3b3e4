"""The quick demo end to end through the command line: every plot written, scratch TreeSHAP equal
to shap's on the forest and the gradient boosting, the Shapley values adding up, the explainers of one model agreeing on
the ranking, and the sanity check's lesson (saliency forgets the trained model, gradient x input
keeps the image)."""
import json

from twins.cli import main


def test_quick_demo_writes_every_deliverable(tmp_path, capsys):
    out = tmp_path / "explain"
    assert main(["run", "explain", "--quick", "--no-progress", "--out", str(out)]) == 0
    plots = {f"breast-cancer_{model}_{kind}.png" for model in ("forest", "boosting", "mlp")
             for kind in ("waterfall", "beeswarm", "bar", "dependence")}
    plots |= {"breast-cancer_lime.png", "breast-cancer_agreement.png", "digits_attribution_maps.png", "digits_lime_superpixels.png",
              "digits_sanity_check.png", "metrics.json"}
    assert plots <= {p.name for p in out.iterdir()}
    report = json.loads((out / "metrics.json").read_text())
    table = report["breast-cancer"]
    assert table["shap_tree_path_dependent"]["max_abs_difference"] < 1e-12
    assert table["shap_tree_boosting"]["max_abs_difference"] < 1e-12  # the log-odds, on the bit-exact twin
    assert table["forest_efficiency_gap"] < 1e-12 and table["mlp_efficiency_gap"] < 1e-9
    assert table["boosting_efficiency_gap"] < 1e-12
    assert table["forest_score"] > 0.9 and table["boosting_score"] > 0.9 and table["mlp_score"] > 0.9
    agreement = table["rank_agreement"]
    assert agreement["forest TreeSHAP interventional"]["forest KernelSHAP"] > 0.8
    assert agreement["MLP KernelSHAP"]["MLP permutation"] > 0.8
    images = report["digits"]
    assert images["test_accuracy"] > 0.8
    check = images["sanity_check"]["rank_correlation"]
    assert check["saliency"][-1] < 0.6 < check["gradient x input"][-1], check
    assert "TreeSHAP vs shap" in capsys.readouterr().out
