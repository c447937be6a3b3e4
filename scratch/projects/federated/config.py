"""Project 18's run settings, shared by both twins (never twinned): what a client does in a round
(local epochs of plain mini-batch SGD, FedProx's mu) and how the server runs the federation
(rounds, the fraction C of clients sampled per round, the seed every random draw starts from)."""
import math
from dataclasses import asdict, dataclass

from scratch.plumbing import check_int, check_positive_int, check_real

STRATEGY_NAMES = ("fedsgd", "fedavg", "fedprox", "scaffold", "fedadam", "fedyogi")
SPLIT_NAMES = ("iid", "pathological", "dirichlet")


def check_fraction(fraction, name="fraction"):
    """The share C of clients sampled in a round: a number in (0, 1]."""
    return check_real(fraction, name, 0, 1, low_open=True, expected="a fraction in (0, 1]")


@dataclass
class ClientConfig:
    """One client's round: ``local_epochs`` passes of mini-batch SGD (``batch_size`` None: the whole
    shard, one step an epoch, as FedSGD) with step ``lr``; ``mu`` > 0 adds FedProx's proximal term."""
    local_epochs: int = 1
    batch_size: int | None = 10
    lr: float = 0.05
    mu: float = 0.0

    def __post_init__(self):
        self.local_epochs = check_positive_int(self.local_epochs, "local_epochs")
        if self.batch_size is not None:
            self.batch_size = check_positive_int(self.batch_size, "batch_size")
        self.lr = check_real(self.lr, "lr", 0, math.inf, low_open=True, high_open=True, expected="a finite positive number")
        self.mu = check_real(self.mu, "mu", 0, math.inf, high_open=True, expected="a finite number >= 0")

    def to_dict(self):
        """What travels in a Flower message's ConfigRecord (None becomes 0: the whole shard)."""
        return {**asdict(self), "batch_size": self.batch_size or 0}

    @classmethod
    def from_dict(cls, record):
        values = dict(record)
        return cls(int(values["local_epochs"]), int(values["batch_size"]) or None, float(values["lr"]), float(values["mu"]))


@dataclass
class FederatedConfig:
    """A federation's run: ``num_rounds`` rounds, a fraction ``fraction`` (McMahan's C) of the
    ``num_clients`` clients each round, at least ``min_clients``; the client's settings; the seed."""
    num_clients: int = 10
    num_rounds: int = 10
    fraction: float = 1.0
    min_clients: int = 1
    client: ClientConfig = None
    seed: int = 0

    def __post_init__(self):
        self.num_clients = check_positive_int(self.num_clients, "num_clients")
        self.num_rounds = check_positive_int(self.num_rounds, "num_rounds")
        self.fraction = check_fraction(self.fraction)
        self.min_clients = check_positive_int(self.min_clients, "min_clients")
        if self.min_clients > self.num_clients:
            raise ValueError(f"min_clients: expected at most num_clients={self.num_clients}, got {self.min_clients}")
        self.client = ClientConfig() if self.client is None else self.client
        self.seed = check_int(self.seed, "seed", 0)
