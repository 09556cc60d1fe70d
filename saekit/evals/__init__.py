"""Evaluation: reconstruction and sparsity, loss with the dictionary spliced in, and recovery of
known ground-truth features."""

from saekit.evals.evaluate import EvalReport, evaluate

__all__ = ["EvalReport", "evaluate"]
