"""Project 3: the transformer text classifier against its torch twin (forward, backward, dropout
masks, finite differences, lockstep training, checkpoints), the linear baselines against
scikit-learn, and the errors they raise."""

import numpy as np
import pytest
import scipy.sparse
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn import linear_model, naive_bayes

from reference.projects.nlp import model as torch_nlp
from scratch.projects.nlp import linear_models
from scratch.projects.nlp import model as nlp
from scratch.projects.nlp.config import ClassifierConfig
from scratch.text import NotFittedError, Vocabulary
from twins.parity import (
    FINITE_DIFFERENCE,
    assert_close,
    assert_lockstep,
    compare_modules,
    dtypes,
    finite_difference_check,
    make_twins,
    randomise,
    seeds,
    tolerance,
)


def twins(dtype, seed, scale=0.5, **architecture):
    """A scratch classifier (every parameter randomised when ``scale`` is given: N(0, 1) weights would
    saturate softmax and LayerNorm) and its torch twin."""
    return make_twins(nlp.TransformerClassifier, torch_nlp.TransformerClassifier, seed, dtype, scale, **architecture)


def padded_ids(rng, lengths, max_length, vocab_size, pad_id):
    """Documents of the given lengths, real tokens drawn from the ids other than pad_id, padded at the end."""
    real = np.delete(np.arange(vocab_size), pad_id)
    X = np.full((len(lengths), max_length), pad_id, dtype=np.int64)
    tokens = rng.choice(real, size=X.shape)
    inside = np.arange(max_length) < np.asarray(lengths)[:, None]
    X[inside] = tokens[inside]
    return X


@st.composite
def classifier_cases(draw):
    """An architecture and a batch: 1-2 layers, heads, post- or pre-norm, relu or gelu, documents
    of length 1 up to L with padded tails (batch 1 and length 1 included), pad_id 0 or the last id."""
    nhead = draw(st.integers(1, 2))
    vocab_size = draw(st.integers(3, 12))
    architecture = dict(vocab_size=vocab_size, num_classes=draw(st.integers(2, 4)), d_model=nhead * draw(st.integers(2, 3)),
                        nhead=nhead, num_layers=draw(st.integers(1, 2)), dim_feedforward=draw(st.integers(2, 8)),
                        max_len=8, pad_id=draw(st.sampled_from([0, vocab_size - 1])), norm_first=draw(st.booleans()),
                        activation=draw(st.sampled_from(["relu", "gelu"])))
    length = draw(st.integers(1, 6))
    lengths = draw(st.lists(st.integers(1, length), min_size=1, max_size=4))
    return architecture, lengths, length, draw(seeds)


def _reduction(architecture, length):
    """float32 rounding passes through every layer's attention, feed-forward block and LayerNorms."""
    return 4 * architecture["num_layers"] * architecture["d_model"] * (length + architecture["dim_feedforward"])


@settings(max_examples=24)
@given(case=classifier_cases(), dtype=dtypes, training=st.booleans())
def test_classifier_matches_torch(case, dtype, training):
    architecture, lengths, length, seed = case
    # LayerNorm over 2 or 3 features amplifies float32 rounding by 1/|x1 - x2| (see parity_tests/nn/test_attention.py)
    assume(dtype == np.float64 or architecture["d_model"] >= 4)
    rng = np.random.default_rng(seed)
    # eval mode ignores dropout, so there it is on; in training mode it is off here (masks: the next test)
    model, twin = twins(dtype, seed, dropout=0.0 if training else 0.4, **architecture)
    model.train(training), twin.train(training)
    X = padded_ids(rng, lengths, length, architecture["vocab_size"], architecture["pad_id"])
    logits = compare_modules(model, twin, (X,), rng, "TransformerClassifier", reduction=_reduction(architecture, length))
    assert logits.shape == (len(lengths), architecture["num_classes"])


class GivenMask(torch.nn.Module):
    """A torch stand-in for Dropout that multiplies by the mask scratch drew (read at forward time)."""

    def __init__(self, scratch_dropout):
        super().__init__()
        self.scratch_dropout = scratch_dropout

    def forward(self, x):
        return x * torch.from_numpy(self.scratch_dropout._mask)


@settings(max_examples=15)
@given(case=classifier_cases(), p=st.sampled_from([0.2, 0.5]))
def test_classifier_in_training_mode_with_the_same_dropout_masks(case, p):
    """torch draws its own masks, so its Dropout modules are replaced by scratch's masks: after the
    positional encoding, in each layer's feed-forward block and on both residual branches. Attention
    dropout (inside torch's functional attention) is off on both sides; parity_tests/nn/test_attention.py covers it."""
    architecture, lengths, length, seed = case
    rng = np.random.default_rng(seed)
    model, twin = twins(np.float64, seed, dropout=p, **architecture)
    pairs = [(model.pos_encoding, twin.pos_encoding, "dropout")]
    for layer, torch_layer in zip(model.encoder.layers, twin.encoder.layers):
        layer.self_attn.dropout = torch_layer.self_attn.dropout = 0.0
        pairs += [(layer, torch_layer, name) for name in ("dropout", "dropout1", "dropout2")]
    for scratch_owner, torch_owner, name in pairs:
        setattr(torch_owner, name, GivenMask(getattr(scratch_owner, name)))
    model.train(), twin.train()
    X = padded_ids(rng, lengths, length, architecture["vocab_size"], architecture["pad_id"])
    compare_modules(model, twin, (X,), rng, "TransformerClassifier (dropout masks)", reduction=_reduction(architecture, length))
    assert all(getattr(scratch_owner, name)._mask is not None for scratch_owner, _, name in pairs)  # masks were drawn


@settings(max_examples=10)
@given(case=classifier_cases())
def test_classifier_finite_differences(case):
    """Every weight's gradient against central differences (torch-free): pooling, encoder, positions, embedding."""
    architecture, lengths, length, seed = case
    rng = np.random.default_rng(seed)
    model = nlp.TransformerClassifier(dtype=np.float64, rng=rng, dropout=0.0, **architecture)
    randomise(model, rng, 0.5)
    X = padded_ids(rng, lengths, length, architecture["vocab_size"], architecture["pad_id"])
    finite_difference_check(model, (X,), rng, max_entries=12)


def test_padding_changes_nothing_and_gets_no_gradient():
    """A document's logits do not depend on how much padding follows it, and the padding row never learns."""
    model, _ = twins(np.float64, 0, vocab_size=9, num_classes=3, d_model=4, nhead=2, dropout=0.0, max_len=8)
    X = padded_ids(np.random.default_rng(1), [3, 1, 5], 5, 9, 0)
    short, padded = model(X[:, :5]), model(np.pad(X, ((0, 0), (0, 3))))
    np.testing.assert_allclose(padded, short, rtol=1e-12, atol=1e-12)
    model.zero_grad()
    model.backward(np.random.default_rng(2).normal(size=padded.shape))
    assert not model.embedding.weight.grad[0].any() and model.embedding.weight.grad[1:].any()
    assert all(param.grad is not None and param.grad.any() for name, param in model.named_parameters())


def test_attention_weights_of_the_first_layer_match_torch():
    model, twin = twins(np.float64, 3, vocab_size=9, num_classes=3, d_model=4, nhead=2, dropout=0.3, max_len=8)
    X = padded_ids(np.random.default_rng(4), [4, 1, 2], 4, 9, 0)
    weights = model.attention_weights(X)
    assert_close(weights, twin.attention_weights(X), "attention weights", *tolerance(np.float64, "forward"))
    assert weights.shape == (3, 4, 4) and not weights[1, :, 1:].any()  # nobody reads padding
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0)
    per_head = model.attention_weights(X, average_attn_weights=False)
    assert_close(per_head.mean(axis=1), weights, "mean of per-head weights", *tolerance(np.float64, "forward"))


def test_lockstep_training_same_losses_and_weights():
    """Same initial weights, batches and Adam: the same loss each epoch and the same weights after."""
    architecture = dict(vocab_size=15, num_classes=3, d_model=8, nhead=2, num_layers=2, dim_feedforward=12, max_len=6)
    config = ClassifierConfig(lr=3e-3, batch_size=4, num_epochs=3, patience=5, lr_schedule="cosine", **architecture_part(architecture))
    model, twin = twins(np.float64, 5, scale=None, dropout=0.0, **architecture)
    rng = np.random.default_rng(6)
    X = padded_ids(rng, rng.integers(1, 7, 18), 6, 15, 0)
    y = rng.integers(0, 3, 18)
    history = nlp.fit(model, X[:14], y[:14], X[14:], y[14:], config)
    torch_history = torch_nlp.fit(twin, X[:14], y[:14], X[14:], y[14:], config)
    assert_lockstep(history, torch_history, model, twin, *tolerance(np.float64, "train"))
    assert history["train_loss"][-1] < history["train_loss"][0]


@pytest.mark.parametrize("saver, loader", [(nlp, nlp), (nlp, torch_nlp), (torch_nlp, nlp), (torch_nlp, torch_nlp)],
                         ids=["scratch-scratch", "scratch-torch", "torch-scratch", "torch-torch"])
def test_checkpoint_keeps_weights_architecture_and_vocabulary(tmp_path, saver, loader):
    """Either twin loads what either saved, and classifies raw text with the training vocabulary."""
    texts = ["grain prices rose", "oil output fell sharply", "wheat and grain exports", "crude oil prices"]
    vocab = Vocabulary.build([text.split() for text in texts])
    architecture = dict(vocab_size=len(vocab), num_classes=2, d_model=4, nhead=2, num_layers=1, max_len=6,
                        norm_first=True, activation="gelu", dropout=0.2)
    model, twin = twins(np.float32, 0, **architecture)
    saved = model if saver is nlp else twin
    saver.save(tmp_path / "model.npz", saved, vocab)
    loaded, loaded_vocab = loader.load(tmp_path / "model.npz")
    assert loaded_vocab == vocab and loaded.architecture == model.architecture and not loaded.training
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(np.asarray(loaded.state_dict()[key]), value)
    queries = ["oil prices", "grain and unseen words"]
    np.testing.assert_array_equal(loader.classify(loaded, loaded_vocab, queries), nlp.classify(model, vocab, queries))
    with pytest.raises(ValueError, match=rf"vocab: expected the training vocabulary of vocab_size={len(vocab)} tokens, got {len(vocab) - 1}"):
        saver.save(tmp_path / "other.npz", saved, Vocabulary(vocab.itos[2:-1]))


def architecture_part(architecture):
    return {key: architecture[key] for key in ("d_model", "nhead", "num_layers", "dim_feedforward", "max_len")}


@pytest.mark.parametrize("X, error, message", [
    (np.array([[1, 2, 9]]), ValueError, r"X: token id 9 is out of range \[0, vocab_size=9\)"),
    (np.array([[1, -1, 0]]), ValueError, r"X: token id -1 is out of range"),
    (np.array([[1.0, 2.0]]), TypeError, r"X: expected an integer array of token ids \(documents, length\), got shape \(1, 2\) dtype float64"),
    (np.array([1, 2]), TypeError, r"X: expected an integer array .* got shape \(2,\)"),
    (np.array([[1, 2], [0, 0]]), ValueError, r"X: rows \[1\] are empty documents \(only the padding id 0\)"),
    (np.ones((1, 9), dtype=np.int64), ValueError, r"X: expected a length in \[1, max_len=8\], got shape \(1, 9\)"),
])
def test_classifier_refuses_bad_token_ids(X, error, message):
    model, twin = twins(np.float32, 0, vocab_size=9, num_classes=2, d_model=4, nhead=2, max_len=8)
    with pytest.raises(error, match=message):
        model(X)
    with pytest.raises(error, match=message):
        twin(torch.from_numpy(X))


@pytest.mark.parametrize("kwargs, message", [
    (dict(d_model=6, nhead=4), r"d_model: expected a multiple of nhead=4, got 6"),
    (dict(vocab_size=0), r"vocab_size: expected a positive int, got 0"),
    (dict(pad_id=9), r"pad_id: expected an id in \[0, vocab_size=9\), got 9"),
    (dict(num_layers=1.5), r"num_layers: expected a positive int, got 1.5"),
])
def test_classifier_refuses_bad_architecture(kwargs, message):
    arguments = {**dict(vocab_size=9, num_classes=2, d_model=4, nhead=2), **kwargs}
    for build in (nlp.TransformerClassifier, torch_nlp.TransformerClassifier):
        with pytest.raises(ValueError, match=message):
            build(**arguments)


def test_fit_names_the_bad_split():
    model, _ = twins(np.float64, 0, vocab_size=9, num_classes=2, d_model=4, nhead=2, max_len=8)
    X, y = np.array([[1, 2], [3, 0]]), np.array([0, 1])
    with pytest.raises(ValueError, match=r"X_val: rows \[0\] are empty documents"):
        nlp.fit(model, X, y, np.zeros((1, 2), dtype=np.int64), y[:1], ClassifierConfig(num_epochs=1))
    with pytest.raises(ValueError, match=r"labels of X: expected classes in \[0, 2\), got range \[0, 2\]"):
        nlp.fit(model, X, np.array([0, 2]), X, y, ClassifierConfig(num_epochs=1))


def count_data(seed, n=60, features=25, classes=4, sparse=True):
    rng = np.random.default_rng(seed)
    X = rng.poisson(0.6, (n, features)).astype(np.float64) * rng.uniform(0.2, 1.0, (n, features))
    y = rng.integers(0, classes, n)
    y[:classes] = np.arange(classes)  # every class present
    return (scipy.sparse.csr_matrix(X) if sparse else X), y


@given(seed=seeds, alpha=st.sampled_from([0.01, 0.5, 1.0, 2.0]), fit_prior=st.booleans(), sparse=st.booleans(),
       given_prior=st.booleans())
def test_multinomial_nb_equals_sklearn(seed, alpha, fit_prior, sparse, given_prior):
    X, y = count_data(seed, sparse=sparse)
    prior = np.random.default_rng(seed).dirichlet(np.ones(4)) if given_prior else None
    ours = linear_models.MultinomialNB(alpha=alpha, fit_prior=fit_prior, class_prior=prior).fit(X, y)
    theirs = naive_bayes.MultinomialNB(alpha=alpha, fit_prior=fit_prior, class_prior=prior).fit(X, y)
    for name in ("class_count_", "feature_count_", "feature_log_prob_", "class_log_prior_"):
        assert_close(getattr(ours, name), getattr(theirs, name), f"MultinomialNB {name}", 1e-12, 1e-12)
    X_test, _ = count_data(seed + 1, n=20, sparse=sparse)
    assert_close(ours.predict_log_proba(X_test), theirs.predict_log_proba(X_test), "predict_log_proba", 1e-11, 1e-11)
    np.testing.assert_array_equal(ours.predict(X_test), theirs.predict(X_test))


@settings(max_examples=20)
@given(seed=seeds, C=st.sampled_from([0.1, 1.0, 10.0]), sparse=st.booleans())
def test_logistic_regression_gradient_by_finite_differences(seed, C, sparse):
    X, y = count_data(seed, n=30, features=6, classes=3, sparse=sparse)
    model = linear_models.LogisticRegression(C=C)
    Y = np.eye(3)[y]
    rng = np.random.default_rng(seed)
    theta = rng.normal(0, 0.5, 3 * 7)
    _, analytic = model.loss_and_grad(theta.copy(), X, Y)
    eps = FINITE_DIFFERENCE["eps"]
    steps = np.eye(theta.size) * eps
    numeric = np.array([(model.loss_and_grad(theta + step, X, Y)[0] - model.loss_and_grad(theta - step, X, Y)[0]) / (2 * eps)
                        for step in steps])
    assert_close(analytic, numeric, "LogisticRegression gradient", FINITE_DIFFERENCE["rtol"], FINITE_DIFFERENCE["atol"])


@pytest.mark.parametrize("C", [0.05, 1.0, 20.0])
@pytest.mark.parametrize("sparse", [True, False])
def test_logistic_regression_solution_equals_sklearn(C, sparse):
    """Same objective (C * sum CE + ||coef||^2 / 2, i.e. lambda = 1 / (C n) on the mean loss) and
    solver, converged tightly: the same coefficients and probabilities."""
    X, y = count_data(7, n=80, features=12, classes=3, sparse=sparse)
    ours = linear_models.LogisticRegression(C=C, tol=1e-10, max_iter=2000).fit(X, y)
    theirs = linear_model.LogisticRegression(C=C, tol=1e-10, max_iter=2000).fit(X, y)
    scale = float(np.abs(theirs.coef_).max())
    assert_close(ours.coef_, theirs.coef_, "coef_", 1e-6, 1e-7 * scale)
    assert_close(ours.intercept_, theirs.intercept_ - theirs.intercept_.mean(), "intercept_ (centred)", 1e-6, 1e-7 * scale)
    assert_close(ours.predict_proba(X), theirs.predict_proba(X), "predict_proba", 1e-6, 1e-8)
    assert ours.score(X, y) == theirs.score(X, y)


def test_baselines_refuse_bad_input():
    X, y = count_data(0)
    for estimator in (linear_models.LogisticRegression(), linear_models.MultinomialNB()):
        with pytest.raises(NotFittedError, match=f"This {type(estimator).__name__} instance is not fitted yet"):
            estimator.predict(X)
        with pytest.raises(ValueError, match=r"y: expected 60 labels \(one per row of X\), got shape \(59,\)"):
            estimator.fit(X, y[:59])
        with pytest.raises(ValueError, match=r"X: expected a 2-d array \(samples, features\), got 1-d shape \(2,\)"):
            estimator.fit([1.0, 2.0], [0, 1])
        estimator.fit(X, y)
        with pytest.raises(ValueError, match=r"X: expected 25 features \(as in fit\), got 24"):
            estimator.predict(X[:, :24])
    with pytest.raises(ValueError, match=r"X: expected non-negative counts or frequencies, got a minimum of -1.0"):
        linear_models.MultinomialNB().fit(-X.toarray() / X.toarray().max(), y)
    with pytest.raises(ValueError, match=r"C: expected a positive number, got 0"):
        linear_models.LogisticRegression(C=0).fit(X, y)
    with pytest.raises(ValueError, match=r"class_prior: expected 4 probabilities, got shape \(2,\)"):
        linear_models.MultinomialNB(class_prior=[0.5, 0.5]).fit(X, y)
    with pytest.raises(ValueError, match=r"X: expected finite values, got nan in row 0 \(6 entries NaN or inf\)"):
        linear_models.LogisticRegression().fit(np.full((3, 2), np.nan), [0, 1, 2])


@pytest.mark.parametrize("estimator", [linear_models.LogisticRegression(), linear_models.MultinomialNB(alpha=0.5)],
                         ids=lambda e: type(e).__name__)
def test_baselines_convert_array_likes_as_scikit_learn_does(estimator):
    """Lists, integer, bool and numeric object arrays are converted as check_array converts them."""
    X, y = count_data(3, n=40, features=6, classes=3, sparse=False)
    counts = np.round(X * 3).astype(np.int64)
    reference = type(estimator)(**vars(estimator)).fit(counts.astype(np.float64), y)
    for converted in (counts, counts.tolist(), counts.astype(np.int32), counts.astype(object), scipy.sparse.coo_matrix(counts)):
        fitted = type(estimator)(**vars(estimator)).fit(converted, y.tolist())
        # the same numbers; a sparse product sums in another order, so ulps may differ
        assert_close(fitted.predict_proba(converted), reference.predict_proba(counts.astype(np.float64)),
                     f"predict_proba after fitting {type(converted).__name__} {getattr(converted, 'dtype', '')}", 1e-10, 1e-12)
    theirs = (linear_model.LogisticRegression() if isinstance(estimator, linear_models.LogisticRegression)
              else naive_bayes.MultinomialNB(alpha=0.5)).fit(counts, y)
    np.testing.assert_array_equal(reference.predict(counts), theirs.predict(counts))


def test_a_column_y_is_raveled_with_a_warning():
    X, y = count_data(4)
    with pytest.warns(linear_models.DataConversionWarning, match="A column-vector y was passed when a 1d array was expected"):
        column = linear_models.MultinomialNB().fit(X, y[:, None])
    np.testing.assert_array_equal(column.feature_log_prob_, linear_models.MultinomialNB().fit(X, y).feature_log_prob_)


def test_binary_decision_function_is_scikit_learns_one_column():
    X, y = count_data(5, classes=2)
    model = linear_models.LogisticRegression().fit(X, y)
    decision, logits = model.decision_function(X), model.forward(X)
    assert decision.shape == (X.shape[0],)
    assert_close(decision, logits[:, 1] - logits[:, 0], "decision_function", 1e-12, 1e-12)
    np.testing.assert_array_equal(model.classes_[(decision > 0).astype(int)], model.predict(X))


def test_logistic_regression_warns_when_lbfgs_stops_early():
    X, y = count_data(6)
    with pytest.warns(linear_models.ConvergenceWarning, match=r"lbfgs failed to converge after 1 iteration.*max_iter=1"):
        linear_models.LogisticRegression(max_iter=1).fit(X, y)


@pytest.mark.filterwarnings("ignore:divide by zero encountered in log:RuntimeWarning")  # scikit-learn's log(0)
@pytest.mark.filterwarnings("ignore:invalid value encountered in subtract:RuntimeWarning")  # -inf vs -inf in assert_close
@pytest.mark.parametrize("sparse", [True, False])
def test_multinomial_nb_alpha_zero_is_kept_and_never_nan(sparse):
    """alpha=0 is used as given (scikit-learn's force_alpha=True): a feature a class never showed makes
    a document holding it impossible for that class; scikit-learn agrees on sparse X (dense X gives it NaN)."""
    X, y = count_data(8, n=40, features=30, classes=3, sparse=False)
    X[y == 0, :4] = 0  # features class 0 never shows
    X[y == 1, 4:6] = 0
    X = scipy.sparse.csr_matrix(X)
    ours = linear_models.MultinomialNB(alpha=0).fit(X if sparse else X.toarray(), y)
    theirs = naive_bayes.MultinomialNB(alpha=0).fit(X, y)
    assert np.isneginf(ours.feature_log_prob_).any()  # the case at issue: some feature unseen by some class
    assert_close(ours.feature_log_prob_, theirs.feature_log_prob_, "feature_log_prob_", 1e-12, 1e-12)
    possible = X[np.isfinite(theirs.predict_log_proba(X)).any(axis=1)]
    log_proba = ours.predict_log_proba(possible if sparse else possible.toarray())
    assert not np.isnan(log_proba).any() and np.isneginf(log_proba).any()
    assert_close(log_proba, theirs.predict_log_proba(possible), "predict_log_proba", 1e-11, 1e-11)


@pytest.mark.parametrize("estimator, y", [(linear_models.LogisticRegression(), np.zeros(60, int)),
                                          (linear_models.MultinomialNB(class_prior=[-1.0, 1.0, 0.5, 0.5]), None)],
                         ids=["one class", "a negative prior"])
def test_a_refused_fit_leaves_the_estimator_unfitted(estimator, y):
    X, labels = count_data(9)
    with pytest.raises(ValueError):
        estimator.fit(X, labels if y is None else y)
    with pytest.raises(NotFittedError):
        estimator.predict(X)


def test_zero_documents_predict_nothing():
    """As torch on an empty batch: an empty array of class ids, from both twins."""
    model, twin = twins(np.float32, 0, vocab_size=6, num_classes=3, d_model=4, nhead=2, num_layers=1, dim_feedforward=8,
                        max_len=5)
    for side, module in ((nlp, model), (torch_nlp, twin)):
        predicted = side.predict(module, np.zeros((0, 5), np.int64))
        assert predicted.shape == (0,) and predicted.dtype == np.int64
