"""Benchmark cases for the recurrent networks project (curriculum Project 5).

Forward+backward through time of one LSTM and one GRU layer at the forecasting sizes
(sequence 50, batch 64, one input feature, hidden 32 and 128): scratch and torch CPU hold
the same weights and see the same input and upstream gradient of the output sequence, and
both compute the input gradient. For float32 torch runs LSTM through oneDNN's fused kernel;
an extra row times torch's own per-step path (oneDNN off) for comparison. Last, one training
epoch of the co2 forecaster (LSTM 32 + linear head, windows of 52 weeks) on both twins.
"""
import copy
import dataclasses

import numpy as np
import torch

from reference.bridge import copy_to_torch, torch_dtype, twin_pair
from reference.projects.forecasting import model as torch_forecasting
from scratch import nn
from scratch.projects.forecasting import model as scratch_forecasting
from scratch.projects.forecasting.config import CONFIGS

from .core import Case

SEQ_LEN, BATCH_SIZE, INPUT_SIZE = 50, 64, 1
HIDDEN_SIZES = (32, 128)
MODELS = {"LSTM": (nn.LSTM, torch.nn.LSTM), "GRU": (nn.GRU, torch.nn.GRU)}


def recurrent_case(name, hidden_size, dtype, rng, onednn=True):
    cls, torch_cls = MODELS[name]
    layer = cls(INPUT_SIZE, hidden_size, dtype=dtype, rng=rng)
    twin = torch_cls(INPUT_SIZE, hidden_size, dtype=torch_dtype(dtype))
    copy_to_torch(layer, twin)
    X = rng.standard_normal((SEQ_LEN, BATCH_SIZE, INPUT_SIZE)).astype(dtype)
    grad = rng.standard_normal((SEQ_LEN, BATCH_SIZE, hidden_size)).astype(dtype)

    def scratch_step():
        layer.zero_grad()
        layer(X)
        layer.backward(grad, None)

    gpu = _torch_forward_backward(twin, X, grad, "cuda") if torch.cuda.is_available() and onednn else None
    cpu = _torch_forward_backward(twin, X, grad, "cpu")
    if not onednn:
        def torch_step(step=cpu):
            with torch.backends.mkldnn.flags(enabled=False):
                step()
        cpu = torch_step
    return Case(f"{name}({INPUT_SIZE}, {hidden_size})" + ("" if onednn else ", torch oneDNN off"),
                f"L{SEQ_LEN} x b{BATCH_SIZE} x {INPUT_SIZE}", scratch_step, cpu, gpu=gpu,
                note="BPTT over the output sequence; dX computed on both sides")


def _torch_forward_backward(twin, X, grad, device):
    model = copy.deepcopy(twin).to(device)
    Xt = torch.from_numpy(X).to(device).requires_grad_(True)
    gt = torch.from_numpy(grad).to(device)

    def step():
        model.zero_grad()
        Xt.grad = None
        model(Xt)[0].backward(gt)
        if device == "cuda":
            torch.cuda.synchronize()
    return step


def forecaster_epoch_case(dtype, rng, num_windows=1600):
    """One epoch of the co2 forecaster's training loop (fit with num_epochs=1) on both twins."""
    config = dataclasses.replace(CONFIGS["co2"], num_epochs=1)
    model, twin = twin_pair(scratch_forecasting.Forecaster, torch_forecasting.Forecaster, config.seed, dtype,
                            **config.architecture())
    X = rng.standard_normal((num_windows, config.window)).astype(dtype)
    Y = rng.standard_normal((num_windows, 1)).astype(dtype)
    X_val, Y_val = X[:64], Y[:64]
    return Case("forecaster epoch (LSTM 32, Adam)", f"{num_windows} windows x {config.window}, b{config.batch_size}",
                lambda: scratch_forecasting.fit(model, X, Y, X_val, Y_val, config),
                lambda: torch_forecasting.fit(twin, X, Y, X_val, Y_val, config),
                note="the project's fit loop, validation included")


def cases(dtype=np.float32, quick=False, seed=0):
    """The recurrent project's benchmark cases, built with fresh weights and data from ``seed``."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    return ([recurrent_case(name, hidden_size, dtype, rng) for name in MODELS for hidden_size in HIDDEN_SIZES]
            + [recurrent_case("LSTM", hidden_size, dtype, rng, onednn=False) for hidden_size in HIDDEN_SIZES]
            + [forecaster_epoch_case(dtype, rng)])
