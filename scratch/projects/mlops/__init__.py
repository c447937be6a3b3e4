"""Project 20: a production ML pipeline: drift statistics, a NumPy-only scorer and its torch shadow."""
