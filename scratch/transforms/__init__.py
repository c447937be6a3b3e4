"""scratch.transforms: torchvision.transforms.v2 in NumPy, for float (C, H, W) and (N, C, H, W) arrays."""
from . import functional
from ._transforms import (ColorJitter, Compose, Normalize, RandomAffine, RandomHorizontalFlip, RandomResizedCrop,
                          RandomRotation, Transform)
from .functional import InterpolationMode
