"""The PyTorch twins of the scratch models: same file names, same public names."""
