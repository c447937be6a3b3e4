"""Table-driven bad-input suites, one file per family (layers, checkpoints, optimizers,
estimators, loaders, CLI). A new module joins by adding rows (``twins.parity.BadInput``):
each asserts the exception type, that the message names the argument, and what it says."""
