"""Benchmark cases for federated learning (Project 18).

- A client round: McMahan et al.'s 2NN (784-200-200-10) trained for one local epoch of
  mini-batch SGD (B = 10) on a 600-sample shard of Fashion-MNIST width, FedProx's proximal
  term on: scratch's client.local_update against the torch twin's, from the same weights
  with the same batches.
- A full simulated round (FedAvg, E = 1, B = 10, 100-sample shards, digits-sized 64-64-10 MLP)
  against the number of clients per round, so that its growth shows: the scratch federation
  against the torch federation, the same rounds and batches.
- Aggregation of 100 client updates of that model, weighted by example counts: scratch's
  FedAvg against the same weighted sum in torch (stacked tensors), and against Flower's own
  ``flwr.server.strategy.aggregate.aggregate`` (NumPy; in the torch column, named in the note).
"""
import numpy as np
import torch
from flwr.server.strategy.aggregate import aggregate

from reference.bridge import twin_pair
from reference.projects.federated import client as torch_client
from reference.projects.mlp.model import MLP as TorchMLP
from scratch.projects.federated import client, strategy
from scratch.projects.federated.config import ClientConfig, FederatedConfig
from scratch.projects.federated.federation import run_federation
from scratch.projects.mlp.model import MLP

from .core import Case

WIDTHS = (784, (200, 200), 10)  # McMahan et al.'s 2NN
SHARD = {False: 600, True: 100}  # samples per client, by quick
NUM_UPDATES = 100
ROUND_CLIENTS = {False: (10, 30, 100), True: (10,)}  # clients per simulated round, by quick


def client_round_case(dtype, quick, rng):
    model, twin = twin_pair(MLP, TorchMLP, 0, dtype, in_features=WIDTHS[0], hidden_sizes=WIDTHS[1], num_classes=WIDTHS[2])
    X = rng.uniform(0, 1, (SHARD[quick], WIDTHS[0])).astype(dtype)
    y = rng.integers(0, WIDTHS[2], SHARD[quick])
    global_state = model.state_dict()
    config = ClientConfig(local_epochs=1, batch_size=10, lr=0.05, mu=0.01)
    return Case("client round (FedProx, E=1, B=10)", f"{SHARD[quick]} samples, 784-200-200-10",
                lambda: client.local_update(model, X, y, global_state, config, np.random.default_rng(0)),
                lambda: torch_client.local_update(twin, X, y, global_state, config, np.random.default_rng(0)),
                note="weights in and out as NumPy arrays on both sides, as Flower carries them")


def round_case(num_clients, dtype, rng):
    model, twin = twin_pair(MLP, TorchMLP, 0, dtype, in_features=64, hidden_sizes=(64,), num_classes=10)
    X, y = rng.uniform(0, 1, (100 * num_clients, 64)).astype(dtype), rng.integers(0, 10, 100 * num_clients)
    shards = np.array_split(np.arange(len(X)), num_clients)
    config = FederatedConfig(num_clients, 1, 1.0, 1, ClientConfig(1, 10, 0.05), 0)
    return Case("simulated FedAvg round", f"{num_clients} clients x 100 samples, 64-64-10",
                lambda: run_federation(client, model, shards, X, y, strategy.FedAvg(), config),
                lambda: run_federation(torch_client, twin, shards, X, y, strategy.FedAvg(), config),
                note="all clients in turn, then the aggregation; in one process")


def aggregation_cases(dtype, rng):
    model = MLP(WIDTHS[0], WIDTHS[1], WIDTHS[2], dtype=dtype, rng=rng)
    global_state = model.state_dict()
    results = [strategy.ClientResult(k, {key: value + rng.normal(0, 0.01, value.shape).astype(dtype) for key, value in global_state.items()},
                                     int(rng.integers(10, 600))) for k in range(NUM_UPDATES)]
    fedavg = strategy.FedAvg()
    counts = torch.tensor([r.num_examples for r in results], dtype=torch.float64)
    stacked = {key: torch.stack([torch.from_numpy(r.state[key]) for r in results]) for key in global_state}
    weights = (counts / counts.sum()).to(stacked[next(iter(stacked))].dtype)

    def torch_average():
        return {key: torch.tensordot(weights, value, dims=1) for key, value in stacked.items()}

    flower_input = [(list(r.state.values()), r.num_examples) for r in results]
    size = f"{NUM_UPDATES} updates x {sum(v.size for v in global_state.values()):,} weights"
    return [Case("FedAvg aggregation", size, lambda: fedavg.aggregate(global_state, results), torch_average,
                 note="torch: tensordot of the stacked updates (stacking not timed); scratch also checks every update"),
            Case("FedAvg aggregation vs Flower", size, lambda: fedavg.aggregate(global_state, results),
                 lambda: aggregate(flower_input), note="torch column: flwr.server.strategy.aggregate.aggregate (NumPy)")]


def cases(dtype=np.float32, quick=False, seed=0):
    """The federated project's benchmark cases, built from ``seed``."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    return ([client_round_case(dtype, quick, rng)] + [round_case(k, dtype, rng) for k in ROUND_CLIENTS[quick]]
            + aggregation_cases(dtype, rng))
