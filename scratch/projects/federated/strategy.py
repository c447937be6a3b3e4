"""The server's side of a round, from scratch (shared by both federations, never twinned:
the server sees NumPy arrays whichever twin trained them, as Flower's messages carry them).

- ``FedAvg`` (McMahan et al., 2017): sample a fraction C of the clients, then average their
  weights, each weighted by its number of training examples n_k / n;
- ``FedProx`` (Li et al., 2020): FedAvg's server; its clients add the proximal term (mu);
- ``Scaffold`` (Karimireddy et al., 2020): the server also keeps a control variate c and
  moves x and c by the clients' mean changes, x += lr_g mean(dy_i), c += |S|/N mean(dc_i);
- ``FedAdam`` / ``FedYogi`` (Reddi et al., 2021, Algorithm 2): the weighted average's change
  is a pseudo-gradient that a server-side Adam or Yogi step applies (v starts at tau^2).

Before aggregating, every update is checked against the global weights: a wrong key set,
shape or dtype is refused naming the client; an update holding NaN or inf is dropped and
logged, and the round goes on without that client.
"""
import logging
import math
from dataclasses import dataclass

import numpy as np

from scratch.plumbing import check_positive_int, check_real, check_rng
from scratch.projects.federated.config import ClientConfig, check_fraction

log = logging.getLogger(__name__)


@dataclass
class ClientResult:
    """What one client sends back: its weights after the round, how many examples it trained on,
    its mean training loss and, for SCAFFOLD, the change in its control variate."""
    client: int
    state: dict
    num_examples: int
    loss: float = math.nan
    control_delta: dict = None


def weighted_average(states, weights):
    """sum_k w_k state_k / sum_k w_k, key by key (FedAvg's aggregation), in the states' own dtype."""
    weights = [float(w) for w in weights]  # Python floats: a float32 state stays float32
    total = sum(weights)
    return {key: sum(w * state[key] for w, state in zip(weights, states)) / total for key in states[0]}


def check_results(global_state, results):
    """The results whose updates match ``global_state`` key by key in shape and dtype and are
    finite; a mismatch is a ValueError/TypeError naming the client, a non-finite update is dropped and logged."""
    kept = []
    for result in results:
        name = f"client {result.client}"
        if set(result.state) != set(global_state):
            raise ValueError(f"update of {name}: expected the keys {sorted(global_state)}, got {sorted(result.state)}")
        for key, value in global_state.items():
            update = result.state[key]
            if not isinstance(update, np.ndarray) or update.shape != value.shape:
                raise ValueError(f"update of {name}: {key}: expected shape {value.shape}, got {getattr(update, 'shape', type(update))}")
            if update.dtype != value.dtype:
                raise TypeError(f"update of {name}: {key}: expected dtype {value.dtype}, got {update.dtype}")
        if isinstance(result.num_examples, bool) or not isinstance(result.num_examples, (int, np.integer)) or result.num_examples < 1:
            raise ValueError(f"num_examples of {name}: expected a positive int, got {result.num_examples!r}")
        bad = [key for key, update in result.state.items() if not np.all(np.isfinite(update))]
        if bad:
            log.warning("dropped the update of %s: NaN or inf in %s", name, ", ".join(bad))
            continue
        kept.append(result)
    if not kept:
        raise ValueError(f"results: expected at least one finite update, got none from clients {[r.client for r in results]}")
    return kept


class FedAvg:
    """Sample max(round(C K), min_clients) of K clients a round; average their weights by example counts."""
    name = "fedavg"

    def __init__(self, fraction=1.0, min_clients=1):
        self.fraction = check_fraction(fraction)
        self.min_clients = check_positive_int(min_clients, "min_clients")

    def sample(self, num_available, rng):
        """The indices of this round's clients, sorted, drawn without replacement from ``num_available``."""
        check_rng(rng, optional=False)
        if num_available < self.min_clients:
            raise ValueError(f"num_available: expected at least min_clients={self.min_clients} clients, got {num_available}")
        size = max(round(self.fraction * num_available), self.min_clients)  # McMahan's max(C K, 1)
        return np.sort(rng.choice(num_available, size=size, replace=False))

    def client_config(self, config: ClientConfig):
        return config

    def initialize(self, global_state):
        """Set up the server's own state (FedAvg keeps none) from the initial global weights."""

    def aggregate(self, global_state, results, num_clients=None):
        """The new global weights from this round's results (checked; non-finite ones dropped)."""
        results = check_results(global_state, results)
        return weighted_average([r.state for r in results], [r.num_examples for r in results])


class FedProx(FedAvg):
    """FedAvg's server; the clients it configures add mu/2 ||w - w_t||^2 to their loss."""
    name = "fedprox"

    def __init__(self, fraction=1.0, min_clients=1, mu=0.01):
        super().__init__(fraction, min_clients)
        self.mu = check_real(mu, "mu", 0, math.inf, low_open=True, high_open=True, expected="a finite positive number")

    def client_config(self, config: ClientConfig):
        return ClientConfig(config.local_epochs, config.batch_size, config.lr, self.mu)


class Scaffold(FedAvg):
    """x += lr_g mean_i(y_i - x), c += |S|/N mean_i(dc_i): the paper's unweighted means over the sampled clients."""
    name = "scaffold"

    def __init__(self, fraction=1.0, min_clients=1, server_lr=1.0):
        super().__init__(fraction, min_clients)
        self.server_lr = check_real(server_lr, "server_lr", 0, math.inf, low_open=True, high_open=True,
                                    expected="a finite positive number")
        self.control = None  # c, as the global weights' keys and shapes, zero at the start

    def initialize(self, global_state):
        self.control = {key: np.zeros_like(value) for key, value in global_state.items()}

    def aggregate(self, global_state, results, num_clients=None):
        results = check_results(global_state, results)
        for result in results:
            if result.control_delta is None:
                raise ValueError(f"control_delta of client {result.client}: expected SCAFFOLD's control variate change, got None")
        share = len(results) / (num_clients or len(results))
        for key in self.control:
            self.control[key] = self.control[key] + share * np.mean([r.control_delta[key] for r in results], axis=0)
        return {key: value + self.server_lr * np.mean([r.state[key] - value for r in results], axis=0)
                for key, value in global_state.items()}


class FedAdam(FedAvg):
    """Reddi et al.'s FedAdam: the pseudo-gradient d = FedAvg(results) - x drives a server Adam step
    m = b1 m + (1 - b1) d, v = b2 v + (1 - b2) d^2, x += lr m / (sqrt(v) + tau), with v starting at tau^2.

    Flower's FedAdam differs in two places, both available here: v starts at 0 (``initial_v=0.0``), and
    the step is bias-corrected (``bias_correction=True``): lr sqrt(1 - b2^(t+1)) / (1 - b1^(t+1)) in round
    t = 1, 2, ... (Flower counts the exponent from 2). FedAdam(initial_v=0.0, bias_correction=True) and
    FedYogi(initial_v=0.0) step exactly as flwr.serverapp.strategy.FedAdam and FedYogi."""
    name = "fedadam"

    def __init__(self, fraction=1.0, min_clients=1, server_lr=0.01, beta1=0.9, beta2=0.99, tau=1e-3, initial_v=None,
                 bias_correction=False):
        super().__init__(fraction, min_clients)
        self.server_lr = check_real(server_lr, "server_lr", 0, math.inf, low_open=True, high_open=True,
                                    expected="a finite positive number")
        self.beta1 = check_real(beta1, "beta1", 0, 1, high_open=True)
        self.beta2 = check_real(beta2, "beta2", 0, 1, high_open=True)
        self.tau = check_real(tau, "tau", 0, math.inf, low_open=True, high_open=True, expected="a finite positive number")
        self.initial_v = self.tau ** 2 if initial_v is None else check_real(
            initial_v, "initial_v", 0, math.inf, high_open=True, expected="a finite number >= 0 (None: tau^2)")
        if not isinstance(bias_correction, bool):
            raise TypeError(f"bias_correction: expected True or False, got {bias_correction!r}")
        self.bias_correction = bias_correction
        self.m = self.v = None
        self.rounds = 0

    def initialize(self, global_state):
        self.m = {key: np.zeros_like(value) for key, value in global_state.items()}
        self.v = {key: np.full_like(value, self.initial_v) for key, value in global_state.items()}
        self.rounds = 0

    def second_moment(self, v, d2):
        return self.beta2 * v + (1 - self.beta2) * d2

    def step_size(self):
        if not self.bias_correction:
            return self.server_lr
        t = self.rounds + 1.0  # Flower's exponent: the 1-based round plus one
        return self.server_lr * math.sqrt(1 - self.beta2 ** t) / (1 - self.beta1 ** t)

    def aggregate(self, global_state, results, num_clients=None):
        average = super().aggregate(global_state, results)
        self.rounds += 1
        lr = self.step_size()
        new_state = {}
        for key, x in global_state.items():
            d = average[key] - x  # the pseudo-gradient, pointing where the clients went
            self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * d
            self.v[key] = self.second_moment(self.v[key], d * d)
            new_state[key] = x + lr * self.m[key] / (np.sqrt(self.v[key]) + self.tau)
        return new_state


class FedYogi(FedAdam):
    """FedAdam with Yogi's additive second moment, v -= (1 - b2) d^2 sign(v - d^2): v grows no faster than d^2 asks."""
    name = "fedyogi"

    def second_moment(self, v, d2):
        return v - (1 - self.beta2) * d2 * np.sign(v - d2)


STRATEGIES = {cls.name: cls for cls in (FedAvg, FedProx, Scaffold, FedAdam, FedYogi)}
