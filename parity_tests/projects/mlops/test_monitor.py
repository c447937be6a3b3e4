"""The data stage, the gate's rules and the drift monitor on the real gapminder split: training
years up to 1990 against 2000-2016."""
import numpy as np
import pytest

from scratch.projects.mlops import data, gate, monitor
from scratch.projects.mlops.config import GAPMINDER_FEATURES, MONITOR_YEARS, TRAIN_YEARS, GateConfig


@pytest.fixture(scope="module")
def gapminder():
    table = data.load_gapminder()
    valid, quarantine = data.validate(table)
    return table, valid, quarantine


def test_schema_quarantines_each_bad_row_with_its_reasons(gapminder):
    table, valid, quarantine = gapminder
    assert len(valid) == 10545 and valid.sum() + len(quarantine) == len(valid)
    assert set(np.flatnonzero(~valid)) == set(quarantine)
    missing_gdp = np.flatnonzero(np.isnan(table["gdp"]))
    assert all(any(reason.startswith("gdp: missing") for reason in quarantine[row]) for row in missing_gdp)
    broken = dict(table, fertility=table["fertility"].copy())
    broken["fertility"][0] = 99.0  # out of range, not missing
    assert "fertility: missing or outside [0, 15], got np.float64(99.0)" in data.validate(broken)[1][0]


def test_content_hash_versions_the_data():
    X = np.arange(12.0).reshape(3, 4)
    assert data.content_hash(X) == data.content_hash(X.copy())
    assert data.content_hash(X) != data.content_hash(X.astype(np.float32)) != data.content_hash(X.reshape(4, 3))
    changed = X.copy()
    changed[1, 1] += 1e-12
    assert data.content_hash(X) != data.content_hash(changed)


def test_gapminder_drifts_between_the_training_and_monitoring_years(gapminder):
    table, valid, _ = gapminder
    table = data.select(table, valid)
    X_train, _ = data.features(data.years(table, *TRAIN_YEARS))
    X_now, _ = data.features(data.years(table, *MONITOR_YEARS))
    report = monitor.drift_report(X_train, X_now, GAPMINDER_FEATURES, categorical=GAPMINDER_FEATURES[4:])
    rows = report["features"]
    assert rows["infant_mortality"]["drifted"] and rows["fertility"]["drifted"]  # the demographic transition
    assert rows["infant_mortality"]["psi"] > 0.5 and rows["infant_mortality"]["ks_p_value"] < 1e-10
    assert monitor.should_retrain(report)[0]
    same = monitor.drift_report(X_train, X_train[::-1], GAPMINDER_FEATURES, categorical=GAPMINDER_FEATURES[4:])
    assert same["drift_share"] == 0 and not monitor.should_retrain(same)[0]


def test_the_gate_passes_better_models_and_stops_worse_ones():
    champion = {"accuracy": 0.90, "slices": {"a": 0.9, "b": 0.9}}
    better = {"accuracy": 0.93, "slices": {"a": 0.95, "b": 0.88}}
    assert gate.passed(gate.evaluate_gate(better, champion, "classification", True, GateConfig(margin=0.01)))
    assert not gate.passed(gate.evaluate_gate(better, champion, "classification", False))  # parity failed
    assert not gate.passed(gate.evaluate_gate(better, champion, "classification", True, GateConfig(margin=0.05)))
    slice_drop = {"accuracy": 0.95, "slices": {"a": 1.0, "b": 0.80}}
    results = gate.evaluate_gate(slice_drop, champion, "classification", True, GateConfig(max_slice_regression=0.05))
    assert [r.name for r in results if not r.passed] == ["slices"] and "b" in results[-1].detail
    worse_mae, champion_mae = {"mae": 4.0, "slices": {"Asia": 4.0}}, {"mae": 3.0, "slices": {"Asia": 3.0}}
    lenient = GateConfig(max_slice_regression=1.0)  # the slices let it through: only the holdout score can stop it
    results = {r.name: r.passed for r in gate.evaluate_gate(worse_mae, champion_mae, "regression", True, lenient)}
    assert results == {"parity": True, "beats champion": False, "slices": True}
    better_mae = {"mae": 2.9, "slices": {"Asia": 2.9}}
    assert not gate.passed(gate.evaluate_gate(better_mae, champion_mae, "regression", True, GateConfig(margin=0.05)))  # 2.9 > 2.85
    assert gate.passed(gate.evaluate_gate(better_mae, champion_mae, "regression", True, GateConfig(margin=0.02)))
    assert gate.passed(gate.evaluate_gate(worse_mae, None, "regression", True))  # the first model has no champion to beat
