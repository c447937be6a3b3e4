"""Checkpoints as .npz files whose keys are state_dict keys: no pickle, readable by any NumPy."""
import os
from collections import OrderedDict

import numpy as np


def save(state_dict, f):
    """Write a state_dict (key -> ndarray) to ``f``, like torch.save(model.state_dict(), f)."""
    bad = [key for key, value in state_dict.items() if not isinstance(value, np.ndarray) or value.dtype.hasobject]
    if bad:
        raise TypeError(f"save: every value must be an ndarray of numbers; not so for {bad}")
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as file:  # np.savez would append ".npz" to a path without it
            np.savez(file, **state_dict)
    else:
        np.savez(f, **state_dict)


def load(f):
    """Read a state_dict written by :func:`save`, in the order it was written."""
    if isinstance(f, (str, os.PathLike)) and not os.path.exists(f):
        raise FileNotFoundError(f"load: no checkpoint at {os.fspath(f)!r}")
    with np.load(f, allow_pickle=False) as archive:
        return OrderedDict((key, archive[key]) for key in archive.files)
