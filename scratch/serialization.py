"""Checkpoints as .npz files whose keys are state_dict keys: no pickle, readable by any NumPy."""
import os
import pickle
import zipfile
import zlib
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
    """Read a state_dict written by :func:`save`, in the order it was written.

    A file that is not such a checkpoint (empty, truncated, corrupt, a single-array .npy, pickled
    objects) raises a ValueError that names it, instead of the zip or pickle reader's own error."""
    name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", repr(f))
    if isinstance(f, (str, os.PathLike)) and not os.path.exists(f):
        raise FileNotFoundError(f"load: no checkpoint at {name!r}")
    try:
        loaded = np.load(f, allow_pickle=False)
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded as archive:
                return OrderedDict((key, archive[key]) for key in archive.files)
    except (ValueError, EOFError, zipfile.BadZipFile, zlib.error, pickle.UnpicklingError) as error:
        raise ValueError(_not_a_checkpoint(name, f"{type(error).__name__}: {error}")) from error
    raise ValueError(_not_a_checkpoint(name, f"a single {type(loaded).__name__} (a .npy file), not a state_dict"))


def _not_a_checkpoint(name, reason):
    return (f"f: {name!r} is not a readable checkpoint ({reason}); expected an .npz written by "
            "scratch.serialization.save (np.savez of a state_dict): write it again from the model's state_dict()")
