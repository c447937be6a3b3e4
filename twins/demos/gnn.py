"""Project 16 demo: semi-supervised node classification with few labels, scratch against PyG.

- ``drosophila``: the right mushroom body of the larval fly (213 neurons, 4 cell types), a few
  labelled neurons per type. GCN, GAT and SAGE (scratch and PyG twins from the same initial
  weights), an MLP on each neuron's own wiring statistics (no graph) and scikit-learn's label
  spreading over the graph (no features), mean +/- std over seeds; t-SNE of the GCN's hidden
  representations; the GAT's attention between cell types.
- ``reuters-r8``: TextGCN (Yao, Mao & Luo, AAAI 2019): one graph of the R8 corpus's 7,674 documents
  and their words (TF-IDF document-word, PPMI word-word edges), identity features, a two-layer GCN
  (200 hidden, dropout 0.5, Adam at 0.02, early stopping) classifying the documents, test documents in
  the graph unlabelled; scratch and PyG twins from the same weights, TF-IDF + logistic regression
  (project 3's, scratch) on the same training documents as the baseline, mean +/- std over seeds.
- ``karate``: Zachary's karate club with one labelled member per community: the GCN's 2-D hidden
  embedding (Kipf & Welling's figure) as it forms over training (a GIF) and at the end, the GAT's
  attention drawn on the graph, and the same results table.

Writes into the output folder: <graph>_results.png, <graph>_curves.png, the figures above and
metrics.json with every number.
"""
import dataclasses
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import torch
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.collections import LineCollection
from sklearn.manifold import TSNE
from sklearn.semi_supervised import LabelSpreading
from threadpoolctl import threadpool_limits

from reference.bridge import twin_pair
from reference.projects.gnn import model as pyg_model
from reference.projects.gnn import train as pyg_train
from scratch import datasets
from scratch.projects.gnn import data, textgraph
from scratch.projects.gnn import model as scratch_model
from scratch.projects.gnn import train as scratch_train
from scratch.projects.gnn.config import CONFIGS, TEXTGCN
from scratch.projects.nlp import linear_models
from scratch.text import TfidfVectorizer
from twins import plots
from twins.demos.common import run_datasets, save_report

GRAPHS = {"drosophila": data.drosophila_right, "karate": data.karate_club}
LABELS_PER_CLASS = {"drosophila": 5, "karate": 1}
SEEDS = {False: 10, True: 2}  # by quick
QUICK_EPOCHS = 40
KARATE_EPOCHS = 300  # the 2-D embedding settles slowly: tanh, hidden 2, no dropout
GIF_FRAMES = 30
THREADS = 1  # torch on one thread, as NumPy's kernels here: the epoch times on one footing
TEXT_QUICK_DOCS = {"train": 300, "test": 150}  # --quick: the first documents of each R8 split
TEXTGCN_PAPER = {"mean": 0.9707, "std": 0.0010}  # Yao et al. 2019, Table 2, R8
LOGISTIC_C = 10.0  # project 3's TF-IDF + logistic regression (sublinear tf, min_df 2)


def make_twins(name, graph, config, dtype=np.float32, **extra):
    """A scratch model and its PyG twin holding the same initial weights."""
    in_channels = graph.num_nodes if graph.x is None else graph.x.shape[1]  # featureless: the identity's width
    return twin_pair(scratch_model.MODELS[name], pyg_model.MODELS[name], config.seed, dtype, in_channels=in_channels,
                     out_channels=len(graph.class_names), **config.architecture(), **extra)


def graph_args(name, graph):
    """The GCN reads the edge weights; GAT and SAGE take the bare graph, the MLP ignores it."""
    return (graph.x, graph.edge_index, graph.y), {"edge_weight": graph.edge_weight if name == "gcn" else None}


def train_twins(name, graph, masks, config, progress=False, on_epoch=None, **extra):
    """Both twins trained from the same weights on the same split: their histories, test accuracies, models."""
    train_mask, val_mask, test_mask = masks
    model, twin = make_twins(name, graph, config, **extra)
    (x, edge_index, y), kwargs = graph_args(name, graph)
    result, histories = {}, {}
    for side, module, loop in (("scratch", model, scratch_train), ("torch", twin, pyg_train)):
        start = time.perf_counter()
        callback = on_epoch.get(side) if on_epoch else None
        histories[side] = loop.fit(module, x, edge_index, y, train_mask, val_mask, config, on_epoch=callback,
                                   progress=progress, **kwargs)
        predicted = loop.predict(module, x, edge_index, kwargs["edge_weight"])
        result[side] = {"test_accuracy": float((predicted[test_mask] == y[test_mask]).mean()),
                        "fit_seconds": time.perf_counter() - start,
                        "median_epoch_seconds": float(np.median(histories[side]["epoch_time"]))}
    return result, histories, (model, twin)


def label_spreading(graph, masks):
    """scikit-learn's LabelSpreading over the graph's weighted, symmetric adjacency (no features)."""
    train_mask, _, test_mask = masks
    weight = np.ones(graph.edge_index.shape[1]) if graph.edge_weight is None else graph.edge_weight
    adjacency = np.zeros((graph.num_nodes, graph.num_nodes))
    np.add.at(adjacency, (graph.edge_index[1], graph.edge_index[0]), weight)

    def kernel(a, b):  # the "features" are node ids; the kernel looks the graph up
        return adjacency[np.ix_(a[:, 0].astype(int), b[:, 0].astype(int))]

    labels = np.where(train_mask, graph.y, -1)
    start = time.perf_counter()
    spreading = LabelSpreading(kernel=kernel, alpha=0.2, max_iter=100).fit(np.arange(graph.num_nodes, dtype=float)[:, None], labels)
    accuracy = float((spreading.transduction_[test_mask] == graph.y[test_mask]).mean())
    return {"test_accuracy": accuracy, "fit_seconds": time.perf_counter() - start}


def config_for(name, graph_name, num_epochs, quick, seed):
    epochs = num_epochs or (QUICK_EPOCHS if quick else CONFIGS[name].num_epochs)
    return dataclasses.replace(CONFIGS[name], num_epochs=epochs, seed=seed)


def results_table(graph, graph_name, num_epochs, quick, progress):
    """Every model on SEEDS splits (seed s draws the split and the initial weights): per-seed accuracies
    and mean +/- std; the first seed's histories and models for the figures."""
    runs, first = {}, {}
    seeds = range(SEEDS[quick])
    if progress:
        from tqdm.auto import tqdm
        seeds = tqdm(seeds, desc=f"{graph_name}: seeds", unit="seed")
    for seed in seeds:
        masks = data.few_labels_split(graph.y, LABELS_PER_CLASS[graph_name], np.random.default_rng(seed))
        for name in ("gcn", "gat", "sage", "mlp"):
            result, histories, models = train_twins(name, graph, masks, config_for(name, graph_name, num_epochs, quick, seed))
            for side in ("scratch", "torch"):
                runs.setdefault(f"{side} {name}", []).append(result[side])
            if seed == 0:
                first[name] = (histories, models, masks)
        runs.setdefault("label spreading", []).append(label_spreading(graph, masks))
    table = {row: summarise(results) for row, results in runs.items()}
    return table, first


def summarise(results):
    accuracies = np.array([r["test_accuracy"] for r in results])
    summary = {"mean": float(accuracies.mean()), "std": float(accuracies.std()), "per_seed": accuracies.tolist()}
    if "median_epoch_seconds" in results[0]:
        summary["median_epoch_seconds"] = float(np.median([r["median_epoch_seconds"] for r in results]))
    return summary


def edge_homophily(graph):
    """The fraction of edges (loops aside) joining two nodes of one class: near 1, neighbours vote for
    the class (label spreading's and GCN's assumption); low, a neighbourhood says a node's role instead."""
    source, target = graph.edge_index[:, graph.edge_index[0] != graph.edge_index[1]]
    return float((graph.y[source] == graph.y[target]).mean())


def plot_results(table, path, title, paper=None):
    """Every seed's test accuracy as a dot, per model, with its mean +/- std; the axis spans the dots (the
    models can lie a few tenths of a point apart), and ``paper`` (mean, std) is drawn as a line and band."""
    names = list(table)
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(names) + 1.6))
    colors = ["tab:blue" if n.startswith("scratch") else "tab:orange" if n.startswith("torch") else "tab:green" for n in names]
    jitter = np.random.default_rng(0)
    for y, (name, color) in enumerate(zip(names, colors)):
        seeds, mean, std = np.asarray(table[name]["per_seed"]), table[name]["mean"], table[name]["std"]
        ax.scatter(seeds, y + jitter.uniform(-0.12, 0.12, len(seeds)), s=14, color=color, alpha=0.6)
        ax.errorbar(mean, y, xerr=std, fmt="D", color="black", capsize=4, markersize=5)
        ax.annotate(f"{mean:.4f} +/- {std:.4f}", (mean, y - 0.3), ha="center", fontsize=8)
    if paper is not None:
        ax.axvspan(paper["mean"] - paper["std"], paper["mean"] + paper["std"], color="0.8", alpha=0.6)
        ax.axvline(paper["mean"], color="0.4", linestyle="--", label=f"paper {paper['mean']:.4f} +/- {paper['std']:.4f}")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(len(names) - 0.5, -0.7)
    ax.set(xlabel="test accuracy (unlabelled nodes); dots: seeds, diamond: mean +/- std", title=title)
    ax.margins(x=0.15)
    ax.grid(alpha=0.3, axis="x")
    return plots._save(fig, path)


def draw_graph(ax, positions, edge_index, y, train_mask, edge_alpha=None, title=""):
    """Nodes at ``positions`` (N, 2) coloured by class, labelled nodes ringed; edges as lines (their
    opacity ``edge_alpha`` when given)."""
    alpha = np.full(edge_index.shape[1], 0.25) if edge_alpha is None else edge_alpha
    colors = np.zeros((len(alpha), 4))
    colors[:, 3] = alpha  # black, as opaque as the edge's weight
    ax.add_collection(LineCollection(positions[edge_index.T], colors=colors, linewidths=0.6 + 2.5 * alpha))  # (E, 2, 2) segments
    ax.scatter(*positions.T, c=y, cmap="tab10", vmin=0, vmax=9, s=60, zorder=3)
    ax.scatter(*positions[train_mask].T, facecolors="none", edgecolors="black", s=180, linewidths=1.5, zorder=4)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([]), ax.set_yticks([])


def karate_embedding(graph, masks, out_dir, num_epochs, quick, progress):
    """Kipf & Welling's figure: a GCN with a 2-D tanh hidden layer, one label per community; the hidden
    embedding saved every few epochs for the GIF, and drawn at the end for both twins."""
    config = dataclasses.replace(CONFIGS["gcn"], hidden=2, dropout=0.0, lr=0.01, weight_decay=5e-4,
                                 num_epochs=num_epochs or (QUICK_EPOCHS if quick else KARATE_EPOCHS))
    frames, every = [], max(1, config.num_epochs // GIF_FRAMES)

    def snapshot(epoch, model):
        if epoch % every == 0 or epoch == 1:
            frames.append((epoch, model.embedding.copy()))

    result, histories, (model, twin) = train_twins("gcn", graph, masks, config, progress, {"scratch": snapshot},
                                                   activation="tanh")
    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    draw_graph(axes[0], model.embedding, graph.edge_index, graph.y, masks[0], title="scratch GCN hidden layer")
    draw_graph(axes[1], twin.embedding.detach().numpy(), graph.edge_index, graph.y, masks[0], title="PyG twin hidden layer")
    fig.suptitle(f"karate club: 2-D GCN embedding after {config.num_epochs} epochs, one labelled member (ringed) per community")
    plots._save(fig, out_dir / "karate_embedding.png")
    embedding_gif(frames, graph, masks[0], out_dir / "karate_embedding.gif")
    return {**result, "epochs": config.num_epochs, "gif_frames": len(frames)}, histories


def embedding_gif(frames, graph, train_mask, path):
    fig, ax = plt.subplots(figsize=(5.5, 5))

    def draw(index):
        ax.clear()
        epoch, points = frames[index]
        draw_graph(ax, points, graph.edge_index, graph.y, train_mask, title=f"scratch GCN hidden layer, epoch {epoch}")

    FuncAnimation(fig, draw, frames=len(frames)).save(path, writer=PillowWriter(fps=6))
    plt.close(fig)


def gat_attention(model, graph):
    """The first GAT layer's attention (E', heads) averaged over heads, in eval mode, with its edges."""
    model.eval()
    _, (edge_index, alpha) = model.conv1(graph.x, graph.edge_index, return_attention_weights=True)
    return edge_index, alpha.mean(axis=1)


def plot_karate_attention(model, graph, masks, positions, path):
    edge_index, alpha = gat_attention(model, graph)
    fig, ax = plt.subplots(figsize=(6.5, 6))
    draw_graph(ax, positions, edge_index, graph.y, masks[0], edge_alpha=alpha / alpha.max(),
               title="karate club: scratch GAT's first-layer attention (mean of heads; darker = more)")
    return plots._save(fig, path)


def plot_type_attention(model, graph, path):
    """How much attention each cell type pays to each (rows: the attending target's type)."""
    edge_index, alpha = gat_attention(model, graph)
    k = len(graph.class_names)
    totals = np.zeros((k, k))
    np.add.at(totals, (graph.y[edge_index[1]], graph.y[edge_index[0]]), alpha)
    totals /= np.bincount(graph.y, minlength=k)[:, None]  # each node's attention sums to 1: rows sum to 1
    fig, ax = plt.subplots(figsize=(6.5, 5))
    image = ax.imshow(totals, cmap="viridis", vmin=0)
    ax.set_xticks(range(k), graph.class_names, rotation=30, ha="right")
    ax.set_yticks(range(k), graph.class_names)
    for (i, j), value in np.ndenumerate(totals):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", color="white" if value < totals.max() / 2 else "black")
    ax.set(xlabel="attended (source) cell type", ylabel="attending (target) cell type",
           title="connectome: scratch GAT attention by cell type (mean per neuron)")
    fig.colorbar(image, ax=ax)
    return plots._save(fig, path)


def plot_tsne(embedding, graph, path, title, seed=0):
    points = TSNE(2, perplexity=min(30, len(embedding) - 1) / 1.5, init="pca", random_state=seed).fit_transform(embedding)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    for label, name in enumerate(graph.class_names):
        ax.scatter(*points[graph.y == label].T, s=14, label=name)
    ax.legend(fontsize=8)
    ax.set(title=title, xticks=[], yticks=[])
    return plots._save(fig, path)


def run_graph(name, out_dir, num_epochs=None, progress=True, quick=False):
    graph = GRAPHS[name]().astype(np.float32)
    table, first = results_table(graph, name, num_epochs, quick, progress)
    report = {"graph": {"nodes": graph.num_nodes, "edges": int(graph.edge_index.shape[1]), "features": graph.x.shape[1],
                        "classes": graph.class_names, "labels_per_class": LABELS_PER_CLASS[name],
                        "weighted": graph.edge_weight is not None, "edge_homophily": edge_homophily(graph)},
              "seeds": SEEDS[quick], "epochs": {m: config_for(m, name, num_epochs, quick, 0).num_epochs for m in CONFIGS},
              "results": table}
    plot_results(table, out_dir / f"{name}_results.png",
                 f"{name}: {LABELS_PER_CLASS[name]} label(s) per class, mean +/- std over {SEEDS[quick]} seeds")
    gcn_histories, (gcn_model, _), masks = first["gcn"]
    plots.training_curves(gcn_histories, out_dir / f"{name}_curves.png",
                          f"GCN on {name} (seed 0): scratch vs PyG from the same initial weights (validation = unlabelled nodes)")
    report["gcn_accuracy_gap_points"] = 100 * abs(table["scratch gcn"]["mean"] - table["torch gcn"]["mean"])
    gcn_model.eval()
    scratch_train.predict(gcn_model, graph.x, graph.edge_index, graph.edge_weight)  # leaves the eval-mode embedding
    plot_tsne(gcn_model.embedding, graph, out_dir / f"{name}_tsne.png", f"{name}: t-SNE of the scratch GCN's hidden layer")
    gat_model = first["gat"][1][0]
    if name == "karate":
        report["embedding"], _ = karate_embedding(graph, masks, out_dir, num_epochs, quick, progress)
        spring = nx.spring_layout(nx.Graph(graph.edge_index.T.tolist()), seed=0)
        layout = np.array([spring[node] for node in range(graph.num_nodes)])
        plot_karate_attention(gat_model, graph, masks, layout, out_dir / "karate_gat_attention.png")
    else:
        plot_type_attention(gat_model, graph, out_dir / f"{name}_gat_attention.png")
    return report


def text_graph(quick):
    """TextGCN's graph of Reuters R8 (the first TEXT_QUICK_DOCS of each split when quick), with the texts.
    Stop words: scikit-learn's English list (the paper used NLTK's)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    splits = {}
    for split in ("train", "test"):
        texts, y, class_names = datasets.load_text_corpus("reuters-r8", split)
        size = TEXT_QUICK_DOCS[split] if quick else len(texts)
        splits[split] = (texts[:size], y[:size])
    start = time.perf_counter()
    graph = textgraph.build(*splits["train"], *splits["test"], class_names, stop_words=ENGLISH_STOP_WORDS, dtype=np.float32)
    return graph, splits["train"][0] + splits["test"][0], time.perf_counter() - start


def tfidf_logistic_regression(texts, graph, train_mask, test_mask):
    """Project 3's baseline on the same training documents: scratch TF-IDF (sublinear tf, min_df 2) and
    scratch logistic regression (C = 10); its test accuracy."""
    train_docs, test_docs = np.flatnonzero(train_mask), np.flatnonzero(test_mask)
    vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=2)
    X = vectorizer.fit_transform([texts[i] for i in train_docs])
    classifier = linear_models.LogisticRegression(C=LOGISTIC_C, max_iter=500).fit(X, graph.y[train_docs])
    predicted = classifier.predict(vectorizer.transform([texts[i] for i in test_docs]))
    return {"test_accuracy": float((predicted == graph.y[test_docs]).mean())}


def textgcn_seed(graph, texts, config, seed, progress=False):
    """One seed of the R8 table (its validation documents and initial weights): both twins on THREADS thread(s)
    and the baseline; (results by row, the twins' histories, the twins, the masks)."""
    masks = graph.masks(np.random.default_rng(seed))
    with threadpool_limits(THREADS):
        result, histories, models = train_twins("gcn", graph, masks, dataclasses.replace(config, seed=seed), progress)
    for side in ("scratch", "torch"):
        result[side]["epochs"] = len(histories[side]["train_loss"])
    rows = {"scratch TextGCN": result["scratch"], "torch TextGCN": result["torch"],
            "TF-IDF + logistic regression": tfidf_logistic_regression(texts, graph, masks[0], masks[2])}
    return rows, histories, models, masks


def run_textgcn(out_dir, num_epochs=None, progress=True, quick=False):
    """TextGCN on R8 over SEEDS[quick] seeds (seed s: the validation documents and the initial weights), both
    twins on one thread; the logistic-regression baseline; curves and a t-SNE of the first seed."""
    graph, texts, build_seconds = text_graph(quick)
    config = dataclasses.replace(TEXTGCN, num_epochs=num_epochs or (QUICK_EPOCHS if quick else TEXTGCN.num_epochs))
    runs, first = {}, None
    seeds = range(SEEDS[quick])
    if progress:
        from tqdm.auto import tqdm
        seeds = tqdm(seeds, desc="reuters-r8: seeds", unit="seed")
    for seed in seeds:
        result, histories, models, masks = textgcn_seed(graph, texts, config, seed, progress)
        for row, value in result.items():
            runs.setdefault(row, []).append(value)
        first = first or (histories, models, masks)
    table = {row: {**summarise(results), **({"epochs": [r["epochs"] for r in results]} if "epochs" in results[0] else {})}
             for row, results in runs.items()}
    kinds = graph.edge_index >= graph.num_docs  # (2, E): which ends are words
    train, val, test = first[2]
    report = {"graph": {"documents": graph.num_docs, "words": len(graph.vocabulary), "nodes": graph.num_nodes,
                        "edges": int(graph.edge_index.shape[1]), "document_word_edges": int((kinds[0] != kinds[1]).sum()),
                        "word_word_edges": int((kinds[0] & kinds[1]).sum()), "window": textgraph.WINDOW,
                        "min_count": textgraph.MIN_COUNT, "build_seconds": build_seconds,
                        "documents_train_val_test": [int(train.sum()), int(val.sum()), int(test.sum())],
                        "classes": graph.class_names},
              "seeds": SEEDS[quick], "quick": quick, "config": dataclasses.asdict(config), "paper": TEXTGCN_PAPER,
              "results": table, "gcn_accuracy_gap_points": 100 * abs(table["scratch TextGCN"]["mean"] - table["torch TextGCN"]["mean"])}
    plot_results(table, out_dir / "reuters-r8_results.png",
                 f"TextGCN on Reuters R8, test accuracy over {SEEDS[quick]} seeds", paper=TEXTGCN_PAPER)
    histories, (model, _), _ = first
    plots.training_curves(histories, out_dir / "reuters-r8_curves.png",
                          "TextGCN on R8 (seed 0): scratch vs PyG from the same initial weights, early stopping")
    scratch_train.predict(model, None, graph.edge_index, graph.edge_weight)  # leaves the eval-mode embedding
    documents = dataclasses.replace(graph, y=graph.y[test])
    plot_tsne(model.embedding[test], documents, out_dir / "reuters-r8_tsne.png",
              "R8 test documents: t-SNE of the scratch TextGCN's hidden layer")
    return report


def run(out_dir, dataset_names=("drosophila",), num_epochs=None, study=False, compare_sklearn=False, progress=True, quick=False):
    """``quick``: two seeds and QUICK_EPOCHS epochs. torch runs on THREADS thread(s) here."""
    threads = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    try:
        out_dir, report = run_datasets(out_dir, dataset_names, lambda name, out: (run_textgcn if name == "reuters-r8" else run_graph)(
            *((out,) if name == "reuters-r8" else (name, out)), num_epochs, progress, quick))
    finally:
        torch.set_num_threads(threads)
    return save_report(out_dir, report)


def summary(report):
    lines = []
    for name, result in report.items():
        graph = result["graph"]
        if name == "reuters-r8":
            lines.append(f"{name}: {graph['documents']} documents + {graph['words']} words = {graph['nodes']} nodes, {graph['edges']} "
                         f"directed edges; test accuracy over {result['seeds']} seeds (paper {result['paper']['mean']:.4f} +/- "
                         f"{result['paper']['std']:.4f}):")
            lines += [f"  {row:28s} {row_['mean']:.4f} +/- {row_['std']:.4f}" + (
                f"   ({1000 * row_['median_epoch_seconds']:.0f} ms/epoch)" if "median_epoch_seconds" in row_ else "")
                for row, row_ in result["results"].items()]
            continue
        lines.append(f"{name}: {graph['nodes']} nodes, {graph['edges']} directed edges (edge homophily {graph['edge_homophily']:.2f}), "
                     f"{graph['labels_per_class']} label(s) per class; test accuracy, mean +/- std over {result['seeds']} seeds:")
        for row, summary_ in result["results"].items():
            epoch = summary_.get("median_epoch_seconds")
            lines.append(f"  {row:16s} {summary_['mean']:.3f} +/- {summary_['std']:.3f}"
                         + (f"   ({1000 * epoch:.1f} ms/epoch)" if epoch is not None else ""))
    return "\n".join(lines)
