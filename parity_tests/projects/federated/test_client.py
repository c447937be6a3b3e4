"""Project 18: one client round, scratch against torch, and federations of each in lockstep."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.projects.federated import client as torch_client
from reference.projects.mlp.model import MLP as TorchMLP
from scratch import datasets
from scratch.projects.federated import client, data, strategy
from scratch.projects.federated.config import ClientConfig, FederatedConfig
from scratch.projects.federated.federation import run_federation
from scratch.projects.mlp.model import MLP
from twins.demos.gan import single_threaded
from twins.parity import assert_close, assert_lockstep, dtypes, make_twins, seeds, tolerance


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Shards of tens of samples: torch's second thread only adds hand-offs (ten times slower on a busy machine)."""
    with single_threaded():
        yield


@pytest.fixture(scope="module")
def digits():
    X, y = datasets.load("digits", "train", dtype=np.float64)
    X_test, y_test = datasets.load("digits", "test", dtype=np.float64)
    return X[:400], y[:400], X_test[:200], y_test[:200]


def control_pair(state, rng, dtype):
    return tuple({key: rng.normal(0, 0.1, value.shape).astype(dtype) for key, value in state.items()} for _ in range(2))


@settings(max_examples=12)
@given(dtype=dtypes, local_epochs=st.integers(1, 3), batch_size=st.one_of(st.none(), st.integers(1, 40)),
       mu=st.sampled_from([0.0, 0.01, 1.0]), scaffold=st.booleans(), hidden=st.integers(1, 12), seed=seeds)
def test_local_update_matches_torch(dtype, local_epochs, batch_size, mu, scaffold, hidden, seed):
    """The same global weights, shard, batches, mu and control variates: the same weights, loss and new c_i."""
    rng = np.random.default_rng(seed)
    model, twin = make_twins(MLP, TorchMLP, seed, dtype, scale=0.3, in_features=6, hidden_sizes=(hidden,), num_classes=4)
    X, y = rng.normal(size=(int(rng.integers(1, 60)), 6)).astype(dtype), rng.integers(0, 4, 60)
    y = y[:len(X)]
    global_state = model.state_dict()
    control = control_pair(global_state, rng, dtype) if scaffold else None
    config = ClientConfig(local_epochs, batch_size, lr=0.1, mu=mu)
    state, loss, new_control = client.local_update(model, X, y, global_state, config, np.random.default_rng(seed), control)
    torch_state, torch_loss, torch_new_control = torch_client.local_update(twin, X, y, global_state, config,
                                                                           np.random.default_rng(seed), control)
    rtol, atol = tolerance(dtype, "train", reduction=len(X) * local_epochs)
    assert_close(np.array(loss), np.array(torch_loss), "mean local loss", rtol, atol)
    for key, value in state.items():
        assert value.dtype == np.dtype(dtype)
        assert_close(value, torch_state[key], f"{key} after the round", rtol, atol)
        if scaffold:
            # (w_t - w) / (K lr) divides a rounding error by K lr = 0.1 K: scale the tolerance to match
            assert_close(new_control[key], torch_new_control[key], f"new c_i {key}", rtol * 10, atol * 10)
    assert (new_control is None) == (torch_new_control is None) == (not scaffold)


def test_the_proximal_term_pulls_towards_the_global_weights(digits):
    """With a large mu the client stays closer to w_t than plain FedAvg's client does."""
    X, y, _, _ = digits
    model = MLP(64, (16,), 10, dtype=np.float64, rng=np.random.default_rng(0))
    start = model.state_dict()

    def distance(mu):
        state, _, _ = client.local_update(model, X, y, start, ClientConfig(2, 20, 0.1, mu), np.random.default_rng(1))
        return np.sqrt(sum(np.sum((state[key] - start[key]) ** 2) for key in start))
    assert distance(1.0) < 0.8 * distance(0.0)


@pytest.mark.parametrize("name, kwargs", [("fedavg", {}), ("fedprox", {"mu": 0.1}), ("scaffold", {}), ("fedadam", {"server_lr": 0.01})])
def test_federations_run_in_lockstep(digits, name, kwargs):
    """A scratch federation and a torch federation, same seeds, sampling and batches, float64:
    the same global weights, losses and drift after 3 rounds of 10 clients at C = 0.5 on a Dirichlet split."""
    X, y, X_test, y_test = digits
    shards = data.dirichlet(y, 10, 0.5, np.random.default_rng(0), min_size=5)
    config = FederatedConfig(num_clients=10, num_rounds=3, fraction=0.5, client=ClientConfig(2, 16, 0.05), seed=3)
    model, twin = make_twins(MLP, TorchMLP, 0, np.float64, in_features=64, hidden_sizes=(24,), num_classes=10)
    servers = [run_federation(side, net, shards, X, y, strategy.STRATEGIES[name](0.5, **kwargs), config, test=(X_test, y_test))
               for side, net in ((client, model), (torch_client, twin))]
    assert servers[0].history["clients"] == servers[1].history["clients"]
    assert len(servers[0].history["clients"][0]) == 5
    rtol, atol = tolerance(np.float64, "train")
    # after the last evaluation each model holds its federation's final global weights
    assert_lockstep(servers[0].history, servers[1].history, model, twin, rtol, atol, keys=("train_loss", "test_loss", "drift"))
    for key, value in servers[0].global_state.items():
        assert_close(value, servers[1].global_state[key], f"global {key}", rtol, atol)
