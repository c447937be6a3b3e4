"""Bad input to the estimators and their hyperparameters: the shared training settings
(TrainingConfig and the loop's plumbing), the text tools (Vocabulary, TfidfVectorizer), the NLP
baselines (LogisticRegression, MultinomialNB) and the recommenders' hyperparameters. Each row names
the argument, what was expected and what came; nothing is silently cast, truncated or lost."""
import numpy as np
import pytest
import scipy.sparse

from scratch.plumbing import EarlyStopping, TrainingConfig, chronological_split, minibatches, validation_split
from scratch.projects.nlp.linear_models import LogisticRegression, MultinomialNB
from scratch.projects.recommender import baselines
from scratch.projects.recommender.model import ALS, MatrixFactorization
from scratch.text import TfidfVectorizer, Vocabulary
from twins.parity import BadInput, assert_bad_input

COUNTS = np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0], [2.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
LABELS = np.array([0, 1, 0, 1])


def config(**kwargs):
    return lambda: TrainingConfig(**kwargs)


def tfidf(documents=("the cat sat", "the dog"), **kwargs):
    return lambda: TfidfVectorizer(**kwargs).fit_transform(list(documents))


def fit(estimator, X=COUNTS, y=LABELS):
    return lambda: estimator.fit(X, y)


def recommender_fit(recommender, **kwargs):
    users, items, ratings = np.array([0, 1, 2]), np.array([0, 1, 3]), np.array([1.0, 2.0, 3.0])
    return lambda: recommender.fit(users, items, ratings, **({"num_users": 3, "num_items": 4} | kwargs))


def predict(estimator, X, method="predict"):
    return lambda: getattr(estimator.fit(COUNTS, LABELS), method)(X)


CASES = [
    # TrainingConfig: bools are not ints, strings are not numbers
    BadInput("batch_size True", config(batch_size=True), ValueError, "batch_size", r"expected a positive int, got True"),
    BadInput("batch_size 2.0", config(batch_size=2.0), ValueError, "batch_size", r"expected a positive int, got 2.0"),
    BadInput("num_epochs 0", config(num_epochs=0), ValueError, "num_epochs", r"expected a positive int, got 0"),
    BadInput("patience '5'", config(patience="5"), ValueError, "patience", r"expected a positive int, got '5'"),
    BadInput("lr a string", config(lr="0.1"), TypeError, "lr", r"expected a finite positive number, got str '0.1'"),
    BadInput("lr 0", config(lr=0.0), ValueError, "lr", r"expected a finite positive number, got 0.0"),
    BadInput("lr NaN", config(lr=float("nan")), ValueError, "lr", r"got nan"),
    BadInput("lr inf", config(lr=float("inf")), ValueError, "lr", r"got inf"),
    BadInput("weight_decay negative", config(weight_decay=-1e-4), ValueError, "weight_decay",
             r"expected a finite number >= 0, got -0.0001"),
    BadInput("weight_decay None", config(weight_decay=None), TypeError, "weight_decay", r"got NoneType None"),
    BadInput("seed negative", config(seed=-1), ValueError, "seed", r"expected an int >= 0, got -1"),
    BadInput("seed a float", config(seed=1.5), ValueError, "seed", r"expected an int >= 0, got 1.5"),
    BadInput("optimizer a list", config(optimizer=["sgd"]), ValueError, "optimizer", r"expected one of .*'sgd'.*, got \['sgd'\]"),
    BadInput("lr_schedule unknown", config(lr_schedule="step"), ValueError, "lr_schedule", r"got 'step'"),
    # the loop's plumbing
    BadInput("minibatches batch_size True", lambda: list(minibatches(4, True)), ValueError, "batch_size",
             r"expected a positive int, got True"),
    BadInput("minibatches num_samples -1", lambda: list(minibatches(-1, 2)), ValueError, "num_samples",
             r"expected an int >= 0, got -1"),
    BadInput("minibatches rng a seed", lambda: list(minibatches(4, 2, 0)), TypeError, "rng",
             r"expected a numpy.random.Generator or None, got int"),
    BadInput("EarlyStopping patience 0", lambda: EarlyStopping(0), ValueError, "patience", r"expected a positive int, got 0"),
    BadInput("EarlyStopping min_delta a string", lambda: EarlyStopping(3, "0.1"), TypeError, "min_delta", r"got str '0.1'"),
    BadInput("validation_split fraction a string", lambda: validation_split(np.ones(4), np.ones(4), "0.5", np.random.default_rng()),
             TypeError, "fraction", r"expected a number in \(0, 1\), got str '0.5'"),
    BadInput("validation_split fraction 1", lambda: validation_split(np.ones(4), np.ones(4), 1, np.random.default_rng()),
             ValueError, "fraction", r"expected a number in \(0, 1\), got 1"),
    BadInput("validation_split rng None", lambda: validation_split(np.ones(4), np.ones(4), 0.5, None), TypeError, "rng",
             r"expected a numpy.random.Generator, got NoneType"),
    BadInput("chronological_split val_fraction a string", lambda: chronological_split(np.arange(9), "0.1", 0.1), TypeError,
             "val_fraction", r"expected a number in \[0, 1\), got str '0.1'"),
    # the recommenders' hyperparameters
    BadInput("ALS reg a string", recommender_fit(ALS(reg="10")), TypeError, "reg", r"expected a positive number .*, got str '10'"),
    BadInput("ALS reg 0", recommender_fit(ALS(reg=0.0)), ValueError, "reg", r"expected a positive number \(finite: it keeps every"),
    BadInput("ALS reg inf", recommender_fit(ALS(reg=float("inf"))), ValueError, "reg", r"got inf"),
    BadInput("ALS num_factors 0", recommender_fit(ALS(num_factors=0)), ValueError, "num_factors", r"expected a positive int, got 0"),
    BadInput("ALS num_iters True", recommender_fit(ALS(num_iters=True)), ValueError, "num_iters", r"expected a positive int, got True"),
    BadInput("ALS biased 'no'", recommender_fit(ALS(biased="no")), TypeError, "biased", r"expected True or False, got str 'no'"),
    BadInput("ALS rng a seed", recommender_fit(ALS(rng=0)), TypeError, "rng", r"expected a numpy.random.Generator or None, got int"),
    BadInput("MatrixFactorization.fit num_users 0", recommender_fit(MatrixFactorization(3, 4, 2), num_users=0), ValueError,
             "num_users", r"expected a positive int, got 0"),
    BadInput("MatrixFactorization.fit num_items 0", recommender_fit(MatrixFactorization(3, 4, 2), num_items=0), ValueError,
             "num_items", r"expected a positive int, got 0"),
    BadInput("MatrixFactorization.fit num_users other than the model's", recommender_fit(MatrixFactorization(3, 4, 2), num_users=5),
             ValueError, "num_users", r"expected the model's \(3, 4\), got \(5, 4\)"),
    BadInput("PopularityRecommender damping a string", recommender_fit(baselines.PopularityRecommender(damping="25")), TypeError,
             "damping", r"expected a finite number >= 0, got str '25'"),
    BadInput("PopularityRecommender damping NaN", recommender_fit(baselines.PopularityRecommender(damping=float("nan"))), ValueError,
             "damping", r"got nan"),
    BadInput("PopularityRecommender by an array", recommender_fit(baselines.PopularityRecommender(by=np.array(["count"]))),
             ValueError, "by", r"expected one of \('count', 'mean'\), got array"),
    BadInput("TruncatedSVDRecommender centre an array", recommender_fit(baselines.TruncatedSVDRecommender(1, centre=np.zeros(2))),
             ValueError, "centre", r"expected 'baseline' or None, got array"),
    BadInput("TruncatedSVDRecommender num_factors 1.0", recommender_fit(baselines.TruncatedSVDRecommender(1.0)), ValueError,
             "num_factors", r"expected a positive int, got 1.0"),
    BadInput("KNNRecommender k True", recommender_fit(baselines.KNNRecommender(k=True)), ValueError, "k", r"expected a positive int, got True"),
    # Vocabulary.build: never a vocabulary of PAD and UNK alone
    BadInput("Vocabulary of an empty corpus", lambda: Vocabulary.build([]), ValueError, "token_lists",
             r"expected at least one token other than '<unk>', got an empty corpus"),
    BadInput("Vocabulary of empty documents", lambda: Vocabulary.build([[], []]), ValueError, "token_lists",
             r"got an empty corpus"),
    BadInput("Vocabulary of only '<unk>'", lambda: Vocabulary.build([["<unk>"]]), ValueError, "token_lists", r"empty corpus"),
    BadInput("Vocabulary min_freq no token reaches", lambda: Vocabulary.build([["a", "b", "a"]], min_freq=3), ValueError,
             "min_freq", r"expected at most 2 \(the count of the most frequent token, 'a'\), got 3: no token would be kept"),
    BadInput("Vocabulary max_size 2", lambda: Vocabulary.build([["a"]], max_size=2), ValueError, "max_size",
             r"expected None or an int >= 3 \(PAD, UNK and at least one token\), got 2"),
    BadInput("Vocabulary min_freq True", lambda: Vocabulary.build([["a"]], min_freq=True), ValueError, "min_freq",
             r"expected an int >= 1, got True"),
    # TfidfVectorizer: its vocabulary and flags
    BadInput("tfidf vocabulary with an int term", tfidf(vocabulary=["aa", 1]), TypeError, "vocabulary",
             r"expected str terms, got int 1"),
    BadInput("tfidf vocabulary a str", tfidf(vocabulary="cat"), TypeError, "vocabulary",
             r"expected a mapping \{term: column\} or an iterable of str terms, got str 'cat'"),
    BadInput("tfidf vocabulary a mapping to str", tfidf(vocabulary={"cat": "0"}), TypeError, "vocabulary",
             r"expected int columns, got str '0'"),
    BadInput("tfidf vocabulary a mapping to bools", tfidf(vocabulary={"cat": False, "dog": True}), TypeError, "vocabulary",
             r"expected int columns, got bool False"),
    BadInput("tfidf vocabulary a mapping with int keys", tfidf(vocabulary={1: 0}), TypeError, "vocabulary",
             r"expected str terms, got int 1"),
    BadInput("tfidf binary 1", tfidf(binary=1), TypeError, "binary", r"expected True or False, got 1"),
    BadInput("tfidf lowercase 'yes'", tfidf(lowercase="yes"), TypeError, "lowercase", r"expected True or False, got 'yes'"),
    BadInput("tfidf use_idf None", tfidf(use_idf=None), TypeError, "use_idf", r"expected True or False, got None"),
    BadInput("tfidf max_features True", tfidf(max_features=True), ValueError, "max_features", r"expected None or an int >= 1, got True"),
    BadInput("tfidf ngram_range of bools", tfidf(ngram_range=(True, True)), ValueError, "ngram_range",
             r"expected a tuple \(min_n, max_n\) of ints"),
    BadInput("tfidf decode_error unknown", tfidf(decode_error="skip"), ValueError, "decode_error",
             r"expected 'strict', 'ignore' or 'replace', got 'skip'"),
    BadInput("tfidf tokenizer not callable", tfidf(tokenizer="split"), TypeError, "tokenizer", r"expected None or a callable, got 'split'"),
    BadInput("tfidf token_pattern None", tfidf(token_pattern=None), ValueError, "token_pattern", r"expected a str"),
    # LogisticRegression and MultinomialNB: hyperparameters
    BadInput("LogisticRegression max_iter -1", fit(LogisticRegression(max_iter=-1)), ValueError, "max_iter",
             r"expected an int >= 0, got -1"),
    BadInput("LogisticRegression max_iter 1.5", fit(LogisticRegression(max_iter=1.5)), ValueError, "max_iter", r"got 1.5"),
    BadInput("LogisticRegression C a string", fit(LogisticRegression(C="1")), TypeError, "C", r"expected a positive number, got str '1'"),
    BadInput("LogisticRegression C 0", fit(LogisticRegression(C=0)), ValueError, "C", r"expected a positive number, got 0"),
    BadInput("LogisticRegression C NaN", fit(LogisticRegression(C=float("nan"))), ValueError, "C", r"got nan"),
    BadInput("LogisticRegression tol -1", fit(LogisticRegression(tol=-1.0)), ValueError, "tol", r"expected a number >= 0, got -1.0"),
    BadInput("LogisticRegression fit_intercept 1", fit(LogisticRegression(fit_intercept=1)), TypeError, "fit_intercept",
             r"expected True or False, got int 1"),
    BadInput("MultinomialNB alpha -1", fit(MultinomialNB(alpha=-1.0)), ValueError, "alpha", r"expected a finite number >= 0, got -1.0"),
    BadInput("MultinomialNB alpha a string", fit(MultinomialNB(alpha="1")), TypeError, "alpha", r"got str '1'"),
    BadInput("MultinomialNB alpha an array", fit(MultinomialNB(alpha=np.ones(3))), TypeError, "alpha", r"got ndarray"),
    BadInput("MultinomialNB alpha 0 and a class without counts", fit(MultinomialNB(alpha=0), np.vstack([COUNTS, np.zeros(3)]),
             np.array([0, 1, 0, 1, 2])), ValueError, "alpha", r"expected a positive alpha, as class 2 has no feature counts"),
    BadInput("MultinomialNB fit_prior 'yes'", fit(MultinomialNB(fit_prior="yes")), TypeError, "fit_prior", r"got str 'yes'"),
    BadInput("MultinomialNB class_prior negative", fit(MultinomialNB(class_prior=[-0.5, 1.5])), ValueError, "class_prior",
             r"expected finite non-negative probabilities with a positive sum, got \[-0.5, 1.5\]"),
    BadInput("MultinomialNB class_prior all zero", fit(MultinomialNB(class_prior=[0, 0])), ValueError, "class_prior",
             r"with a positive sum, got \[0, 0\]"),
    BadInput("MultinomialNB class_prior strings", fit(MultinomialNB(class_prior=["0.5", "0.5"])), ValueError, "class_prior",
             r"expected 2 probabilities, got shape \(2,\) dtype <U3"),
    BadInput("MultinomialNB class_prior wrong length", fit(MultinomialNB(class_prior=[1.0])), ValueError, "class_prior",
             r"expected 2 probabilities, got shape \(1,\)"),
    # the labels y
    BadInput("NaN label", fit(LogisticRegression(), y=np.array([0, 1, np.nan, 1])), ValueError, "y",
             r"expected class labels, got NaN at position 2 \(Input y contains NaN\)"),
    BadInput("inf label", fit(MultinomialNB(), y=np.array([0, 1, np.inf, 1])), ValueError, "y", r"got infinity at position 2"),
    BadInput("continuous labels", fit(LogisticRegression(), y=np.array([0.5, 1.0, 0.0, 1.0])), ValueError, "y",
             r"expected discrete class labels, got continuous values such as 0.5 at position 0 \(Unknown label type: continuous\)"),
    BadInput("mixed object labels", fit(MultinomialNB(), y=np.array(["a", 1, "a", 1], dtype=object)), ValueError, "y",
             r"expected class labels of one kind, got an object array holding \['int', 'str'\]"),
    BadInput("None labels", fit(LogisticRegression(), y=None), ValueError, "y",
             r"expected class labels, got None \(this estimator requires y to be passed"),
    BadInput("complex labels", fit(LogisticRegression(), y=LABELS + 1j), ValueError, "y", r"Complex data not supported"),
    BadInput("labels of another length", fit(MultinomialNB(), y=LABELS[:3]), ValueError, "y",
             r"expected 4 labels \(one per row of X\), got shape \(3,\)"),
    BadInput("a 2-d y of two columns", fit(MultinomialNB(), y=np.stack([LABELS, LABELS], axis=1)), ValueError, "y",
             r"got shape \(4, 2\)"),
    BadInput("one class", fit(LogisticRegression(), y=np.zeros(4, int)), ValueError, "y",
             r"expected at least 2 classes, got 1 class \(0\)"),
    BadInput("sparse labels", fit(LogisticRegression(), y=scipy.sparse.csr_matrix(LABELS)), TypeError, "y",
             r"got a scipy.sparse matrix"),
    # the features X
    BadInput("X with zero features", fit(MultinomialNB(), X=np.empty((4, 0))), ValueError, "X",
             r"expected at least 1 feature, got 0 feature\(s\) \(shape=\(4, 0\)\)"),
    BadInput("X with zero samples", fit(LogisticRegression(), X=np.empty((0, 3)), y=[]), ValueError, "X",
             r"expected at least 1 sample, got 0 sample\(s\)"),
    BadInput("X 1-d", fit(LogisticRegression(), X=COUNTS[0]), ValueError, "X", r"expected a 2-d array .* got 1-d shape \(3,\)"),
    BadInput("X 3-d", fit(LogisticRegression(), X=COUNTS[None]), ValueError, "X", r"got 3-d shape \(1, 4, 3\)"),
    BadInput("X ragged", fit(LogisticRegression(), X=[[1.0, 2.0], [1.0]]), ValueError, "X", r"expected a 2-d array-like"),
    BadInput("X of strings", fit(MultinomialNB(), X=COUNTS.astype(str)), ValueError, "X", r"expected numbers, got dtype <U"),
    BadInput("X complex", fit(LogisticRegression(), X=COUNTS + 1j), ValueError, "X",
             r"expected real numbers, got dtype complex128 \(Complex data not supported\)"),
    BadInput("X an object array holding a dict", fit(LogisticRegression(), X=np.array([[{}]] * 4, dtype=object)), TypeError, "X",
             r"expected numbers, got an object array that does not convert: float\(\) argument must be a string or a real number"),
    BadInput("X datetimes", fit(LogisticRegression(), X=np.zeros((4, 3), "datetime64[s]")), TypeError, "X",
             r"expected numbers, got dtype datetime64"),
    BadInput("X with inf", fit(LogisticRegression(), X=np.where(COUNTS == 3, np.inf, COUNTS)), ValueError, "X",
             r"expected finite values, got inf in row 1 \(1 entries NaN or inf\)"),
    BadInput("sparse X with NaN", fit(MultinomialNB(), X=scipy.sparse.csr_matrix(np.where(COUNTS == 3, np.nan, COUNTS))),
             ValueError, "X", r"expected finite values, got nan in row 1"),
    BadInput("negative X to naive Bayes", fit(MultinomialNB(), X=-COUNTS), ValueError, "X",
             r"expected non-negative counts or frequencies, got a minimum of -3.0 \(Negative values in data passed to MultinomialNB\)"),
    BadInput("X of other width at predict", predict(LogisticRegression(), COUNTS[:, :2]), ValueError, "X",
             r"expected 3 features \(as in fit\), got 2: X has 2 features, but LogisticRegression is expecting 3"),
    BadInput("X 1-d at predict_proba", predict(MultinomialNB(), COUNTS[0], "predict_proba"), ValueError, "X",
             r"Reshape your data"),
    BadInput("X with NaN at decision_function", predict(LogisticRegression(), np.full((1, 3), np.nan), "decision_function"),
             ValueError, "X", r"expected finite values, got nan"),
    BadInput("a document alpha=0 makes impossible", predict(MultinomialNB(alpha=0), np.array([[1.0, 1.0, 0.0]])), ValueError,
             "X", r"rows \[0\] have probability 0 under every class"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_named(case):
    assert_bad_input(case)
