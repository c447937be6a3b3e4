"""Project 3 demo: topic classification of real news text. TF-IDF + logistic regression and
TF-IDF + multinomial naive Bayes (scratch and scikit-learn), then the scratch transformer
classifier and its torch twin trained from the same initial weights.

For each corpus: the vocabulary and the TF-IDF vocabulary are fitted on the training split
only (a validation part is cut from it for early stopping), every model is scored on the
test split. Writes, into the output folder: a confusion matrix per model, the comparison
(accuracy, macro-F1, train time) as a chart, the twins' training curves overlaid, the
first layer's attention over a test document, a classification report per model
(reports.txt) and metrics.json with every number; the scratch model's checkpoint
(weights, architecture, vocabulary) as <corpus>_transformer.npz.
"""
import dataclasses
import time

import numpy as np
import torch
from sklearn.metrics import classification_report, f1_score
from threadpoolctl import threadpool_limits

from reference.bridge import twin_pair
from reference.projects.nlp import linear_models as sklearn_models
from reference.projects.nlp import model as torch_nlp
from scratch import datasets, metrics
from scratch.plumbing import validation_split
from scratch.projects.nlp import linear_models
from scratch.projects.nlp import model as scratch_nlp
from scratch.projects.nlp.config import CONFIGS
from scratch.text import TfidfVectorizer, Vocabulary, tokenize
from twins import plots
from twins.demos.common import lockstep_gap, run_datasets, save_report

# the quick mode (a smoke run of the whole pipeline, for tests): a slice of the corpus, short documents
QUICK = {"train": 300, "test": 150, "max_len": 24, "d_model": 16, "dim_feedforward": 32}
VOCABULARY = {"min_freq": 2, "max_size": 20000}
C, ALPHA = 10.0, 0.1  # TF-IDF rows have unit norm: a weak penalty and light smoothing suit them
THREADS = 1  # NumPy's BLAS and torch alike: the twins' times on one footing, steady on a shared machine


def load_corpus(name, seed, quick=False, validation_fraction=0.1):
    """Token lists and labels of the train, validation and test parts; documents without tokens are dropped."""
    parts = {}
    for split in ("train", "test"):
        texts, y, class_names = datasets.load_text_corpus(name, split)
        tokens = [tokenize(text) for text in texts]
        keep = np.flatnonzero([len(doc) > 0 for doc in tokens])
        if quick:
            keep = keep[:QUICK[split]]
        parts[split] = (np.array([" ".join(tokens[i]) for i in keep], dtype=object), y[keep])
    texts, y, val_texts, y_val = validation_split(*parts["train"], validation_fraction, np.random.default_rng(seed))
    return (texts, y), (val_texts, y_val), parts["test"], class_names


def scores(y_true, y_pred, seconds, class_names):
    return {"accuracy": metrics.accuracy(y_true, y_pred), "macro_f1": float(f1_score(y_true, y_pred, average="macro")),
            "train_seconds": seconds,
            "report": classification_report(y_true, y_pred, labels=range(len(class_names)), target_names=class_names,
                                            digits=3, zero_division=0)}


def baselines(train, test):
    """TF-IDF (fitted on train) + each linear model: its predictions on test and its fit time."""
    vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=2)
    X, X_test = vectorizer.fit_transform(list(train[0])), vectorizer.transform(list(test[0]))
    results = {}
    for label, estimator in (("scratch logistic regression", linear_models.LogisticRegression(C=C, max_iter=500)),
                             ("sklearn logistic regression", sklearn_models.LogisticRegression(C=C, max_iter=500)),
                             ("scratch naive Bayes", linear_models.MultinomialNB(alpha=ALPHA)),
                             ("sklearn naive Bayes", sklearn_models.MultinomialNB(alpha=ALPHA))):
        start = time.perf_counter()
        estimator.fit(X, train[1])
        results[label] = (estimator.predict(X_test), time.perf_counter() - start)
    return results, X.shape[1]


def transformer_twins(vocab_size, num_classes, config, dtype=np.float32):
    """A scratch transformer classifier and its torch twin holding the very same initial weights."""
    return twin_pair(scratch_nlp.TransformerClassifier, torch_nlp.TransformerClassifier, config.seed, dtype,
                     vocab_size=vocab_size, num_classes=num_classes, **config.architecture())


def attention_example(model, vocab, X_test, out_dir, name, max_tokens=24):
    """The first layer's head-averaged attention over the first short test document; its gap to the
    torch twin loaded from the scratch model's checkpoint (the same weights, vocabulary and architecture)."""
    twin, _ = torch_nlp.load(out_dir / f"{name}_transformer.npz")
    lengths = (X_test != vocab.PAD).sum(axis=1)
    row = int(np.flatnonzero(lengths <= max_tokens)[0]) if (lengths <= max_tokens).any() else 0
    X = X_test[row:row + 1, :min(int(lengths[row]), max_tokens)]
    weights = model.attention_weights(X)[0]
    tokens = vocab.decode(X[0])
    plots.attention_map(weights, tokens, out_dir / f"{name}_attention.png",
                        f"scratch transformer on {name}, test document {row}:\nfirst layer's attention, heads averaged")
    return {"document": row, "tokens": tokens, "twin_gap": float(np.abs(weights - twin.attention_weights(X)[0]).max())}


def train_transformers(train, val, test, class_names, config, out_dir, name, progress):
    vocab = Vocabulary.build([text.split() for text in train[0]], **VOCABULARY)
    X, X_val, X_test = (vocab.encode_batch(list(part[0]), config.max_len)[0] for part in (train, val, test))
    model, twin = transformer_twins(len(vocab), len(class_names), config)
    results, histories = {}, {}
    for side, module, library in (("scratch", model, scratch_nlp), ("torch", twin, torch_nlp)):
        start = time.perf_counter()
        histories[side] = library.fit(module, X, train[1], X_val, val[1], config, progress=progress)
        seconds = time.perf_counter() - start
        results[f"{side} transformer"] = (library.predict(module, X_test), seconds)
    plots.training_curves(histories, out_dir / f"{name}_curves.png",
                          f"transformer classifier on {name}: scratch vs torch from the same initial weights")
    scratch_nlp.save(out_dir / f"{name}_transformer.npz", model, vocab)  # read back by attention_example
    extra = {"vocabulary_size": len(vocab), "sequence_length": X.shape[1],
             "truncated_train_documents": sum(len(text.split()) > config.max_len for text in train[0]),
             "histories": histories, "attention": attention_example(model, vocab, X_test, out_dir, name),
             "median_epoch_seconds": {side: float(np.median(h["epoch_time"])) for side, h in histories.items()},
             "lockstep_float64": lockstep_gap(lambda cfg, dtype: transformer_twins(len(vocab), len(class_names), cfg, dtype),
                                              X, train[1], X_val, val[1], config, max_steps=4)}
    return results, extra


def run_dataset(name, out_dir, num_epochs=None, quick=False, progress=True):
    config = CONFIGS[name]
    if quick:
        config = dataclasses.replace(config, **{key: QUICK[key] for key in ("max_len", "d_model", "dim_feedforward")})
    if num_epochs is not None:
        config = dataclasses.replace(config, num_epochs=num_epochs)
    train, val, test, class_names = load_corpus(name, config.seed, quick)
    predictions, num_features = baselines(train, test)
    transformer_predictions, extra = train_transformers(train, val, test, class_names, config, out_dir, name, progress)
    predictions.update(transformer_predictions)
    report = {"config": dataclasses.asdict(config), "C": C, "alpha": ALPHA, "tfidf_features": num_features,
              "samples": {"train": len(train[1]), "val": len(val[1]), "test": len(test[1])}, "models": {}}
    for label, (y_pred, seconds) in predictions.items():
        report["models"][label] = scores(test[1], y_pred, seconds, class_names)
        counts = metrics.confusion_matrix(test[1], y_pred, len(class_names))
        plots.confusion_matrix(counts, class_names, out_dir / f"{name}_confusion_{label.replace(' ', '_')}.png",
                               f"{label} on {name} test set (accuracy {report['models'][label]['accuracy']:.4f})")
    plots.model_comparison({label: {"accuracy": row["accuracy"], "macro-F1": row["macro_f1"], "seconds": row["train_seconds"]}
                            for label, row in report["models"].items()},
                           out_dir / f"{name}_comparison.png", f"{name}: test scores and train time")
    report.update(extra)
    report["twin_prediction_agreement"] = float(np.mean(predictions["scratch transformer"][0] == predictions["torch transformer"][0]))
    return report


def run(out_dir, dataset_names=("reuters-r8",), num_epochs=None, study=False, compare_sklearn=True, progress=True,
        quick=False):
    """``study`` and ``compare_sklearn`` are accepted for the command line's sake: this project
    has no study, and scikit-learn's baselines always run. ``quick``: a small slice, short documents."""
    torch.set_num_threads(THREADS)
    with threadpool_limits(THREADS):
        out_dir, report = run_datasets(out_dir, dataset_names,
                                       lambda name, out: run_dataset(name, out, num_epochs, quick, progress))
    with open(out_dir / "reports.txt", "w") as f:
        for name, result in report.items():
            for label, row in result["models"].items():
                f.write(f"{name}: {label}\n{row['report']}\n")
    return save_report(out_dir, report)


def summary(report):
    """The comparison table of each corpus, then the twins' agreement."""
    lines = []
    for name, result in report.items():
        samples = result["samples"]
        lines.append(f"{name}: {samples['train']} train / {samples['val']} validation / {samples['test']} test documents, "
                     f"{result['tfidf_features']} TF-IDF features, a vocabulary of {result['vocabulary_size']}")
        lines.append(f"  {'model':<30}{'accuracy':>9}{'macro-F1':>10}{'train s':>9}")
        for label, row in result["models"].items():
            lines.append(f"  {label:<30}{row['accuracy']:>9.4f}{row['macro_f1']:>10.4f}{row['train_seconds']:>9.1f}")
        lock = result["lockstep_float64"]
        lines.append(f"  transformer twins: predictions agree on {result['twin_prediction_agreement']:.1%} of test documents; "
                     f"median epoch scratch {result['median_epoch_seconds']['scratch']:.1f}s, torch "
                     f"{result['median_epoch_seconds']['torch']:.1f}s; lockstep (float64, no dropout, {lock['steps']} steps): "
                     f"loss gap {lock['train_loss_gap']:.1e}, max weight gap {lock['max_weight_gap']:.1e}")
    return "\n".join(lines)
