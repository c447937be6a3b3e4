"""torchvision.transforms.v2's random transforms, drawing their parameters from an injected rng.

Each transform splits, as torchvision v2 does, into ``make_params(img)`` (the random draw, a
dict with torchvision's keys) and ``transform(img, params)`` (the deterministic functional op),
so a test can hand the same parameters to torchvision's ``transform``. One draw serves a whole
(N, C, H, W) batch, as torchvision does for one tensor.
Difference: RandomHorizontalFlip draws its coin in ``make_params`` (``{"apply": bool}``);
torchvision draws it in ``forward``.
"""
import math
import numbers

import numpy as np

from ..nn.module import _describe
from . import functional as F
from .functional import InterpolationMode


def _check_rng(rng, name):
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(f"{name}(rng): expected a numpy.random.Generator, got {_describe(rng)}")
    return np.random.default_rng() if rng is None else rng


def _range(value, name, centre=0.0, low=-math.inf, sizes=(2,)):
    """A number d -> [centre - d, centre + d] (d >= 0); a sequence -> itself, checked increasing."""
    if isinstance(value, numbers.Real):
        if value < 0:
            raise ValueError(f"{name}: expected a non-negative number, got {value}")
        bounds = [max(centre - value, low), centre + value]
    elif isinstance(value, (list, tuple)) and len(value) in sizes and all(isinstance(v, numbers.Real) for v in value):
        bounds = [float(v) for v in value]
    else:
        raise ValueError(f"{name}: expected a number or a sequence of {' or '.join(map(str, sizes))} numbers, got {_describe(value)}")
    for first, second in zip(bounds[::2], bounds[1::2]):
        if first > second or first < low:
            raise ValueError(f"{name}: expected increasing bounds (min, max) not below {low}, got {value}")
    return bounds


def _check_fill(fill, name):
    if isinstance(fill, dict):
        raise TypeError(f"{name}(fill): scratch takes a number or a sequence, not a dict by input type")
    return fill


class Transform:
    """Call on a (C, H, W) or (N, C, H, W) float array: ``transform(img, make_params(img))``."""

    def make_params(self, img):
        return {}

    def transform(self, img, params):
        raise NotImplementedError

    def __call__(self, img):
        F._check_image(img, type(self).__name__)
        return self.transform(img, self.make_params(img))

    forward = __call__

    def __repr__(self):
        args = ", ".join(f"{key}={value!r}" for key, value in vars(self).items() if key != "rng")
        return f"{type(self).__name__}({args})"


class RandomHorizontalFlip(Transform):
    def __init__(self, p=0.5, rng=None):
        if not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip(p): expected a probability in [0, 1], got {_describe(p)}")
        self.p, self.rng = p, _check_rng(rng, "RandomHorizontalFlip")

    def make_params(self, img):
        return dict(apply=bool(self.rng.random() < self.p))

    def transform(self, img, params):
        return F.hflip(img) if params["apply"] else img


class RandomRotation(Transform):
    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0, rng=None):
        self.degrees = _range(degrees, "RandomRotation(degrees)")
        self.interpolation = F._check_interpolation(interpolation, "RandomRotation")
        self.expand, self.center = expand, center
        self.fill = _check_fill(fill, "RandomRotation")
        self.rng = _check_rng(rng, "RandomRotation")

    def make_params(self, img):
        return dict(angle=float(self.rng.uniform(*self.degrees)))

    def transform(self, img, params):
        return F.rotate(img, params["angle"], interpolation=self.interpolation, expand=self.expand,
                        center=self.center, fill=self.fill)


class RandomAffine(Transform):
    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation=InterpolationMode.NEAREST,
                 fill=0, center=None, rng=None):
        self.degrees = _range(degrees, "RandomAffine(degrees)")
        if translate is not None and not (isinstance(translate, (list, tuple)) and len(translate) == 2
                                          and all(isinstance(t, numbers.Real) and 0 <= t <= 1 for t in translate)):
            raise ValueError(f"RandomAffine(translate): expected fractions (a, b) in [0, 1], got {_describe(translate)}")
        if scale is not None and not (isinstance(scale, (list, tuple)) and len(scale) == 2 and 0 < scale[0] <= scale[1]):
            raise ValueError(f"RandomAffine(scale): expected (min, max) with 0 < min <= max, got {_describe(scale)}")
        self.translate, self.scale = translate, scale
        self.shear = None if shear is None else _range(shear, "RandomAffine(shear)", sizes=(2, 4))
        self.interpolation = F._check_interpolation(interpolation, "RandomAffine")
        self.fill, self.center = _check_fill(fill, "RandomAffine"), center
        self.rng = _check_rng(rng, "RandomAffine")

    def make_params(self, img):
        height, width = img.shape[-2:]
        angle = float(self.rng.uniform(*self.degrees))
        translate = (0, 0)
        if self.translate is not None:
            max_dx, max_dy = self.translate[0] * width, self.translate[1] * height
            translate = (int(round(self.rng.uniform(-max_dx, max_dx))), int(round(self.rng.uniform(-max_dy, max_dy))))
        scale = 1.0 if self.scale is None else float(self.rng.uniform(*self.scale))
        shear = [0.0, 0.0]
        if self.shear is not None:
            shear[0] = float(self.rng.uniform(self.shear[0], self.shear[1]))
            if len(self.shear) == 4:
                shear[1] = float(self.rng.uniform(self.shear[2], self.shear[3]))
        return dict(angle=angle, translate=translate, scale=scale, shear=tuple(shear))

    def transform(self, img, params):
        return F.affine(img, **params, interpolation=self.interpolation, fill=self.fill, center=self.center)


class RandomResizedCrop(Transform):
    """A crop of random area (fraction ``scale`` of the image) and aspect ratio (log-uniform in
    ``ratio``), resized to ``size``; after 10 failed draws, a centre crop within ``ratio``."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation=InterpolationMode.BILINEAR,
                 antialias=True, rng=None):
        self.size = F._pair(size, "RandomResizedCrop(size)")
        for name, bounds in (("scale", scale), ("ratio", ratio)):
            if not (isinstance(bounds, (list, tuple)) and len(bounds) == 2 and 0 < bounds[0] <= bounds[1]):
                raise ValueError(f"RandomResizedCrop({name}): expected (min, max) with 0 < min <= max, got {_describe(bounds)}")
        self.scale, self.ratio = tuple(scale), tuple(ratio)
        self.interpolation = F._check_interpolation(interpolation, "RandomResizedCrop")
        self.antialias = antialias
        self.rng = _check_rng(rng, "RandomResizedCrop")

    def make_params(self, img):
        height, width = img.shape[-2:]
        area = height * width
        log_ratio = np.log(self.ratio)
        for _ in range(10):
            target_area = area * self.rng.uniform(*self.scale)
            aspect_ratio = math.exp(self.rng.uniform(*log_ratio))
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                top, left = int(self.rng.integers(0, height - h + 1)), int(self.rng.integers(0, width - w + 1))
                return dict(top=top, left=left, height=h, width=w)
        in_ratio = width / height
        if in_ratio < min(self.ratio):
            w, h = width, int(round(width / min(self.ratio)))
        elif in_ratio > max(self.ratio):
            w, h = int(round(height * max(self.ratio))), height
        else:
            w, h = width, height
        return dict(top=(height - h) // 2, left=(width - w) // 2, height=h, width=w)

    def transform(self, img, params):
        return F.resized_crop(img, **params, size=list(self.size), interpolation=self.interpolation, antialias=self.antialias)


class ColorJitter(Transform):
    """Brightness and contrast jitter in a random order; saturation and hue are not implemented."""

    def __init__(self, brightness=None, contrast=None, saturation=None, hue=None, rng=None):
        for name, value in (("saturation", saturation), ("hue", hue)):
            if value is not None:
                raise ValueError(f"ColorJitter({name}): scratch implements brightness and contrast only, got {name}={value!r}")
        self.brightness = self._factor_range(brightness, "brightness")
        self.contrast = self._factor_range(contrast, "contrast")
        self.saturation = self.hue = None
        self.rng = _check_rng(rng, "ColorJitter")

    @staticmethod
    def _factor_range(value, name):
        if value is None:
            return None
        bounds = _range(value, f"ColorJitter({name})", centre=1.0, low=0.0)
        return None if bounds == [1.0, 1.0] else tuple(bounds)

    def make_params(self, img):
        fn_idx = [int(i) for i in self.rng.permutation(4)]  # torchvision's order of the four adjustments
        draw = lambda bounds: None if bounds is None else float(self.rng.uniform(*bounds))
        return dict(fn_idx=fn_idx, brightness_factor=draw(self.brightness), contrast_factor=draw(self.contrast),
                    saturation_factor=None, hue_factor=None)

    def transform(self, img, params):
        for fn_id in params["fn_idx"]:
            if fn_id == 0 and params["brightness_factor"] is not None:
                img = F.adjust_brightness(img, params["brightness_factor"])
            elif fn_id == 1 and params["contrast_factor"] is not None:
                img = F.adjust_contrast(img, params["contrast_factor"])
        return img


class Normalize(Transform):
    def __init__(self, mean, std, inplace=False):
        if not all(std):
            raise ValueError(f"Normalize(std): expected non-zero values (it divides), got {list(std)}")
        self.mean, self.std, self.inplace = list(mean), list(std), inplace

    def transform(self, img, params):
        return F.normalize(img, self.mean, self.std, inplace=self.inplace)


class Compose:
    """Apply ``transforms`` in order."""

    def __init__(self, transforms):
        if not isinstance(transforms, (list, tuple)) or not all(callable(t) for t in transforms):
            raise TypeError(f"Compose(transforms): expected a sequence of callables, got {_describe(transforms)}")
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"Compose({inner}\n)"
