"""Project 18 on Flower's deployment engine: a SuperLink and SuperNodes as real processes on loopback
reach the same global model as the in-process federation (and so as Flower's simulation), and stop."""
import numpy as np

from scratch.projects.federated import client, data, strategy
from scratch.projects.federated.federation import run_federation
from scratch.projects.mlp.model import MLP
from twins.demos.federated_deploy import RUN_CONFIG, federation_from, run_deployment


def test_deployment_reaches_the_in_process_global_model(tmp_path):
    overrides = {"num-clients": 2, "rounds": 2, "split": "dirichlet"}
    state, history = run_deployment(tmp_path, timeout=240, **{key.replace("-", "_"): value for key, value in overrides.items()})
    spec, config = federation_from({**RUN_CONFIG, **overrides})
    X, y, X_test, y_test = data.load(spec["dataset"], spec["quick"])
    model = MLP(X.shape[1], spec["hidden_sizes"], 10, rng=np.random.default_rng(spec["seed"]))
    local = run_federation(client, model, data.client_shards(y, "dirichlet", 2, spec["seed"], spec["alpha"]), X, y,
                           strategy.FedAvg(config.fraction), config, test=(X_test, y_test))
    assert history["clients"] == [[0, 1], [0, 1]]
    assert history["test_accuracy"] == local.history["test_accuracy"]
    for key, value in local.global_state.items():
        np.testing.assert_array_equal(state[key], value)


def test_a_supernode_killed_mid_round_leaves_the_run_to_finish(tmp_path):
    """SuperNode 2 kills its own process group when round 2 reaches it: round 2 ends at the round timeout
    with the two clients left (min_clients = 2 allows it) and the run finishes. The timeout leaves room for
    the first round's process start-up on a busy machine."""
    _, history = run_deployment(tmp_path, timeout=300, num_clients=3, rounds=2, min_clients=2, round_timeout=40.0,
                                kill_partition=2, kill_round=2)
    assert history["clients"] == [[0, 1, 2], [0, 1]]
    assert len(history["test_accuracy"]) == 2 and history["round_time"][1] >= 40.0
