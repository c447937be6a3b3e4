"""LIME for text, the reference: lime's ``LimeTextExplainer`` (bag of words, cosine distance,
kernel width 25) under the scratch class's arguments. Twin of scratch/projects/explain/lime_text.py.
"""
from lime import lime_text


class LimeTextExplainer(lime_text.LimeTextExplainer):
    def __init__(self, kernel_width=25, feature_selection="auto", split_expression=r"\W+", random_state=None):
        super().__init__(kernel_width=kernel_width, feature_selection=feature_selection,
                         split_expression=split_expression, random_state=random_state)

    def explain_instance(self, text_instance, classifier_fn, labels=(1,), num_features=10, num_samples=5000):
        return super().explain_instance(text_instance, classifier_fn, labels=labels, num_features=num_features,
                                        num_samples=num_samples)
