"""The supervised training loop every scratch model shares: mini-batches, a loss
and its criterion (cross-entropy by default, mean squared error for regression, or any
other), an optimizer and lr schedule, validation each epoch, early stopping on validation
loss. Training that is not supervised mini-batch learning (adversarial steps, replay
buffers, federated rounds) has a loop file of its own in its project.

Twin of reference/training.py: the loops differ only where autograd does the work
(``model.backward(criterion.backward(), input_grad=False)`` here, ``loss.backward()`` there:
the batch is data, whose gradient torch does not compute and scratch is told to skip).
"""
import copy
import time

import numpy as np

from scratch import nn, optim
from scratch.plumbing import EarlyStopping, check_dataset, check_finite, minibatches, progress_range

OPTIMIZERS = {"sgd": (optim.SGD, {"momentum": 0.9}), "adam": (optim.Adam, {}),
              "adamw": (optim.AdamW, {}), "rmsprop": (optim.RMSprop, {})}


def make_optimizer(name, params, lr, weight_decay=0.0):
    optimizer_class, defaults = OPTIMIZERS[name]
    return optimizer_class(params, lr=lr, weight_decay=weight_decay, **defaults)


def make_scheduler(name, optimizer, num_epochs):
    """'cosine' anneals the lr to 0 over num_epochs (stepped once an epoch); 'constant' keeps it."""
    return optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=num_epochs) if name == "cosine" else None


def evaluate(model, X, y, batch_size=1024, criterion=None):
    """Mean loss per target value over (X, y), in eval mode, batch by batch, and the accuracy
    (None unless the criterion is cross-entropy; both NaN for zero rows). ``criterion`` defaults to cross-entropy."""
    model.eval()
    criterion = nn.CrossEntropyLoss() if criterion is None else criterion
    classify = isinstance(criterion, nn.CrossEntropyLoss)
    summed = copy.copy(criterion)  # the same loss, summed: batches of any size add up exactly
    summed.reduction = "sum"
    if len(X) == 0:  # as torch's mean over no elements: NaN, not an error
        return float("nan"), (float("nan") if classify else None)
    total_loss, correct = 0.0, 0
    for idx in minibatches(len(X), batch_size):
        y_hat = model(X[idx])
        total_loss += float(summed(y_hat, y[idx]))
        if classify:
            correct += int((y_hat.argmax(axis=1) == y[idx]).sum())
    return total_loss / y.size, (correct / len(X) if classify else None)


def predict(model, X, batch_size=1024):
    """The predicted class of each row of X, in eval mode, batch by batch; zero rows give an empty array."""
    model.eval()
    batches = list(minibatches(len(X), batch_size)) or [np.arange(0)]  # zero rows: one empty batch, as torch runs it
    return np.concatenate([model(X[idx]).argmax(axis=1) for idx in batches])


def fit(model, X, y, X_val, y_val, config, criterion=None, transform=None, progress=False):
    """Train ``model`` and keep the weights of the best validation loss; returns the history.

    ``criterion`` defaults to cross-entropy, for a model naming its ``num_classes``: the labels
    are checked and accuracy is recorded. Any other loss (``nn.MSELoss()`` for regression)
    leaves checking the data to the caller. ``transform`` augments each training batch."""
    criterion = nn.CrossEntropyLoss() if criterion is None else criterion
    classify = isinstance(criterion, nn.CrossEntropyLoss)
    if classify:
        check_dataset(X, y, model.num_classes, "X")
        check_dataset(X_val, y_val, model.num_classes, "X_val")
    rng = np.random.default_rng(config.seed)  # batch order only: the same on both twins
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr, config.weight_decay)
    scheduler = make_scheduler(config.lr_schedule, optimizer, config.num_epochs)
    stopper = EarlyStopping(config.patience)
    history = {key: [] for key in ("train_loss", "val_loss", "epoch_time") + (("train_acc", "val_acc") if classify else ())}
    epochs = progress_range(1, config.num_epochs + 1, progress=progress, desc=f"scratch {type(model).__name__} ({config.optimizer})", unit="epoch")
    for epoch in epochs:
        model.train()
        start, total_loss, correct = time.perf_counter(), 0.0, 0
        for step, idx in enumerate(minibatches(len(X), config.batch_size, rng)):
            X_batch = X[idx] if transform is None else transform(X[idx])
            y_hat = model(X_batch)
            loss = criterion(y_hat, y[idx])
            check_finite(float(loss), epoch, step)
            optimizer.zero_grad()
            model.backward(criterion.backward(), input_grad=False)
            optimizer.step()
            total_loss += float(loss) * len(idx)
            if classify:
                correct += int((y_hat.argmax(axis=1) == y[idx]).sum())
        if scheduler is not None:
            scheduler.step()
        history["epoch_time"].append(time.perf_counter() - start)
        history["train_loss"].append(total_loss / len(X))
        val_loss, val_acc = evaluate(model, X_val, y_val, criterion=criterion)
        history["val_loss"].append(val_loss)
        if classify:
            history["train_acc"].append(correct / len(X))
            history["val_acc"].append(val_acc)
        if stopper.step(val_loss, epoch):
            best_state = model.state_dict()
        if progress:
            epochs.set_postfix(loss=f"{history['train_loss'][-1]:.4f}", val_loss=f"{val_loss:.4f}")
        if stopper.should_stop:
            break
    history["best_epoch"] = stopper.require_best(history["val_loss"][-1], "check X_val and y_val for NaN/inf, or lower the lr")
    model.load_state_dict(best_state)
    return history
