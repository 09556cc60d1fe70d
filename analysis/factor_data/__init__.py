"""Data whose generating factors are known, for the disentanglement metrics: dSprites-like
images and templated sentences."""
