"""Project 19: model interpretability (Shapley values, TreeSHAP, LIME and gradient attributions)."""
