"""Bad input to Project 20: the drift statistics, the data schema, the checkpoint, the scorer, the
gate and monitor thresholds, and the pipeline's names and tracking URI. Each row names the
argument, what was expected and what came. The server's 4xx answers are tested with the server
(parity_tests/projects/mlops/test_server.py)."""
import numpy as np
import pytest

from scratch.projects.mlops import checkpoint, data, drift, kolmogorov
from scratch.projects.mlops.config import GateConfig, MonitorConfig
from scratch.projects.mlops.scorer import Scorer
from twins.parity import BadInput, assert_bad_input

x = np.arange(30.0)


def table(**changes):
    columns = {"country": np.array(["A"]), "year": np.array([2000.0]), "infant_mortality": np.array([1.0]),
               "life_expectancy": np.array([70.0]), "fertility": np.array([2.0]), "population": np.array([1e6]),
               "gdp": np.array([1e9]), "continent": np.array(["Asia"])}
    columns.update(changes)
    return {name: value for name, value in columns.items() if value is not None}


def checkpoint_without_meta(tmp_dir):
    path = tmp_dir / "plain.npz"
    np.savez(path, mean=np.zeros(3))
    return path


CASES = [
    BadInput("empty sample", lambda: drift.psi(np.array([]), x), ValueError, "reference", r"expected a non-empty 1-d sample, got shape \(0,\)"),
    BadInput("2-d sample", lambda: drift.ks_2samp(x, x.reshape(5, 6)), ValueError, "current", r"1-d sample, got shape \(5, 6\)"),
    BadInput("NaN in a sample", lambda: drift.wasserstein_distance(np.r_[x, np.nan], x), ValueError, "u_values", "expected finite values, got 1 NaN"),
    BadInput("strings as numbers", lambda: drift.psi(np.array(["a", "b"]), x), TypeError, "reference", "expected real numbers, got dtype <U1"),
    BadInput("Kolmogorov n of 0", lambda: kolmogorov.kolmogorov_sf(0, 0.1), ValueError, "n", "positive integer, got 0"),
    BadInput("Kolmogorov n not whole", lambda: kolmogorov.kolmogorov_sf(2.5, 0.1), ValueError, "n", "positive integer, got 2.5"),
    BadInput("Kolmogorov x NaN", lambda: kolmogorov.kolmogorov_sf(10, float("nan")), ValueError, "x", "finite real number, got nan"),
    BadInput("JS of different lengths", lambda: drift.jensenshannon(np.ones(3), np.ones(4)), ValueError, "q", r"shape of p \(3,\), got \(4,\)"),
    BadInput("JS negative weight", lambda: drift.jensenshannon(np.array([1.0, -1.0, 1.0]), np.ones(3)), ValueError, "p", "non-negative weights"),
    BadInput("JS base 1", lambda: drift.jensenshannon(np.ones(3), np.ones(3), base=1), ValueError, "base", "other than 1, got 1"),
    BadInput("chi-square sums differ", lambda: drift.chisquare(np.array([1.0, 2.0]), np.array([1.0, 1.0])), ValueError, "f_exp",
             r"sum of f_obs \(3.0\) to relative 1e-8, got 2.0"),
    BadInput("chi-square zero expected", lambda: drift.chisquare(np.array([1.0, 2.0]), np.array([3.0, 0.0])), ValueError, "f_exp",
             "positive expected frequencies, got min 0.0"),
    BadInput("chi-square one category", lambda: drift.chisquare(np.array([1.0]), np.array([1.0])), ValueError, "f_obs", "at least 2 categories, got 1"),
    BadInput("schema: a column missing", lambda: data.validate(table(gdp=None)), ValueError, "table", r"missing \['gdp'\]"),
    BadInput("schema: ragged columns", lambda: data.validate(table(gdp=np.array([1e9, 2e9]))), ValueError, "table", "columns of one length"),
    BadInput("schema: numbers as text", lambda: data.validate(table(fertility=np.array(["2"]))), TypeError, "fertility",
             "expected a numeric column, got dtype <U1"),
    BadInput("gate margin out of range", lambda: GateConfig(margin=1.5), ValueError, "margin", r"expected a number in \[0, 1\), got 1.5"),
    BadInput("gate margin negative", lambda: GateConfig(margin=-0.1), ValueError, "margin", r"got -0.1"),
    BadInput("gate slice threshold as text", lambda: GateConfig(max_slice_regression="0.1"), TypeError, "max_slice_regression", "got str '0.1'"),
    BadInput("monitor drift share 0", lambda: MonitorConfig(drift_share=0), ValueError, "drift_share", r"in \(0, 1\], got 0"),
    BadInput("monitor p-value 1", lambda: MonitorConfig(p_value_threshold=1.0), ValueError, "p_value_threshold", r"in \(0, 1\), got 1.0"),
    BadInput("scorer: unknown task", lambda: Scorer(3, (4,), 2, task="ranking"), ValueError, "task", "got 'ranking'"),
    BadInput("scorer: wrong feature count", lambda: Scorer(3, (4,), 2).predict(np.zeros((2, 4))), ValueError, "X",
             r"expected a \(rows, 3\) array of real numbers, got shape \(2, 4\)"),
    BadInput("scorer: NaN in a request", lambda: Scorer(3, (4,), 2).predict(np.array([[0.0, np.nan, 1.0]])), ValueError, "X",
             r"NaN or inf in rows \[0\]"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_named(case):
    assert_bad_input(case)


def test_a_checkpoint_without_its_description_is_refused(tmp_path):
    assert_bad_input(BadInput("no description", lambda: checkpoint.load(checkpoint_without_meta(tmp_path)), ValueError, "f",
                              "has no '__scorer__' entry"))


def cli(*argv):
    from twins.cli import main
    return lambda: main(list(argv))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A store with one registered model (version 1, no champion yet) for the command-line rows."""
    from twins.mlops import tracking

    folder = tmp_path_factory.mktemp("store")
    uri = tracking.sqlite_uri(folder)
    tracking.client(uri).create_registered_model("known-model")
    return uri


def test_command_line_names_the_bad_argument(store):
    unreachable = "sqlite:////nonexistent/folder/mlflow.db"
    rows = [
        BadInput("unknown data set", cli("mlops", "data", "--dataset", "nosuch"), SystemExit, "--dataset",
                 r"expected one of \['digits', 'fashion-mnist', 'gapminder'\], got 'nosuch'"),
        BadInput("gate margin out of range", cli("mlops", "train", "--margin", "1.5", "--tracking-uri", store), SystemExit, "--margin",
                 r"expected a number in \[0, 1\), got 1.5"),
        BadInput("slice threshold out of range", cli("mlops", "train", "--max-slice-regression", "-0.1", "--tracking-uri", store),
                 SystemExit, "--max-slice-regression", "got -0.1"),
        BadInput("unreachable SQLite store", cli("mlops", "train", "--tracking-uri", unreachable), SystemExit, "--tracking-uri",
                 "cannot reach sqlite:////nonexistent/folder/mlflow.db: the folder /nonexistent/folder does not exist"),
        BadInput("unreachable tracking server", cli("serve", "--model", "m", "--tracking-uri", "http://127.0.0.1:9"), SystemExit,
                 "--tracking-uri", "cannot reach the MLflow server at http://127.0.0.1:9"),
        BadInput("unknown model to serve", cli("serve", "--model", "nosuch", "--tracking-uri", store), SystemExit, "--model",
                 r"unknown registered model 'nosuch'; expected one of \['known-model'\]"),
        BadInput("unknown model to roll back", cli("mlops", "rollback", "--model", "nosuch", "--tracking-uri", store), SystemExit,
                 "--model", "unknown registered model 'nosuch'"),
        BadInput("nothing to roll back to", cli("mlops", "rollback", "--model", "known-model", "--tracking-uri", store), SystemExit,
                 "--model", "'known-model' has no 'previous' version to roll back to"),
        BadInput("unknown version to promote", cli("mlops", "promote", "--model", "known-model", "--version", "9", "--tracking-uri", store),
                 SystemExit, "--version", r"'known-model' has no version '9'; expected one of \[\]"),
        BadInput("monitor without a log", cli("mlops", "monitor", "--log", "/nonexistent.db"), SystemExit, "--log",
                 "expected the server's prediction log"),
    ]
    for row in rows:
        assert_bad_input(row)
