"""The load stage end to end (slow: two servers and two Locust runs, about a minute; thorough profile
or MLOPS_SLOW=1): `twins mlops load` trains and promotes a gapminder scorer in a temporary store,
serves it with 1 and then 2 uvicorn workers and runs headless Locust against each. Every request
kind is reported with its count, failures, rate and latency percentiles, and none fails."""
import json
import os

import pytest

from twins.cli import main

slow = pytest.mark.skipif(os.environ.get("HYPOTHESIS_PROFILE") != "thorough" and os.environ.get("MLOPS_SLOW") != "1",
                          reason="slow (two servers, two Locust runs): HYPOTHESIS_PROFILE=thorough or MLOPS_SLOW=1")


@slow
def test_load_stage_reports_latency_and_throughput_for_both_worker_counts(tmp_path):
    assert main(["mlops", "load", "--seconds", "3", "--users", "2", "--epochs", "3", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "load.json").read_text())
    assert set(results) == {"1 worker", "2 workers"}
    for workers, rows in results.items():
        assert len(rows) == 2, f"{workers}: expected single-row and batched /predict, got {sorted(rows)}"
        for request, row in rows.items():
            assert row["requests"] > 0 and row["failures"] == 0, (workers, request, row)
            assert row["rps"] > 0 and 0 < row["p50"] <= row["p95"] <= row["p99"], (workers, request, row)
