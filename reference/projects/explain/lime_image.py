"""LIME for images, the reference: lime's ``LimeImageExplainer`` under the scratch class's
arguments. Twin of scratch/projects/explain/lime_image.py.
"""
from lime import lime_image


class LimeImageExplainer(lime_image.LimeImageExplainer):
    def __init__(self, kernel_width=0.25, feature_selection="auto", random_state=None):
        super().__init__(kernel_width=kernel_width, feature_selection=feature_selection, random_state=random_state)

    def explain_instance(self, image, classifier_fn, labels=(1,), hide_color=None, top_labels=5, num_features=100000,
                         num_samples=1000, segmentation_fn=None):
        return super().explain_instance(image, classifier_fn, labels=labels, hide_color=hide_color,
                                        top_labels=top_labels, num_features=num_features, num_samples=num_samples,
                                        segmentation_fn=segmentation_fn)
