"""Project 18 on Flower's deployment engine: a SuperLink and SuperNodes as real processes on loopback.
One run (bounded by its timeouts) checks all three: round 1 reaches the in-process federation's global
model exactly (and so Flower's simulation's); in round 2 a SuperNode is killed and another one, a
straggler slower than the round timeout, is dropped, and the run finishes with the clients left."""
import numpy as np

from twins.demos.federated_deploy import RUN_CONFIG, in_process_federation, run_deployment


def test_deployment_matches_the_in_process_model_and_survives_a_killed_supernode_and_a_straggler(tmp_path):
    """SuperNode 3 kills its own process group when round 2 reaches it; SuperNode 2 sleeps 120 s before
    its round-2 fit, past the 40 s round timeout (room for the first round's process start-up on a busy
    machine). Round 2 ends at that timeout with clients 0 and 1, as min_clients = 2 allows, and the run
    finishes without waiting for the straggler."""
    overrides = {"num-clients": 4, "rounds": 2, "min-clients": 2, "split": "dirichlet", "round-timeout": 40.0,
                 "kill-partition": 3, "kill-round": 2, "slow-partition": 2, "slow-round": 2, "slow-seconds": 120.0}
    _, history = run_deployment(tmp_path, timeout=300, **{key.replace("-", "_"): value for key, value in overrides.items()})
    assert history["clients"] == [[0, 1, 2, 3], [0, 1]]
    assert len(history["test_accuracy"]) == 2 and 40.0 <= history["round_time"][1] < 120.0
    assert history["wall_seconds"] < history["round_time"][0] + 120.0  # the run did not wait out the straggler's sleep

    local = in_process_federation({**RUN_CONFIG, **overrides, "rounds": 1})
    assert history["test_accuracy"][0] == local.history["test_accuracy"][0]
    with np.load(tmp_path / "global_state_round1.npz") as round1:
        for key, value in local.global_state.items():
            np.testing.assert_array_equal(round1[key], value)
