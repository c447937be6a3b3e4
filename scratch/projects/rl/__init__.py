"""Project 11: reinforcement learning (tabular control against an exact oracle, and DQN)."""
