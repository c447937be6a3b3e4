"""Machine learning from scratch in NumPy: every forward and backward pass by hand.

Twin of the ``reference`` package, which builds the same models from PyTorch modules.
"""
from . import nn
from . import optim
from .serialization import load, save
