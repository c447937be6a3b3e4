"""Project 2: a multilayer perceptron trained by backpropagation."""
