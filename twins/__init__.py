"""The app: the `twins` command line, the demos, the plots, the one registry of projects, and
the public parity harness (``twins.parity``). It imports everything; nothing imports it.

Importing it shortens OpenBLAS's idle spin (``benchmarks.SPIN_ENV``) unless the environment sets it:
the demos train with scratch's kernel threads beside BLAS's, as the benchmarks do. This takes effect
only when NumPy is not loaded yet, as under the `twins` command."""
import os

from benchmarks import SPIN_ENV

for _var, _value in SPIN_ENV.items():
    os.environ.setdefault(_var, _value)
