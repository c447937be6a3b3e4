"""Project 16: full-batch, semi-supervised node classification. Every epoch runs the whole graph
forward, takes the cross-entropy over the labelled nodes only, and steps the optimizer once; the
unlabelled nodes still shape the prediction through the graph (transductive learning).

Twin of scratch/projects/gnn/train.py: the loops differ only where autograd does the work
(``loss.backward()`` here), plus the conversions to tensors.
"""
import time

import numpy as np
import torch
from torch import nn

from reference.training import make_optimizer
from scratch.plumbing import check_finite, progress_range
from scratch.projects.gnn.config import check_mask


def graph_inputs(X, edge_index, edge_weight=None, num_nodes=None):
    """What the model's forward takes, as tensors: the features and the graph (and its weights). Featureless
    nodes (``X`` None, TextGCN's large graph) go as PyG's sparse ``adj_t`` (row = target) holding the weights:
    PyG then aggregates with one sparse product instead of gathering an (E, F) message per edge. Its size is
    ``num_nodes`` (required then), never the largest index in ``edge_index``: isolated last nodes count too."""
    if X is None:
        if num_nodes is None:
            raise ValueError("num_nodes: expected the node count with featureless nodes (X None), got None")
        weight = np.ones(edge_index.shape[1]) if edge_weight is None else edge_weight
        adj_t = torch.sparse_coo_tensor(torch.from_numpy(edge_index[::-1].copy()), torch.from_numpy(weight),
                                        (num_nodes, num_nodes), check_invariants=True).coalesce().to_sparse_csr()
        return None, adj_t
    inputs = (torch.from_numpy(X), torch.from_numpy(edge_index))
    return inputs if edge_weight is None else inputs + (torch.from_numpy(edge_weight),)


def accuracy_and_loss(logits, y, mask, criterion):
    """(loss, accuracy) over the nodes of ``mask``."""
    return float(criterion(logits[mask], y[mask])), float((logits[mask].argmax(dim=1) == y[mask]).double().mean())


def fit(model, X, edge_index, y, train_mask, val_mask, config, edge_weight=None, on_epoch=None, progress=False):
    """Train ``model`` for config.num_epochs full-batch steps on the nodes of ``train_mask`` (fewer if
    config.early_stopping stops it); the history holds the loss and accuracy on the train and validation
    nodes after each step (in eval mode). ``X`` None: featureless nodes (the model's identity input).
    ``on_epoch(epoch, model)`` runs after each evaluation (the embedding GIF's snapshots)."""
    check_mask(train_mask, len(y), "train_mask")
    check_mask(val_mask, len(y), "val_mask")
    inputs = graph_inputs(X, edge_index, edge_weight, num_nodes=len(y))
    y, train_mask, val_mask = torch.from_numpy(y), torch.from_numpy(train_mask), torch.from_numpy(val_mask)
    criterion = nn.CrossEntropyLoss()
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr, config.weight_decay)
    history = {key: [] for key in ("train_loss", "val_loss", "train_acc", "val_acc", "epoch_time")}
    epochs = progress_range(1, config.num_epochs + 1, progress=progress, desc=f"torch {type(model).__name__}", unit="epoch", leave=False)
    for epoch in epochs:
        model.train()
        start = time.perf_counter()
        logits = model(*inputs)  # (N, classes): every node, labelled or not
        loss = criterion(logits[train_mask], y[train_mask])
        check_finite(loss.item(), epoch, 0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history["epoch_time"].append(time.perf_counter() - start)
        record(history, model, inputs, y, train_mask, val_mask, criterion)
        if on_epoch is not None:
            on_epoch(epoch, model)
        if config.stop_early(history["val_loss"]):
            break
    return history


@torch.no_grad()
def record(history, model, inputs, y, train_mask, val_mask, criterion):
    model.eval()
    logits = model(*inputs)
    for split, mask in (("train", train_mask), ("val", val_mask)):
        loss, acc = accuracy_and_loss(logits, y, mask, criterion)
        history[f"{split}_loss"].append(loss)
        history[f"{split}_acc"].append(acc)


@torch.no_grad()
def predict(model, X, edge_index, edge_weight=None):
    """The predicted class of every node, in eval mode (featureless: the model's in_channels nodes)."""
    model.eval()
    inputs = graph_inputs(X, edge_index, edge_weight, num_nodes=model.conv1.in_channels if X is None else None)
    return model(*inputs).argmax(dim=1).numpy()
