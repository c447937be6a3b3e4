"""Project 16's run settings, shared by both twins (never twinned): the model, its size and the
full-batch training of a run, and the settings used for each data set."""
import math
from dataclasses import dataclass

import numpy as np

from scratch.plumbing import OPTIMIZER_NAMES, check_int, check_positive_int, check_real

MODELS = ("gcn", "gat", "sage", "mlp")


@dataclass
class GNNConfig:
    """How to build and train a node classifier; both twins read the same one."""
    model: str = "gcn"
    hidden: int = 16
    heads: int = 8  # GAT's first layer
    dropout: float = 0.5
    optimizer: str = "adam"
    lr: float = 0.01
    weight_decay: float = 5e-4
    num_epochs: int = 200
    seed: int = 0
    early_stopping: int = 0  # TextGCN's window (0: off): stop once the validation loss exceeds its mean over that many epochs before
    cached: bool = False  # GCN: normalise the graph once (TextGCN's graph is fixed and large)

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"model: expected one of {list(MODELS)}, got {self.model!r}")
        if self.optimizer not in OPTIMIZER_NAMES:
            raise ValueError(f"optimizer: expected one of {list(OPTIMIZER_NAMES)}, got {self.optimizer!r}")
        for name in ("hidden", "heads", "num_epochs"):
            setattr(self, name, check_positive_int(getattr(self, name), name))
        self.dropout = check_real(self.dropout, "dropout", 0, 1, high_open=True, expected="a probability in [0, 1)")
        self.lr = check_real(self.lr, "lr", 0, math.inf, low_open=True, high_open=True, expected="a finite positive number")
        self.weight_decay = check_real(self.weight_decay, "weight_decay", 0, math.inf, high_open=True,
                                       expected="a finite number >= 0")
        self.seed = check_int(self.seed, "seed", 0)
        self.early_stopping = check_int(self.early_stopping, "early_stopping", 0)

    def architecture(self):
        """The model's constructor arguments that the config sets (the data set sets the others)."""
        extra = {"heads": self.heads} if self.model == "gat" else {"cached": True} if self.cached else {}
        return {"hidden_channels": self.hidden, "dropout": self.dropout, **extra}

    def stop_early(self, val_losses):
        """Yao et al.'s rule: past ``early_stopping`` epochs, stop when the last validation loss is above
        the mean of the ``early_stopping`` before it (never, with 0)."""
        window = self.early_stopping
        return 0 < window < len(val_losses) and val_losses[-1] > np.mean(val_losses[-window - 1:-1])


# Kipf & Welling's and Velickovic et al.'s settings; the karate club's 2-D embedding uses tanh (Kipf's figure).
CONFIGS = {
    "gcn": GNNConfig("gcn", hidden=16, dropout=0.5, lr=0.01, weight_decay=5e-4, num_epochs=200),
    "gat": GNNConfig("gat", hidden=8, heads=8, dropout=0.6, lr=0.005, weight_decay=5e-4, num_epochs=200),
    "sage": GNNConfig("sage", hidden=16, dropout=0.5, lr=0.01, weight_decay=5e-4, num_epochs=200),
    "mlp": GNNConfig("mlp", hidden=16, dropout=0.5, lr=0.01, weight_decay=5e-4, num_epochs=200),
}
# TextGCN (Yao et al. 2019): 200 hidden, dropout 0.5, Adam at 0.02, no weight decay, 200 epochs, early stopping over 10.
TEXTGCN = GNNConfig("gcn", hidden=200, dropout=0.5, lr=0.02, weight_decay=0.0, num_epochs=200, early_stopping=10, cached=True)


def check_mask(mask, num_nodes, name):
    """A boolean node mask of length ``num_nodes`` with at least one node set."""
    if not isinstance(mask, np.ndarray) or mask.dtype != bool:
        raise TypeError(f"{name}: expected a boolean ndarray of length {num_nodes}, got "
                        f"{type(mask).__name__} {getattr(mask, 'dtype', '')}".rstrip())
    if mask.shape != (num_nodes,):
        raise ValueError(f"{name}: expected shape ({num_nodes},) (one entry per node), got {mask.shape}")
    if not mask.any():
        raise ValueError(f"{name}: expected at least one node selected, got none")
    return mask
