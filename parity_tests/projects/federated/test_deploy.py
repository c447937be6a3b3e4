"""Project 18 on Flower's deployment engine: a SuperLink and SuperNodes as real processes on loopback.
One run (bounded by its timeouts) checks both: round 1 reaches the in-process federation's global model
exactly (and so Flower's simulation's), and a SuperNode killed in round 2 leaves the run to finish."""
import numpy as np

from scratch.projects.federated import client, data, strategy
from scratch.projects.federated.federation import run_federation
from scratch.projects.mlp.model import MLP
from twins.demos.federated_deploy import RUN_CONFIG, federation_from, run_deployment


def test_deployment_matches_the_in_process_model_and_survives_a_killed_supernode(tmp_path):
    """SuperNode 2 kills its own process group when round 2 reaches it: round 2 ends at the round timeout
    (room for the first round's process start-up on a busy machine) with the two clients left, as
    min_clients = 2 allows, and the run finishes."""
    overrides = {"num-clients": 3, "rounds": 2, "min-clients": 2, "split": "dirichlet", "round-timeout": 40.0,
                 "kill-partition": 2, "kill-round": 2}
    _, history = run_deployment(tmp_path, timeout=300, **{key.replace("-", "_"): value for key, value in overrides.items()})
    assert history["clients"] == [[0, 1, 2], [0, 1]]
    assert len(history["test_accuracy"]) == 2 and history["round_time"][1] >= 40.0

    spec, config = federation_from({**RUN_CONFIG, **overrides, "rounds": 1})
    X, y, X_test, y_test = data.load(spec["dataset"], spec["quick"])
    model = MLP(X.shape[1], spec["hidden_sizes"], 10, rng=np.random.default_rng(spec["seed"]))
    local = run_federation(client, model, data.client_shards(y, "dirichlet", 3, spec["seed"], spec["alpha"]), X, y,
                           strategy.FedAvg(config.fraction, config.min_clients), config, test=(X_test, y_test))
    assert history["test_accuracy"][0] == local.history["test_accuracy"][0]
    with np.load(tmp_path / "global_state_round1.npz") as round1:
        for key, value in local.global_state.items():
            np.testing.assert_array_equal(round1[key], value)
