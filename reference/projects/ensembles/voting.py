"""Voting, the reference: scikit-learn's VotingClassifier with the scratch class's arguments. Twin of
scratch/projects/ensembles/voting.py.
"""
from sklearn import ensemble


class VotingClassifier(ensemble.VotingClassifier):
    def __init__(self, estimators, voting="hard", weights=None):
        super().__init__(estimators=estimators, voting=voting, weights=weights)
