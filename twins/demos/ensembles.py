"""Project 14 demo: trees, bagging and forests from scratch against scikit-learn's, on
scikit-learn's bundled tables (breast cancer, wine, digits; diabetes for regression), and the
histogram GBM on Fashion-MNIST as a 70,000 x 784 table (``--dataset fashion-mnist``).

For each data set (a 70/30 split, seed 0): every model fitted by both twins with the same
seed; a table of accuracy, log loss and ROC-AUC (R^2 and RMSE for regression), fit and predict
time, and whether the twins' trees are identical node for node. Then the lesson of ensembles:
the bias-variance decomposition of one deep tree, bagging and a forest over repeated bootstrap
fits (variance falls, bias stays); the out-of-bag error against the number of trees; MDI
against permutation importance; one shallow tree drawn; gradient boosting's staged test loss at
several learning rates, both twins; the histogram GBM beside LightGBM and XGBoost; a stacking classifier (or regressor) over the tree, forest and
boosting members with its meta-learner's weights. Writes PNGs and metrics.json into the output folder.
"""
import time
import warnings

import numpy as np
from sklearn import datasets, metrics
from tqdm import tqdm

from reference.projects.ensembles import adaboost as ref_adaboost
from reference.projects.ensembles import boosting as ref_boosting
from reference.projects.ensembles import forest as ref_forest
from reference.projects.ensembles import hist as ref_hist
from reference.projects.ensembles import inspection as ref_inspection
from reference.projects.ensembles import stacking as ref_stacking
from reference.projects.ensembles import tree as ref_tree
from scratch.projects.ensembles import adaboost as scr_adaboost
from scratch.projects.ensembles import boosting as scr_boosting
from scratch.projects.ensembles import forest as scr_forest
from scratch.projects.ensembles import hist as scr_hist
from scratch.projects.ensembles import inspection as scr_inspection
from scratch.projects.ensembles import stacking as scr_stacking
from scratch.projects.ensembles import tree as scr_tree
from twins import plots
from twins.demos.common import run_datasets, save_report

LOADERS = {"breast-cancer": datasets.load_breast_cancer, "wine": datasets.load_wine, "digits": datasets.load_digits,
           "diabetes": datasets.load_diabetes}
REGRESSION = {"diabetes"}
SETTINGS = {"full": {"n_estimators": 100, "repeats": 20, "oob_sizes": (5, 10, 20, 50, 100, 200), "stages": 200},
            "quick": {"n_estimators": 8, "repeats": 3, "oob_sizes": (2, 4, 8), "stages": 20}}
LEARNING_RATES = (0.05, 0.2, 1.0)
FASHION_SIZES = {False: (60000, 10000, 100), True: (2000, 500, 3)}  # by quick: training rows, test rows, max_iter
NODE_ARRAYS = ("children_left", "children_right", "feature", "threshold", "value", "impurity")


def split(X, y, seed=0, test_fraction=0.3):
    order = np.random.default_rng(seed).permutation(len(y))
    cut = int(len(y) * (1 - test_fraction))
    return X[order[:cut]], y[order[:cut]], X[order[cut:]], y[order[cut:]]


def models(regression, n_estimators):
    """label -> (scratch class, reference class, constructor arguments)."""
    if regression:
        return {"decision tree": ("DecisionTreeRegressor", {}),
                "bagging": ("BaggingRegressor", {"n_estimators": n_estimators}),
                "random forest": ("RandomForestRegressor", {"n_estimators": n_estimators, "max_features": 0.33}),
                "gradient boosting": ("GradientBoostingRegressor", {"n_estimators": n_estimators}),
                "AdaBoost.R2": ("AdaBoostRegressor", {"n_estimators": n_estimators}),
                "histogram GBM": ("HistGradientBoostingRegressor", {"max_iter": n_estimators})}
    return {"decision tree": ("DecisionTreeClassifier", {}),
            "bagging": ("BaggingClassifier", {"n_estimators": n_estimators}),
            "random forest": ("RandomForestClassifier", {"n_estimators": n_estimators}),
            "extra trees": ("ExtraTreesClassifier", {"n_estimators": n_estimators}),
            "gradient boosting": ("GradientBoostingClassifier", {"n_estimators": n_estimators}),
            "AdaBoost (SAMME)": ("AdaBoostClassifier", {"n_estimators": n_estimators}),
            "histogram GBM": ("HistGradientBoostingClassifier", {"max_iter": n_estimators})}


MODULES = {"scratch": (scr_tree, scr_forest, scr_boosting, scr_adaboost, scr_hist),
           "sklearn": (ref_tree, ref_forest, ref_boosting, ref_adaboost, ref_hist)}


def peers(regression, n_estimators, seed=0):
    """What users pick in practice beside the histogram GBM, set as scikit-learn's defaults are: LightGBM and
    XGBoost (hist, leaf-wise to 31 leaves), learning rate 0.1, 255 bins, 20 rows per leaf, no L2 penalty."""
    import lightgbm
    import xgboost

    common = {"n_estimators": n_estimators, "learning_rate": 0.1, "random_state": seed, "n_jobs": 1}
    lgbm = {"num_leaves": 31, "min_child_samples": 20, "reg_lambda": 0.0, "max_bin": 255, "verbose": -1}
    xgb = {"tree_method": "hist", "grow_policy": "lossguide", "max_leaves": 31, "max_depth": 0, "max_bin": 256,
           "reg_lambda": 0.0}
    if regression:
        return {"LightGBM": lightgbm.LGBMRegressor(**common, **lgbm), "XGBoost": xgboost.XGBRegressor(**common, **xgb)}
    return {"LightGBM": lightgbm.LGBMClassifier(**common, **lgbm), "XGBoost": xgboost.XGBClassifier(**common, **xgb)}


def make(side, kind, params, seed=0):
    module = next(module for module in MODULES[side] if hasattr(module, kind))
    return getattr(module, kind)(random_state=seed, **params)


def scores(model, X_test, y_test, regression):
    start = time.perf_counter()
    y_hat = model.predict(X_test)
    row = {"predict_seconds": time.perf_counter() - start}
    if regression:
        row |= {"r2": float(metrics.r2_score(y_test, y_hat)),
                "rmse": float(np.sqrt(metrics.mean_squared_error(y_test, y_hat)))}
        return row, y_hat
    proba = model.predict_proba(X_test)
    labels = np.arange(proba.shape[1])
    auc = (metrics.roc_auc_score(y_test, proba[:, 1]) if proba.shape[1] == 2
           else metrics.roc_auc_score(y_test, proba, multi_class="ovr", labels=labels))
    row |= {"accuracy": float(metrics.accuracy_score(y_test, y_hat)),
            "log_loss": float(metrics.log_loss(y_test, np.clip(proba, 1e-15, 1.0), labels=labels)),
            "roc_auc": float(auc)}
    return row, proba


def fit_and_score(model, X, y, X_test, y_test, regression):
    """Fit ``model``, then ``scores`` on the test rows with the fit's seconds added: (row, outputs)."""
    start = time.perf_counter()
    model.fit(X, y)
    fit_seconds = time.perf_counter() - start
    row, output = scores(model, X_test, y_test, regression)
    return {**row, "fit_seconds": fit_seconds}, output


def trees_of(model):
    return list(np.ravel(model.estimators_)) if hasattr(model, "estimators_") else [model]


def identical_trees(a, b):
    """"k/n" trees equal node for node; "-" for models without scikit-learn's node arrays (the histogram GBM's
    predictors)."""
    if not all(hasattr(tree, "tree_") for tree in trees_of(a) + trees_of(b)):
        return "-"
    same = [all(np.array_equal(getattr(s.tree_, k), getattr(r.tree_, k)) for k in NODE_ARRAYS)
            for s, r in zip(trees_of(a), trees_of(b))]
    return f"{sum(same)}/{len(same)}"


def compare_models(name, splits, regression, settings, progress):
    X, y, X_test, y_test = splits
    table = {}
    for label, (kind, params) in tqdm(models(regression, settings["n_estimators"]).items(), desc=f"{name}: models",
                                      disable=not progress):
        row = {}
        fitted = {}
        for side in ("scratch", "sklearn"):
            model = make(side, kind, params)
            row[side], output = fit_and_score(model, X, y, X_test, y_test, regression)
            fitted[side] = (model, output)
        row["identical_outputs"] = bool(np.array_equal(fitted["scratch"][1], fitted["sklearn"][1]))
        row["identical_trees"] = identical_trees(fitted["scratch"][0], fitted["sklearn"][0])
        if label == "histogram GBM":
            for peer, model in peers(regression, settings["n_estimators"]).items():
                row[peer], _ = fit_and_score(model, X, y, X_test, y_test, regression)
        table[label] = row
    return table


def bias_variance(name, splits, regression, settings, out_dir, progress):
    """Squared-error decomposition over ``repeats`` fits, each on a bootstrap of the training rows.

    Regression: bias^2 = mean over test rows of (mean prediction - y)^2 (noise included), variance =
    mean over rows of the predictions' variance across fits. Classification: the same on predicted
    class probabilities against one-hot labels (the Brier score's decomposition).
    """
    X, y, X_test, y_test = splits
    rng = np.random.default_rng(1)
    kinds = models(regression, settings["n_estimators"])
    results = {}
    for label in ("decision tree", "bagging", "random forest"):
        kind, params = kinds[label]
        outputs = []
        for repeat in tqdm(range(settings["repeats"]), desc=f"{name}: bias-variance, {label}", disable=not progress):
            rows = rng.integers(0, len(y), len(y))
            model = make("scratch", kind, params, seed=repeat).fit(X[rows], y[rows])
            outputs.append(model.predict(X_test) if regression else model.predict_proba(X_test))
        outputs = np.array(outputs)  # (repeats, n_test) or (repeats, n_test, K)
        target = y_test if regression else np.eye(outputs.shape[2])[y_test]
        mean = outputs.mean(axis=0)
        squared_bias = np.sum((mean - target) ** 2, axis=-1) if not regression else (mean - target) ** 2
        variance = outputs.var(axis=0) if regression else outputs.var(axis=0).sum(axis=-1)
        results[label] = {"bias2": float(squared_bias.mean()), "variance": float(variance.mean())}
    _bias_variance_plot(results, out_dir / f"{name}_bias_variance.png",
                        f"{name}: bias-variance over {settings['repeats']} bootstrap fits "
                        f"({'squared error' if regression else 'Brier score'})")
    return results


def _bias_variance_plot(results, path, title):
    import matplotlib.pyplot as plt

    labels = list(results)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    bias, variance = [results[k]["bias2"] for k in labels], [results[k]["variance"] for k in labels]
    ax.bar(labels, bias, label="bias$^2$ (+ noise)", color="tab:blue")
    ax.bar(labels, variance, bottom=bias, label="variance", color="tab:orange")
    ax.set(ylabel="expected loss on the test rows", title=title)
    ax.legend()
    ax.grid(alpha=0.3, axis="y")
    return plots._save(fig, path)


def oob_curve(name, splits, regression, settings, out_dir, progress):
    """Out-of-bag error (1 - accuracy, or 1 - R^2) of a random forest against its number of trees, both twins."""
    X, y, _, _ = splits
    kind = "RandomForestRegressor" if regression else "RandomForestClassifier"
    sizes = settings["oob_sizes"]
    curves = {}
    for side in ("scratch", "sklearn"):
        errors = []
        for n in tqdm(sizes, desc=f"{name}: OOB error, {side}", disable=not progress):
            with warnings.catch_warnings():  # a few trees leave some rows never out of bag: both twins say so
                warnings.simplefilter("ignore", UserWarning)
                errors.append(1.0 - make(side, kind, {"n_estimators": n, "oob_score": True}).fit(X, y).oob_score_)
        curves[f"{side} random forest"] = (list(sizes), errors)
    plots.curves(curves, out_dir / f"{name}_oob_error.png", f"{name}: out-of-bag error of a random forest",
                 "n_estimators", "OOB error (1 - R$^2$)" if regression else "OOB error (1 - accuracy)", logx=True)
    return {side: dict(zip(map(str, x), e)) for side, (x, e) in curves.items()}


def importances(name, splits, regression, settings, feature_names, out_dir):
    """MDI (from the training tree) against permutation importance (on the test rows) of a random forest,
    both twins; the ten features of largest permutation importance are drawn."""
    import matplotlib.pyplot as plt

    X, y, X_test, y_test = splits
    kind, params = models(regression, settings["n_estimators"])["random forest"]
    result = {}
    for side, inspection in (("scratch", scr_inspection), ("sklearn", ref_inspection)):
        model = make(side, kind, params).fit(X, y)
        permuted = inspection.permutation_importance(model, X_test, y_test, n_repeats=settings["repeats"],
                                                     random_state=0)
        result[side] = {"mdi": model.feature_importances_.tolist(), "permutation": permuted.importances_mean.tolist(),
                        "permutation_std": permuted.importances_std.tolist()}
    result["identical"] = result["scratch"] == result["sklearn"]
    top = np.argsort(result["scratch"]["permutation"])[::-1][:10]
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(top) + 1.5))
    ypos = np.arange(len(top))
    mdi, perm = np.array(result["scratch"]["mdi"]), np.array(result["scratch"]["permutation"])
    ax.barh(ypos - 0.2, mdi[top], height=0.4, label="MDI (training trees)")
    ax.barh(ypos + 0.2, perm[top], height=0.4, xerr=np.array(result["scratch"]["permutation_std"])[top],
            label="permutation (test rows)")
    ax.set_yticks(ypos, [feature_names[i] for i in top])
    ax.invert_yaxis()
    ax.set(xlabel="importance", title=f"{name}: scratch random forest, MDI vs permutation")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="x")
    plots._save(fig, out_dir / f"{name}_importances.png")
    return result


def staged_loss(name, splits, regression, settings, out_dir, progress):
    """Gradient boosting's test loss after each stage (log loss, or mean squared error) at several learning rates,
    both twins: small steps need more stages and overfit later."""
    X, y, X_test, y_test = splits
    kind = "GradientBoostingRegressor" if regression else "GradientBoostingClassifier"
    curves, result = {}, {}
    for rate in tqdm(LEARNING_RATES, desc=f"{name}: staged loss", disable=not progress):
        for side in ("scratch", "sklearn"):
            model = make(side, kind, {"n_estimators": settings["stages"], "learning_rate": rate}).fit(X, y)
            if regression:
                losses = [float(metrics.mean_squared_error(y_test, p)) for p in model.staged_predict(X_test)]
            else:
                labels = np.arange(len(model.classes_))
                losses = [float(metrics.log_loss(y_test, p, labels=labels)) for p in model.staged_predict_proba(X_test)]
            curves[f"{side} learning rate {rate}"] = (list(range(1, len(losses) + 1)), losses)
            result[f"{side} {rate}"] = losses
    plots.curves(curves, out_dir / f"{name}_staged_loss.png", f"{name}: gradient boosting, test loss by stage",
                 "stage", "test MSE" if regression else "test log loss")
    result["identical"] = all(result[f"scratch {r}"] == result[f"sklearn {r}"] for r in LEARNING_RATES)
    return result


def stacking(name, splits, regression, settings, out_dir):
    """A stack of a tree, a forest and gradient boosting (5-fold out-of-fold meta-features) with the default linear
    meta-learner, both twins; the scratch meta-learner's weights drawn."""
    import matplotlib.pyplot as plt

    X, y, X_test, y_test = splits
    n = settings["n_estimators"]
    kind = "Regressor" if regression else "Classifier"
    result = {}
    for side, (tree, forest, boosting, *_), module in (("scratch", MODULES["scratch"], scr_stacking),
                                                      ("sklearn", MODULES["sklearn"], ref_stacking)):
        members = [("tree", getattr(tree, f"DecisionTree{kind}")(max_depth=4, random_state=0)),
                   ("forest", getattr(forest, f"RandomForest{kind}")(n_estimators=n, random_state=0)),
                   ("boosting", getattr(boosting, f"GradientBoosting{kind}")(n_estimators=n, random_state=0))]
        model = getattr(module, f"Stacking{kind}")(members).fit(X, y)
        row, _ = scores(model, X_test, y_test, regression)
        result[side] = row
        if side == "scratch":
            coef = np.atleast_2d(model.final_estimator_.coef_)
            result["meta_weights"] = coef.tolist()
    coef = np.array(result["meta_weights"])
    columns = [f"{member}" for member in ("tree", "forest", "boosting")
               for _ in range(coef.shape[1] // 3)]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    image = ax.imshow(coef, cmap="RdBu_r", aspect="auto", vmin=-np.abs(coef).max(), vmax=np.abs(coef).max())
    ax.set_xticks(range(coef.shape[1]), columns, rotation=60, ha="right", fontsize=7)
    ax.set(ylabel="class" if coef.shape[0] > 1 else "", title=f"{name}: stacking meta-learner weights (scratch)")
    fig.colorbar(image, ax=ax)
    plots._save(fig, out_dir / f"{name}_stacking_weights.png")
    return result


def draw_tree(model, feature_names, class_names, path, title):
    """A fitted scratch tree as boxes and edges: leaves spread left to right, parents above their children."""
    import matplotlib.pyplot as plt

    tree = model.tree_
    x = np.zeros(tree.node_count)
    depth = np.zeros(tree.node_count, dtype=int)
    leaves = iter(range(tree.n_leaves))

    def place(node, d):  # in-order; recursion over at most 2**max_depth nodes of a drawn tree
        depth[node] = d
        if tree.children_left[node] == -1:
            x[node] = next(leaves)
            return
        place(tree.children_left[node], d + 1)
        place(tree.children_right[node], d + 1)
        x[node] = (x[tree.children_left[node]] + x[tree.children_right[node]]) / 2

    place(0, 0)
    fig, ax = plt.subplots(figsize=(max(8, 1.9 * tree.n_leaves), 1.6 * (tree.max_depth + 1) + 1))
    for node in range(tree.node_count):
        for child in (tree.children_left[node], tree.children_right[node]):
            if child != -1:
                ax.plot([x[node], x[child]], [-depth[node], -depth[child]], color="gray", linewidth=0.8, zorder=1)
        value = tree.value[node, 0]
        text = (f"{feature_names[tree.feature[node]]} <= {tree.threshold[node]:.3g}\n"
                if tree.children_left[node] != -1 else "")
        if class_names is None:
            text += f"mean {value[0]:.1f}\n{tree.n_node_samples[node]} samples"
        else:
            text += f"{class_names[int(np.argmax(value))]} ({value.max():.2f})\n{tree.n_node_samples[node]} samples"
        ax.text(x[node], -depth[node], text, ha="center", va="center", fontsize=7, zorder=2,
                bbox={"boxstyle": "round", "facecolor": "white" if tree.children_left[node] != -1 else "honeydew"})
    ax.set_axis_off()
    ax.set_title(title)
    return plots._save(fig, path)


def fashion_mnist_table(quick, progress):
    """The histogram GBM on Fashion-MNIST as a table (784 pixel columns; 60,000 training rows, the 10,000 test
    rows), scratch against scikit-learn, LightGBM and XGBoost, all at one thread. Early stopping as scikit-learn's
    'auto' turns it on past 10,000 rows (a 10% validation split); the peers run the iterations the twins kept."""
    from threadpoolctl import threadpool_limits

    from scratch.datasets.images import load_fashion_mnist

    (images, labels), (test_images, test_labels) = load_fashion_mnist("train"), load_fashion_mnist("test")
    n_train, n_test, max_iter = FASHION_SIZES[quick]
    X, y = images[:n_train].reshape(n_train, -1).astype(np.float64), labels[:n_train]
    X_test, y_test = test_images[:n_test].reshape(n_test, -1).astype(np.float64), test_labels[:n_test]
    report = {"samples": {"train": n_train, "test": n_test}, "features": X.shape[1], "max_iter": max_iter}
    with threadpool_limits(1):
        for side in tqdm(("scratch", "sklearn"), desc="fashion-mnist: histogram GBM", disable=not progress):
            model = make(side, "HistGradientBoostingClassifier", {"max_iter": max_iter})
            report[side] = fit_and_score(model, X, y, X_test, y_test, False)[0] | {"n_iter": int(model.n_iter_)}
        for peer, model in peers(False, report["scratch"]["n_iter"]).items():
            report[peer] = fit_and_score(model, X, y, X_test, y_test, False)[0]
    return report


def run_dataset(name, out_dir, quick, progress):
    if name == "fashion-mnist":
        return {"task": "classification", "histogram_gbm": fashion_mnist_table(quick, progress)}
    bunch = LOADERS[name]()
    regression = name in REGRESSION
    X, y = bunch.data, bunch.target
    settings = SETTINGS["quick" if quick else "full"]
    splits = split(X, y)
    report = {"samples": {"train": len(splits[1]), "test": len(splits[3])}, "features": X.shape[1],
              "task": "regression" if regression else "classification", "settings": settings}
    report["models"] = compare_models(name, splits, regression, settings, progress)
    report["bias_variance"] = bias_variance(name, splits, regression, settings, out_dir, progress)
    report["oob_error"] = oob_curve(name, splits, regression, settings, out_dir, progress)
    names = [str(n) for n in getattr(bunch, "feature_names", range(X.shape[1]))]
    report["importances"] = importances(name, splits, regression, settings, names, out_dir)
    kind = "DecisionTreeRegressor" if regression else "DecisionTreeClassifier"
    shallow = make("scratch", kind, {"max_depth": 3}).fit(splits[0], splits[1])
    classes = None if regression else [str(c) for c in getattr(bunch, "target_names", np.unique(y))]
    draw_tree(shallow, names, classes, out_dir / f"{name}_tree.png", f"{name}: a scratch CART of depth 3")
    report["staged_loss"] = staged_loss(name, splits, regression, settings, out_dir, progress)
    report["stacking"] = stacking(name, splits, regression, settings, out_dir)
    return report


def run(out_dir, dataset_names=("breast-cancer",), num_epochs=None, study=False, compare_sklearn=True, progress=True,
        quick=False):
    """``num_epochs``, ``study`` and ``compare_sklearn`` are accepted for the command line's sake: trees have no
    epochs, this project no study, and scikit-learn always runs beside scratch. ``quick``: 8 trees per ensemble,
    3 bias-variance repeats, 3 forest sizes."""
    out_dir, report = run_datasets(out_dir, dataset_names, lambda name, out: run_dataset(name, out, quick, progress))
    return save_report(out_dir, report)


def summary(report):
    lines = []
    for name, result in report.items():
        if "histogram_gbm" in result:
            table = result["histogram_gbm"]
            lines.append(f"{name}: histogram GBM, {table['samples']['train']} train / {table['samples']['test']} test rows, "
                         f"{table['features']} features, one thread")
            lines += [f"  {side:<9} accuracy {table[side]['accuracy']:.4f}  log loss {table[side]['log_loss']:.4f}  "
                      f"fit {table[side]['fit_seconds']:.1f} s" + (f"  ({table[side]['n_iter']} iterations)" if "n_iter" in table[side] else "")
                      for side in ("scratch", "sklearn", "LightGBM", "XGBoost")]
            continue
        regression = result["task"] == "regression"
        samples = result["samples"]
        lines.append(f"{name}: {samples['train']} train / {samples['test']} test rows, {result['features']} features")
        head = ("R2", "RMSE") if regression else ("accuracy", "log loss", "ROC-AUC")
        lines.append(f"  {'model':<19}{'side':<9}" + "".join(f"{h:>10}" for h in head)
                     + f"{'fit s':>9}{'predict s':>11}  identical trees / outputs")
        for label, row in result["models"].items():
            for side in [side for side in ("scratch", "sklearn", "LightGBM", "XGBoost") if side in row]:
                cells = row[side]
                values = (cells["r2"], cells["rmse"]) if regression else (cells["accuracy"], cells["log_loss"],
                                                                          cells["roc_auc"])
                extra = f"  {row['identical_trees']} / {row['identical_outputs']}" if side == "scratch" else ""
                lines.append(f"  {label:<19}{side:<9}" + "".join(f"{v:>10.4f}" for v in values)
                             + f"{cells['fit_seconds']:>9.3f}{cells['predict_seconds']:>11.4f}{extra}")
        bv = result["bias_variance"]
        lines.append("  bias^2 / variance: " + ", ".join(f"{k} {v['bias2']:.4g} / {v['variance']:.4g}"
                                                         for k, v in bv.items()))
        oob = result["oob_error"]["scratch random forest"]
        lines.append(f"  importances (MDI, permutation) identical to scikit-learn's: {result['importances']['identical']}")
        lines.append("  OOB error by n_estimators (scratch): " + ", ".join(f"{k}: {v:.4f}" for k, v in oob.items()))
        staged = result["staged_loss"]
        lines.append("  gradient boosting, best test loss by learning rate (scratch): " + ", ".join(
            f"{rate}: {min(staged[f'scratch {rate}']):.4f} at stage {int(np.argmin(staged[f'scratch {rate}'])) + 1}"
            for rate in LEARNING_RATES) + f"; identical to scikit-learn's: {staged['identical']}")
        stack = result["stacking"]
        metric = "r2" if regression else "accuracy"
        lines.append(f"  stacking {metric}: scratch {stack['scratch'][metric]:.4f}, sklearn {stack['sklearn'][metric]:.4f}")
    return "\n".join(lines)
