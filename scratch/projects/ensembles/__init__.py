"""Project 14: ensembles and stacking (trees, forests and boosting)."""
