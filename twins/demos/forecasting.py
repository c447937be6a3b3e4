"""Project 5 demo: scratch LSTM and GRU forecasters and their torch twins, trained from the
same initial weights on real series, against the naive, seasonal-naive and SARIMAX yardsticks.

For each series: a chronological train / validation / test split, a scaler fitted on the
training part only, one-step forecasts of the whole test span (each from the actual
window before it), metrics per model (imputed weeks left out), 90% intervals from the
validation residuals; then a walk-forward evaluation of multi-step forecasts: from each
fold origin in the test span, a whole season ahead, recursively (the one-step LSTM fed its
own predictions) and directly (an LSTM with one output per step ahead), against the naive
and seasonal-naive forecasts from the same origin. Writes forecast, residual and training-curve plots and metrics.json.
"""
import dataclasses
import time

import numpy as np

from reference.bridge import twin_pair
from reference.projects.forecasting import model as torch_forecasting
from reference.projects.forecasting.baselines import naive_forecast, seasonal_naive_forecast, statsmodels_baseline
from scratch import metrics
from scratch.datasets import SERIES_SPLIT, fill_gaps, load_series
from scratch.plumbing import chronological_split
from scratch.projects.forecasting import model as scratch_forecasting
from scratch.projects.forecasting.config import CONFIGS
from scratch.projects.forecasting.data import SeriesScaler, make_windows, recursive_forecast, residual_intervals, walk_forward_splits
from twins import plots
from twins.demos.common import run_datasets, save_report, tuned_config

SEASONS = {"co2": 52, "sunspots": 11}  # weeks in a year; years in a solar cycle
# co2 trends upward out of the training range, where a network cannot extrapolate its level:
# model its weekly changes instead (the d = 1 of an ARIMA) and add each back to the last value.
DIFFERENCE = {"co2": True, "sunspots": False}
CELLS = ("lstm", "gru")
LEVEL = 0.9


def forecaster_twins(config, dtype=np.float32):
    """A scratch forecaster and its torch twin holding the very same initial weights."""
    return twin_pair(scratch_forecasting.Forecaster, torch_forecasting.Forecaster, config.seed, dtype, **config.architecture())


def windows_before(series, start, stop, window):
    """Windows (stop - start, window) whose next values are series[start:stop]: the first
    windows reach back into the previous part, as a forecast at ``start`` would."""
    return make_windows(series[start - window:stop], window)


def score(actual, forecast, train, keep):
    """MAE, RMSE, sMAPE and MASE (scaled by the naive forecast's MAE on ``train``) over the ``keep`` points."""
    actual, forecast = actual[keep], forecast[keep]
    return {"mae": float(metrics.mae(actual, forecast)), "rmse": float(metrics.rmse(actual, forecast)),
            "smape": float(metrics.smape(actual, forecast)), "mase": float(metrics.mase(actual, forecast, train))}


def train_twins(config, data, to_values, progress):
    """Fit both twins of one cell; their validation and test forecasts in the series' units."""
    X, Y, X_val, Y_val, X_test = data
    model, twin = forecaster_twins(config)
    results = {}
    for side, module, library in (("scratch", model, scratch_forecasting), ("torch", twin, torch_forecasting)):
        start = time.perf_counter()
        history = library.fit(module, X, Y, X_val, Y_val, config, progress=progress)
        results[side] = {"model": module, "history": history, "fit_seconds": time.perf_counter() - start,
                         "epochs": len(history["train_loss"]), "best_epoch": history["best_epoch"],
                         "median_epoch_seconds": float(np.median(history["epoch_time"])),
                         "val_forecast": to_values(library.predict(module, X_val), "val"),
                         "test_forecast": to_values(library.predict(module, X_test), "test")}
    return results


def walk_forward(forecast_paths, scaled, values, scaler, start, horizon, window, lag):
    """``horizon``-step forecasts from origins start, start + horizon, ... (one fold each, the
    last cut at the series' end), stitched into one (len(values) - start,) array.

    ``forecast_paths`` maps the scaled windows before each origin (F, window) to scaled
    forecasts (F, horizon): recursively with a one-step model, or at once with a direct one."""
    folds = list(walk_forward_splits(len(values), start, horizon, horizon))
    origins = np.array([end for end, _ in folds])
    histories = np.stack([scaled[origin - lag - window:origin - lag] for origin in origins])  # (F, window)
    paths = scaler.inverse_transform(forecast_paths(histories))  # (F, horizon)
    if lag:  # the model forecasts changes: accumulate them onto the last observed value
        paths = values[origins - 1][:, None] + np.cumsum(paths, axis=1)
    return np.concatenate([path[:test.stop - test.start] for path, (_, test) in zip(paths, folds)])


def train_direct(config, scaled, val_start, test_start, lag, progress):
    """A scratch LSTM with ``config.horizon`` outputs: every step of the season at once."""
    window, horizon = config.window, config.horizon
    X, Y = make_windows(scaled[:val_start - lag], window, horizon)  # (N, window), (N, horizon)
    X_val, Y_val = make_windows(scaled[val_start - lag - window:test_start - lag], window, horizon)
    model, _ = forecaster_twins(config)
    scratch_forecasting.fit(model, X, Y, X_val, Y_val, config, progress=progress)
    return model


def seasonal_walk_forward(values, start, horizon, season):
    """The naive and seasonal-naive forecasts from the same origins as :func:`walk_forward`."""
    index = np.arange(start, len(values))
    origin = start + (index - start) // horizon * horizon  # each point's fold origin
    seasonal = values[origin - season + (index - origin) % season]
    return values[origin - 1], seasonal


def run_dataset(name, out_dir, num_epochs=None, progress=True, quick=False):
    values, timestamps = load_series(name)
    values, missing = fill_gaps(values)  # co2 misses 59 weeks; the models need every one
    train, val, test = chronological_split(values, *SERIES_SPLIT)
    val_start, test_start = len(train), len(train) + len(val)
    base = tuned_config(CONFIGS, name, num_epochs, quick)
    window, season = base.window, SEASONS[name]
    lag = 1 if DIFFERENCE[name] else 0
    modelled = np.diff(values) if lag else values  # modelled[t - lag] leads to values[t]
    scaler = SeriesScaler().fit(modelled[:val_start - lag])  # the training part only: no peeking ahead
    scaled = scaler.transform(modelled).astype(np.float32)
    spans = {"val": (val_start, test_start), "test": (test_start, len(values))}
    X, Y = make_windows(scaled[:val_start - lag], window)  # (N, window), (N, 1)
    data = (X, Y, *windows_before(scaled, val_start - lag, test_start - lag, window),
            windows_before(scaled, test_start - lag, len(values) - lag, window)[0])

    def to_values(prediction, part):  # (N, 1) scaled -> (N,) in the series' units
        start, stop = spans[part]
        return scaler.inverse_transform(prediction[:, 0]) + (values[start - 1:stop - 1] if lag else 0)

    raw_test_windows = windows_before(values, test_start, len(values), window)[0]  # (T_test, window) in ppm / counts
    keep = ~missing[test_start:]  # score real observations only
    forecasts = {"naive": naive_forecast(raw_test_windows)[:, 0],
                 "seasonal naive": seasonal_naive_forecast(raw_test_windows, season)[:, 0],
                 "SARIMAX": statsmodels_baseline(name, values[:test_start], test)[0]}
    report = {"dataset": name, "config": dataclasses.asdict(base), "season": season, "differenced": bool(lag),
              "points": {"train": len(train), "val": len(val), "test": len(test), "test_scored": int(keep.sum())},
              "windows": {"train": len(X), "val": len(data[2]), "test": len(data[4])}}
    multi_step = dict(zip(("naive", "seasonal naive"), seasonal_walk_forward(values, test_start, season, season)))
    for cell in CELLS:
        config = dataclasses.replace(base, cell=cell)
        results = train_twins(config, data, to_values, progress)
        for side, result in results.items():
            forecasts[f"{side} {cell}"] = result.pop("test_forecast")
            if cell == "lstm":
                library = scratch_forecasting if side == "scratch" else torch_forecasting
                predict_one = lambda W, model=result["model"], library=library: library.predict(model, W.astype(np.float32))[:, 0]  # noqa: E731
                multi_step[f"{side} lstm"] = walk_forward(lambda H, f=predict_one: recursive_forecast(f, H, season),
                                                          scaled, values, scaler, test_start, season, window, lag)
            del result["model"]
        report[cell] = {side: {k: v for k, v in result.items() if k != "val_forecast"} for side, result in results.items()}
        report[cell]["twin_forecast_gap"] = float(np.max(np.abs(forecasts[f"scratch {cell}"] - forecasts[f"torch {cell}"])))
        plots.training_curves({side: result["history"] for side, result in results.items()},
                              out_dir / f"{name}_{cell}_curves.png",
                              f"{cell.upper()} forecaster on {name}: scratch vs torch from the same initial weights",
                              loss_name="MSE (standardised units)", accuracy=False)
        if cell == "lstm":
            lower, upper = residual_intervals(val - results["scratch"]["val_forecast"], LEVEL)
    report["metrics"] = {model: score(test, forecast, train, keep) for model, forecast in forecasts.items()}
    band = (forecasts["scratch lstm"] + lower, forecasts["scratch lstm"] + upper)
    inside = (test >= band[0]) & (test <= band[1])
    report["interval"] = {"level": LEVEL, "lower": float(lower), "upper": float(upper),
                          "test_coverage": float(inside[keep].mean())}
    direct = train_direct(dataclasses.replace(base, horizon=season), scaled, val_start, test_start, lag, progress)
    multi_step["direct LSTM (scratch)"] = walk_forward(lambda H: scratch_forecasting.predict(direct, H), scaled, values,
                                                     scaler, test_start, season, window, lag)
    report["walk_forward"] = {"horizon": season, "folds": -(-len(test) // season),
                              "metrics": {model: score(test, forecast, train, keep) for model, forecast in multi_step.items()}}
    plots.forecasts(timestamps, values, multi_step, out_dir / f"{name}_walk_forward.png",
                    f"{name}: {season}-step forecasts from each walk-forward origin in the test span (recursive and direct)",
                    missing=missing, context=2 * len(test))
    report["lstm_beats_seasonal_naive"] = report["metrics"]["scratch lstm"]["mase"] < report["metrics"]["seasonal naive"]["mase"]
    shown = {"scratch": forecasts["scratch lstm"], "torch": forecasts["torch lstm"],
             "seasonal naive": forecasts["seasonal naive"], "SARIMAX": forecasts["SARIMAX"]}
    plots.forecasts(timestamps, values, shown, out_dir / f"{name}_forecast.png",
                    f"{name}: one-step test forecasts, LSTM twins with a {LEVEL:.0%} interval from validation residuals",
                    interval=band, missing=missing, context=2 * len(test))
    plots.residuals(timestamps[test_start:], {model: test - forecasts[key] for model, key in
                                              (("scratch", "scratch lstm"), ("scratch GRU", "scratch gru"),
                                               ("seasonal naive", "seasonal naive"), ("SARIMAX", "SARIMAX"))},
                    out_dir / f"{name}_residuals.png", f"{name}: one-step test residuals")
    return report


def run(out_dir, dataset_names=("co2",), num_epochs=None, study=False, compare_sklearn=False, progress=True, quick=False):
    """``study`` and ``compare_sklearn`` are accepted for the command line's sake: this project's
    peer is statsmodels' SARIMAX, always run. The series are small: ``quick`` only cuts the epochs."""
    out_dir, report = run_datasets(out_dir, dataset_names, lambda name, out: run_dataset(name, out, num_epochs, progress, quick))
    return save_report(out_dir, report)


def summary(report):
    """The metrics table of each series, then the twins' agreement and the interval's coverage."""
    lines = []
    for name, result in report.items():
        lines.append(f"{name}: one-step forecasts of {result['points']['test_scored']} test points "
                     f"(MASE scaled by the naive forecast on train)")
        lines.append(f"  {'model':<16}{'MAE':>9}{'RMSE':>9}{'sMAPE %':>9}{'MASE':>8}")
        for model, row in result["metrics"].items():
            lines.append(f"  {model:<16}{row['mae']:>9.3f}{row['rmse']:>9.3f}{row['smape']:>9.3f}{row['mase']:>8.3f}")
        for cell in CELLS:
            pair = result[cell]
            lines.append(f"  {cell}: twin forecast gap {pair['twin_forecast_gap']:.1e}; epochs scratch {pair['scratch']['epochs']} "
                         f"({pair['scratch']['median_epoch_seconds']:.2f}s each), torch {pair['torch']['epochs']} "
                         f"({pair['torch']['median_epoch_seconds']:.2f}s each)")
        walk = result["walk_forward"]
        lines.append(f"  walk-forward, {walk['horizon']}-step forecasts over {walk['folds']} folds: MASE "
                     + ", ".join(f"{model} {row['mase']:.3f}" for model, row in walk["metrics"].items()))
        interval = result["interval"]
        lines.append(f"  {interval['level']:.0%} interval [{interval['lower']:+.3f}, {interval['upper']:+.3f}] "
                     f"covers {interval['test_coverage']:.1%} of the test points; scratch LSTM beats seasonal naive: "
                     f"{result['lstm_beats_seasonal_naive']}")
    return "\n".join(lines)
