"""LIME for tables, the reference: lime's ``LimeTabularExplainer`` under the scratch class's
arguments (quartile or decile discretisation, the default exponential kernel). Twin of
scratch/projects/explain/lime_tabular.py.
"""
from lime import lime_tabular


class LimeTabularExplainer(lime_tabular.LimeTabularExplainer):
    def __init__(self, training_data, mode="classification", feature_names=None, categorical_features=None,
                 kernel_width=None, feature_selection="auto", discretizer="quartile", random_state=None):
        super().__init__(training_data, mode=mode, feature_names=feature_names,
                         categorical_features=categorical_features, kernel_width=kernel_width,
                         feature_selection=feature_selection, discretizer=discretizer, random_state=random_state)

    def explain_instance(self, data_row, predict_fn, labels=(1,), num_features=10, num_samples=5000):
        return super().explain_instance(data_row, predict_fn, labels=labels, num_features=num_features,
                                        num_samples=num_samples)
