"""Bad input to the estimators and their hyperparameters: the shared training settings
(TrainingConfig and the loop's plumbing), the text tools (Vocabulary, TfidfVectorizer), the NLP
baselines (LogisticRegression, MultinomialNB) and the recommenders' hyperparameters. Each row names
the argument, what was expected and what came; nothing is silently cast, truncated or lost."""
import numpy as np
import pytest

from scratch.plumbing import EarlyStopping, TrainingConfig, chronological_split, minibatches, validation_split
from twins.parity import BadInput, assert_bad_input


def config(**kwargs):
    return lambda: TrainingConfig(**kwargs)


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
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_named(case):
    assert_bad_input(case)
