"""Project 13: autoencoders for dimensionality reduction: dense, convolutional, denoising and variational."""
