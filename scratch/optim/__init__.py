"""scratch.optim: torch.optim's optimizers and schedulers, updating NumPy parameters in place."""
from . import lr_scheduler
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD
