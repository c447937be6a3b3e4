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
                               "labels_per_class": 1, "weighted": False,
                               "edge_homophily": report["graph"]["edge_homophily"]}
    assert 0.5 < report["graph"]["edge_homophily"] <= 1  # friends mostly share a community
    assert "karate: 34 nodes" in capsys.readouterr().out


def test_benchmark_cases_run():
    import numpy as np

    from benchmarks import bench_gnn, core

    cases = bench_gnn.cases(np.float32, quick=True, seed=0)
    assert [case.name for case in cases] == ["GCNConv fwd+bwd"] * 2 + ["GATConv fwd+bwd"] * 2 + ["GCN training epoch (Adam)",
                                                                                                 "GAT training epoch (Adam)",
                                                                                                 "GCNConv fwd+bwd, TextGCN R8 graph"]
    for case in (cases[0], cases[2], cases[-2], cases[-1]):
        assert set(core.run_case(case, repeats=1, warmup=0, threads=1).times_ms) == {"scratch", "torch"}


def test_quick_textgcn_demo_writes_every_deliverable(tmp_path, capsys):
    out = tmp_path / "gnn"
    assert main(["run", "gnn", "--quick", "--dataset", "reuters-r8", "--epochs", "6", "--no-progress", "--out", str(out)]) == 0
    assert {"metrics.json", "reuters-r8_results.png", "reuters-r8_curves.png", "reuters-r8_tsne.png"} <= {p.name for p in out.iterdir()}
    report = json.loads((out / "metrics.json").read_text())["reuters-r8"]
    graph = report["graph"]
    assert graph["documents"] == 450 and graph["nodes"] == 450 + graph["words"]
    assert graph["edges"] == graph["document_word_edges"] + graph["word_word_edges"]
    assert graph["document_word_edges"] % 2 == 0 and graph["word_word_edges"] % 2 == 0  # both directions
    assert graph["documents_train_val_test"] == [270, 30, 150]
    rows = report["results"]
    assert rows.keys() == {"scratch TextGCN", "torch TextGCN", "TF-IDF + logistic regression"}
    assert all(0 <= row["mean"] <= 1 and len(row["per_seed"]) == report["seeds"] for row in rows.values())
    assert all(1 <= epochs <= 6 for epochs in rows["scratch TextGCN"]["epochs"])
    assert "reuters-r8: 450 documents" in capsys.readouterr().out
