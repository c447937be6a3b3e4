"""Project 3's baselines, the reference: scikit-learn's multinomial logistic regression and
multinomial naive Bayes, under the scratch classes' names and constructor arguments.

``LogisticRegression(C)`` minimises ``C * sum_i CE_i + ||coef||^2 / 2`` by L-BFGS, as the
scratch one does (with more than two classes both fit K weight rows). Twin of
scratch/projects/nlp/linear_models.py, which writes the gradient and the counting by hand.
"""
from sklearn import linear_model, naive_bayes


class LogisticRegression(linear_model.LogisticRegression):
    def __init__(self, C=1.0, tol=1e-4, max_iter=100, fit_intercept=True):
        super().__init__(C=C, tol=tol, max_iter=max_iter, fit_intercept=fit_intercept)


class MultinomialNB(naive_bayes.MultinomialNB):
    def __init__(self, alpha=1.0, fit_prior=True, class_prior=None):
        super().__init__(alpha=alpha, fit_prior=fit_prior, class_prior=class_prior)
