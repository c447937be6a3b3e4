"""Hypothesis profiles: ``ci`` (bounded, derandomised; the default) and ``thorough``.

Choose with ``HYPOTHESIS_PROFILE=thorough`` or ``pytest --hypothesis-profile thorough``.
"""
import os

import torch
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=500, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Same thread count on both sides of every comparison; two cores on CI.
torch.set_num_threads(min(2, os.cpu_count() or 1))
