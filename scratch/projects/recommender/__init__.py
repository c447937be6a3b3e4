"""Project 1: recommender systems (matrix factorisation, neighbourhoods, SVD)."""
