"""Project 18: the server strategies against Flower's aggregation, on hypothesis-drawn client updates."""
import time

import numpy as np
import pytest
from flwr.app import Array, ArrayRecord, Message, Metadata, MetricRecord, RecordDict
from flwr.server.strategy.aggregate import aggregate
from flwr.serverapp.strategy import FedAdam as FlowerFedAdam
from flwr.serverapp.strategy import FedAvg as FlowerFedAvg
from flwr.serverapp.strategy import FedYogi as FlowerFedYogi
from hypothesis import given, settings
from hypothesis import strategies as st

from scratch.projects.federated import strategy
from scratch.projects.federated.config import ClientConfig
from twins.parity import assert_close, dtypes, seeds, tolerance

SHAPES = {"layers.0.weight": (5, 3), "layers.0.bias": (5,), "layers.2.weight": (2, 5), "layers.2.bias": (2,)}


def client_updates(seed, num_clients, dtype, max_examples=1000):
    """Random global weights and ``num_clients`` ClientResults around them, with distinct-ish example counts."""
    rng = np.random.default_rng(seed)
    global_state = {key: rng.normal(size=shape).astype(dtype) for key, shape in SHAPES.items()}
    results = [strategy.ClientResult(k, {key: (value + rng.normal(0, 0.5, value.shape)).astype(dtype) for key, value in global_state.items()},
                                     int(rng.integers(1, max_examples)), float(rng.uniform()),
                                     {key: rng.normal(size=value.shape).astype(dtype) for key, value in global_state.items()})
               for k in range(num_clients)]
    return global_state, results


def flower_reply(result):
    """The Message a Flower ClientApp would send back for ``result``: its arrays and its example count."""
    metadata = Metadata(run_id=1, message_id="", src_node_id=result.client + 1, dst_node_id=0, reply_to_message_id="",
                        group_id="1", created_at=time.time(), ttl=60.0, message_type="train")
    content = RecordDict({"arrays": ArrayRecord({key: Array(value) for key, value in result.state.items()}),
                          "metrics": MetricRecord({"num-examples": result.num_examples})})
    return Message(content, metadata=metadata)


@settings(max_examples=25)
@given(num_clients=st.integers(1, 8), dtype=dtypes, seed=seeds)
def test_fedavg_equals_flowers_aggregate(num_clients, dtype, seed):
    """Weighted by example counts, as flwr.server.strategy.aggregate.aggregate and Flower's FedAvg strategy do."""
    global_state, results = client_updates(seed, num_clients, dtype)
    ours = strategy.FedAvg().aggregate(global_state, results)
    theirs = aggregate([(list(r.state.values()), r.num_examples) for r in results])
    flower_arrays, _ = FlowerFedAvg().aggregate_train(1, [flower_reply(r) for r in results])
    rtol, atol = tolerance(dtype, "forward", reduction=num_clients)
    for key, expected, from_strategy in zip(SHAPES, theirs, flower_arrays.values()):
        assert ours[key].dtype == global_state[key].dtype
        assert_close(ours[key], expected, f"FedAvg {key} vs flwr aggregate", rtol, atol)
        assert_close(ours[key], from_strategy.numpy(), f"FedAvg {key} vs Flower's FedAvg strategy", rtol, atol)


@settings(max_examples=10)
@given(num_clients=st.integers(1, 6), seed=seeds)
def test_fedprox_aggregates_as_fedavg_and_configures_mu(num_clients, seed):
    global_state, results = client_updates(seed, num_clients, np.float64)
    fedprox, fedavg = strategy.FedProx(mu=0.3), strategy.FedAvg()
    for key, value in fedprox.aggregate(global_state, results).items():
        np.testing.assert_array_equal(value, fedavg.aggregate(global_state, results)[key])
    assert fedprox.client_config(ClientConfig(lr=0.1)).mu == 0.3 and fedavg.client_config(ClientConfig()).mu == 0.0


@settings(max_examples=10)
@given(num_clients=st.integers(1, 6), total=st.integers(6, 20), server_lr=st.floats(0.1, 2.0), seed=seeds)
def test_scaffold_moves_weights_and_control_by_the_mean_changes(num_clients, total, server_lr, seed):
    """x += lr_g mean(y_i - x) (unweighted, as the paper), c += |S|/N mean(dc_i)."""
    global_state, results = client_updates(seed, num_clients, np.float64)
    scaffold = strategy.Scaffold(server_lr=server_lr)
    scaffold.initialize(global_state)
    new_state = scaffold.aggregate(global_state, results, total)
    for key, x in global_state.items():
        stacked = np.stack([r.state[key] for r in results])
        assert_close(new_state[key], x + server_lr * (stacked.mean(axis=0) - x), f"SCAFFOLD {key}", 1e-12, 1e-12)
        deltas = np.stack([r.control_delta[key] for r in results])
        assert_close(scaffold.control[key], num_clients / total * deltas.mean(axis=0), f"SCAFFOLD c {key}", 1e-12, 1e-12)


@pytest.mark.parametrize("name", ["fedadam", "fedyogi"])
def test_server_optimisers_follow_reddi_et_al(name):
    """Two rounds against the paper's Algorithm 2 written out on one scalar: m, v from tau^2, x += lr m / (sqrt(v) + tau)."""
    opt = strategy.STRATEGIES[name](server_lr=0.1, beta1=0.9, beta2=0.99, tau=1e-3)
    x = {"w": np.array([0.5])}
    opt.initialize(x)
    m, v, w = 0.0, 1e-6, 0.5
    for target, n in ((0.9, 3), (0.2, 7)):
        results = [strategy.ClientResult(0, {"w": np.array([target])}, n), strategy.ClientResult(1, {"w": np.array([w])}, n)]
        x = opt.aggregate(x, results)
        d = (target + w) / 2 - w
        m = 0.9 * m + 0.1 * d
        v = 0.99 * v + 0.01 * d * d if name == "fedadam" else v - 0.01 * d * d * np.sign(v - d * d)
        w = w + 0.1 * m / (np.sqrt(v) + 1e-3)
        assert_close(x["w"], np.array([w]), f"{name} weight", 1e-12, 1e-15)


@settings(max_examples=15)
@given(name=st.sampled_from(["fedadam", "fedyogi"]), num_clients=st.integers(1, 5), rounds=st.integers(1, 4),
       eta=st.floats(0.01, 1.0), beta1=st.floats(0.0, 0.95), beta2=st.floats(0.5, 0.999), tau=st.floats(1e-4, 0.1), seed=seeds)
def test_server_optimisers_step_as_flowers(name, num_clients, rounds, eta, beta1, beta2, tau, seed):
    """Flower's FedAdam and FedYogi (flwr.serverapp.strategy) over several rounds on the same replies: the scratch
    strategies with Flower's v from 0 and, for FedAdam, its bias-corrected step. Flower's strategy keeps the arrays
    it sent in ``current_arrays`` (set by configure_train, which needs a Grid; set directly here)."""
    ours = strategy.STRATEGIES[name](server_lr=eta, beta1=beta1, beta2=beta2, tau=tau, initial_v=0.0,
                                     bias_correction=name == "fedadam")
    theirs = {"fedadam": FlowerFedAdam, "fedyogi": FlowerFedYogi}[name](eta=eta, beta_1=beta1, beta_2=beta2, tau=tau)
    global_state, _ = client_updates(seed, num_clients, np.float64)
    ours.initialize(global_state)
    for server_round in range(1, rounds + 1):
        _, results = client_updates(seed + server_round, num_clients, np.float64)
        theirs.current_arrays = {key: value.copy() for key, value in global_state.items()}
        flower_arrays, _ = theirs.aggregate_train(server_round, [flower_reply(r) for r in results])
        global_state = ours.aggregate(global_state, results)
        for key, value in flower_arrays.items():
            assert_close(global_state[key], value.numpy(), f"{name} {key}, round {server_round}", 1e-12, 1e-12)
        global_state = {key: value.numpy() for key, value in flower_arrays.items()}  # both go on from Flower's state


@settings(max_examples=15)
@given(num_available=st.integers(1, 50), fraction=st.floats(0.01, 1.0), min_clients=st.integers(1, 5), seed=seeds)
def test_sampling_takes_max_of_c_k_and_the_minimum(num_available, fraction, min_clients, seed):
    fedavg = strategy.FedAvg(fraction, min_clients)
    if num_available < min_clients:
        with pytest.raises(ValueError, match=f"min_clients={min_clients} clients, got {num_available}"):
            fedavg.sample(num_available, np.random.default_rng(seed))
        return
    sampled = fedavg.sample(num_available, np.random.default_rng(seed))
    assert len(sampled) == max(round(fraction * num_available), min_clients) == len(set(sampled.tolist()))
    assert sampled.min() >= 0 and sampled.max() < num_available


def test_a_nan_update_is_dropped_and_logged(caplog):
    global_state, results = client_updates(0, 3, np.float64)
    results[1].state["layers.0.bias"][2] = np.nan
    with caplog.at_level("WARNING"):
        new_state = strategy.FedAvg().aggregate(global_state, results)
    assert "dropped the update of client 1: NaN or inf in layers.0.bias" in caplog.text
    expected = strategy.weighted_average([results[0].state, results[2].state], [results[0].num_examples, results[2].num_examples])
    for key in SHAPES:
        np.testing.assert_array_equal(new_state[key], expected[key])
