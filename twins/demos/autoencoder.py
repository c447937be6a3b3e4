"""Project 13 demo: autoencoders against PCA on real images.

For each code size: PCA and kernel PCA (RBF, on the first 2,000 training images; scikit-learn), a linear autoencoder, a dense one, a convolutional one
(Upsample + Conv2d decoder) and a VAE, all scratch, scored by test reconstruction MSE per pixel (the
main chart). The VAE is also trained as its torch twin from the same weights with the same batches
and eps: their test ELBOs and importance-weighted log-likelihoods are compared. Beside them: the
theory check (a linear autoencoder trained to convergence spans PCA's subspace), reconstruction
grids, 2-D codes of the AE, VAE, PCA and t-SNE coloured by class, VAE samples and a latent
traversal, denoising against noise level, anomaly detection (AUROC of a held-out class against PCA
and an IsolationForest), logistic regression on the codes against PCA features, and a float64
lockstep gap of the twins.

Writes into the output folder: ``<data>_mse_vs_code.png``, ``<data>_reconstructions.png``,
``<data>_codes_2d.png``, ``<data>_vae_samples.png``, ``<data>_vae_traversal.png``,
``<data>_vae_curves.png``, ``<data>_denoising.png``, ``<data>_denoising_mse.png`` and metrics.json.
"""
import dataclasses
import time

import matplotlib
import numpy as np
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA, KernelPCA
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import TSNE
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from reference.bridge import twin_pair
from reference.projects.autoencoder import model as torch_ae
from reference.projects.autoencoder import train as torch_train
from scratch import nn
from scratch.projects.autoencoder import model as scratch_ae
from scratch.projects.autoencoder import train as scratch_train
from scratch.optim import SGD
from scratch.projects.autoencoder.config import CONFIGS, corrupt
from twins import plots
from twins.demos.common import CLASS_NAMES, QUICK_EPOCHS, load_splits, run_datasets, save_report

matplotlib.use("Agg")
import matplotlib.pyplot as plt

IMAGE_SIZE = {"fashion-mnist": 28, "digits": 8}
CODE_SIZES = {False: (2, 8, 32, 64), True: (2, 8, 32)}  # by quick
GRID_CODE = 32  # the code size of the reconstruction grid, the VAE twins and the denoising study
NOISE_LEVELS = (0.1, 0.3, 0.5)
IW_SAMPLES = 100  # importance samples per test image for log p(x)
TSNE_POINTS = {False: 2000, True: 300}
KERNEL_PCA_POINTS = 2000  # kernel PCA fits on this many training images: its kernel matrix is n x n
THEORY_CODE = {"digits": 4, "fashion-mnist": 8}
THEORY_STEPS = {"digits": 2000, "fashion-mnist": 10000}  # full-batch steps of the theory check
THEORY_IMAGES = 10000  # the theory check trains on the first this many training images (all of digits')
ANOMALY = {"digits": (0, 8), "fashion-mnist": (1, 32)}  # (held-out class, code size): digit 0, Trouser
MODELS = {"linear AE": (scratch_ae.Autoencoder, "dense"), "dense AE": (scratch_ae.Autoencoder, "dense"),
          "conv AE": (scratch_ae.ConvAutoencoder, "conv"), "VAE": (scratch_ae.VAE, "vae")}


def config_for(name, kind, code_size, num_epochs, quick, **changes):
    config = CONFIGS[name][kind]
    epochs = QUICK_EPOCHS if quick and num_epochs is None else (num_epochs or config.num_epochs)
    return dataclasses.replace(config, code_size=code_size, num_epochs=epochs, **changes)


def shaped(X, kind, size):
    """Flat pixels for the dense models, (N, 1, S, S) images for the conv AE."""
    return X.reshape(-1, 1, size, size) if kind == "conv" else X


def build(model_name, config, size, dtype=np.float32):
    cls, kind = MODELS[model_name]
    shape = {"image_size": size} if kind == "conv" else {"in_features": size * size}
    arguments = config.architecture() | ({"hidden": ()} if model_name == "linear AE" else {})
    return cls(**shape, **arguments, dtype=dtype, rng=np.random.default_rng(config.seed))


def train_one(model_name, name, code_size, splits, num_epochs, progress, quick):
    """A scratch model of ``model_name`` with this code, trained; (model, config, history, test MSE)."""
    X, X_val, X_test = splits
    size = IMAGE_SIZE[name]
    kind = MODELS[model_name][1]
    config = config_for(name, kind, code_size, num_epochs, quick, **({"hidden": ()} if model_name == "linear AE" else {}))
    model = build(model_name, config, size)
    history = scratch_train.fit(model, shaped(X, kind, size), shaped(X_val, kind, size), config, progress=progress)
    rebuilt = scratch_train.reconstruct(model, shaped(X_test, kind, size)).reshape(X_test.shape)
    return model, config, history, float(np.mean((rebuilt - X_test) ** 2)), rebuilt


def theory_check(X, code_size, steps, progress=False):
    """Baldi & Hornik: a linear AE trained with MSE to convergence spans PCA's top-k subspace. Centred data,
    as PCA's; full-batch gradient descent with momentum 0.9. Along the top principal direction the loss
    curves as 2 * lambda_max / D at the solution, so lr = 0.1 over that (lr * curvature stays well inside
    momentum's stability limit of 3.8). Adam's per-weight scaling stalled here on Fashion-MNIST (angles
    of 46-88 degrees after 450 epochs), where the eigen-gap at the cut is small. Returns angles and both MSEs."""
    X = (X - X.mean(axis=0)).astype(np.float64)
    pca = PCA(code_size).fit(X)
    top_eigenvalue = pca.explained_variance_[0] * (len(X) - 1) / len(X)
    lr = 0.1 * X.shape[1] / (2 * top_eigenvalue)
    model = scratch_ae.Autoencoder(X.shape[1], code_size, hidden=(), dtype=np.float64, rng=np.random.default_rng(0))
    optimizer, criterion = SGD(model.parameters(), lr=lr, momentum=0.9), nn.MSELoss()
    start = time.perf_counter()
    for _ in tqdm(range(steps), desc=f"linear AE vs PCA (k={code_size})", disable=not progress, leave=False):
        optimizer.zero_grad()
        criterion(model(X), X)
        model.backward(criterion.backward(), input_grad=False)
        optimizer.step()
    angles = np.degrees(subspace_angles(model.decoder[0].weight.data, pca.components_.T))
    return {"code_size": code_size, "max_principal_angle_degrees": float(angles.max()), "principal_angles_degrees": angles.tolist(),
            "linear_ae_train_mse": float(np.mean((scratch_train.reconstruct(model, X) - X) ** 2)),
            "pca_train_mse": float(np.mean((pca.inverse_transform(pca.transform(X)) - X) ** 2)),
            "images": len(X), "steps": steps, "lr": lr, "momentum": 0.9, "seconds": time.perf_counter() - start}


def vae_twins(name, splits, num_epochs, progress, quick):
    """The scratch VAE and its torch twin from the same weights, batches and eps: test ELBO and log p(x) of each."""
    X, X_val, X_test = splits
    config = config_for(name, "vae", GRID_CODE, num_epochs, quick)
    model, twin = twin_pair(scratch_ae.VAE, torch_ae.VAE, config.seed, np.float32, in_features=X.shape[1], **config.architecture())
    report, histories = {}, {}
    test = X_test[:500] if quick else X_test[:2000]
    for side, module, train in (("scratch", model, scratch_train), ("torch", twin, torch_train)):
        start = time.perf_counter()
        histories[side] = train.fit(module, X, X_val, config, progress=progress)
        log_p = train.log_likelihood(module, test, IW_SAMPLES, np.random.default_rng(1))
        report[side] = {"test_elbo": -train.evaluate(module, X_test, config), "iw_log_likelihood": float(log_p.mean()),
                        "fit_seconds": time.perf_counter() - start, "epochs": len(histories[side]["train_loss"]),
                        "history": histories[side]}
    report["elbo_relative_gap"] = abs(report["scratch"]["test_elbo"] - report["torch"]["test_elbo"]) / abs(report["torch"]["test_elbo"])
    report["iw_samples"], report["iw_test_images"] = IW_SAMPLES, len(test)
    return model, report, histories


def lockstep_gap(X, X_val, size, steps=20):
    """Dense AE and VAE twins trained side by side for ``steps`` batches in float64: the largest weight gap."""
    gaps = {}
    for model_name in ("dense AE", "VAE"):
        cls, kind = MODELS[model_name]
        config = dataclasses.replace(CONFIGS["digits"][kind], code_size=8, num_epochs=1, batch_size=32)
        data = X[:steps * config.batch_size].astype(np.float64)
        model, twin = twin_pair(cls, getattr(torch_ae, cls.__name__), 0, np.float64, in_features=size * size, **config.architecture())
        scratch_train.fit(model, data, X_val[:64].astype(np.float64), config)
        torch_train.fit(twin, data, X_val[:64].astype(np.float64), config)
        torch_state = twin.state_dict()
        gaps[model_name] = max(float(np.max(np.abs(value - torch_state[key].numpy()))) for key, value in model.state_dict().items())
    return {"steps": steps, "max_weight_gap": gaps}


def mse_chart(mse, path, title):
    """Reconstruction MSE (model -> {code size: MSE}) against code size on log axes, a colour per model;
    the scikit-learn baselines dashed, the scratch autoencoders solid."""
    fig, ax = plt.subplots(figsize=(7, 4.4))
    for model_name, row in mse.items():
        ax.plot(list(row), list(row.values()), "--" if "PCA" in model_name else "-", marker="o", label=model_name)
    codes = list(next(iter(mse.values())))
    ax.set_xscale("log"), ax.set_yscale("log")
    ax.set_xticks(codes, [str(k) for k in codes], minor=False)
    ax.set_xticks([], minor=True)
    ax.set(xlabel="code size", ylabel="test MSE per pixel", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def scatter_codes(panels, labels, classes, path, title):
    """2-d codes (name -> (N, 2)) side by side, coloured by class."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.4), squeeze=False)
    for ax, (panel, (points, y)) in zip(axes[0], panels.items()):
        for label in np.unique(y):
            chosen = y == label
            ax.scatter(points[chosen, 0], points[chosen, 1], s=4, alpha=0.6, label=classes[label])
        ax.set_title(panel)
        ax.set_xticks([]), ax.set_yticks([])
    axes[0, -1].legend(markerscale=3, fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def denoising_study(name, splits, num_epochs, progress, quick, out_dir):
    """A dense AE trained on noisy inputs for each noise level: test MSE of its output against the clean
    image, and of the noisy input itself; a grid of noisy / denoised / clean images at the middle level."""
    X, X_val, X_test = splits
    size, rows = IMAGE_SIZE[name], {}
    for level in NOISE_LEVELS:
        config = config_for(name, "dense", GRID_CODE, num_epochs, quick, noise_level=level)
        model = build("dense AE", config, size)
        scratch_train.fit(model, X, X_val, config, progress=progress)
        noisy = corrupt(X_test, level, np.random.default_rng(2))
        denoised = scratch_train.reconstruct(model, noisy)
        rows[level] = {"denoised_mse": float(np.mean((denoised - X_test) ** 2)), "noisy_mse": float(np.mean((noisy - X_test) ** 2))}
        if level == NOISE_LEVELS[1]:
            grid = np.stack([noisy[:8], denoised[:8], X_test[:8]]).reshape(3, 8, size, size)
            plots.image_grid(grid, out_dir / f"{name}_denoising.png", f"denoising AE, noise std {level}: noisy / denoised / clean")
    levels = list(NOISE_LEVELS)
    plots.curves({"scratch denoising AE": (levels, [rows[v]["denoised_mse"] for v in levels]),
                  "noisy input": (levels, [rows[v]["noisy_mse"] for v in levels])},
                 out_dir / f"{name}_denoising_mse.png", f"{name}: test MSE against the clean image", "noise std", "MSE per pixel")
    return {str(level): row for level, row in rows.items()}


def anomaly_detection(name, X, y, X_val, y_val, X_test, y_test, num_epochs, progress, quick):
    """Train without one class, score the test set by reconstruction error: the AUROC of finding that
    class for the dense AE, PCA of the same code size, and an IsolationForest on the raw pixels."""
    held_out, code_size = ANOMALY[name]
    normal, normal_val, is_anomaly = X[y != held_out], X_val[y_val != held_out], y_test == held_out
    config = config_for(name, "dense", code_size, num_epochs, quick)
    model = build("dense AE", config, IMAGE_SIZE[name])
    scratch_train.fit(model, normal, normal_val, config, progress=progress)
    pca = PCA(code_size, random_state=0).fit(normal)
    scores = {"dense AE": np.mean((scratch_train.reconstruct(model, X_test) - X_test) ** 2, axis=1),
              "PCA": np.mean((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2, axis=1),
              "IsolationForest": -IsolationForest(random_state=0).fit(normal).score_samples(X_test)}
    return {"held_out_class": CLASS_NAMES[name][held_out], "code_size": code_size,
            "auroc": {method: float(roc_auc_score(is_anomaly, score)) for method, score in scores.items()}}


def downstream(trained, X, y, X_test, y_test, codes):
    """Logistic regression on the dense AE's codes against on PCA features of the same size: test accuracy."""
    rows = {}
    for code_size in codes:
        pca = PCA(code_size, random_state=0).fit(X)
        features = {"dense AE codes": (scratch_train.encode(trained["dense AE", code_size], X),
                                       scratch_train.encode(trained["dense AE", code_size], X_test)),
                    "PCA features": (pca.transform(X), pca.transform(X_test))}
        rows[str(code_size)] = {kind: float(LogisticRegression(max_iter=2000).fit(train, y).score(test, y_test))
                                for kind, (train, test) in features.items()}
    return rows


def run_dataset(name, out_dir, num_epochs=None, progress=True, quick=False):
    X, y, X_val, y_val, X_test, y_test = load_splits(name, quick=quick)
    splits, size, codes = (X, X_val, X_test), IMAGE_SIZE[name], CODE_SIZES[quick]
    report = {"dataset": name, "samples": {"train": len(X), "val": len(X_val), "test": len(X_test)}, "code_sizes": list(codes)}
    mse = {model_name: {} for model_name in ("PCA", "kernel PCA", *MODELS)}
    grid, codes_2d, trained = [X_test[:8]], {}, {}
    for code_size in codes:
        pca = PCA(code_size, random_state=0).fit(X)
        rebuilt = pca.inverse_transform(pca.transform(X_test))
        mse["PCA"][code_size] = float(np.mean((rebuilt - X_test) ** 2))
        if code_size == GRID_CODE:
            grid.append(rebuilt[:8])
        if code_size == 2:
            codes_2d["PCA"] = pca.transform(X_test)
        kernel_pca = KernelPCA(code_size, kernel="rbf", fit_inverse_transform=True, random_state=0).fit(X[:KERNEL_PCA_POINTS])
        mse["kernel PCA"][code_size] = float(np.mean((kernel_pca.inverse_transform(kernel_pca.transform(X_test)) - X_test) ** 2))
        for model_name in MODELS:
            model, _, _, mse[model_name][code_size], rebuilt = train_one(model_name, name, code_size, splits, num_epochs, progress, quick)
            trained[model_name, code_size] = model
            if code_size == GRID_CODE:
                grid.append(rebuilt[:8])
            if code_size == 2 and model_name in ("dense AE", "VAE"):
                codes_2d[model_name] = scratch_train.encode(model, X_test)
    report["reconstruction_mse"] = {model_name: {str(k): v for k, v in row.items()} for model_name, row in mse.items()}
    mse_chart(mse, out_dir / f"{name}_mse_vs_code.png", f"{name}: test reconstruction MSE against code size")
    if GRID_CODE in codes:
        plots.image_grid(np.stack(grid).reshape(len(grid), 8, size, size), out_dir / f"{name}_reconstructions.png",
                         f"code {GRID_CODE}, rows: test images, PCA, " + ", ".join(MODELS))
    report["conv_beats_pca_at_32"] = bool(mse["conv AE"][32] < mse["PCA"][32])

    subset = np.random.default_rng(0).permutation(len(X_test))[:TSNE_POINTS[quick]]
    with threadpool_limits(1, user_api="openmp"):  # its OpenMP threads spin for far longer than they work on a busy machine
        tsne = TSNE(2, init="pca", random_state=0, perplexity=30, max_iter=500 if quick else 1000).fit_transform(X_test[subset])
    panels = {f"{model_name} (code 2)": (codes_2d[model_name], y_test) for model_name in ("dense AE", "VAE")}
    panels |= {"PCA (2 components)": (codes_2d["PCA"], y_test), f"t-SNE ({len(subset)} images)": (tsne, y_test[subset])}
    scatter_codes(panels, y_test, CLASS_NAMES[name], out_dir / f"{name}_codes_2d.png", f"{name} test set in two dimensions")

    model, report["vae_twins"], histories = vae_twins(name, splits, num_epochs, progress, quick)
    plots.training_curves(histories, out_dir / f"{name}_vae_curves.png", f"VAE (code {GRID_CODE}) on {name}: scratch vs torch",
                          loss_name="negative ELBO", accuracy=False)
    samples = model.decode(np.random.default_rng(3).standard_normal((32, GRID_CODE)).astype(np.float32))
    plots.image_grid(samples.reshape(4, 8, size, size), out_dir / f"{name}_vae_samples.png", f"VAE samples: decode(z), z ~ N(0, I_{GRID_CODE})")
    traversal = np.stack(np.meshgrid(np.linspace(2, -2, 8), np.linspace(-2, 2, 8), indexing="ij"), axis=-1).reshape(-1, 2)
    plots.image_grid(trained["VAE", 2].decode(traversal.astype(np.float32)).reshape(8, 8, size, size),
                     out_dir / f"{name}_vae_traversal.png", "VAE with a 2-d code: decode(z) over z in [-2, 2]^2")

    report["theory"] = theory_check(X[:THEORY_IMAGES], THEORY_CODE[name], THEORY_STEPS[name], progress)
    report["denoising"] = denoising_study(name, splits, num_epochs, progress, quick, out_dir)
    report["anomaly_detection"] = anomaly_detection(name, X, y, X_val, y_val, X_test, y_test, num_epochs, progress, quick)
    report["downstream_logistic_regression"] = downstream(trained, X, y, X_test, y_test, codes)
    report["lockstep_float64"] = lockstep_gap(X, X_val, size)
    return report


def run(out_dir, dataset_names=("digits",), num_epochs=None, study=False, compare_sklearn=False, progress=True, quick=False):
    """``quick``: the first samples of each split, QUICK_EPOCHS epochs and code sizes 2, 8, 32."""
    out_dir, report = run_datasets(out_dir, dataset_names, lambda name, out: run_dataset(name, out, num_epochs, progress, quick))
    return save_report(out_dir, report)


def summary(report):
    lines = []
    for name, result in report.items():
        mse, codes = result["reconstruction_mse"], [str(k) for k in result["code_sizes"]]
        lines.append(f"{name}: test reconstruction MSE per pixel at code sizes {', '.join(codes)}")
        lines += [f"  {model_name:10s} " + "  ".join(f"{row[k]:.4f}" for k in codes) for model_name, row in mse.items()]
        vae, theory = result["vae_twins"], result["theory"]
        lines.append(f"  VAE (code {GRID_CODE}) test ELBO scratch {vae['scratch']['test_elbo']:.2f}, torch {vae['torch']['test_elbo']:.2f} nats "
                     f"(gap {100 * vae['elbo_relative_gap']:.3f}%); IW log p(x), k={vae['iw_samples']}: scratch "
                     f"{vae['scratch']['iw_log_likelihood']:.2f}, torch {vae['torch']['iw_log_likelihood']:.2f}")
        lines.append(f"  linear AE vs PCA (k={theory['code_size']}): max principal angle {theory['max_principal_angle_degrees']:.3f} deg, "
                     f"MSE {theory['linear_ae_train_mse']:.5f} vs {theory['pca_train_mse']:.5f}")
        anomaly = result["anomaly_detection"]
        lines.append(f"  anomaly AUROC, class {anomaly['held_out_class']!r} held out: "
                     + ", ".join(f"{method} {auroc:.3f}" for method, auroc in anomaly["auroc"].items()))
        lines.append("  logistic regression test accuracy, AE codes / PCA features: " + ", ".join(
            f"k={k} {row['dense AE codes']:.3f} / {row['PCA features']:.3f}" for k, row in result["downstream_logistic_regression"].items()))
        gaps = result["lockstep_float64"]["max_weight_gap"]
        lines.append("  lockstep (float64, 20 steps): max weight gap " + ", ".join(f"{k} {v:.1e}" for k, v in gaps.items()))
    return "\n".join(lines)
