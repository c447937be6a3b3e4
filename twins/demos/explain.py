"""Project 19 demo: explaining models of Projects 2, 4 and 14 with the scratch explainers, beside
shap and Captum where they have the same method.

Tables (breast cancer, diabetes; 70/30 split, seed 0): a scratch random forest, scratch gradient
boosting (raw output: log-odds for breast cancer) and a scratch MLP are explained on test rows:
TreeSHAP (path-dependent and interventional) on the forest and the boosting, KernelSHAP on the
forest, KernelSHAP, antithetic permutation sampling, integrated gradients and gradient x input on
the MLP, LIME on both. Plots: a waterfall of one row, the beeswarm, the mean-|phi| bar chart and a
dependence plot of the top feature, for each model; LIME's weights for one row; and a table of
rank agreement (Spearman's rho of the mean |attribution| per feature) between every two methods.
shap's TreeExplainer runs on the bit-exact scikit-learn forest and boosting: largest difference and time.

Text (``--dataset reuters-r8``): Project 3's TF-IDF + logistic regression, and LIME's word
weights (words removed from the document) for a few test documents.

Images (digits with --quick, Fashion-MNIST otherwise): Project 4's CNN trained briefly, then
saliency, SmoothGrad and integrated-gradients maps of test images, LIME on square superpixels,
and the sanity check of
Adebayo et al. (2018): the layers re-initialised one by one from the top, and how much each map
still resembles the trained model's (rank correlation). A map that survives the randomisation
explains the input, not the model. Writes PNGs and metrics.json into the output folder.
"""
import textwrap
import time

import numpy as np
from scipy import stats
from sklearn import datasets as sk_datasets
from tqdm import tqdm

from reference.projects.ensembles import boosting as ref_boosting
from reference.projects.ensembles import forest as ref_forest
from reference.projects.explain import treeshap as ref_treeshap
from scratch import nn, training
from scratch.plumbing import TrainingConfig
from scratch.projects.cnn import model as scratch_cnn
from scratch.projects.cnn.config import CONFIGS as CNN_CONFIGS
from scratch.projects.ensembles import boosting as scr_boosting
from scratch.projects.ensembles import forest as scr_forest
from scratch.projects.explain import attribution, lime_image, lime_tabular, lime_text, shapley, treeshap
from scratch.projects.mlp.model import MLP
from twins import plots
from twins.demos.common import run_datasets, save_report, tuned_config

TABLES = {"breast-cancer": sk_datasets.load_breast_cancer, "diabetes": sk_datasets.load_diabetes}
IMAGE_SIZE = {"digits": 8, "fashion-mnist": 28}
TEXTS = {"reuters-r8"}
SETTINGS = {"quick": {"n_estimators": 10, "n_explain": 20, "n_background": 15, "mlp_epochs": 40, "kernel_nsamples": 200,
                      "permutations": 5, "ig_steps": 20, "lime_rows": 5, "lime_samples": 500, "n_images": 4, "text_documents": 2,
                      "cnn_epochs": 2, "smoothgrad_samples": 10},
            "full": {"n_estimators": 100, "n_explain": 150, "n_background": 50, "mlp_epochs": 300, "kernel_nsamples": 2048,
                     "permutations": 50, "ig_steps": 50, "lime_rows": 30, "lime_samples": 5000, "n_images": 8, "text_documents": 4,
                     "cnn_epochs": None, "smoothgrad_samples": 30}}


def split(X, y, seed=0, test_fraction=0.3):
    order = np.random.default_rng(seed).permutation(len(y))
    cut = int(len(y) * (1 - test_fraction))
    return X[order[:cut]], y[order[:cut]], X[order[cut:]], y[order[cut:]]


def softmax(logits):
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def train_mlp(X, y, regression, epochs):
    """Project 2's MLP on standardised features: cross-entropy, or MSE with one output for regression."""
    model = MLP(X.shape[1], [32, 16], 1 if regression else 2, activation="tanh", dtype=np.float64,
                rng=np.random.default_rng(0))
    cut = int(0.85 * len(X))
    target = y.reshape(-1, 1) if regression else y
    config = TrainingConfig(lr=3e-3, batch_size=32, num_epochs=epochs, patience=max(10, epochs // 5))
    training.fit(model, X[:cut], target[:cut], X[cut:], target[cut:], config,
                 criterion=nn.MSELoss() if regression else None)
    model.eval()
    return model


def explain_table(name, out_dir, settings, progress):
    bunch = TABLES[name]()
    regression = name == "diabetes"
    names = [str(n) for n in bunch.feature_names]
    X, y, X_test, y_test = split(bunch.data, bunch.target.astype(np.float64) if regression else bunch.target)
    mean, std = X.mean(axis=0), X.std(axis=0)
    X, X_test = (X - mean) / std, (X_test - mean) / std  # the MLP's scale; trees do not care
    y_scale = (y.mean(), y.std()) if regression else (0.0, 1.0)
    rng = np.random.default_rng(0)
    background = X[rng.choice(len(X), settings["n_background"], replace=False)]
    rows = X_test[:settings["n_explain"]]
    kind = "RandomForestRegressor" if regression else "RandomForestClassifier"
    params = {"n_estimators": settings["n_estimators"], "min_samples_leaf": 3, "random_state": 0}
    forest = getattr(scr_forest, kind)(**params).fit(X, y)
    twin = getattr(ref_forest, kind)(**params).fit(X, y)
    boosting_kind = "GradientBoostingRegressor" if regression else "GradientBoostingClassifier"
    boosting_params = {"n_estimators": settings["n_estimators"], "max_depth": 3, "random_state": 0}
    boosting = getattr(scr_boosting, boosting_kind)(**boosting_params).fit(X, y)
    boosting_twin = getattr(ref_boosting, boosting_kind)(**boosting_params).fit(X, y)
    f_boosting = boosting.predict if regression else boosting.decision_function  # raw output: log-odds
    mlp = train_mlp(X, (y - y_scale[0]) / y_scale[1] if regression else y, regression, settings["mlp_epochs"])
    f_forest = forest.predict if regression else (lambda Z: forest.predict_proba(Z)[:, 1])
    f_mlp = (lambda Z: mlp(Z)[:, 0] * y_scale[1] + y_scale[0]) if regression else (lambda Z: softmax(mlp(Z))[:, 1])
    report = {"features": X.shape[1], "explained_rows": len(rows), "background_rows": len(background),
              "task": "regression" if regression else "classification", "settings": settings,
              "forest_score": forest.score(X_test, y_test), "boosting_score": boosting.score(X_test, y_test)}
    report["mlp_score"] = (float(1 - np.mean((f_mlp(X_test) - y_test) ** 2) / np.var(y_test)) if regression
                           else float(np.mean((f_mlp(X_test) > 0.5) == y_test)))
    column = (lambda phi: phi) if regression else (lambda phi: phi[..., 1])  # a classifier's class-1 values
    phis, timings = {}, {}

    def timed(label, compute):
        start = time.perf_counter()
        phis[label] = compute()
        timings[label] = time.perf_counter() - start

    steps = [("forest TreeSHAP path-dependent", lambda: column(treeshap.TreeExplainer(forest).shap_values(rows))),
             ("forest TreeSHAP interventional",
              lambda: column(treeshap.TreeExplainer(forest, background).shap_values(rows))),
             ("boosting TreeSHAP path-dependent", lambda: treeshap.TreeExplainer(boosting).shap_values(rows)),
             ("boosting TreeSHAP interventional", lambda: treeshap.TreeExplainer(boosting, background).shap_values(rows)),
             ("forest KernelSHAP", lambda: shapley.KernelExplainer(f_forest, background).shap_values(
                 rows, settings["kernel_nsamples"], np.random.default_rng(0))),
             ("MLP KernelSHAP", lambda: shapley.KernelExplainer(f_mlp, background).shap_values(
                 rows, settings["kernel_nsamples"], np.random.default_rng(0))),
             ("MLP permutation", lambda: shapley.PermutationExplainer(f_mlp, background).shap_values(
                 rows, settings["permutations"], np.random.default_rng(0))),
             ("MLP integrated gradients", lambda: attribution.IntegratedGradients(mlp).attribute(
                 rows, background.mean(axis=0), target=0 if regression else 1, n_steps=settings["ig_steps"])),
             ("MLP gradient x input", lambda: attribution.InputXGradient(mlp).attribute(
                 rows - background.mean(axis=0), target=0 if regression else 1))]
    for label, compute in tqdm(steps, desc=f"{name}: explainers", disable=not progress):
        timed(label, compute)
    start = time.perf_counter()
    shap_phi = column(ref_treeshap.TreeExplainer(twin).shap_values(rows))
    report["shap_tree_path_dependent"] = {"max_abs_difference": float(np.abs(shap_phi - phis[steps[0][0]]).max()),
                                          "scratch_seconds": timings[steps[0][0]],
                                          "shap_seconds": time.perf_counter() - start}
    start = time.perf_counter()
    shap_phi = ref_treeshap.TreeExplainer(boosting_twin).shap_values(rows)
    label = "boosting TreeSHAP path-dependent"
    f_twin = boosting_twin.predict if regression else boosting_twin.decision_function
    report["shap_tree_boosting"] = {"max_abs_difference": float(np.abs(shap_phi - phis[label]).max()),
                                    "scratch_seconds": timings[label], "shap_seconds": time.perf_counter() - start,
                                    # the twins' trees part where tied values meet introsort (project 14's README):
                                    # their Shapley values can only agree as far as the models themselves do
                                    "max_abs_model_difference": float(np.abs(f_boosting(rows) - f_twin(rows)).max())}
    lime = lime_tabular.LimeTabularExplainer(X, mode="regression" if regression else "classification",
                                             feature_names=names, random_state=0)
    for label, f in (("forest LIME", f_forest), ("MLP LIME", f_mlp)):
        predict = f if regression else (lambda Z, f=f: np.column_stack([1 - f(Z), f(Z)]))
        start = time.perf_counter()
        weights = np.zeros((settings["lime_rows"], X.shape[1]))
        for i, row in enumerate(rows[:settings["lime_rows"]]):  # LIME fits one local model per row
            explanation = lime.explain_instance(row, predict, num_features=X.shape[1],
                                                num_samples=settings["lime_samples"])
            local = dict(explanation.local_exp[1])
            weights[i] = [local.get(j, 0.0) for j in range(X.shape[1])]
        phis[label], timings[label] = weights, time.perf_counter() - start
        if label == "forest LIME":
            lime_bars(explanation, names, out_dir / f"{name}_lime.png", f"{name}: LIME weights of a test row (forest)")
    report["seconds"] = timings
    importance = {label: np.abs(phi).mean(axis=0) for label, phi in phis.items()}
    labels = list(importance)
    rho = np.array([[stats.spearmanr(importance[a], importance[b])[0] for b in labels] for a in labels])
    report["rank_agreement"] = {a: dict(zip(labels, map(float, row))) for a, row in zip(labels, rho)}
    report["top_features"] = {label: [names[j] for j in np.argsort(-imp)[:5]] for label, imp in importance.items()}
    plots.heatmaps({"Spearman rho": rho}, labels, [label.replace(" ", "\n", 1) for label in labels],
                   out_dir / f"{name}_agreement.png", f"{name}: do the explainers rank the features alike?",
                   "method", "method", "rank correlation of mean |attribution|")
    outputs = {"forest": f_forest, "boosting": f_boosting, "MLP": f_mlp}
    expected = {model_name: float(np.mean(f(background))) for model_name, f in outputs.items()}
    for model_name, label in (("forest", "forest TreeSHAP interventional"),
                              ("boosting", "boosting TreeSHAP interventional"), ("MLP", "MLP KernelSHAP")):
        phi = phis[label]
        stem = out_dir / f"{name}_{model_name.lower()}"
        waterfall(phi[0], expected[model_name], rows[0], names, f"{stem}_waterfall.png", f"{name}, {label}: one test row")
        beeswarm(phi, rows, names, f"{stem}_beeswarm.png", f"{name}, {label}")
        bar(np.abs(phi).mean(axis=0), names, f"{stem}_bar.png", f"{name}, {label}: mean |phi|")
        top = int(np.argmax(np.abs(phi).mean(axis=0)))
        dependence(phi[:, top], rows[:, top], names[top], f"{stem}_dependence.png", f"{name}, {label}")
        report[f"{model_name.lower()}_efficiency_gap"] = float(np.abs(phi.sum(axis=1) + expected[model_name]
                                                               - outputs[model_name](rows)).max())
    return report


# --- plots -------------------------------------------------------------------------------------

def _top(values, names, count=12):
    order = np.argsort(-np.abs(values))[:count][::-1]
    return order, [names[j] for j in order]


def waterfall(phi, expected, row, names, path, title):
    """From E f up to f(x): each feature's push, largest last, the rest summed in one bar."""
    order, labels = _top(phi, names, 10)
    rest = phi.sum() - phi[order].sum()
    pushes = np.concatenate([[rest], phi[order]])
    labels = [f"{len(phi) - len(order)} other features"] + [f"{n} = {row[j]:.2f}" for n, j in zip(labels, order)]
    starts = expected + np.concatenate([[0.0], np.cumsum(pushes)[:-1]])
    fig, ax = plots.plt.subplots(figsize=(7.5, 0.4 * len(pushes) + 1.5))
    ax.barh(range(len(pushes)), pushes, left=starts, color=np.where(pushes > 0, "tab:red", "tab:blue"))
    ax.set_yticks(range(len(pushes)), labels, fontsize=8)
    ax.axvline(expected, color="gray", linestyle=":", label=f"E f = {expected:.3f}")
    ax.axvline(expected + phi.sum(), color="black", linestyle="--", label=f"f(x) = {expected + phi.sum():.3f}")
    ax.set(xlabel="model output", title=title)
    ax.legend(fontsize=8)
    return plots._save(fig, path)


def beeswarm(phi, X, names, path, title, count=12):
    """Every explained row's phi per feature (jittered vertically), coloured by the feature's value."""
    order, labels = _top(np.abs(phi).mean(axis=0), names, count)
    fig, ax = plots.plt.subplots(figsize=(7.5, 0.35 * len(order) + 1.5))
    jitter = np.random.default_rng(0).uniform(-0.25, 0.25, len(phi))
    for k, j in enumerate(order):
        ranks = stats.rankdata(X[:, j]) / len(X)
        points = ax.scatter(phi[:, j], k + jitter, c=ranks, cmap="coolwarm", s=9, vmin=0, vmax=1)
    ax.set_yticks(range(len(order)), labels, fontsize=8)
    ax.axvline(0, color="gray", linewidth=0.8)
    ax.set(xlabel="Shapley value (effect on the output)", title=title)
    fig.colorbar(points, ax=ax, label="feature value (rank: low to high)")
    return plots._save(fig, path)


def bar(importance, names, path, title):
    order, labels = _top(importance, names, 15)
    fig, ax = plots.plt.subplots(figsize=(7, 0.35 * len(order) + 1.5))
    ax.barh(range(len(order)), importance[order], color="tab:blue")
    ax.set_yticks(range(len(order)), labels, fontsize=8)
    ax.set(xlabel="mean |attribution|", title=title)
    return plots._save(fig, path)


def dependence(phi, values, name, path, title):
    fig, ax = plots.plt.subplots(figsize=(6, 4))
    ax.scatter(values, phi, s=12, color="tab:purple")
    ax.axhline(0, color="gray", linewidth=0.8)
    ax.set(xlabel=f"{name} (standardised)", ylabel=f"phi of {name}", title=title)
    return plots._save(fig, path)


def lime_bars(explanation, names, path, title):
    label = next(iter(explanation.local_exp))
    pairs = sorted(explanation.local_exp[label], key=lambda pair: abs(pair[1]))[-10:]
    fig, ax = plots.plt.subplots(figsize=(7, 0.4 * len(pairs) + 1.5))
    weights = np.array([w for _, w in pairs])
    ax.barh(range(len(pairs)), weights, color=np.where(weights > 0, "tab:green", "tab:red"))
    ax.set_yticks(range(len(pairs)), [explanation.domain_names[j] for j, _ in pairs], fontsize=8)
    ax.set(xlabel="weight in the local ridge model", title=f"{title} (R^2 {explanation.score:.2f})")
    return plots._save(fig, path)


def map_grid(images, maps, path, title):
    """Rows: images; columns: the image, then each method's |attribution| map."""
    columns = ["image"] + list(maps)
    fig, axes = plots.plt.subplots(len(images), len(columns), figsize=(1.8 * len(columns), 1.8 * len(images)),
                                   squeeze=False)
    for i, image in enumerate(images):
        for k, column in enumerate(columns):
            ax = axes[i, k]
            ax.imshow(image[0] if column == "image" else np.abs(maps[column][i]).sum(axis=0),
                      cmap="gray" if column == "image" else "inferno")
            ax.set_axis_off()
            if i == 0:
                ax.set_title(column, fontsize=8)
    fig.suptitle(title)
    return plots._save(fig, path)


# --- text --------------------------------------------------------------------------------------

def explain_text(name, out_dir, settings, progress):
    """Project 3's TF-IDF + logistic regression on Reuters R8, and LIME's word weights for test documents."""
    from scratch.datasets.text import load_text_corpus
    from scratch.projects.nlp.linear_models import LogisticRegression
    from scratch.text import TfidfVectorizer

    texts, y, classes = load_text_corpus(name, "train")
    test_texts, y_test, _ = load_text_corpus(name, "test")
    if settings["quick"]:
        texts, y = texts[:1500], y[:1500]
    vectorizer = TfidfVectorizer(max_features=5000, sublinear_tf=True)
    classifier = LogisticRegression(C=10.0, max_iter=200).fit(vectorizer.fit_transform(texts), y)
    accuracy = classifier.score(vectorizer.transform(test_texts), y_test)

    def classify(documents):
        return classifier.predict_proba(vectorizer.transform(documents))
    lime = lime_text.LimeTextExplainer(random_state=0)
    report = {"classifier": "TF-IDF (5000 terms) + logistic regression (Project 3)", "test_accuracy": accuracy,
              "documents": {}}
    fig, axes = plots.plt.subplots(1, settings["text_documents"], figsize=(4.2 * settings["text_documents"], 4))
    for ax, (text, label) in tqdm(zip(np.atleast_1d(axes), zip(test_texts, y_test)), total=settings["text_documents"],
                                  desc=f"{name}: LIME", disable=not progress):
        predicted = int(np.argmax(classify([text])[0]))
        explanation = lime.explain_instance(" ".join(text.split()[:60]), classify, labels=(predicted,),
                                            num_features=8, num_samples=settings["lime_samples"])
        pairs = explanation.as_list(predicted)[::-1]
        weights = np.array([w for _, w in pairs])
        ax.barh(range(len(pairs)), weights, color=np.where(weights > 0, "tab:green", "tab:red"))
        ax.set_yticks(range(len(pairs)), [word for word, _ in pairs], fontsize=8)
        ax.set_title(f"true {classes[label]}, predicted {classes[predicted]}", fontsize=9)
        report["documents"][text[:60]] = {"true": classes[label], "predicted": classes[predicted],
                                          "words": dict(explanation.as_list(predicted)), "score": explanation.score}
    fig.suptitle(f"{name}: LIME word weights for the predicted topic (first 60 words of each document)")
    plots._save(fig, out_dir / f"{name}_lime_words.png")
    return report


# --- images ------------------------------------------------------------------------------------

def explain_images(name, out_dir, settings, progress):
    from twins.demos.cnn import image_splits  # the CNN demo's standardised splits

    config = tuned_config(CNN_CONFIGS, name, settings["cnn_epochs"], quick=settings["quick"])
    (X, y, X_val, y_val, X_test, y_test), (mean, std) = image_splits(name, config.seed, quick=settings["quick"])
    model = scratch_cnn.CNN(1, 10, IMAGE_SIZE[name], **{**config.architecture(), "dropout": 0.0},
                            dtype=np.float32, rng=np.random.default_rng(config.seed))
    training.fit(model, X, y, X_val, y_val, config, progress=progress)
    model.eval()
    accuracy = float(np.mean(training.predict(model, X_test) == y_test))
    images, labels = X_test[:settings["n_images"]], y_test[:settings["n_images"]]
    baseline = np.full_like(images, -mean / std)  # a black image, standardised

    def maps(net):
        return {"saliency": attribution.Saliency(net).attribute(images, target=labels),
                "SmoothGrad": attribution.NoiseTunnel(attribution.Saliency(net)).attribute(
                    images, nt_samples=settings["smoothgrad_samples"], stdevs=0.15 * float(np.ptp(images)),
                    rng=np.random.default_rng(0), target=labels),
                "integrated gradients": attribution.IntegratedGradients(net).attribute(
                    images, baseline, target=labels, n_steps=settings["ig_steps"]),
                "gradient x input": attribution.InputXGradient(net).attribute(images - baseline, target=labels)}
    trained = maps(model)
    map_grid(images, trained, out_dir / f"{name}_attribution_maps.png", f"{name}: what the CNN looks at (true class)")
    _, delta = attribution.IntegratedGradients(model).attribute(images, baseline, target=labels,
                                                                n_steps=settings["ig_steps"], return_convergence_delta=True)
    report = {"test_accuracy": accuracy, "images": len(images),
              "ig_completeness_gap": float(np.abs(delta).max())}
    report["lime_superpixels"] = lime_superpixels(model, images, labels, settings, out_dir, name)
    report["sanity_check"] = cascading_randomisation(model, trained, maps, out_dir, name, progress)
    return report


def lime_superpixels(model, images, labels, settings, out_dir, name):
    """LIME on square superpixels (2x2 on digits, 4x4 on Fashion-MNIST), each hidden by its mean:
    the weight of each superpixel for the true class, drawn over the image."""
    def classify(batch):  # lime's (N, H, W, 3) copies back to the CNN's (N, 1, H, W)
        return softmax(model(batch[..., :1].transpose(0, 3, 1, 2).astype(np.float32)).astype(np.float64))
    block = 2 if images.shape[-1] <= 8 else 4
    lime = lime_image.LimeImageExplainer(random_state=0)
    fig, axes = plots.plt.subplots(1, len(images), figsize=(2.2 * len(images), 2.6), squeeze=False)
    scores = []
    for ax, image, label in zip(axes[0], images, labels):
        explanation = lime.explain_instance(image[0], classify, labels=(int(label),), top_labels=None,
                                            num_samples=settings["lime_samples"],
                                            segmentation_fn=lambda im: lime_image.grid_segments(im, block))
        weight = np.zeros(explanation.segments.max() + 1)
        for s, w in explanation.local_exp[int(label)]:
            weight[s] = w
        limit = np.abs(weight).max() or 1.0
        ax.imshow(image[0], cmap="gray")
        ax.imshow(weight[explanation.segments], cmap="RdBu_r", alpha=0.55, vmin=-limit, vmax=limit)
        ax.set_title(f"class {int(label)} (R^2 {explanation.score:.2f})", fontsize=8)
        ax.set_axis_off()
        scores.append(explanation.score)
    fig.suptitle(f"{name}: LIME superpixels ({block}x{block}), red for the true class")
    plots._save(fig, out_dir / f"{name}_lime_superpixels.png")
    return {"block": block, "local_r2": [float(v) for v in scores]}


def reinitialise(layer, rng):
    """A Linear or Conv2d drawn anew as at initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and
    bias; a normalisation layer's scale and shift back to 1 and 0."""
    weight, bias = layer.weight.data, None if layer.bias is None else layer.bias.data
    if weight.ndim == 1:
        weight[...] = 1.0
        if bias is not None:
            bias[...] = 0.0
        return
    bound = 1.0 / np.sqrt(weight[0].size)  # fan_in: inputs (times the kernel's cells) per output
    weight[...] = rng.uniform(-bound, bound, weight.shape)
    if bias is not None:
        bias[...] = rng.uniform(-bound, bound, bias.shape)


def cascading_randomisation(model, trained, maps, out_dir, name, progress):
    """Adebayo et al. (2018): re-initialise the layers from the output down, one more each step, and
    measure each map's Spearman rank correlation with the trained model's (mean over images). A layer is
    put back to a fresh layer's state: weights and biases drawn as at initialisation (uniform within
    1/sqrt(fan_in)), a batch norm's scale and shift back to 1 and 0. A map that has become constant (no
    gradient reaches the input) has no ranks: its correlation is NaN in the report."""
    layers = [m for m in (list(model.features) + list(model.classifier))[::-1] if hasattr(m, "weight")]  # output first
    rng = np.random.default_rng(1)
    names, curves = ["trained"], {method: [1.0] for method in trained}
    for layer in tqdm(layers, desc=f"{name}: randomising layers", disable=not progress):
        reinitialise(layer, rng)
        now = maps(model)
        names.append(type(layer).__name__ + f" {len(names)}")
        for method in trained:
            rho = [stats.spearmanr(np.abs(a).ravel(), np.abs(b).ravel())[0] for a, b in zip(trained[method], now[method])]
            curves[method].append(float(np.nanmean(rho)))
    steps = list(range(len(names)))
    order = textwrap.fill(" > ".join(names[1:]), 70)
    plots.curves({method: (steps, values) for method, values in curves.items()}, out_dir / f"{name}_sanity_check.png",
                 f"{name}: cascading randomisation (Adebayo et al. 2018)",
                 f"layers re-initialised, from the output down:\n{order}", "rank correlation with the trained map")
    return {"layers": names, "rank_correlation": curves}


def run(out_dir, dataset_names=("breast-cancer",), num_epochs=None, study=False, compare_sklearn=True, progress=True,
        quick=False):
    """``num_epochs`` sets the CNN's epochs; ``study`` and ``compare_sklearn`` are accepted for the
    command line's sake. ``quick``: fewer rows, trees, coalitions and epochs."""
    settings = dict(SETTINGS["quick" if quick else "full"], quick=quick)
    if num_epochs is not None:
        settings["cnn_epochs"] = num_epochs
    if quick and "breast-cancer" in dataset_names and "digits" not in dataset_names:
        dataset_names = tuple(dataset_names) + ("digits",)  # the quick run shows the image explainers too

    def run_dataset(name, out):
        explain = explain_images if name in IMAGE_SIZE else explain_text if name in TEXTS else explain_table
        return explain(name, out, settings, progress)
    out_dir, report = run_datasets(out_dir, dataset_names, run_dataset)
    return save_report(out_dir, report)


def summary(report):
    lines = []
    for name, result in report.items():
        if "documents" in result:
            lines.append(f"{name}: {result['classifier']}, test accuracy {result['test_accuracy']:.3f}")
            for document in result["documents"].values():
                top = ", ".join(f"{w} {v:+.2f}" for w, v in list(document["words"].items())[:4])
                lines.append(f"  {document['true']} -> {document['predicted']}: {top}")
            continue
        if "sanity_check" in result:
            check = result["sanity_check"]["rank_correlation"]
            lines.append(f"{name}: CNN test accuracy {result['test_accuracy']:.3f}; IG completeness gap "
                         f"{result['ig_completeness_gap']:.2e}")
            lines.append("  sanity check, rank correlation after randomising every layer: "
                         + ", ".join(f"{method} {values[-1]:.2f}" for method, values in check.items()))
            continue
        tree = result["shap_tree_path_dependent"]
        lines.append(f"{name}: forest {result['forest_score']:.3f}, boosting {result['boosting_score']:.3f}, "
                     f"MLP {result['mlp_score']:.3f} "
                     f"({'R^2' if result['task'] == 'regression' else 'accuracy'}); {result['explained_rows']} rows explained")
        lines.append(f"  TreeSHAP vs shap: max |diff| {tree['max_abs_difference']:.1e}, scratch "
                     f"{tree['scratch_seconds']:.3f}s, shap {tree['shap_seconds']:.3f}s")
        boost = result["shap_tree_boosting"]
        lines.append(f"  boosting TreeSHAP (raw output) vs shap: max |diff| {boost['max_abs_difference']:.1e} (the models "
                     f"themselves: {boost['max_abs_model_difference']:.1e}), scratch "
                     f"{boost['scratch_seconds']:.3f}s, shap {boost['shap_seconds']:.3f}s")
        agreement = result["rank_agreement"]
        lines.append("  rank agreement with forest TreeSHAP interventional: " + ", ".join(
            f"{label} {rho:.2f}" for label, rho in agreement["forest TreeSHAP interventional"].items()))
        lines.append("  seconds: " + ", ".join(f"{label} {s:.2f}" for label, s in result["seconds"].items()))
    return "\n".join(lines)
