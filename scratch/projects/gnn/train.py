"""Project 16: full-batch, semi-supervised node classification. Every epoch runs the whole graph
forward, takes the cross-entropy over the labelled nodes only, and steps the optimizer once; the
unlabelled nodes still shape the prediction through the graph (transductive learning).

Twin of reference/projects/gnn/train.py: the loops differ only where autograd does the work
(the loss's gradient placed into the labelled rows and handed to ``model.backward`` here).
"""
import time

import numpy as np

from scratch import nn
from scratch.plumbing import check_finite, progress_range
from scratch.training import make_optimizer

from .config import check_mask


def graph_inputs(X, edge_index, edge_weight=None):
    """What the model's forward takes: the features and the graph (and its weights, for a model that uses them)."""
    return (X, edge_index) if edge_weight is None else (X, edge_index, edge_weight)


def accuracy_and_loss(logits, y, mask, criterion):
    """(loss, accuracy) over the nodes of ``mask``."""
    return float(criterion(logits[mask], y[mask])), float((logits[mask].argmax(axis=1) == y[mask]).mean())


def fit(model, X, edge_index, y, train_mask, val_mask, config, edge_weight=None, on_epoch=None, progress=False):
    """Train ``model`` for config.num_epochs full-batch steps on the nodes of ``train_mask`` (fewer if
    config.early_stopping stops it); the history holds the loss and accuracy on the train and validation
    nodes after each step (in eval mode). ``X`` None: featureless nodes (the model's identity input).
    ``on_epoch(epoch, model)`` runs after each evaluation (the embedding GIF's snapshots)."""
    check_mask(train_mask, len(y), "train_mask")
    check_mask(val_mask, len(y), "val_mask")
    inputs = graph_inputs(X, edge_index, edge_weight)
    criterion = nn.CrossEntropyLoss()
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr, config.weight_decay)
    history = {key: [] for key in ("train_loss", "val_loss", "train_acc", "val_acc", "epoch_time")}
    epochs = progress_range(1, config.num_epochs + 1, progress=progress, desc=f"scratch {type(model).__name__}", unit="epoch", leave=False)
    for epoch in epochs:
        model.train()
        start = time.perf_counter()
        logits = model(*inputs)  # (N, classes): every node, labelled or not
        loss = criterion(logits[train_mask], y[train_mask])
        check_finite(float(loss), epoch, 0)
        optimizer.zero_grad()
        dlogits = np.zeros_like(logits)
        dlogits[train_mask] = criterion.backward()  # the unlabelled rows get no gradient
        model.backward(dlogits, input_grad=False)
        optimizer.step()
        history["epoch_time"].append(time.perf_counter() - start)
        record(history, model, inputs, y, train_mask, val_mask, criterion)
        if on_epoch is not None:
            on_epoch(epoch, model)
        if config.stop_early(history["val_loss"]):
            break
    return history


def record(history, model, inputs, y, train_mask, val_mask, criterion):
    model.eval()
    logits = model(*inputs)
    for split, mask in (("train", train_mask), ("val", val_mask)):
        loss, acc = accuracy_and_loss(logits, y, mask, criterion)
        history[f"{split}_loss"].append(loss)
        history[f"{split}_acc"].append(acc)


def predict(model, X, edge_index, edge_weight=None):
    """The predicted class of every node, in eval mode."""
    model.eval()
    return model(*graph_inputs(X, edge_index, edge_weight)).argmax(axis=1)
