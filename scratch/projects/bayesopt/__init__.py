"""Project 15: hyperparameter optimisation by Bayesian optimisation, Gaussian processes from scratch."""
