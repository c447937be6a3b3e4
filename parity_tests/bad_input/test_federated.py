"""Bad input to Project 18: client updates that do not fit the global model (the client named),
an update with no finite value anywhere, a fraction C outside (0, 1], fewer clients than the
strategy's minimum, settings and splits that cannot work, and `twins run --deploy` for a project
with no deployment engine."""
import numpy as np
import pytest

from scratch.projects.federated import data, privacy, secagg, strategy
from scratch.projects.federated.config import ClientConfig, FederatedConfig
from twins.cli import main
from twins.demos.federated_flower import wait_for_nodes
from twins.parity import BadInput, assert_bad_input

GLOBAL = {"weight": np.zeros((3, 2), np.float32), "bias": np.zeros(3, np.float32)}
Y = np.repeat(np.arange(4), 5)


def result(client, num_examples=10, **changes):
    return strategy.ClientResult(client, {**{key: value + 1 for key, value in GLOBAL.items()}, **changes}, num_examples)


def aggregate(*results, cls=strategy.FedAvg):
    return lambda: cls().aggregate(GLOBAL, list(results))


def scaffold():
    server = strategy.Scaffold()
    server.initialize(GLOBAL)
    return server


def spent_accountant():
    accountant = privacy.RDPAccountant()
    accountant.history = [[1.0, 0.1, 200]]  # epsilon 11.02 at delta 1e-5
    return accountant


class FewNodes:
    """A Flower grid where only two nodes ever connect."""

    def get_node_ids(self):
        return [11, 12]


CASES = [
    BadInput("update of the wrong shape", aggregate(result(0), result(3, weight=np.zeros((2, 3), np.float32))), ValueError,
             "client 3", r"weight: expected shape \(3, 2\), got \(2, 3\)"),
    BadInput("update of the wrong dtype", aggregate(result(0), result(2, bias=np.zeros(3))), TypeError,
             "client 2", "bias: expected dtype float32, got float64"),
    BadInput("update missing a key", aggregate(strategy.ClientResult(5, {"weight": GLOBAL["weight"]}, 4)), ValueError,
             "client 5", r"expected the keys \['bias', 'weight'\], got \['weight'\]"),
    BadInput("update that is not an array", aggregate(result(1, bias=[0.0, 0.0, 0.0])), ValueError, "client 1",
             "bias: expected shape"),
    BadInput("no examples", aggregate(result(4, num_examples=0)), ValueError, "num_examples of client 4",
             "expected a positive int, got 0"),
    BadInput("every update NaN", aggregate(result(0, bias=np.full(3, np.nan, np.float32)), result(1, weight=np.full((3, 2), np.inf, np.float32))),
             ValueError, "results", r"expected at least one finite update, got none from clients \[0, 1\]"),
    BadInput("FedAdam negative initial v", lambda: strategy.FedAdam(initial_v=-1.0), ValueError, "initial_v", "finite number >= 0"),
    BadInput("FedYogi bias_correction 'yes'", lambda: strategy.FedYogi(bias_correction="yes"), TypeError, "bias_correction",
             "expected True or False, got 'yes'"),
    BadInput("SCAFFOLD without control variates", lambda: scaffold().aggregate(GLOBAL, [result(6)]), ValueError, "control_delta of client 6", "expected SCAFFOLD's control variate change, got None"),
    BadInput("privacy budget already spent", lambda: privacy.check_budget(spent_accountant(), 2.0, 1e-5), ValueError,
             "target_epsilon", r"expected a budget above the epsilon already spent \(11.02 at delta=1e-05\), got 2"),
    BadInput("delta of 1", lambda: spent_accountant().get_epsilon(1.0), ValueError, "delta", r"expected a probability in \(0, 1\), got 1.0"),
    BadInput("negative noise", lambda: privacy.RDPAccountant().step(noise_multiplier=-1.0, sample_rate=0.1), ValueError,
             "noise_multiplier", "got -1.0"),
    BadInput("sample rate above 1", lambda: privacy.RDPAccountant().step(noise_multiplier=1.0, sample_rate=1.5), ValueError,
             "sample_rate", "got 1.5"),
    BadInput("secure-aggregation threshold above the clients", lambda: secagg.secure_sum({1: np.ones(2), 2: np.ones(2)}, 3),
             ValueError, "threshold", "expected at most the 2 clients, got 3"),
    BadInput("secure-aggregation threshold of 1", lambda: secagg.secure_sum({1: np.ones(2), 2: np.ones(2)}, 1),
             ValueError, "threshold", "expected an int >= 2, got 1"),
    BadInput("update too large for the fixed-point sum", lambda: secagg.encode(np.array([1e4]), 4), ValueError, "update",
             "expected |values| < 8192 so that 4 of them sum exactly, got max 10000"),
    BadInput("C = 0", lambda: strategy.FedAvg(fraction=0.0), ValueError, "fraction", r"expected a fraction in \(0, 1\], got 0.0"),
    BadInput("C > 1", lambda: strategy.FedProx(fraction=1.5), ValueError, "fraction", r"expected a fraction in \(0, 1\], got 1.5"),
    BadInput("C NaN", lambda: FederatedConfig(fraction=float("nan")), ValueError, "fraction", r"expected a fraction in \(0, 1\]"),
    BadInput("C a string", lambda: strategy.FedAvg(fraction="0.1"), TypeError, "fraction", "got str '0.1'"),
    BadInput("fewer clients than the minimum", lambda: strategy.FedAvg(min_clients=5).sample(3, np.random.default_rng(0)),
             ValueError, "num_available", "expected at least min_clients=5 clients, got 3"),
    BadInput("Flower: fewer nodes than the minimum, after waiting", lambda: wait_for_nodes(FewNodes(), 5, timeout=0.2),
             TimeoutError, "num_clients", r"waited 0.2 s for 5 clients \(the strategy's minimum\), got 2 connected"),
    BadInput("minimum above the federation", lambda: FederatedConfig(num_clients=4, min_clients=5), ValueError, "min_clients",
             "expected at most num_clients=4, got 5"),
    BadInput("negative mu", lambda: ClientConfig(mu=-0.1), ValueError, "mu", "expected a finite number >= 0, got -0.1"),
    BadInput("zero lr", lambda: ClientConfig(lr=0.0), ValueError, "lr", "expected a finite positive number, got 0.0"),
    BadInput("more clients than samples", lambda: data.iid(Y, 21, np.random.default_rng(0)), ValueError, "num_clients",
             "expected at most the 20 samples, got 21"),
    BadInput("more shards than samples", lambda: data.pathological(Y, 8, 3, np.random.default_rng(0)), ValueError,
             "shards_per_client", "expected num_clients \\* shards_per_client <= 20 samples, got 24"),
    BadInput("alpha 0", lambda: data.dirichlet(Y, 4, 0.0, np.random.default_rng(0)), ValueError, "alpha",
             "expected a finite positive number, got 0.0"),
    BadInput("float labels", lambda: data.iid(Y.astype(float), 2, np.random.default_rng(0)), ValueError, "y",
             "expected a 1-d integer label array"),
    BadInput("unknown split", lambda: data.split("shuffled", Y, 2, np.random.default_rng(0)), ValueError, "split",
             "expected one of 'iid', 'pathological', 'dirichlet', got 'shuffled'"),
    BadInput("--deploy for a project with no deployment engine", lambda: main(["run", "mlp", "--deploy"]), SystemExit, "--deploy",
             "expected a project with a deployment engine, got 'mlp', whose demo has none"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_named(case):
    assert_bad_input(case)
