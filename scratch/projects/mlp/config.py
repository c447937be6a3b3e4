"""Project 2's run settings, shared by both twins (never twinned): the architecture and
training settings of a run, and the settings tuned for each data set."""
from dataclasses import dataclass

from scratch.plumbing import TrainingConfig

ACTIVATION_NAMES = ("relu", "tanh", "sigmoid", "gelu", "leaky_relu", "elu", "silu")


@dataclass
class MLPConfig(TrainingConfig):
    """The architecture and the training settings of a run; both twins read the same one."""
    hidden_sizes: tuple = (256, 128)
    activation: str = "relu"
    dropout: float = 0.2

    def __post_init__(self):
        super().__post_init__()
        if self.activation not in ACTIVATION_NAMES:
            raise ValueError(f"activation: expected one of {sorted(ACTIVATION_NAMES)}, got {self.activation!r}")
        if not all(isinstance(h, int) and h > 0 for h in self.hidden_sizes):
            raise ValueError(f"hidden_sizes: expected positive ints, got {self.hidden_sizes!r}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout: expected a probability in [0, 1), got {self.dropout!r}")

    def architecture(self):
        """The model's constructor arguments that the config sets (the data set the others)."""
        return {"hidden_sizes": self.hidden_sizes, "activation": self.activation, "dropout": self.dropout}


# The settings tuned for each data set (``twins run mlp``).
CONFIGS = {
    "digits": MLPConfig(hidden_sizes=(256, 128), dropout=0.2, lr=1e-3, batch_size=64, num_epochs=50, patience=15),
    "fashion-mnist": MLPConfig(hidden_sizes=(256, 128), dropout=0.2, lr=1e-3, batch_size=128, num_epochs=30, patience=10),
}
