"""Project 16: the quick demo runs end to end through the CLI and writes every deliverable."""
import json

from twins.cli import main


def test_quick_gnn_demo_writes_every_deliverable(tmp_path, capsys):
    out = tmp_path / "gnn"
    assert main(["run", "gnn", "--quick", "--dataset", "karate", "--epochs", "6", "--no-progress", "--out", str(out)]) == 0
    names = {path.name for path in out.iterdir()}
    assert {"metrics.json", "karate_results.png", "karate_curves.png", "karate_tsne.png", "karate_embedding.png",
            "karate_embedding.gif", "karate_gat_attention.png"} <= names
    report = json.loads((out / "metrics.json").read_text())["karate"]
    rows = report["results"]
    assert {"scratch gcn", "torch gcn", "scratch gat", "torch gat", "scratch sage", "torch sage", "scratch mlp", "torch mlp",
            "label spreading"} <= rows.keys()
    assert all(0 <= row["mean"] <= 1 and len(row["per_seed"]) == report["seeds"] for row in rows.values())
    assert report["graph"] == {"nodes": 34, "edges": 156, "features": 34, "classes": [f"community {k}" for k in range(4)],
                               "labels_per_class": 1, "weighted": False}
    assert "karate: 34 nodes" in capsys.readouterr().out
