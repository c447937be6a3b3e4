"""Project 2's run settings, shared by both twins (never twinned): the checks on the architecture,
the architecture and training settings of a run, and the settings tuned for each data set."""
import numbers
from dataclasses import dataclass

from scratch.plumbing import TrainingConfig, check_positive_int

ACTIVATION_NAMES = ("relu", "tanh", "sigmoid", "gelu", "leaky_relu", "elu", "silu")


def check_layers(hidden_sizes, activation):
    """The hidden layers' widths and their activation, as MLPConfig and both MLP twins check them."""
    if activation not in ACTIVATION_NAMES:
        raise ValueError(f"activation: expected one of {sorted(ACTIVATION_NAMES)}, got {activation!r}")
    if not isinstance(hidden_sizes, (tuple, list)) or not all(
            isinstance(h, numbers.Integral) and not isinstance(h, bool) and h > 0 for h in hidden_sizes):
        raise ValueError(f"hidden_sizes: expected positive ints, got {hidden_sizes!r}")


def check_architecture(in_features, hidden_sizes, num_classes, activation):
    """An MLP's constructor arguments, refused the same way by both twins."""
    check_positive_int(in_features, "in_features")
    check_positive_int(num_classes, "num_classes")
    check_layers(hidden_sizes, activation)


@dataclass
class MLPConfig(TrainingConfig):
    """The architecture and the training settings of a run; both twins read the same one."""
    hidden_sizes: tuple = (256, 128)
    activation: str = "relu"
    dropout: float = 0.2

    def __post_init__(self):
        super().__post_init__()
        check_layers(self.hidden_sizes, self.activation)
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
