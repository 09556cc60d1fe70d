"""saekit.analysis: the analysis layer (disentanglement, circuits, auto-interp)."""
