"""Project 12: generative adversarial networks."""
