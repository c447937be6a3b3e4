"""The bridge between a scratch model and its torch twin: the matching torch dtype, and a pair
built from the same constructor arguments holding the very same weights.

The contract makes this generic: a twin class takes the scratch class's arguments (less the
``rng`` that scratch's initialisers draw from) and has the same state_dict keys.
"""
import numpy as np
import torch

TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


def torch_dtype(dtype):
    """torch's float dtype for a NumPy one (float32 or float64); a ValueError for any other."""
    if np.dtype(dtype) not in TORCH_DTYPES:
        raise ValueError(f"dtype: expected float32 or float64, got {np.dtype(dtype)}")
    return TORCH_DTYPES[np.dtype(dtype)]


def copy_to_torch(scratch_module, torch_module):
    """Load the scratch module's state_dict into its twin, strictly: keys and shapes as they are."""
    state = {key: torch.from_numpy(np.array(value, copy=True)) for key, value in scratch_module.state_dict().items()}
    torch_module.load_state_dict(state, strict=True)
    return torch_module


def twin_pair(scratch_cls, torch_cls, seed=0, dtype=np.float32, **kwargs):
    """``scratch_cls(**kwargs, dtype, rng)`` and ``torch_cls(**kwargs, dtype)`` holding the scratch
    model's initial weights. torch draws dropout masks from its global generator, seeded here
    with ``seed`` so that a run repeats."""
    torch.manual_seed(seed)
    model = scratch_cls(**kwargs, dtype=np.dtype(dtype).type, rng=np.random.default_rng(seed))
    twin = torch_cls(**kwargs, dtype=torch_dtype(dtype))
    return model, copy_to_torch(model, twin)
