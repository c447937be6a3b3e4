"""A federation in one process: the server's round loop over clients that train in turn.
Shared by both twins (never twinned): the client module (scratch's or reference's client.py)
is passed in, so the scratch and torch federations run the very same rounds, sampling and
batches. Flower's ServerApp (twins/demos/federated_flower.py) drives the same ``Server``.

Every random draw is seeded: the server samples clients from ``default_rng(seed)``, and client
k shuffles its batches in round t from ``default_rng((seed, t, k))``, wherever it runs.
"""
import time

import numpy as np

from scratch.plumbing import progress_range
from scratch.projects.federated.config import FederatedConfig
from scratch.projects.federated.strategy import ClientResult, Scaffold


def client_rng(seed, server_round, client):
    """Client ``client``'s batch order in round ``server_round``: the same in any process."""
    return np.random.default_rng((seed, server_round, client))


class Server:
    """The server's state between rounds: the global weights, the strategy (with its own state),
    the sampling generator, and the round's history."""

    def __init__(self, strategy, global_state, config: FederatedConfig):
        self.strategy, self.config = strategy, config
        self.global_state = {key: np.array(value, copy=True) for key, value in global_state.items()}
        self.rng = np.random.default_rng(config.seed)
        self.strategy.initialize(self.global_state)
        self.history = {key: [] for key in ("round", "clients", "train_loss", "drift", "dropped", "round_time")}

    def configure_round(self, num_available):
        """This round's clients (indices into the available ones) and the client settings to send them."""
        return self.strategy.sample(num_available, self.rng), self.strategy.client_config(self.config.client)

    def control(self):
        """SCAFFOLD's server control variate c, or None."""
        return self.strategy.control if isinstance(self.strategy, Scaffold) else None

    def finish_round(self, server_round, results, seconds=0.0):
        """Aggregate ``results`` into the new global weights; record the mean training loss and the
        client drift, the mean distance ||w_k - w_t|| of the clients' models from the round's global model."""
        drift = [float(np.sqrt(sum(np.sum((r.state[key] - value) ** 2) for key, value in self.global_state.items())))
                 for r in results]
        new_state = self.strategy.aggregate(self.global_state, results, self.config.num_clients)
        kept = [r for r in results if all(np.all(np.isfinite(v)) for v in r.state.values())]
        self.history["round"].append(server_round)
        self.history["clients"].append([int(r.client) for r in kept])
        self.history["dropped"].append([int(r.client) for r in results if r not in kept])
        self.history["train_loss"].append(float(np.average([r.loss for r in kept], weights=[r.num_examples for r in kept])))
        self.history["drift"].append(float(np.nanmean(drift)))
        self.history["round_time"].append(seconds)
        self.global_state = new_state
        return new_state


def run_federation(client, model, shards, X, y, strategy, config: FederatedConfig, test=None, progress=False):
    """Run ``config.num_rounds`` rounds of ``strategy`` over the clients holding ``shards`` (index arrays
    into X, y), each training ``model`` with ``client.local_update``; returns the Server (its
    global_state and history, with test loss and accuracy per round when ``test`` = (X_test, y_test))."""
    if len(shards) != config.num_clients:
        raise ValueError(f"shards: expected one per client, num_clients={config.num_clients}, got {len(shards)}")
    server = Server(strategy, client.numpy_state(model), config)
    client_controls = {}  # SCAFFOLD: each client's own variate c_i, kept where the client lives
    server.history.update(test_loss=[], test_accuracy=[])
    rounds = progress_range(1, config.num_rounds + 1, progress=progress, desc=f"federation ({strategy.name})", unit="round")
    for server_round in rounds:
        start = time.perf_counter()
        sampled, client_config = server.configure_round(config.num_clients)
        c = server.control()
        results = []
        for k in sampled:
            control = None if c is None else (c, client_controls.get(k) or {key: np.zeros_like(v) for key, v in c.items()})
            state, loss, new_control = client.local_update(model, X[shards[k]], y[shards[k]], server.global_state, client_config,
                                                           client_rng(config.seed, server_round, k), control)
            delta = None
            if new_control is not None:
                delta = {key: new_control[key] - control[1][key] for key in new_control}
                client_controls[k] = new_control
            results.append(ClientResult(int(k), state, len(shards[k]), loss, delta))
        server.finish_round(server_round, results, time.perf_counter() - start)
        if test is not None:
            loss, accuracy = client.evaluate(model, server.global_state, *test)
            server.history["test_loss"].append(loss)
            server.history["test_accuracy"].append(accuracy)
            if progress:
                rounds.set_postfix(accuracy=f"{accuracy:.3f}")
    return server
