"""A federated client's round (McMahan et al., 2017): load the global weights, run local
epochs of mini-batch SGD on the client's own shard, send back the new weights.

Two corrections act on the gradient before each step:
- FedProx (Li et al., 2020) adds the gradient of the proximal term mu/2 ||w - w_t||^2, that is
  mu (w - w_t), which pulls the client back towards the round's global weights w_t;
- SCAFFOLD (Karimireddy et al., 2020) adds c - c_i, the server's control variate less the
  client's, an estimate of how far this client's gradient leans from the federation's. After
  the round the client's variate becomes c_i+ = c_i - c + (w_t - w) / (K lr) over its K steps
  (the paper's option II).

The gradient of the loss comes from project 2's MLP's hand-written backward pass. Twin of
reference/projects/federated/client.py, where loss.backward() does that part.
"""
import numpy as np

from scratch import nn, optim
from scratch.plumbing import check_finite, minibatches
from scratch.projects.federated.config import ClientConfig


def local_update(model, X, y, global_state, config: ClientConfig, rng, control=None):
    """Train ``model`` from ``global_state`` on (X, y); returns (state, mean loss, new control variate or None).

    ``control``: SCAFFOLD's pair (c, c_i) of name -> array, or None for FedAvg/FedProx.
    """
    model.load_state_dict(global_state)
    params = dict(model.named_parameters())
    anchor = {name: p.data.copy() for name, p in params.items()}  # w_t, which the proximal term pulls towards
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=config.lr)
    batch_size = config.batch_size or len(X)  # None: one full-batch step an epoch (FedSGD)
    losses, steps = [], 0
    model.train()
    for epoch in range(config.local_epochs):
        for idx in minibatches(len(X), batch_size, rng):
            loss = criterion(model(X[idx]), y[idx])
            check_finite(float(loss), epoch, steps)
            optimizer.zero_grad()
            model.backward(criterion.backward(), input_grad=False)
            for name, p in params.items():
                if config.mu > 0:
                    p.grad += config.mu * (p.data - anchor[name])  # d/dw mu/2 ||w - w_t||^2
                if control is not None:
                    p.grad += control[0][name] - control[1][name]  # c - c_i
            optimizer.step()
            losses.append(float(loss))
            steps += 1
    new_control = None
    if control is not None:
        new_control = {name: control[1][name] - control[0][name] + (anchor[name] - p.data) / (steps * config.lr)
                       for name, p in params.items()}
    return numpy_state(model), float(np.mean(losses)), new_control


def numpy_state(model):
    """The model's state_dict as NumPy arrays, what Flower's messages and the server carry."""
    return model.state_dict()


def evaluate(model, state, X, y, batch_size=1024):
    """(mean cross-entropy, accuracy) of ``state`` on (X, y), in eval mode."""
    model.load_state_dict(state)
    model.eval()
    criterion = nn.CrossEntropyLoss(reduction="sum")
    total, correct = 0.0, 0
    for idx in minibatches(len(X), batch_size):
        y_hat = model(X[idx])
        total += float(criterion(y_hat, y[idx]))
        correct += int((y_hat.argmax(axis=1) == y[idx]).sum())
    return total / len(X), correct / len(X)
