"""Project 5's run settings, shared by both twins (never twinned): the architecture check,
the architecture and training settings of a run, and the settings tuned for each series."""
from dataclasses import dataclass

from scratch.plumbing import TrainingConfig, check_positive_int


def check_architecture(cell, hidden_size, num_layers, window, horizon):
    if cell not in ("lstm", "gru"):
        raise ValueError(f"cell: expected 'lstm' or 'gru', got {cell!r}")
    for name, value in (("hidden_size", hidden_size), ("num_layers", num_layers), ("window", window), ("horizon", horizon)):
        check_positive_int(value, name)


@dataclass
class ForecasterConfig(TrainingConfig):
    """The architecture and the training settings of a run; both twins read the same one."""
    cell: str = "lstm"
    hidden_size: int = 32
    num_layers: int = 1
    window: int = 52
    horizon: int = 1

    def __post_init__(self):
        super().__post_init__()
        check_architecture(self.cell, self.hidden_size, self.num_layers, self.window, self.horizon)

    def architecture(self):
        """The Forecaster's constructor arguments."""
        return {"cell": self.cell, "hidden_size": self.hidden_size, "num_layers": self.num_layers,
                "window": self.window, "horizon": self.horizon}


# The settings tuned for each data set (``twins run forecasting``).
CONFIGS = {
    "co2": ForecasterConfig(window=52, hidden_size=32, lr=3e-3, batch_size=64, num_epochs=60, patience=12),
    "sunspots": ForecasterConfig(window=22, hidden_size=32, lr=3e-3, batch_size=16, num_epochs=80, patience=15),
}
