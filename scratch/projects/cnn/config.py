"""Project 4's run settings, shared by both twins (never twinned): the architecture,
augmentation and training settings of a run, and the settings tuned for each data set."""
from dataclasses import dataclass

from scratch.plumbing import TrainingConfig


@dataclass
class CNNConfig(TrainingConfig):
    """The architecture, augmentation and training settings of a run; both twins read the same one."""
    channels: tuple = (32, 64)
    hidden: int = 128
    batch_norm: bool = True
    dropout: float = 0.3
    augment: bool = True

    def __post_init__(self):
        super().__post_init__()
        if len(self.channels) != 2 or not all(isinstance(c, int) and c > 0 for c in self.channels):
            raise ValueError(f"channels: expected two positive ints (one per conv block), got {self.channels!r}")
        if not isinstance(self.hidden, int) or self.hidden < 1:
            raise ValueError(f"hidden: expected a positive int, got {self.hidden!r}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout: expected a probability in [0, 1), got {self.dropout!r}")

    def architecture(self):
        """The model's constructor arguments that the config sets (the data set the others)."""
        return {"channels": self.channels, "hidden": self.hidden, "batch_norm": self.batch_norm, "dropout": self.dropout}


# The settings tuned for each data set (``twins run cnn``).
CONFIGS = {
    "fashion-mnist": CNNConfig(lr=2e-3, batch_size=64, num_epochs=12, patience=4, batch_norm=True, dropout=0.3),
    "digits": CNNConfig(channels=(16, 32), hidden=64, lr=3e-3, batch_size=32, num_epochs=30, patience=8, augment=False),
}
