"""How well a dictionary's decoder recovers known true feature directions."""

from typing import NamedTuple

from torch import Tensor


class Recovery(NamedTuple):
    mmcs: float
    """Mean over true features of the max cosine similarity with any decoder row."""
    fraction_recovered: float
    """Fraction of true features whose best cosine exceeds the threshold."""
    best_cosine: Tensor
    """`[n_features]` each true feature's best cosine."""


def feature_recovery(true_features: Tensor, W_dec: Tensor, threshold: float = 0.9) -> Recovery:
    """`true_features [F, d]`, `W_dec [d_sae, d]`."""
    if true_features.shape[1] != W_dec.shape[1]:
        raise ValueError(
            f"true features have d={true_features.shape[1]}, decoder rows d={W_dec.shape[1]}"
        )
    true_features, W_dec = true_features.detach(), W_dec.detach()
    a = true_features / true_features.norm(dim=1, keepdim=True)
    b = W_dec / W_dec.norm(dim=1, keepdim=True).clamp_min(1e-12)
    best = (a @ b.T).max(dim=1).values
    return Recovery(float(best.mean()), float((best > threshold).float().mean()), best)
