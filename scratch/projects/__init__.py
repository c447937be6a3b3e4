"""One package per curriculum project: its twinned files and its shared, never-twinned files."""
