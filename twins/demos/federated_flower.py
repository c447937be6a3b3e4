"""Project 18 on Flower's engine: the scratch clients as a Flower ``ClientApp`` and the scratch
strategies behind a Flower ``ServerApp``, talking in Flower messages of NumPy arrays.

- The ClientApp loads only its own shard (its ``partition-id`` of the split every process draws
  from the same seed), runs scratch's ``local_update`` on project 2's scratch MLP (DP-SGD's
  ``dp_local_update`` when the spec names a ``dp_noise_multiplier``), and replies
  with its weights, its example count and loss, and (SCAFFOLD) its control variate's change,
  keeping its own variate c_i in the node's ``context.state``.
- The ServerApp waits for the clients (and fails naming the numbers when too few come), asks
  each node its partition, then runs the same ``Server`` as the in-process federation: the same
  sampling, the same aggregation, so for the same seeds it reaches the same global model.

``run_simulation`` runs them on Flower's simulation engine (Ray actors on this machine); the
same two apps run on Flower's deployment engine (a SuperLink and SuperNodes on other machines).
"""
import logging
import os
import signal
import time
from functools import lru_cache

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp

from scratch.projects.federated import client, data, privacy
from scratch.projects.federated.config import ClientConfig, FederatedConfig
from scratch.projects.federated.federation import Server, client_rng
from scratch.projects.federated.strategy import ClientResult
from scratch.projects.mlp.model import MLP
from twins.registry import ROOT

log = logging.getLogger(__name__)
NUM_CLASSES = 10


def to_record(state):
    return ArrayRecord({key: Array(np.ascontiguousarray(value)) for key, value in state.items()})


def from_record(record):
    return {key: array.numpy() for key, array in record.items()}


def spec_record(spec):
    """The federation's description (data set, split, seed, model) as a ConfigRecord: lists for tuples."""
    return ConfigRecord({key: list(value) if isinstance(value, tuple) else value for key, value in spec.items()})


@lru_cache(maxsize=4)
def client_data(dataset, quick, split, num_clients, seed, alpha, partition):
    """Partition ``partition``'s own shard (X, y): every process draws the same split from ``seed``."""
    X, y, _, _ = data.load(dataset, quick)
    idx = data.client_shards(y, split, num_clients, seed, alpha)[partition]
    return X[idx], y[idx]


def make_model(spec, in_features):
    return MLP(in_features, tuple(spec["hidden_sizes"]), NUM_CLASSES, rng=np.random.default_rng(spec["seed"]))


def make_client_app():
    """The ClientApp: 'query' answers the node's partition; 'train' runs one local update."""
    app = ClientApp()

    @app.query()
    def query(message: Message, context: Context) -> Message:
        return Message(RecordDict({"metrics": MetricRecord({"partition-id": int(context.node_config["partition-id"])})}),
                       reply_to=message)

    @app.train()
    def train(message: Message, context: Context) -> Message:
        spec = dict(message.content["spec"])
        partition = int(context.node_config["partition-id"])
        if (partition, int(message.content["round"]["round"])) == (spec.get("kill_partition"), spec.get("kill_round")):
            # fault injection (deployment tests): this SuperNode dies mid-round with every process it started
            os.killpg(os.getpgrp(), signal.SIGKILL)
        if (partition, int(message.content["round"]["round"])) == (spec.get("slow_partition"), spec.get("slow_round")):
            # fault injection (deployment tests): a straggler, slower than the round timeout, before its fit
            time.sleep(float(spec["slow_seconds"]))
        X, y = client_data(spec["dataset"], spec["quick"], spec["split"], spec["num_clients"], spec["seed"], spec["alpha"], partition)
        model = make_model(spec, X.shape[1])
        global_state = from_record(message.content["arrays"])
        control = None
        if "control" in message.content:  # SCAFFOLD: c from the server, c_i from this node's own state
            c = from_record(message.content["control"])
            own = from_record(context.state["control"]) if "control" in context.state else {k: np.zeros_like(v) for k, v in c.items()}
            control = (c, own)
        config = ClientConfig.from_dict(message.content["client"])
        rng = client_rng(spec["seed"], int(message.content["round"]["round"]), partition)
        if spec.get("dp_noise_multiplier") is not None:  # DP-FedAvg: DP-SGD on this node's shard, nothing else leaves it
            state, loss = privacy.dp_local_update(model, X, y, global_state, config, rng, float(spec["dp_noise_multiplier"]),
                                                  float(spec["dp_max_grad_norm"]))
            new_control = None
        else:
            state, loss, new_control = client.local_update(model, X, y, global_state, config, rng, control)
        reply = RecordDict({"arrays": to_record(state),
                            "metrics": MetricRecord({"num-examples": len(X), "loss": loss, "partition-id": partition})})
        if new_control is not None:
            reply["control_delta"] = to_record({key: new_control[key] - control[1][key] for key in new_control})
            context.state["control"] = to_record(new_control)
        return Message(reply, reply_to=message)

    return app


def wait_for_nodes(grid, required, timeout):
    """The connected node ids once ``required`` are there; a TimeoutError naming the numbers after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while len(nodes := list(grid.get_node_ids())) < required:
        if time.monotonic() > deadline:
            raise TimeoutError(f"num_clients: waited {timeout:g} s for {required} clients (the strategy's minimum), "
                               f"got {len(nodes)} connected")
        time.sleep(0.05)
    return nodes


def partitions_of(grid, nodes):
    """{partition-id: node id}, asked of every node."""
    queries = [Message(RecordDict(), dst_node_id=node, message_type="query") for node in nodes]
    return {int(reply.content["metrics"]["partition-id"]): reply.metadata.src_node_id
            for reply in grid.send_and_receive(queries) if not reply.has_error()}


def serve(grid, spec, config: FederatedConfig, strategy, test=None, wait_timeout=60.0, round_timeout=None, on_round=None):
    """The ServerApp's work: ``config.num_rounds`` rounds of ``strategy`` through the same ``Server`` as the
    in-process federation, over the nodes of ``grid``; a round waits ``round_timeout`` s at most (None: for
    every reply) and goes on with the replies it has; ``on_round(round, server)`` after each. Returns the Server."""
    nodes = wait_for_nodes(grid, max(config.min_clients, spec["num_clients"]), wait_timeout)
    node_of = partitions_of(grid, nodes)
    server = Server(strategy, client.numpy_state(make_model(spec, spec["in_features"])), config)
    server.history.update(test_loss=[], test_accuracy=[])
    evaluator = make_model(spec, spec["in_features"])
    for server_round in range(1, config.num_rounds + 1):
        start = time.perf_counter()
        available = sorted(node_of)
        sampled, client_config = server.configure_round(len(available))
        content = {"arrays": to_record(server.global_state), "spec": spec_record(spec),
                   "client": ConfigRecord(client_config.to_dict()), "round": ConfigRecord({"round": server_round})}
        if server.control() is not None:
            content["control"] = to_record(server.control())
        messages = [Message(RecordDict(content), dst_node_id=node_of[available[k]], message_type="train",
                            group_id=str(server_round)) for k in sampled]
        results = []
        for reply in grid.send_and_receive(messages, timeout=round_timeout):
            if reply.has_error():
                log.warning("round %d: node %d failed: %s", server_round, reply.metadata.src_node_id, reply.error.reason)
                continue
            metrics = reply.content["metrics"]
            delta = from_record(reply.content["control_delta"]) if "control_delta" in reply.content else None
            results.append(ClientResult(int(metrics["partition-id"]), from_record(reply.content["arrays"]),
                                        int(metrics["num-examples"]), float(metrics["loss"]), delta))
        if len(results) < len(sampled):
            log.warning("round %d: %d of %d clients replied in time", server_round, len(results), len(sampled))
        if len(results) < config.min_clients:
            raise RuntimeError(f"round {server_round}: expected replies from at least min_clients={config.min_clients} clients, "
                               f"got {len(results)} of {len(sampled)}")
        results.sort(key=lambda r: r.client)  # replies arrive in any order; the sum's order is fixed
        server.finish_round(server_round, results, time.perf_counter() - start)
        if test is not None:
            loss, accuracy = client.evaluate(evaluator, server.global_state, *test)
            server.history["test_loss"].append(loss)
            server.history["test_accuracy"].append(accuracy)
        if on_round is not None:
            on_round(server_round, server)
    return server


def make_server_app(spec, config: FederatedConfig, strategy, outcome, test=None, wait_timeout=60.0, round_timeout=None):
    """The ServerApp around ``serve``; the Server is left in ``outcome['server']`` (its error in ``outcome['error']``)."""
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        try:
            outcome["server"] = serve(grid, spec, config, strategy, test, wait_timeout, round_timeout)
        except Exception as error:  # handed to the caller: Flower's thread would only log it
            outcome["error"] = error
            raise

    return app


def run_flower_simulation(spec, config: FederatedConfig, strategy, test=None, num_cpus=2, wait_timeout=60.0):
    """Run the federation on Flower's simulation engine (``flwr.simulation.run_simulation``, Ray
    actors, one CPU each); returns the ServerApp's Server."""
    from flwr.simulation import run_simulation

    # Ray's worker processes import the apps' modules: from this checkout, as the driver does
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    outcome = {}
    server_app = make_server_app(spec, config, strategy, outcome, test, wait_timeout)
    backend = {"client_resources": {"num_cpus": 1}, "init_args": {"num_cpus": num_cpus, "log_to_driver": False}}
    run_simulation(server_app, make_client_app(), num_supernodes=spec["num_clients"], backend_config=backend)
    if "error" in outcome:
        raise outcome["error"]
    if "server" not in outcome:
        raise RuntimeError("Flower's simulation ended without the ServerApp's result (see Flower's log above)")
    return outcome["server"]
