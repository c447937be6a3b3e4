"""Project 4 demo: the scratch CNN and its torch twin trained on real images from the same
initial weights, with the same augmentation pipeline on each side (scratch.transforms and
torchvision.transforms.v2, drawing their own random parameters).

Writes into the output folder: training curves of both twins overlaid, the confusion
matrix, the learned first-layer filters, feature maps of one test image, a grid of
augmented samples, and metrics.json with every number reported.
"""
import dataclasses

import numpy as np
from torchvision.transforms import v2

from reference.bridge import twin_pair
from reference.projects.cnn import model as torch_cnn
from scratch import transforms
from scratch.projects.cnn import model as scratch_cnn
from scratch.projects.cnn.config import CONFIGS
from twins import plots
from twins.demos.common import CLASS_NAMES, load_splits, lockstep_gap, run_datasets, save_report, summary_lines, train_and_compare, tuned_config

IMAGE_SIZE = {"fashion-mnist": 28, "digits": 8}
TRANSLATE = (0.1, 0.1)  # RandomAffine's largest shift, as a fraction of the image


def image_splits(name, seed=0, quick=False):
    """The splits as (N, 1, H, W) images, standardised with the training part's mean and std only."""
    splits = load_splits(name, seed, quick=quick)
    size = IMAGE_SIZE[name]
    mean, std = float(splits[0].mean()), float(splits[0].std())
    images = [((X - mean) / std).reshape(-1, 1, size, size).astype(np.float32) if X.dtype.kind == "f" else X for X in splits]
    return images, (mean, std)


def augmentations(background, seed):
    """The same pipeline twice: scratch.transforms and torchvision's v2, each drawing its own parameters.

    A batch shares one draw, as in torchvision v2; ``background`` fills what a shift uncovers.
    """
    rng = np.random.default_rng(seed)
    scratch_pipeline = transforms.Compose([transforms.RandomHorizontalFlip(0.5, rng=rng),
                                           transforms.RandomAffine(0, translate=TRANSLATE, fill=background, rng=rng)])
    torch_pipeline = v2.Compose([v2.RandomHorizontalFlip(0.5), v2.RandomAffine(0, translate=TRANSLATE, fill=background)])
    return scratch_pipeline, torch_pipeline


def run_dataset(name, out_dir, num_epochs=None, progress=True, quick=False):
    config = tuned_config(CONFIGS, name, num_epochs, quick)
    splits, (mean, std) = image_splits(name, config.seed, quick)
    X, y, X_val, y_val, X_test, y_test = splits
    background = -mean / std  # a raw 0 pixel after standardising
    pipelines = augmentations(background, config.seed) if config.augment else (None, None)

    def pair(config, dtype=np.float32):
        return twin_pair(scratch_cnn.CNN, torch_cnn.CNN, config.seed, dtype, in_channels=1, num_classes=10,
                         image_size=IMAGE_SIZE[name], **config.architecture())

    model, twin = pair(config)
    report = train_and_compare("CNN", name, model, twin, splits, config, out_dir, pipelines, progress)
    report["standardisation"] = {"mean": mean, "std": std}
    report["lockstep_float64"] = lockstep_gap(pair, X, y, X_val, y_val, dataclasses.replace(config, augment=False), max_steps=20)
    plots.filters(model.features[0].weight.data, out_dir / f"{name}_filters.png", f"scratch CNN on {name}: first-layer filters")
    plots.feature_maps(X_test[0, 0], first_block_maps(model, X_test[:1]), out_dir / f"{name}_feature_maps.png",
                       f"{CLASS_NAMES[name][y_test[0]]}: feature maps after the first conv block")
    if config.augment:
        samples = X[:8]
        augmented = [pipelines[0](samples) for _ in range(5)]
        plots.image_grid(np.stack([samples] + augmented, axis=1)[:, :, 0], out_dir / f"{name}_augmented.png",
                         "augmentation: original, then five draws (flip p=0.5, shift up to 10%)")
    return report


def first_block_maps(model, image):
    """What the first conv block (conv, [norm], ReLU, pool) of ``model`` makes of one (1, C, H, W) image."""
    model.eval()
    X = image
    for layer in list(model.features)[:len(model.features) // 2]:
        X = layer(X)
    return X[0]  # (channels, H/2, W/2)


def run(out_dir, dataset_names=("digits",), num_epochs=None, study=False, compare_sklearn=False, progress=True, quick=False):
    """``quick``: the first samples of each split and QUICK_EPOCHS epochs."""
    out_dir, report = run_datasets(out_dir, dataset_names, lambda name, out: run_dataset(name, out, num_epochs, progress, quick))
    return save_report(out_dir, report)


def summary(report):
    return "\n".join(line for name, result in report.items() for line in summary_lines(name, result))
