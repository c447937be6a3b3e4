"""Project 12 demo: the scratch GAN and its torch twin trained on real images from the same initial
weights, batches and noise (the MLP GAN on 8x8 digits, the DCGAN on Fashion-MNIST).

Writes into the output folder, per data set: a grid of samples per epoch from a fixed noise batch
(scratch left, torch right) and a GIF of them, the last grid, the loss curves and D(x), D(G(z)) of
both twins overlaid, and metrics.json: the last epoch's losses and probabilities, the epoch times,
the float64 lockstep gap, mode coverage (the classes that Project 4's CNN, trained on the real
images, sees in G's samples, against real test images and an untrained G), FID, KID and
precision/recall in that CNN's penultimate features (the floor: real training images; the start:
an untrained G), a memorisation check (each sample's nearest training image), and latent
interpolations. The conditional pair trains too (the conditional MLP GAN on digits, the
conditional DCGAN on Fashion-MNIST): a grid of class x samples per twin, and how often the
classifier names the class that G was asked for.
"""
import contextlib
import dataclasses
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from PIL import Image
from threadpoolctl import threadpool_limits

from reference.bridge import twin_pair
from reference.projects.gan import model as torch_gan
from reference.projects.gan import train as torch_train
from scratch import datasets
from scratch.projects.gan import evaluation
from scratch.projects.gan import model as scratch_gan
from scratch.projects.gan import train as scratch_train
from scratch.projects.gan.config import CONFIGS, sample_noise, scale_images
from twins.demos.common import CLASS_NAMES, QUICK_SAMPLES, run_datasets, save_report

IMAGE_SIZE = {"digits": 8, "fashion-mnist": 28}
QUICK_EPOCHS = {"digits": 15, "fashion-mnist": 2}
CONDITIONAL = ("digits", "fashion-mnist")  # the data sets that also train the conditional pair (on Fashion-MNIST an hour more in full)
GRID = (4, 8)  # rows, columns of each twin's sample grid
COVERAGE_SAMPLES, COVERAGE_SHARE = 2000, 0.05  # a class is covered when it holds >= 5% of the samples
JUDGE_IMAGES = 20000  # the CNN judge trains on at most this many real training images
JUDGE_EPOCHS = {"digits": {False: 30, True: 15}, "fashion-mnist": {False: 4, True: 2}}  # by quick
TWINS = {"scratch": (scratch_gan, scratch_train), "torch": (torch_gan, torch_train)}
TITLES = {"mlp": "MLP GAN", "dcgan": "DCGAN"}


def training_images(name, split="train", quick=False):
    """(N, 1, s, s) images in [-1, 1] and their labels; ``quick`` keeps the first QUICK_SAMPLES."""
    X, y = datasets.load(name, split)
    if quick:
        X, y = X[:QUICK_SAMPLES[split]], y[:QUICK_SAMPLES[split]]
    return scale_images(X, IMAGE_SIZE[name]), y


def gan_twins(config, image_size, dtype):
    """(G, twin G, D, twin D): each scratch network and its torch twin holding the same initial weights."""
    generator, discriminator = config.architecture()
    (G_class, D_class), (twin_G_class, twin_D_class) = scratch_gan.MODELS[config.model], torch_gan.MODELS[config.model]
    G, twin_G = twin_pair(G_class, twin_G_class, config.seed, dtype, image_size=image_size, **generator)
    D, twin_D = twin_pair(D_class, twin_D_class, config.seed + 1, dtype, image_size=image_size, **discriminator)
    return G, twin_G, D, twin_D


def lockstep_gap(config, X, image_size, max_steps=10):
    """Both twins for ``max_steps`` rounds in float64 from the same weights, batches and noise: the largest
    gap in any per-step loss or probability, and in any weight of G or D."""
    config = dataclasses.replace(config, num_epochs=1)
    X = X[:max_steps * config.batch_size].astype(np.float64)
    G, twin_G, D, twin_D = gan_twins(config, image_size, np.float64)
    history, twin_history = scratch_train.fit(G, D, X, config), torch_train.fit(twin_G, twin_D, X, config)
    loss_gap = max(float(np.max(np.abs(np.subtract(history[key], twin_history[key])))) for key in scratch_train.HISTORY_KEYS)
    weight_gap = max(float(np.max(np.abs(value - twin.state_dict()[key].numpy())))
                     for module, twin in ((G, twin_G), (D, twin_D)) for key, value in module.state_dict().items())
    return {"steps": len(history["loss_D"]), "max_history_gap": loss_gap, "max_weight_gap": weight_gap}


def tile(images, rows, columns):
    """(rows * columns, 1, s, s) images in [-1, 1] -> one (rows * (s + 1) + 1, columns * (s + 1) + 1) picture in [0, 1]."""
    size = images.shape[-1]
    picture = np.ones((rows * (size + 1) + 1, columns * (size + 1) + 1))
    for index, image in enumerate(images[:rows * columns, 0]):
        r, c = divmod(index, columns)
        picture[1 + r * (size + 1):(r + 1) * (size + 1), 1 + c * (size + 1):(c + 1) * (size + 1)] = (image + 1) / 2
    return np.clip(picture, 0, 1)


def save_sample_grids(grids, out_dir, name):
    """One PNG per epoch (scratch left, torch right, same noise) in ``<name>_samples/``, and a GIF of them."""
    folder = out_dir / f"{name}_samples"
    folder.mkdir(exist_ok=True)
    frames = []
    for epoch, (ours, theirs) in enumerate(zip(grids["scratch"], grids["torch"]), 1):
        left, right = tile(ours, *GRID), tile(theirs, *GRID)
        picture = np.concatenate([left, np.full((left.shape[0], 3), 0.5), right], axis=1)
        plt.imsave(folder / f"epoch_{epoch:03d}.png", picture, cmap="gray", vmin=0, vmax=1)
        frames.append(Image.fromarray((255 * np.kron(picture, np.ones((4, 4)))).astype(np.uint8)))
    frames[0].save(out_dir / f"{name}_samples.gif", save_all=True, append_images=frames[1:], duration=200, loop=0)
    return folder


def last_grid(grids, out_dir, name, title):
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
    for ax, side in zip(axes, ("scratch", "torch")):
        ax.imshow(tile(grids[side][-1], *GRID), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{side} G, epoch {len(grids[side])}")
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out_dir / f"{name}_samples.png", dpi=130)
    plt.close(fig)


def epoch_means(history, steps_per_epoch):
    """Each per-step list of the history averaged over each epoch."""
    return {key: np.asarray(history[key]).reshape(-1, steps_per_epoch).mean(axis=1) for key in scratch_train.HISTORY_KEYS}


def adversarial_curves(means, path, title):
    """loss_D and loss_G, then D(x) and D(G(z)), per epoch: scratch solid, torch dashed, on top of each other."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    colours = {"loss_D": "tab:blue", "loss_G": "tab:red", "D_x": "tab:blue", "D_G_z": "tab:red"}
    labels = {"loss_D": "loss_D", "loss_G": "loss_G", "D_x": "D(x)", "D_G_z": "D(G(z))"}
    for side, style in (("scratch", "-"), ("torch", "--")):
        epochs = np.arange(1, len(means[side]["loss_D"]) + 1)
        for ax, keys in zip(axes, (("loss_D", "loss_G"), ("D_x", "D_G_z"))):
            for key in keys:
                ax.plot(epochs, means[side][key], linestyle=style, color=colours[key], label=f"{side} {labels[key]}")
    axes[0].set(xlabel="epoch", ylabel="BCE (mean over the epoch's steps)", title="losses")
    axes[1].set(xlabel="epoch", ylabel="sigmoid(D's logit)", title="D's probability of 'real'", ylim=(0, 1))
    axes[1].axhline(0.5, color="gray", linewidth=0.8, linestyle=":")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


class CNNJudge:
    """Project 4's scratch CNN trained on real training images in G's [-1, 1] range (at most JUDGE_IMAGES, a tenth
    held out for its early stopping, no augmentation): the judge of which class a sample resembles, and its
    penultimate layer the feature space of FID, KID and precision/recall. No pretrained Inception network is
    available offline, so the FID here is "FID with our CNN", comparable only within this project."""

    def __init__(self, name, X, y, seed, quick):
        from scratch import training
        from scratch.projects.cnn.config import CONFIGS as CNN_CONFIGS
        from scratch.projects.cnn.model import CNN

        self.size, self.training = IMAGE_SIZE[name], training
        config = dataclasses.replace(CNN_CONFIGS[name], num_epochs=JUDGE_EPOCHS[name][quick], augment=False, seed=seed)
        keep = np.random.default_rng(seed).permutation(len(X))[:JUDGE_IMAGES]
        images, labels = self.images(X[keep]), y[keep]
        cut = len(keep) * 9 // 10
        self.model = CNN(in_channels=1, num_classes=len(CLASS_NAMES[name]), image_size=self.size, dtype=np.float32,
                         rng=np.random.default_rng(seed), **config.architecture())
        training.fit(self.model, images[:cut], labels[:cut], images[cut:], labels[cut:], config)

    def images(self, images):
        return np.asarray(images, dtype=np.float32).reshape(len(images), 1, self.size, self.size)

    def predict(self, images):
        return self.training.predict(self.model, self.images(images))

    def score(self, images, y):
        return float(np.mean(self.predict(images) == y))

    def features(self, images, batch_size=1000):
        """(N, hidden) activations after the hidden layer's ReLU, in eval mode."""
        self.model.eval()
        head = self.model.classifier
        out = []
        for start in range(0, len(images), batch_size):
            h = self.model.features(self.images(images[start:start + batch_size]))
            for index in range(len(head) - 1):  # all but the last Linear: Flatten, Linear, ReLU (Dropout is off in eval)
                h = head[index](h)
            out.append(h)
        return np.concatenate(out)


def sample_quality(judge, reference, candidates):
    """FID, KID and precision/recall (k = 3) of each candidate set of images against ``reference`` (real test
    images), all in the judge's feature space."""
    real = judge.features(reference)
    rows = {}
    for label, images in candidates.items():
        features = judge.features(images)
        precision, recall = evaluation.precision_recall(real, features, k=3)
        rows[label] = {"fid": evaluation.frechet_distance(real, features), "kid": evaluation.kernel_distance(real, features),
                       "precision": precision, "recall": recall, "samples": len(images)}
    return rows


def mode_coverage(classifier, images, num_classes):
    """The share of ``images`` the classifier puts in each class, and how many classes hold >= COVERAGE_SHARE."""
    predicted = classifier.predict(images.reshape(len(images), -1))
    shares = np.bincount(predicted, minlength=num_classes) / len(images)
    return {"classes_covered": int((shares >= COVERAGE_SHARE).sum()), "class_shares": shares.round(4).tolist()}


@contextlib.contextmanager
def single_threaded():
    """One BLAS thread for NumPy and one thread for torch: the MLP GAN's (64, 128) matrix products are too
    small for a second thread to pay for waking it (on a busy machine, ten times slower with two)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(threads)


def run_dataset(name, out_dir, num_epochs=None, progress=True, quick=False):
    with single_threaded() if CONFIGS[name].model == "mlp" else contextlib.nullcontext():
        return train_and_report(name, out_dir, num_epochs, progress, quick)


def train_and_report(name, out_dir, num_epochs=None, progress=True, quick=False):
    epochs = num_epochs if num_epochs is not None else QUICK_EPOCHS[name] if quick else None
    config = CONFIGS[name] if epochs is None else dataclasses.replace(CONFIGS[name], num_epochs=epochs)
    X, y = training_images(name, quick=quick)
    X_test, y_test = training_images(name, "test", quick=quick)
    size = IMAGE_SIZE[name]
    G, twin_G, D, twin_D = gan_twins(config, size, np.float32)
    rng = np.random.default_rng(config.seed + 100)  # the demo's own noise: grids and coverage
    fixed_z = sample_noise(rng, GRID[0] * GRID[1], config.latent_dim, np.float32)
    coverage_z = sample_noise(rng, COVERAGE_SAMPLES, config.latent_dim, np.float32)
    classifier = CNNJudge(name, X, y, config.seed, quick)
    classes = CLASS_NAMES[name]
    untrained = scratch_train.sample(G, coverage_z)
    quality_size = min(COVERAGE_SAMPLES, len(X_test))
    report = {"dataset": name, "config": dataclasses.asdict(config), "samples": {"train": len(X), "test": len(X_test)},
              "coverage_classifier": {"model": "Project 4's scratch CNN on real training images (its penultimate layer: "
                                               "the features of FID, KID and precision/recall)",
                                      "test_accuracy": classifier.score(X_test, y_test)},
              "coverage": {"real test images": mode_coverage(classifier, X_test, len(classes)),
                           "untrained G": mode_coverage(classifier, untrained, len(classes))}}
    candidates = {"floor: real training images": X[:quality_size], "start: untrained G": untrained[:quality_size]}
    grids, histories, means = {"scratch": [], "torch": []}, {}, {}
    steps_per_epoch = -(-len(X) // config.batch_size)
    for side, generator, discriminator in (("scratch", G, D), ("torch", twin_G, twin_D)):
        train = TWINS[side][1]
        start = time.perf_counter()
        histories[side] = train.fit(generator, discriminator, X, config, progress=progress,
                                    on_epoch=lambda epoch, G, side=side, train=train: grids[side].append(train.sample(G, fixed_z)))
        means[side] = epoch_means(histories[side], steps_per_epoch)
        report[side] = {"fit_seconds": time.perf_counter() - start, "epochs": config.num_epochs,
                        "median_epoch_seconds": float(np.median(histories[side]["epoch_time"])),
                        "last_epoch": {key: float(values[-1]) for key, values in means[side].items()},
                        "per_epoch": {key: values.tolist() for key, values in means[side].items()}}
        samples = train.sample(generator, coverage_z)
        report["coverage"][f"{side} G"] = mode_coverage(classifier, samples, len(classes))
        candidates[f"{side} G"] = samples[:quality_size]
    report["quality"] = sample_quality(classifier, X_test[:quality_size], candidates)
    report["fid_scratch_over_torch"] = report["quality"]["scratch G"]["fid"] / report["quality"]["torch G"]["fid"]
    report["max_history_gap_float32"] = max(float(np.max(np.abs(np.subtract(histories["scratch"][key], histories["torch"][key]))))
                                            for key in scratch_train.HISTORY_KEYS)
    report["lockstep_float64"] = lockstep_gap(config, X, size)
    if name in CONDITIONAL:
        report["conditional"] = conditional_run(name, config, X, y, classifier, out_dir, progress)
    report["memorisation"] = memorisation_check(grids["scratch"][-1], X, X_test, out_dir / f"{name}_nearest.png",
                                                f"scratch G's samples and their nearest training images ({name})")
    latent_interpolation(lambda z: scratch_train.sample(G, z), config.latent_dim, config.seed + 300, out_dir / f"{name}_interpolation.png",
                         f"scratch G on {name}: images along straight lines between two noise vectors")
    save_sample_grids(grids, out_dir, name)
    title = f"{TITLES[config.model]} on {name}"
    last_grid(grids, out_dir, name, f"{title}: samples from the same noise after {config.num_epochs} epochs")
    adversarial_curves(means, out_dir / f"{name}_curves.png", f"{title}: scratch vs torch from the same weights, batches and noise")
    return report


def nearest_training_images(images, X):
    """For each image, the index of its nearest training image (Euclidean) and the RMS pixel distance to it."""
    flat, train = images.reshape(len(images), -1).astype(np.float64), X.reshape(len(X), -1).astype(np.float64)
    squared = (flat ** 2).sum(axis=1)[:, None] + (train ** 2).sum(axis=1)[None] - 2 * flat @ train.T  # (n, N)
    nearest = squared.argmin(axis=1)
    return nearest, np.sqrt(np.maximum(squared[np.arange(len(flat)), nearest], 0) / flat.shape[1])


def memorisation_check(samples, X, X_test, path, title):
    """G's samples above their nearest training images; the median distance beside real test images'
    (the floor: new images of the same kind). Samples far nearer than test images would be copies."""
    nearest, distance = nearest_training_images(samples, X)
    _, test_distance = nearest_training_images(X_test[:len(samples) * 8], X)
    columns = GRID[1]
    fig, axes = plt.subplots(2, 1, figsize=(8, 2.8))
    for ax, images, label in ((axes[0], samples[:columns], "G's samples"), (axes[1], X[nearest[:columns]], "nearest training image")):
        ax.imshow(tile(images, 1, columns), cmap="gray", vmin=0, vmax=1)
        ax.set_ylabel(label, fontsize=7)
        ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return {"median_rms_distance_samples": float(np.median(distance)), "median_rms_distance_real_test": float(np.median(test_distance))}


def latent_interpolation(sample, latent_dim, seed, path, title, rows=4, steps=GRID[1]):
    """Each row: G's images along the straight line between two noise vectors."""
    ends = sample_noise(np.random.default_rng(seed), 2 * rows, latent_dim, np.float32).reshape(rows, 2, latent_dim)
    weights = np.linspace(0, 1, steps, dtype=np.float32)[None, :, None]  # (1, steps, 1)
    z = ((1 - weights) * ends[:, :1] + weights * ends[:, 1:]).reshape(rows * steps, latent_dim)  # (rows * steps, latent)
    fig, ax = plt.subplots(figsize=(8, 1 + rows))
    ax.imshow(tile(sample(z), rows, steps), cmap="gray", vmin=0, vmax=1)
    ax.axis("off")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def conditional_run(name, config, X, y, classifier, out_dir, progress):
    """Both twins of the conditional pair (one-hot classes into G and D); a grid of class x samples
    from the same noise per column, and the share of samples the classifier puts in the class asked for."""
    config = dataclasses.replace(config, num_classes=len(CLASS_NAMES[name]))
    G, twin_G, D, twin_D = gan_twins(config, IMAGE_SIZE[name], np.float32)
    rng = np.random.default_rng(config.seed + 200)
    columns = GRID[1]
    grid_z = np.tile(sample_noise(rng, columns, config.latent_dim, np.float32), (config.num_classes, 1))
    grid_labels = np.repeat(np.arange(config.num_classes), columns)
    check_labels = np.repeat(np.arange(config.num_classes), COVERAGE_SAMPLES // config.num_classes)
    check_z = sample_noise(rng, len(check_labels), config.latent_dim, np.float32)
    result = {"config": dataclasses.asdict(config)}
    fig, axes = plt.subplots(1, 2, figsize=(9, 6.2))
    for ax, (side, generator, discriminator) in zip(axes, (("scratch", G, D), ("torch", twin_G, twin_D))):
        train = TWINS[side][1]
        start = time.perf_counter()
        history = train.fit(generator, discriminator, X, config, y, progress=progress)
        predicted = classifier.predict(train.sample(generator, check_z, check_labels).reshape(len(check_labels), -1))
        result[side] = {"fit_seconds": time.perf_counter() - start, "asked_class_share": float(np.mean(predicted == check_labels)),
                        "last_step": {key: history[key][-1] for key in scratch_train.HISTORY_KEYS}}
        ax.imshow(tile(train.sample(generator, grid_z, grid_labels), config.num_classes, columns), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{side} G: share in the asked class {result[side]['asked_class_share']:.2f}", fontsize=9)
        ax.set_yticks([(row + 0.5) * (IMAGE_SIZE[name] + 1) for row in range(config.num_classes)], CLASS_NAMES[name], fontsize=7)
        ax.set_xticks([])
    fig.suptitle(f"conditional {TITLES[config.model]} on {name}, {config.num_epochs} epochs: one row per class asked for, "
                 "one column per noise vector", fontsize=9)
    fig.tight_layout()
    fig.savefig(out_dir / f"{name}_conditional.png", dpi=130)
    plt.close(fig)
    return result


def run(out_dir, dataset_names=("digits",), num_epochs=None, study=False, compare_sklearn=False, progress=True, quick=False):
    """``quick``: the first samples of each split and QUICK_EPOCHS epochs. ``study`` and ``compare_sklearn`` do not apply."""
    out_dir, report = run_datasets(out_dir, dataset_names, lambda name, out: run_dataset(name, out, num_epochs, progress, quick))
    return save_report(out_dir, report)


def summary(report):
    lines = []
    for name, result in report.items():
        coverage, lock = result["coverage"], result["lockstep_float64"]
        lines.append(f"{name}: {TITLES[result['config']['model']]}, {result['scratch']['epochs']} epochs")
        for side in ("scratch", "torch"):
            last = result[side]["last_epoch"]
            lines.append(f"  {side}: last epoch loss_D {last['loss_D']:.3f}, loss_G {last['loss_G']:.3f}, D(x) {last['D_x']:.3f}, "
                         f"D(G(z)) {last['D_G_z']:.3f}; epoch {result[side]['median_epoch_seconds']:.2f}s; "
                         f"classes covered {coverage[f'{side} G']['classes_covered']}/10")
        memorised = result["memorisation"]
        lines.append(f"  nearest training image, median RMS distance: G's samples {memorised['median_rms_distance_samples']:.3f}, "
                     f"real test images {memorised['median_rms_distance_real_test']:.3f}")
        lines.append("  against real test images, in the CNN judge's features (FID with our CNN, KID, precision, recall): " + "; ".join(
            f"{label} {q['fid']:.2f}, {q['kid']:.4f}, {q['precision']:.2f}, {q['recall']:.2f}" for label, q in result["quality"].items()))
        lines.append(f"  classes covered: real test images {coverage['real test images']['classes_covered']}/10, "
                     f"untrained G {coverage['untrained G']['classes_covered']}/10")
        if "conditional" in result:
            lines.append("  conditional: share of samples in the class asked for (by the classifier): " + ", ".join(
                f"{side} {result['conditional'][side]['asked_class_share']:.3f}" for side in ("scratch", "torch")))
        lines.append(f"  lockstep (float64, {lock['steps']} rounds): history gap {lock['max_history_gap']:.1e}, max weight gap "
                     f"{lock['max_weight_gap']:.1e}; the float32 runs' largest history gap {result['max_history_gap_float32']:.1e}")
    return "\n".join(lines)
