"""The projects' figures, saved as PNG: training curves, confusion matrices, heatmaps, forecasts."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

TWIN_STYLES = {"scratch": {"color": "tab:blue", "linestyle": "-"}, "torch": {"color": "tab:orange", "linestyle": "--"}}
PEER_COLORS = ("tab:green", "tab:purple", "tab:brown", "tab:gray")  # other lines, never in the twins' colours


def _styles(names):
    """A line style per name: the twins' colours for names starting 'scratch'/'torch' (e.g.
    'scratch lstm'), the peer colours in turn for every other line."""
    styles, peers = {}, 0
    for name in names:
        side = name.split()[0]
        if side in TWIN_STYLES:
            styles[name] = TWIN_STYLES[side]
        else:
            styles[name] = {"color": PEER_COLORS[peers % len(PEER_COLORS)], "linewidth": 1}
            peers += 1
    return styles


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def training_curves(histories, path, title, loss_name="cross-entropy", accuracy=True):
    """Loss (and, for classifiers, validation accuracy) per epoch of each run in
    ``histories`` (name -> history), overlaid. Regression runs pass ``accuracy=False``."""
    fig, axes = plt.subplots(1, 2 if accuracy else 1, figsize=(11, 4) if accuracy else (6.5, 4), squeeze=False)
    ax_loss = axes[0, 0]
    for name, history in histories.items():
        style = TWIN_STYLES.get(name, {})
        epochs = np.arange(1, len(history["train_loss"]) + 1)
        ax_loss.plot(epochs, history["train_loss"], label=f"{name} train", alpha=0.6, **style)
        ax_loss.plot(epochs, history["val_loss"], label=f"{name} validation", marker="o", markersize=3, **style)
        if accuracy:
            axes[0, 1].plot(epochs, history["val_acc"], label=f"{name} validation", marker="o", markersize=3, **style)
    ax_loss.set(xlabel="epoch", ylabel=loss_name, title="loss", yscale="log")
    if accuracy:
        axes[0, 1].set(xlabel="epoch", ylabel="accuracy", title="validation accuracy")
    for ax in axes[0]:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return _save(fig, path)


def confusion_matrix(counts, class_names, path, title):
    """Row-normalised confusion matrix with the counts written in each cell."""
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = max(5, 0.6 * len(class_names))
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    image = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    ax.set_yticks(range(len(class_names)), class_names)
    for (i, j), count in np.ndenumerate(counts):
        ax.text(j, i, str(count), ha="center", va="center", fontsize=7, color="white" if rates[i, j] > 0.5 else "black")
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.colorbar(image, ax=ax, label="fraction of the true class")
    return _save(fig, path)


def heatmaps(grids, row_labels, col_labels, path, title, row_name, col_name, value_name):
    """One annotated heatmap per panel (panel name -> 2-d array), on one shared colour scale."""
    fig, axes = plt.subplots(1, len(grids), figsize=(4.6 * len(grids) + 1.5, 4.2), squeeze=False)
    low = min(np.nanmin(grid) for grid in grids.values())
    high = max(np.nanmax(grid) for grid in grids.values())
    for ax, (panel, grid) in zip(axes[0], grids.items()):
        image = ax.imshow(grid, cmap="viridis", vmin=low, vmax=high, aspect="auto")
        ax.set_xticks(range(len(col_labels)), col_labels)
        ax.set_yticks(range(len(row_labels)), row_labels)
        ax.set(xlabel=col_name, title=panel)
        for (i, j), value in np.ndenumerate(grid):
            ax.text(j, i, f"{value:.3f}", ha="center", va="center", fontsize=7,
                    color="black" if value > (low + high) / 2 else "white")
    axes[0, 0].set_ylabel(row_name)
    fig.colorbar(image, ax=list(axes[0]), label=value_name)
    fig.suptitle(title)
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)
    return path


def _panel_grid(count, columns, cell=1.1):
    rows = -(-count // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * cell, rows * cell + 0.6), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    return fig, axes


def filters(weight, path, title):
    """Each first-layer kernel (out, in, kH, kW) as a small image on a shared diverging scale."""
    kernels = weight[:, 0]
    limit = float(np.abs(kernels).max())
    fig, axes = _panel_grid(len(kernels), 8)
    for ax, kernel in zip(axes.flat, kernels):
        ax.imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.suptitle(title)
    return _save(fig, path)


def feature_maps(image, maps, path, title):
    """The input image, then each channel of ``maps`` (channels, H, W)."""
    fig, axes = _panel_grid(len(maps) + 1, 9)
    axes.flat[0].imshow(image, cmap="gray")
    axes.flat[0].set_title("input", fontsize=8)
    for ax, fmap in zip(list(axes.flat)[1:], maps):
        ax.imshow(fmap, cmap="viridis")
    fig.suptitle(title)
    return _save(fig, path)


def image_grid(images, path, title):
    """A grid of grey images (rows, columns, H, W), e.g. one row per sample and its augmentations."""
    rows, columns = images.shape[:2]
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.1, rows * 1.1 + 0.6), squeeze=False)
    for ax, image in zip(axes.flat, images.reshape(-1, *images.shape[2:])):
        ax.imshow(image, cmap="gray")
        ax.axis("off")
    fig.suptitle(title)
    return _save(fig, path)


def forecasts(timestamps, actual, predictions, path, title, interval=None, missing=None, context=None):
    """A series and forecasts of its end, with an optional prediction band.

    Parameters
    ----------
    timestamps, actual : (T,)
        The whole series (datetime64 or numbers on the x axis).
    predictions : dict name -> (H,)
        Forecasts of the last H points.
    interval : (lower (H,), upper (H,)) or None
        A band drawn around the forecast span.
    missing : (T,) bool or None
        Imputed points (``fill_gaps``' mask), marked so they are not mistaken for data.
    context : int or None
        Show only the last ``context`` points before the forecast span.
    """
    horizon = len(next(iter(predictions.values())))
    start = 0 if context is None else max(0, len(actual) - horizon - context)
    fig, ax = plt.subplots(figsize=(11, 4))
    ax.plot(timestamps[start:], actual[start:], color="black", linewidth=1, label="actual")
    if missing is not None and missing[start:].any():
        shown = np.flatnonzero(missing[start:]) + start
        ax.scatter(timestamps[shown], actual[shown], s=8, color="tab:red", zorder=3, label="imputed")
    span = timestamps[-horizon:]
    if interval is not None:
        ax.fill_between(span, interval[0], interval[1], color="tab:blue", alpha=0.2, label="interval")
    styles = _styles(predictions)
    for name, prediction in predictions.items():
        ax.plot(span, prediction, label=name, **{"linewidth": 1.2, **styles[name]})
    ax.axvline(span[0], color="gray", linestyle=":", linewidth=1)
    ax.set(title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def residuals(timestamps, residuals_by_name, path, title):
    """Forecast errors (actual - forecast) over time, one line per model, around zero."""
    fig, ax = plt.subplots(figsize=(11, 3.5))
    styles = _styles(residuals_by_name)
    for name, residual in residuals_by_name.items():
        ax.plot(timestamps, residual, label=name, **{"linewidth": 1, **styles[name]})
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set(title=title, ylabel="actual - forecast")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def curves(lines, path, title, xlabel, ylabel, logx=False):
    """Lines of (x, y), name -> (x, y); twins' colours by first word, 'train' lines dotted."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    styles = _styles(lines)
    for name, (x, y) in lines.items():
        style = {**styles[name], **({"linestyle": ":"} if "train" in name.split() else {})}
        ax.plot(x, y, label=name, marker="o", markersize=3, **style)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title, xscale="log" if logx else "linear")
    if logx:
        ax.set_xticks(list(next(iter(lines.values()))[0]), [str(v) for v in next(iter(lines.values()))[0]])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def similarity_heatmaps(grids, labels, path, title):
    """Square similarity matrices (panel name -> (n, n)) over the same labelled entities, side by side."""
    size = max(5.0, 0.32 * len(labels) + 2.5)
    fig, axes = plt.subplots(1, len(grids), figsize=(size * len(grids) + 1, size), squeeze=False)
    for ax, (panel, grid) in zip(axes[0], grids.items()):
        image = ax.imshow(grid, cmap="RdBu_r", vmin=-1, vmax=1)
        ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(labels)), labels if ax is axes[0, 0] else [""] * len(labels), fontsize=7)
        ax.set_title(panel)
    fig.colorbar(image, ax=list(axes[0]), label="cosine similarity", shrink=0.8)
    fig.suptitle(title)
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)
    return path


def embedding_map(points, annotations, path, title):
    """A 2-d scatter of embeddings (N, 2), with text beside the points indexed in ``annotations``."""
    fig, ax = plt.subplots(figsize=(8, 6.5))
    ax.scatter(points[:, 0], points[:, 1], s=6, alpha=0.35, color="tab:blue")
    for index, text in annotations.items():
        ax.scatter(*points[index], s=18, color="tab:red")
        ax.annotate(text, points[index], fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set(xlabel="component 1", ylabel="component 2", title=title)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def attention_map(weights, tokens, path, title):
    """Attention weights (L, L) of one document: row i is how much token i reads each token."""
    size = max(6.5, 0.32 * len(tokens) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(weights, cmap="viridis", vmin=0)
    ax.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=8)
    ax.set_yticks(range(len(tokens)), tokens, fontsize=8)
    ax.set(xlabel="attended token (key)", ylabel="reading token (query)")
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, label="attention weight")
    return _save(fig, path)


def model_comparison(rows, path, title):
    """Grouped bars of each model's scores (model -> {'accuracy': ..., 'macro-F1': ..., 'seconds': ...}),
    and its train time on a log scale beside them."""
    names = list(rows)
    fig, (ax_score, ax_time) = plt.subplots(1, 2, figsize=(13, 0.45 * len(names) + 2), sharey=True)
    ypos = np.arange(len(names))
    for offset, metric in ((-0.2, "accuracy"), (0.2, "macro-F1")):
        values = [rows[name][metric] for name in names]
        ax_score.barh(ypos + offset, values, height=0.4, label=metric)
        for y, value in zip(ypos + offset, values):
            ax_score.text(value, y, f" {value:.3f}", va="center", fontsize=7)
    ax_score.set_yticks(ypos, names)
    ax_score.set(xlim=(0, 1.4), xlabel="test score", title="accuracy and macro-F1")  # room for the legend
    ax_score.legend(fontsize=8, loc="lower right")
    styles = _styles(names)
    ax_time.barh(ypos, [rows[name]["seconds"] for name in names], color=[styles[name]["color"] for name in names])
    ax_time.set(xscale="log", xlabel="seconds", title="train time")
    for ax in (ax_score, ax_time):
        ax.grid(alpha=0.3, axis="x")
        ax.invert_yaxis()
    fig.suptitle(title)
    return _save(fig, path)
