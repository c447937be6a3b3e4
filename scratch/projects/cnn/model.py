"""Project 4: a convolutional network for images, trained by backpropagation.

Two blocks of 3x3 convolution (optionally batch-normalised), ReLU and 2x2 max-pooling
extract features; a dense layer with dropout classifies them (LeCun et al., 1998, in
today's form). Every gradient comes from the layers' hand-written backward passes:
col2im for the convolutions, scatter to the argmax for the pooling. Trained by
scratch/training.py. Twin of reference/projects/cnn/model.py: diff the two to see what autograd does.
"""
import numpy as np

from scratch import nn


class CNN(nn.Module):
    """(N, in_channels, size, size) images -> (N, num_classes) logits; ``size`` divisible by 4."""

    def __init__(self, in_channels=1, num_classes=10, image_size=28, channels=(32, 64), hidden=128,
                 batch_norm=False, dropout=0.0, dtype=None, rng=None):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"image_size: expected a multiple of 4 (two 2x2 poolings), got {image_size}")
        rng = np.random.default_rng() if rng is None else rng
        self.num_classes = num_classes
        blocks, width = [], in_channels
        for out_channels in channels:
            blocks.append(nn.Conv2d(width, out_channels, 3, padding=1, bias=not batch_norm, dtype=dtype, rng=rng))
            if batch_norm:
                blocks.append(nn.BatchNorm2d(out_channels, dtype=dtype))
            blocks += [nn.ReLU(), nn.MaxPool2d(2)]
            width = out_channels
        self.features = nn.Sequential(*blocks)
        flat = width * (image_size // 4) ** 2
        head = [nn.Flatten(), nn.Linear(flat, hidden, dtype=dtype, rng=rng), nn.ReLU()]
        if dropout > 0:
            head.append(nn.Dropout(dropout, rng=rng))
        self.classifier = nn.Sequential(*head, nn.Linear(hidden, num_classes, dtype=dtype, rng=rng))

    def forward(self, X):
        return self.classifier(self.features(X))  # (N, C, H, W) -> (N, C2, H/4, W/4) -> (N, num_classes)

    def backward(self, grad, input_grad=True):
        return self.features.backward(self.classifier.backward(grad), input_grad)  # (N, num_classes) -> (N, C, H, W), or None
