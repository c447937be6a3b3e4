"""LIME for images (Ribeiro, Singh & Guestrin 2016): explain a classifier's prediction for one
image by hiding superpixels. Each perturbed copy keeps a random half of the superpixels and
paints the others with their mean colour (or ``hide_color``); the classifier reads all copies in
one batch; a weighted ridge on "is superpixel s still shown?" gives each superpixel its weight.
Copies are weighted by the kernel sqrt(exp(-d^2 / 0.25^2)) of their cosine distance to the image.

The superpixels come from ``segmentation_fn`` (an (H, W) int array of segment ids 0..S-1); the
default is ``grid_segments``, square blocks: a simple segmentation from scratch, where lime uses
quickshift. Draws follow lime's (a seed for the segmentation, then every copy's coin flips in
one call), so with the same segmentation an explanation equals lime's for the same
``random_state``. Twin of reference/projects/explain/lime_image.py (lime's ``LimeImageExplainer``).
"""
import numpy as np

from scratch.projects.explain.lime_base import SELECTIONS, Explanation, cosine_kernel, explain_with_data


def grid_segments(image, size=4):
    """(H, W) segment ids: blocks of ``size`` x ``size`` pixels, numbered row by row."""
    rows, cols = np.arange(image.shape[0]) // size, np.arange(image.shape[1]) // size
    return rows[:, None] * (cols[-1] + 1) + cols[None, :]


class LimeImageExplainer:
    def __init__(self, kernel_width=0.25, feature_selection="auto", random_state=None):
        if feature_selection not in SELECTIONS:
            raise ValueError(f"feature_selection: expected one of {SELECTIONS}, got {feature_selection!r}")
        self.kernel_width, self.feature_selection = float(kernel_width), feature_selection
        self.random_state = np.random.RandomState(random_state)

    def explain_instance(self, image, classifier_fn, labels=(1,), hide_color=None, top_labels=5, num_features=100000,
                         num_samples=1000, segmentation_fn=None):
        image = np.asarray(image, dtype=np.float64)
        if image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)  # grey to RGB, as lime does
        if image.ndim != 3:
            raise ValueError(f"image: expected (H, W) or (H, W, channels), got shape {image.shape}")
        self.random_state.randint(0, high=1000)  # lime's segmentation seed, drawn whatever the segmentation
        segments = (segmentation_fn or grid_segments)(image)
        ids = np.unique(segments)
        if segments.shape != image.shape[:2] or not np.array_equal(ids, np.arange(len(ids))):
            raise ValueError(f"segmentation_fn: expected an {image.shape[:2]} array of ids 0..S-1, got shape "
                             f"{segments.shape} with ids {ids[:5].tolist()}...")
        if hide_color is None:  # each superpixel's mean colour
            counts = np.bincount(segments.ravel())[:, None]
            means = np.stack([np.bincount(segments.ravel(), image[..., c].ravel()) for c in range(image.shape[2])],
                             axis=1) / counts  # (S, C)
            hidden = means[segments]  # (H, W, C)
        else:
            hidden = np.full_like(image, hide_color)
        Z = self.random_state.randint(0, 2, num_samples * len(ids)).reshape(num_samples, len(ids)).astype(np.float64)
        Z[0] = 1.0
        shown = Z[:, segments].astype(bool)[..., None]  # (N, H, W, 1)
        y = np.asarray(classifier_fn(np.where(shown, image, hidden)), dtype=np.float64)  # (N, classes)
        if y.ndim != 2 or len(y) != num_samples or not np.isfinite(y).all():
            raise ValueError(f"classifier_fn: expected finite class scores of shape ({num_samples}, classes), got "
                             f"shape {y.shape}")
        weights = cosine_kernel(Z, self.kernel_width)
        if top_labels:
            labels = np.argsort(y[0])[-top_labels:]
        explanation = explain_with_data(Explanation("classification", [f"superpixel {s}" for s in ids]), Z, y, weights,
                                        labels, num_features, self.feature_selection)
        explanation.segments, explanation.top_labels = segments, list(labels)[::-1]
        return explanation
