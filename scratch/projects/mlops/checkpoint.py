"""Project 20's deployable checkpoint (never twinned): one .npz holding the scorer's state_dict and
its description (task, widths, feature names) as a JSON string, read with allow_pickle=False by
scratch.serialization. Both twins' ``Scorer.load`` read it here, so the torch shadow scores from
the very file the NumPy server serves."""
import json

import numpy as np

from scratch import serialization
from scratch.projects.mlops.config import TASKS

META_KEY = "__scorer__"


def save(scorer_state, meta, path):
    """Write the state_dict and ``meta`` (a dict: task, in_features, hidden_sizes, num_outputs,
    activation, feature_names) to ``path``."""
    state = dict(scorer_state)
    state[META_KEY] = np.array(json.dumps(meta))  # a 0-d str array: no pickle needed
    serialization.save(state, path)


def load(path):
    """(state_dict, meta) from a checkpoint; a ValueError naming the file when it is not one."""
    state = serialization.load(path)
    if META_KEY not in state:
        raise ValueError(f"f: {str(path)!r} has no {META_KEY!r} entry; expected a checkpoint written by "
                         "scratch.projects.mlops.checkpoint.save")
    meta = json.loads(str(state.pop(META_KEY)))
    missing = {"task", "in_features", "hidden_sizes", "num_outputs", "activation", "feature_names"} - set(meta)
    if missing or meta["task"] not in TASKS:
        raise ValueError(f"f: {str(path)!r}: expected a description with a task in {TASKS} and every field, "
                         f"got {meta} (missing {sorted(missing)})")
    meta["hidden_sizes"] = tuple(meta["hidden_sizes"])
    return state, meta
