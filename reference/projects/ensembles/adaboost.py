"""AdaBoost, the reference: scikit-learn's AdaBoostClassifier (SAMME) and AdaBoostRegressor
(AdaBoost.R2) under the scratch classes' names and constructor arguments. Twin of
scratch/projects/ensembles/adaboost.py.
"""
from sklearn import ensemble


class AdaBoostClassifier(ensemble.AdaBoostClassifier):
    def __init__(self, estimator=None, n_estimators=50, learning_rate=1.0, random_state=None):
        super().__init__(estimator=estimator, n_estimators=n_estimators, learning_rate=learning_rate,
                         random_state=random_state)


class AdaBoostRegressor(ensemble.AdaBoostRegressor):
    def __init__(self, estimator=None, n_estimators=50, learning_rate=1.0, loss="linear", random_state=None):
        super().__init__(estimator=estimator, n_estimators=n_estimators, learning_rate=learning_rate, loss=loss,
                         random_state=random_state)
