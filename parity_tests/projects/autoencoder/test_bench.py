"""The autoencoder benchmark's cases run and time the same work on both sides (structure only, never speed)."""
import inspect

import numpy as np

from benchmarks import bench_autoencoder, core


def test_the_cases_run_on_both_sides():
    cases = bench_autoencoder.cases(np.float32, quick=True, seed=0)
    assert [case.name for case in cases] == ["conv AE training step (Adam)", "VAE training step (Adam)", "Upsample(scale_factor=2) nearest"]
    for case in cases:
        result = core.run_case(case, repeats=1, warmup=0, threads=1)
        assert set(result.times_ms) >= {"scratch", "torch"} and result.ratio > 0


def test_the_training_steps_skip_the_batch_gradient_as_torch_does():
    source = inspect.getsource(bench_autoencoder.conv_step_case) + inspect.getsource(bench_autoencoder.vae_step_case)
    assert source.count("input_grad=False") == 2
