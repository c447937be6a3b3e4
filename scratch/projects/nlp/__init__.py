"""Project 3: text classification (TF-IDF baselines and a transformer)."""
