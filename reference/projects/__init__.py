"""One package per curriculum project: the torch (or library) twins of scratch/projects, same file names."""
