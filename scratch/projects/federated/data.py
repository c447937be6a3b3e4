"""How the training set is dealt out to clients (shared by both twins, never twinned).

Each split returns a list of index arrays, one per client, built without a loop over samples:

- ``iid``: a random permutation cut into near-equal parts;
- ``pathological``: McMahan et al. (2017)'s non-IID split: sort by label, cut into
  ``num_shards`` shards, deal each client ``shards_per_client`` of them at random, so most
  clients see two classes;
- ``dirichlet``: label skew (Hsu et al., 2019): for each class, client shares drawn from
  Dirichlet(alpha); alpha 0.1 is nearly one class a client, alpha 10 nearly IID.
"""
import numpy as np

from scratch import datasets
from scratch.plumbing import check_int, check_positive_int, check_real, check_rng

DIRICHLET_ALPHAS = (0.1, 0.5, 10.0)
MAX_DIRICHLET_DRAWS = 100  # redraws before giving up on shards of at least min_size
QUICK_SAMPLES = {"train": 6000, "test": 1000}  # quick: the first samples of Fashion-MNIST (digits is smaller)


def group_by(assignment, num_groups):
    """The indices of each group 0..num_groups-1 given each sample's group, in one stable sort."""
    order = np.argsort(assignment, kind="stable")
    return np.split(order, np.cumsum(np.bincount(assignment, minlength=num_groups))[:-1])


def _check(y, num_clients, rng):
    if not isinstance(y, np.ndarray) or y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y: expected a 1-d integer label array, got {getattr(y, 'shape', type(y))} {getattr(y, 'dtype', '')}")
    num_clients = check_positive_int(num_clients, "num_clients")
    if num_clients > len(y):
        raise ValueError(f"num_clients: expected at most the {len(y)} samples, got {num_clients}")
    check_rng(rng, optional=False)
    return num_clients


def iid(y, num_clients, rng):
    """A random permutation cut into ``num_clients`` parts whose sizes differ by at most one."""
    num_clients = _check(y, num_clients, rng)
    return np.array_split(rng.permutation(len(y)), num_clients)


def pathological(y, num_clients=100, shards_per_client=2, rng=None):
    """Sort by label, cut into num_clients * shards_per_client shards, deal each client its shards at random."""
    num_clients = _check(y, num_clients, rng)
    num_shards = num_clients * check_positive_int(shards_per_client, "shards_per_client")
    if num_shards > len(y):
        raise ValueError(f"shards_per_client: expected num_clients * shards_per_client <= {len(y)} samples, got {num_shards}")
    # shard s holds the sorted samples s * len / num_shards ... (near-equal sizes, as np.array_split)
    shard_of = np.empty(len(y), np.int64)
    shard_of[np.argsort(y, kind="stable")] = np.arange(len(y)) * num_shards // len(y)
    owner_of_shard = rng.permutation(num_shards) // shards_per_client  # (num_shards,): shard -> client
    return group_by(owner_of_shard[shard_of], num_clients)


def dirichlet(y, num_clients, alpha, rng, min_size=1):
    """For each class c, shares p_c ~ Dirichlet(alpha 1_K) of its samples go to the K clients;
    redrawn until every client holds at least ``min_size`` samples."""
    num_clients = _check(y, num_clients, rng)
    alpha = check_real(alpha, "alpha", 0, np.inf, low_open=True, high_open=True, expected="a finite positive number")
    min_size = check_int(min_size, "min_size", 0)
    num_classes = int(y.max()) + 1
    counts = np.bincount(y, minlength=num_classes)
    # each sample's place within its class (shuffled), as a fraction in (0, 1)
    order = np.lexsort((rng.permutation(len(y)), y))  # by class, randomly within a class
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    place = np.empty(len(y))
    place[order] = (np.arange(len(y)) - starts[y[order]] + 0.5) / counts[y[order]]
    for _ in range(MAX_DIRICHLET_DRAWS):
        shares = rng.dirichlet(np.full(num_clients, alpha), size=num_classes)  # (classes, clients)
        cumulative = np.cumsum(shares, axis=1)
        cumulative[:, -1] = 1.0  # rounding must not leave a sample past the last client
        # the client whose share interval of the sample's class holds the sample's place: shifting
        # class c's intervals and places by c lets one sorted search cover every class at once
        shifted = (cumulative + np.arange(num_classes)[:, None]).ravel()  # (classes * clients,)
        assignment = np.searchsorted(shifted, place + y) - y * num_clients
        if np.bincount(assignment, minlength=num_clients).min() >= min_size:
            return group_by(assignment, num_clients)
    raise ValueError(f"min_size: no Dirichlet({alpha:g}) draw in {MAX_DIRICHLET_DRAWS} gave every one of {num_clients} "
                     f"clients {min_size} samples from {len(y)}; lower num_clients or min_size, or raise alpha")


def split(name, y, num_clients, rng, alpha=0.5, shards_per_client=2, min_size=1):
    """A split by name: 'iid', 'pathological' or 'dirichlet'."""
    if name == "iid":
        return iid(y, num_clients, rng)
    if name == "pathological":
        return pathological(y, num_clients, shards_per_client, rng)
    if name == "dirichlet":
        return dirichlet(y, num_clients, alpha, rng, min_size)
    raise ValueError(f"split: expected one of 'iid', 'pathological', 'dirichlet', got {name!r}")


def label_histogram(shards, y, num_classes):
    """(clients, classes) counts: what each client holds."""
    client_of = np.concatenate([np.full(len(idx), k) for k, idx in enumerate(shards)])
    labels = y[np.concatenate(shards)]
    return np.bincount(client_of * num_classes + labels, minlength=len(shards) * num_classes).reshape(len(shards), num_classes)


def load(name, quick=False):
    """(X, y, X_test, y_test) of a data set, images flattened in [0, 1]; ``quick`` keeps the first QUICK_SAMPLES."""
    (X, y), (X_test, y_test) = datasets.load(name, "train"), datasets.load(name, "test")
    if quick:
        X, y, X_test, y_test = X[:QUICK_SAMPLES["train"]], y[:QUICK_SAMPLES["train"]], X_test[:QUICK_SAMPLES["test"]], y_test[:QUICK_SAMPLES["test"]]
    return X, y, X_test, y_test


def client_shards(y, name, num_clients, seed, alpha=0.5, shards_per_client=2, min_size=1):
    """The split ``name`` drawn from its own generator ``default_rng(seed)``: every process that asks gets the same shards."""
    return split(name, y, num_clients, np.random.default_rng(seed), alpha, shards_per_client, min_size)
