"""`twins run seq2seq --quick` end to end on a synthetic task: metrics.json, the plots, a checkpoint that
`python3 -m twins.demos.seq2seq --word` reads back."""
import json

import pytest

from twins.cli import main
from twins.demos import seq2seq as demo

pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning",
                                        "ignore:The PyTorch API of nested tensors is in prototype:UserWarning")


def test_quick_demo_writes_metrics_plots_and_a_checkpoint(tmp_path, capsys):
    main(["run", "seq2seq", "--quick", "--dataset", "reverse", "--out", str(tmp_path), "--no-progress"])
    report = json.loads((tmp_path / "metrics.json").read_text())["reverse"]
    assert set(report["models"]) == {"scratch transformer", "torch transformer"}
    for row in report["models"].values():
        assert 0 <= row["wer"] <= 100 and 0 <= row["per"] and row["train_seconds"] > 0
    history = report["histories"]["scratch"]
    assert len(history["train_loss"]) == 3 and len(history["step_loss"]) == 3 * -(-1000 // 64)
    assert set(report["wer_by_beam_width"]) == {"1", "2"} and 0 <= report["twin_agreement"] <= 1
    assert report["twin_agreement_same_weights"] == 1.0
    for name in ("reverse_curves.png", "reverse_wer_by_beam_width.png", "reverse_seq2seq.npz"):
        assert (tmp_path / name).stat().st_size > 0
    assert [shown["png"] for shown in report["attention"].values()]
    assert "scratch transformer" in capsys.readouterr().out
    demo.main(["--word", "123", "--word", "90", "--checkpoint", str(tmp_path / "reverse_seq2seq.npz")])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["123", "90"]
