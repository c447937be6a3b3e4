"""Project 18: federated learning: FedAvg, FedProx, SCAFFOLD and FedAdam/FedYogi, run on Flower."""
