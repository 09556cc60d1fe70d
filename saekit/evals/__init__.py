"""Evaluation: reconstruction and sparsity, loss with the dictionary spliced in, and recovery of
known ground-truth features."""
