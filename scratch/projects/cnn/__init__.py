"""Project 4: a convolutional network for images."""
