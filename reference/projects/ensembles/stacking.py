"""Stacking, the reference: scikit-learn's StackingClassifier/Regressor with the scratch classes'
arguments. The classifier's default meta-learner is LogisticRegression on both sides; the
regressor's is Ridge(alpha=1) on both (scikit-learn's own default, RidgeCV, is replaced so the
twins stay twins). Twin of scratch/projects/ensembles/stacking.py.
"""
from sklearn import ensemble, linear_model


class Ridge(linear_model.Ridge):
    def __init__(self, alpha=1.0):
        super().__init__(alpha=alpha)


class StackingClassifier(ensemble.StackingClassifier):
    def __init__(self, estimators, final_estimator=None, cv=5, stack_method="auto", passthrough=False):
        super().__init__(estimators=estimators, final_estimator=final_estimator, cv=cv, stack_method=stack_method,
                         passthrough=passthrough)


class StackingRegressor(ensemble.StackingRegressor):
    def __init__(self, estimators, final_estimator=None, cv=5, passthrough=False):
        super().__init__(estimators=estimators, final_estimator=final_estimator, cv=cv, passthrough=passthrough)

    def _validate_final_estimator(self):
        self._clone_final_estimator(default=Ridge())
