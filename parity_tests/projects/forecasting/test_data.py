"""Project 5's data pipeline: windows, splits, scaler, walk-forward folds, multi-step
forecasts, intervals, metrics and baselines, against naive loops, sklearn and statsmodels."""
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import mean_absolute_error, root_mean_squared_error
from sklearn.preprocessing import StandardScaler

from scratch import datasets, metrics
from scratch.plumbing import chronological_split
from scratch.projects.forecasting import baselines
from scratch.projects.forecasting import data as fd

finite = st.floats(-1e6, 1e6, allow_nan=False)


def series_of(min_size=1, max_size=60):
    return arrays(np.float64, st.integers(min_size, max_size), elements=finite)


@given(series_of(2), st.data())
def test_windows_match_a_naive_loop(series, data):
    window = data.draw(st.integers(1, len(series) - 1), label="window")
    horizon = data.draw(st.integers(1, len(series) - window), label="horizon")
    stride = data.draw(st.integers(1, 5), label="stride")
    X, Y = fd.make_windows(series, window, horizon, stride)
    starts = range(0, len(series) - window - horizon + 1, stride)
    np.testing.assert_array_equal(X, np.array([series[s:s + window] for s in starts]).reshape(-1, window))
    np.testing.assert_array_equal(Y, np.array([series[s + window:s + window + horizon] for s in starts]).reshape(-1, horizon))
    assert X.flags.writeable and Y.flags.writeable


@given(series_of(2), st.data())
def test_direct_targets_are_the_windows_of_each_step(series, data):
    window = data.draw(st.integers(1, len(series) - 1), label="window")
    horizon = data.draw(st.integers(1, len(series) - window), label="horizon")
    _, Y = fd.make_windows(series, window, horizon)
    for h, (X_h, y_h) in enumerate(fd.direct_targets(series, window, horizon), start=1):
        X_ref, Y_ref = fd.make_windows(series, window, h)
        assert len(X_h) == len(y_h) == len(series) - window - h + 1
        np.testing.assert_array_equal(X_h, X_ref)
        np.testing.assert_array_equal(y_h, Y_ref[:, -1])
        np.testing.assert_array_equal(y_h[:len(Y)], Y[:, h - 1])


@given(series_of(), st.floats(0, 0.45), st.floats(0, 0.45))
def test_chronological_split_is_contiguous_and_in_order(series, val_fraction, test_fraction):
    sizes = [0 if f == 0 else max(1, round(f * len(series))) for f in (val_fraction, test_fraction)]
    if sum(sizes) >= len(series):
        with pytest.raises(ValueError, match="expected them to leave a training part"):
            chronological_split(series, val_fraction, test_fraction)
        return
    train, val, test = chronological_split(series, val_fraction, test_fraction)
    np.testing.assert_array_equal(np.concatenate([train, val, test]), series)
    assert [len(val), len(test)] == sizes and len(train) >= 1


def test_chronological_split_cuts_timestamps_alike():
    values, timestamps = datasets.load_series("sunspots")
    parts, stamps = chronological_split(values, 0.1, 0.2), chronological_split(timestamps, 0.1, 0.2)
    assert [len(p) for p in parts] == [len(s) for s in stamps] == [216, 31, 62]
    assert stamps[0][-1] < stamps[1][0] < stamps[2][0] and stamps[2][-1] == np.datetime64("2008")


@given(series_of(2), series_of(1, 20))
def test_scaler_matches_sklearn_and_learns_from_train_only(train, test):
    scaler = fd.SeriesScaler().fit(train)
    sk = StandardScaler().fit(train[:, None])
    np.testing.assert_allclose([scaler.mean_, scaler.scale_], [sk.mean_[0], sk.scale_[0]], rtol=1e-12)
    np.testing.assert_allclose(scaler.var_, sk.var_[0], rtol=1e-9, atol=1e-12 * max(1.0, scaler.mean_**2))  # rounding of two var algorithms
    assert scaler.n_samples_seen_ == sk.n_samples_seen_ == len(train)
    np.testing.assert_allclose(scaler.transform(test), sk.transform(test[:, None])[:, 0], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(test)), test, rtol=1e-9, atol=1e-6)


def test_scaler_conventions():
    train = np.arange(10.0)
    scaler = fd.SeriesScaler()
    assert scaler.fit(train) is scaler and not hasattr(fd.SeriesScaler(), "mean_")
    # Fitted on the training part, a later level shift shows in the test part instead of being absorbed.
    assert scaler.transform(np.full(3, 100.0)).min() > 30
    assert scaler.transform(np.ones((4, 3), np.float32)).dtype == np.float32  # windows keep their dtype
    constant = fd.SeriesScaler().fit(np.full(7, 0.1))
    assert constant.scale_ == StandardScaler().fit(np.full((7, 1), 0.1)).scale_[0] == 1.0
    np.testing.assert_array_equal(fd.SeriesScaler(with_mean=False, with_std=False).fit_transform(train), train)


@given(st.integers(2, 200), st.data())
def test_walk_forward_splits_tile_the_span_without_leakage(n, data):
    initial = data.draw(st.integers(1, n - 1), label="initial")
    horizon = data.draw(st.integers(1, 30), label="horizon")
    step = data.draw(st.integers(1, 30), label="step")
    folds = list(fd.walk_forward_splits(n, initial, step, horizon))
    assert folds and folds[0][0] == initial
    for train_end, test in folds:
        assert test.start == train_end and train_end < test.stop <= n  # the test part follows its training part
    assert [f[0] for f in folds] == list(range(initial, n, step))
    tiled = list(fd.walk_forward_splits(n, initial, horizon, horizon))
    assert np.array_equal(np.concatenate([np.arange(n)[s] for _, s in tiled]), np.arange(initial, n))


def test_recursive_forecast_with_a_known_linear_predictor():
    def fibonacci_step(X):
        return X[:, -1] + X[:, -2]
    history = np.array([[0.0, 1.0, 1.0], [1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(fd.recursive_forecast(fibonacci_step, history, 5),
                                  [[2, 3, 5, 8, 13], [5, 8, 13, 21, 34]])
    np.testing.assert_array_equal(fd.recursive_forecast(fibonacci_step, [1.0, 1.0], 3), [2, 3, 5])
    direct = [lambda X: X[:, -1] + X[:, -2], lambda X: X[:, -1] * 2 + X[:, -2]]
    np.testing.assert_array_equal(fd.direct_forecast(direct, history), fd.recursive_forecast(fibonacci_step, history, 2))


def test_residual_intervals_cover_the_expected_fraction():
    rng = np.random.default_rng(0)
    scales = np.array([1.0, 3.0, 10.0])  # errors grow with the step ahead
    validation, fresh = rng.standard_t(5, (2, 20000, 3)) * scales
    for level in (0.5, 0.8, 0.95):
        lower, upper = fd.residual_intervals(validation, level)
        assert lower.shape == upper.shape == (3,) and np.all(lower < upper)
        coverage = np.mean((fresh >= lower) & (fresh <= upper), axis=0)
        np.testing.assert_allclose(coverage, level, atol=0.015)
    lower, upper = fd.residual_intervals(validation[:, 0], 0.9)
    assert np.ndim(lower) == 0 and lower < 0 < upper


@given(arrays(np.float64, st.tuples(st.integers(1, 30), st.integers(1, 4)), elements=finite), st.data())
def test_mae_and_rmse_match_sklearn(y_true, data):
    y_pred = data.draw(arrays(np.float64, y_true.shape, elements=finite), label="y_pred")
    np.testing.assert_allclose(metrics.mae(y_true[:, 0], y_pred[:, 0]), mean_absolute_error(y_true[:, 0], y_pred[:, 0]), rtol=1e-12)
    np.testing.assert_allclose(metrics.rmse(y_true[:, 0], y_pred[:, 0]), root_mean_squared_error(y_true[:, 0], y_pred[:, 0]), rtol=1e-12)
    np.testing.assert_allclose(metrics.mae(y_true, y_pred, axis=0), mean_absolute_error(y_true, y_pred, multioutput="raw_values"), rtol=1e-12)
    np.testing.assert_allclose(metrics.rmse(y_true, y_pred, axis=0), root_mean_squared_error(y_true, y_pred, multioutput="raw_values"), rtol=1e-12)


def test_smape_and_mase_on_known_values():
    assert metrics.smape([0, 1, 2], [0, 3, -2]) == pytest.approx((0 + 100 + 200) / 3)  # 0/0 counts as 0
    assert metrics.smape([5.0], [5.0]) == 0
    y_train = np.array([1.0, 3.0, 2.0, 4.0, 3.0, 5.0])  # in-sample naive MAE 1.6, seasonal (2) MAE 1.0
    assert metrics.mase([4.0, 6.0], [5.0, 5.0], y_train) == pytest.approx(1 / 1.6)
    assert metrics.mase([4.0, 6.0], [5.0, 5.0], y_train, season=2) == pytest.approx(1.0)
    assert metrics.mase(y_train[1:], y_train[:-1], y_train) == pytest.approx(1.0)


def test_naive_baselines_on_known_series():
    history = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]])
    np.testing.assert_array_equal(baselines.naive_forecast(history, 3), [[4, 4, 4], [8, 8, 8]])
    np.testing.assert_array_equal(baselines.seasonal_naive_forecast(history[0], 2, 5), [3, 4, 3, 4, 3])
    periodic = np.tile([1.0, 5.0, 2.0], 10)
    X, Y = fd.make_windows(periodic, 6, 4)
    np.testing.assert_array_equal(baselines.seasonal_naive_forecast(X, 3, 4), Y)  # exact on a periodic series


def test_bundled_series_load_as_documented():
    co2, weeks = datasets.load_series("co2")
    assert co2.shape == weeks.shape == (2284,) and co2.dtype == np.float64 and np.isnan(co2).sum() == 59
    assert np.all(np.diff(weeks) == np.timedelta64(7, "D")) and weeks[0] == np.datetime64("1958-03-29")
    sunspots, years = datasets.load_series("sunspots")
    assert sunspots.shape == (309,) and not np.isnan(sunspots).any()
    assert years[0] == np.datetime64("1700") and years[-1] == np.datetime64("2008")
    assert datasets.load_series("nile")[0].shape == (100,)
    filled, missing = datasets.fill_gaps(co2)
    assert np.isfinite(filled).all() and np.array_equal(missing, np.isnan(co2)) and np.array_equal(filled[~missing], co2[~missing])
    parts = [datasets.load("co2", split, dtype=np.float64) for split in ("train", "val", "test")]
    np.testing.assert_array_equal(np.concatenate([values for values, _ in parts]), filled)
    np.testing.assert_array_equal(np.concatenate([stamps for _, stamps in parts]), weeks)


def test_fill_gaps_interpolates_and_handles_edges():
    filled, missing = datasets.fill_gaps([1.0, np.nan, np.nan, 4.0, np.nan, 6.0])
    np.testing.assert_array_equal(filled, [1, 2, 3, 4, 5, 6])
    assert missing.tolist() == [False, True, True, False, True, False]
    np.testing.assert_array_equal(datasets.fill_gaps([np.nan, 2.0, np.nan], edges="extend")[0], [2, 2, 2])
    with pytest.raises(ValueError, match="values: a NaN run touches an edge.*edges='extend'"):
        datasets.fill_gaps([np.nan, 2.0])


def test_missing_statsmodels_says_how_to_install():
    code = ("import sys; sys.modules['statsmodels'] = None\n"
            "from scratch import datasets\n"
            "try:\n    datasets.load_series('co2')\nexcept ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install statsmodels" in out


def test_scratch_forecasting_never_imports_torch_or_statsmodels():
    code = ("import sys, scratch.projects.forecasting.data, scratch.projects.forecasting.baselines, "
            "scratch.projects.forecasting.model, scratch.datasets, scratch.metrics; "
            "assert not {'torch', 'statsmodels'} & set(sys.modules), sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_linear_autoregression_through_the_whole_pipeline():
    """Scale on train only, fit by least squares, forecast the test span, intervals from validation."""
    values, _ = datasets.load_series("sunspots")
    train, val, test = chronological_split(values, 0.15, 0.15)
    window = 9
    scaler = fd.SeriesScaler().fit(train)
    X, Y = fd.make_windows(scaler.transform(train), window)
    coef, *_ = np.linalg.lstsq(np.c_[X, np.ones(len(X))], Y[:, 0], rcond=None)

    def predict_one(X):
        return np.c_[X, np.ones(len(X))] @ coef

    def one_step(part, before):  # forecasts of each point of `part` from the actual history
        X_part, Y_part = fd.make_windows(scaler.transform(np.concatenate([before[-window:], part])), window)
        return scaler.inverse_transform(predict_one(X_part)), scaler.inverse_transform(Y_part[:, 0])
    y_hat_val, y_val = one_step(val, train)
    lower, upper = fd.residual_intervals(y_val - y_hat_val, 0.8)
    y_hat, y_test = one_step(test, np.concatenate([train, val]))
    np.testing.assert_allclose(y_test, test, rtol=1e-12)
    naive = np.concatenate([val[-1:], test[:-1]])
    assert metrics.mase(y_test, y_hat, train) < metrics.mase(y_test, naive, train)
    assert 0.5 < np.mean((y_test >= y_hat + lower) & (y_test <= y_hat + upper)) <= 1.0
    multi = scaler.inverse_transform(fd.recursive_forecast(predict_one, scaler.transform(val[-window:]), len(test)))
    assert multi.shape == test.shape and np.isfinite(multi).all()


@pytest.mark.parametrize("name, season", [("co2", 52), ("sunspots", 11)])
def test_statsmodels_baseline_beats_naive_one_step(name, season):
    from reference.projects.forecasting import baselines as reference_baselines
    values, _ = datasets.fill_gaps(datasets.load_series(name)[0])
    train, test = values[:-len(values) // 7], values[-len(values) // 7:]
    one_step, multi_step = reference_baselines.statsmodels_baseline(name, train, test)
    assert one_step.shape == multi_step.shape == test.shape
    assert np.isfinite(one_step).all() and np.isfinite(multi_step).all()
    naive = np.concatenate([train[-1:], test[:-1]])
    assert metrics.mase(test, one_step, train) < min(1.0, metrics.mase(test, naive, train))
    assert metrics.mase(test, multi_step, train, season=season) < 5
    np.testing.assert_array_equal(reference_baselines.seasonal_naive_forecast(train, season, 3), train[-season:][:3])


BAD_INPUT = [
    (lambda: fd.make_windows(np.arange(5.0), 5, 1), "window: expected window \\+ horizon <= len\\(series\\) = 5, got 5 \\+ 1"),
    (lambda: fd.make_windows(np.arange(5.0), 2, 0), "horizon: expected a positive int, got 0"),
    (lambda: fd.make_windows(np.arange(5.0), 2, 1, stride=1.5), "stride: expected a positive int, got 1.5"),
    (lambda: fd.make_windows([1.0, np.nan, 3.0], 1), "series: expected finite values, got NaN/inf at \\[\\[1\\]\\].*fill_gaps"),
    (lambda: fd.make_windows(np.ones((3, 2)), 1), "series: expected a non-empty 1-d series \\(T,\\), got shape \\(3, 2\\)"),
    (lambda: chronological_split(np.arange(9), 1.0, 0.1), "val_fraction: expected a number in \\[0, 1\\), got 1.0"),
    (lambda: chronological_split(np.arange(9), 0.1, -0.1), "test_fraction: expected a number in \\[0, 1\\), got -0.1"),
    (lambda: chronological_split(np.arange(4), 0.5, 0.45), "val_fraction and test_fraction: expected them to leave a training part"),
    (lambda: fd.SeriesScaler().transform(np.ones(3)), "SeriesScaler: not fitted yet"),
    (lambda: fd.SeriesScaler().fit([1.0, np.inf]), "series: expected finite values"),
    (lambda: fd.SeriesScaler().fit(np.ones(3)).transform([np.nan]), "X: expected finite values"),
    (lambda: list(fd.walk_forward_splits(10, 10, 1, 1)), "initial: expected fewer than n = 10 training points, got 10"),
    (lambda: list(fd.walk_forward_splits(10, 5, 0, 1)), "step: expected a positive int, got 0"),
    (lambda: fd.recursive_forecast(lambda X: X, np.ones((2, 3)), 2), "predict_one: expected predictions of shape \\(2,\\), got \\(2, 3\\)"),
    (lambda: fd.recursive_forecast(lambda X: X[:, 0] * np.nan, np.ones((2, 3)), 2), "predict_one: expected finite values"),
    (lambda: fd.recursive_forecast(lambda X: X[:, 0], np.ones((2, 3)), 0), "steps: expected a positive int, got 0"),
    (lambda: fd.recursive_forecast(lambda X: X[:, 0], np.ones((2, 3, 1)), 1), "history: expected a window \\(window,\\) or windows \\(N, window\\)"),
    (lambda: fd.direct_targets(np.arange(4.0), 3, 2), "window: expected window \\+ horizon <= len\\(series\\) = 4, got 3 \\+ 2"),
    (lambda: fd.direct_forecast([], np.ones(3)), "predictors: expected one callable per step ahead, got none"),
    (lambda: fd.residual_intervals(np.ones(5), 1.0), "level: expected a coverage in \\(0, 1\\), got 1.0"),
    (lambda: fd.residual_intervals(np.ones(5), 0), "level: expected a coverage in \\(0, 1\\), got 0"),
    (lambda: fd.residual_intervals(np.empty(0)), "residuals: expected a non-empty"),
    (lambda: fd.residual_intervals([1.0, np.nan]), "residuals: expected finite values"),
    (lambda: metrics.mae([1.0, 2.0], [1.0]), "y_true and y_pred: expected two non-empty arrays of one shape, got \\(2,\\) and \\(1,\\)"),
    (lambda: metrics.rmse([], []), "y_true and y_pred: expected two non-empty arrays"),
    (lambda: metrics.smape([1.0], [np.nan]), "y_pred: expected finite values, got NaN/inf at \\[\\[0\\]\\]"),
    (lambda: metrics.mase([1.0], [1.0], [1.0, 2.0, 3.0], season=3), "season: expected an int in \\[1, len\\(y_train\\) = 3\\), got 3"),
    (lambda: metrics.mase([1.0], [1.0], np.ones(4)), "y_train: expected a series that changes over season = 1"),
    (lambda: metrics.mase([1.0], [1.0], [1.0, np.nan, 2.0]), "y_train: expected finite values"),
    (lambda: baselines.seasonal_naive_forecast(np.ones(3), 4), "season: expected at most the window length 3, got 4"),
    (lambda: baselines.naive_forecast(np.ones(3), steps=-1), "steps: expected a positive int, got -1"),
    (lambda: datasets.load_series("airline"), "name: expected one of \\('co2', 'sunspots', 'nile'\\), got 'airline'"),
    (lambda: datasets.load("co2", "validation"), "split: expected 'train', 'val' or 'test' for a series, got 'validation'"),
    (lambda: datasets.fill_gaps([1.0, np.nan, 2.0], method="cubic"), "method: expected 'linear', got 'cubic'"),
    (lambda: datasets.fill_gaps([np.nan, np.nan]), "values: expected at least one known value, got only NaN"),
    (lambda: datasets.fill_gaps([1.0, np.inf]), "values: expected finite numbers or NaN gaps, got inf at \\[1\\]"),
]


@pytest.mark.parametrize("call, message", BAD_INPUT, ids=[m.split(":")[0] + str(i) for i, (_, m) in enumerate(BAD_INPUT)])
def test_bad_input_is_refused_with_a_named_reason(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_non_numbers_are_a_type_error():
    with pytest.raises(TypeError, match="series: expected real numbers, got dtype <U1"):
        fd.make_windows(np.array(["a", "b"]), 1)
    with pytest.raises(TypeError, match="y_true: expected real numbers, got dtype bool"):
        metrics.mae(np.array([True]), np.array([1.0]))


def test_forecast_plot_is_written(tmp_path):
    from twins import plots
    values, weeks = datasets.load_series("co2")
    filled, missing = datasets.fill_gaps(values)
    forecast = baselines.seasonal_naive_forecast(filled[:-60], 52, 60)
    path = plots.forecasts(weeks, filled, {"seasonal naive": forecast}, tmp_path / "co2.png", "co2",
                           interval=(forecast - 1, forecast + 1), missing=missing, context=300)
    assert path.stat().st_size > 10_000
