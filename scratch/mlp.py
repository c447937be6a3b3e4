"""Project 2: a multilayer perceptron classifier trained by backpropagation.

Linear layers with a chosen activation and dropout between them, softmax cross-entropy
on the logits, mini-batch training with a validation split and early stopping. Every
gradient is computed by the layers' hand-written backward passes (Rumelhart, Hinton &
Williams, 1986). Twin of reference/mlp.py: diff the two to see what autograd does.
"""
import time
from dataclasses import dataclass

import numpy as np

from scratch import nn, optim
from scratch.training import EarlyStopping, check_dataset, check_finite, minibatches

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
               "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "silu": nn.SiLU}
OPTIMIZERS = {"sgd": (optim.SGD, {"momentum": 0.9}), "adam": (optim.Adam, {}),
              "adamw": (optim.AdamW, {}), "rmsprop": (optim.RMSprop, {})}

LR_SCHEDULES = ("constant", "cosine")


@dataclass
class MLPConfig:
    """Everything a run needs besides the data; shared by both twins."""
    hidden_sizes: tuple = (256, 128)
    activation: str = "relu"
    dropout: float = 0.2
    optimizer: str = "adam"
    lr: float = 1e-3
    lr_schedule: str = "cosine"
    weight_decay: float = 0.0
    batch_size: int = 128
    num_epochs: int = 30
    patience: int = 5
    seed: int = 0

    def __post_init__(self):
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation: expected one of {sorted(ACTIVATIONS)}, got {self.activation!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer: expected one of {sorted(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule: expected one of {LR_SCHEDULES}, got {self.lr_schedule!r}")
        if not all(isinstance(h, int) and h > 0 for h in self.hidden_sizes):
            raise ValueError(f"hidden_sizes: expected positive ints, got {self.hidden_sizes!r}")


class MLP(nn.Module):
    """in_features -> hidden_sizes... -> num_classes logits; keys layers.0.weight, ... as torch's."""

    def __init__(self, in_features, hidden_sizes, num_classes, activation="relu", dropout=0.0, dtype=None, rng=None):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation: expected one of {sorted(ACTIVATIONS)}, got {activation!r}")
        rng = np.random.default_rng() if rng is None else rng
        layers, width = [], in_features
        for hidden in hidden_sizes:
            layers += [nn.Linear(width, hidden, dtype=dtype, rng=rng), ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout, rng=rng))
            width = hidden
        self.layers = nn.Sequential(*layers, nn.Linear(width, num_classes, dtype=dtype, rng=rng))

    def forward(self, X):
        return self.layers(X)  # (N, in_features) -> (N, num_classes)

    def backward(self, grad):
        return self.layers.backward(grad)


def make_optimizer(name, params, lr, weight_decay=0.0):
    optimizer_class, defaults = OPTIMIZERS[name]
    return optimizer_class(params, lr=lr, weight_decay=weight_decay, **defaults)


def make_scheduler(name, optimizer, num_epochs):
    """'cosine' anneals the lr to 0 over num_epochs (stepped once an epoch); 'constant' keeps it."""
    return optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=num_epochs) if name == "cosine" else None


def evaluate(model, X, y, batch_size=1024):
    """Mean cross-entropy and accuracy over (X, y), in eval mode, batch by batch."""
    model.eval()
    criterion = nn.CrossEntropyLoss(reduction="sum")
    total_loss, correct = 0.0, 0
    for idx in minibatches(len(X), batch_size):
        y_hat = model(X[idx])
        total_loss += float(criterion(y_hat, y[idx]))
        correct += int((y_hat.argmax(axis=1) == y[idx]).sum())
    return total_loss / len(X), correct / len(X)


def predict(model, X, batch_size=1024):
    model.eval()
    return np.concatenate([model(X[idx]).argmax(axis=1) for idx in minibatches(len(X), batch_size)])


def fit(model, X, y, X_val, y_val, config, progress=False):
    """Train with mini-batches, keep the weights of the best validation loss; returns the history."""
    num_classes = model.layers[-1].out_features
    check_dataset(X, y, num_classes, "X")
    check_dataset(X_val, y_val, num_classes, "X_val")
    rng = np.random.default_rng(config.seed)  # batch order only: the same on both twins
    criterion = nn.CrossEntropyLoss()
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr, config.weight_decay)
    scheduler = make_scheduler(config.lr_schedule, optimizer, config.num_epochs)
    stopper = EarlyStopping(config.patience)
    history = {key: [] for key in ("train_loss", "train_acc", "val_loss", "val_acc", "epoch_time")}
    epochs = range(1, config.num_epochs + 1)
    if progress:
        from tqdm.auto import tqdm
        epochs = tqdm(epochs, desc=f"scratch MLP ({config.optimizer})", unit="epoch")
    for epoch in epochs:
        model.train()
        start, total_loss, correct = time.perf_counter(), 0.0, 0
        for step, idx in enumerate(minibatches(len(X), config.batch_size, rng)):
            y_hat = model(X[idx])
            loss = criterion(y_hat, y[idx])
            check_finite(float(loss), epoch, step)
            optimizer.zero_grad()
            model.backward(criterion.backward())
            optimizer.step()
            total_loss += float(loss) * len(idx)
            correct += int((y_hat.argmax(axis=1) == y[idx]).sum())
        if scheduler is not None:
            scheduler.step()
        history["epoch_time"].append(time.perf_counter() - start)
        history["train_loss"].append(total_loss / len(X))
        history["train_acc"].append(correct / len(X))
        val_loss, val_acc = evaluate(model, X_val, y_val)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        if stopper.step(val_loss, epoch):
            best_state = model.state_dict()
        if progress:
            epochs.set_postfix(loss=f"{history['train_loss'][-1]:.4f}", val_acc=f"{val_acc:.4f}")
        if stopper.should_stop:
            break
    model.load_state_dict(best_state)
    history["best_epoch"] = stopper.best_epoch
    return history
