"""Project 16: graph neural networks (GCN, GAT, GraphSAGE) for node classification."""
