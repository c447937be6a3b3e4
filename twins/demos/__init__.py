"""The main job of each project (`twins run <name>`): train the twins on real data, compare, plot."""
