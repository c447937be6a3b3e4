"""Project 20's settings, shared by both twins (never twinned): the gapminder schema, the scorer's
architecture and training settings per data set, and the gate's and the monitor's thresholds."""
import math
from dataclasses import dataclass

from scratch.plumbing import TrainingConfig, check_real
from scratch.projects.mlp.config import check_layers

TASKS = ("classification", "regression")
# gapminder: the columns a row needs, their kind and the range a value may take
GAPMINDER_SCHEMA = {
    "country": ("category", None),
    "year": ("int", (1800, 2100)),
    "infant_mortality": ("float", (0.0, 1000.0)),  # deaths per 1,000 births
    "life_expectancy": ("float", (0.0, 120.0)),
    "fertility": ("float", (0.0, 15.0)),  # children per woman
    "population": ("float", (1.0, 1e10)),
    "gdp": ("float", (1.0, 1e15)),  # constant 2000 US dollars
    "continent": ("category", None),
}
CONTINENTS = ("Africa", "Americas", "Asia", "Europe", "Oceania")
# the model's inputs, in the signature's order; the target is life_expectancy
GAPMINDER_FEATURES = ("infant_mortality", "fertility", "log10_gdp_per_capita", "log10_population") + tuple(
    f"continent_{name}" for name in CONTINENTS)
NUMERIC_FEATURES = GAPMINDER_FEATURES[:4]
TRAIN_YEARS, MONITOR_YEARS = (1960, 1990), (2000, 2016)


@dataclass
class ScorerConfig(TrainingConfig):
    """The scorer's architecture and its training run."""
    hidden_sizes: tuple = (64, 32)
    activation: str = "relu"

    def __post_init__(self):
        super().__post_init__()
        check_layers(self.hidden_sizes, self.activation)


CONFIGS = {
    "gapminder": ScorerConfig(hidden_sizes=(32, 16), lr=3e-3, batch_size=64, num_epochs=60, patience=10),
    "digits": ScorerConfig(hidden_sizes=(128, 64), lr=1e-3, batch_size=64, num_epochs=40, patience=8),
    "fashion-mnist": ScorerConfig(hidden_sizes=(256, 128), lr=1e-3, batch_size=128, num_epochs=20, patience=5),
}
TASK_OF = {"gapminder": "regression", "digits": "classification", "fashion-mnist": "classification"}


@dataclass
class GateConfig:
    """A candidate is promoted only if its parity tests pass, it beats the champion's holdout score
    by ``margin`` (accuracy points, or relative error for regression), and no class or slice gets
    worse than the champion's by more than ``max_slice_regression``."""
    margin: float = 0.0
    max_slice_regression: float = 0.05

    def __post_init__(self):
        self.margin = check_real(self.margin, "margin", 0.0, 1.0, high_open=True, expected="a number in [0, 1)")
        self.max_slice_regression = check_real(self.max_slice_regression, "max_slice_regression", 0.0, 1.0,
                                               expected="a number in [0, 1]")


@dataclass
class MonitorConfig:
    """When the monitor calls for retraining: a share of drifted features, or live error above a bound.
    Per-statistic drift thresholds are Evidently's defaults (PSI and Jensen-Shannon >= 0.1, the
    normalised Wasserstein distance >= 0.1, KS and chi-square p-values < 0.05)."""
    drift_share: float = 0.5
    max_live_error: float = math.inf
    psi_threshold: float = 0.1
    p_value_threshold: float = 0.05

    def __post_init__(self):
        self.drift_share = check_real(self.drift_share, "drift_share", 0.0, 1.0, low_open=True, expected="a number in (0, 1]")
        self.max_live_error = check_real(self.max_live_error, "max_live_error", 0.0, math.inf, low_open=True,
                                         expected="a positive number (or inf)")
        self.psi_threshold = check_real(self.psi_threshold, "psi_threshold", 0.0, math.inf, low_open=True, high_open=True,
                                        expected="a finite positive number")
        self.p_value_threshold = check_real(self.p_value_threshold, "p_value_threshold", 0.0, 1.0, low_open=True,
                                            high_open=True, expected="a number in (0, 1)")
