"""Discrete codes from any dictionary: the integer symbols circuit analyses work with."""

from typing import Literal, NamedTuple

import torch
from torch import Tensor

from saekit.sae import Dictionary

CodeKind = Literal["argmax", "active", "native"]


class DiscreteCodes(NamedTuple):
    codes: Tensor
    """`[n]` (argmax) or `[n, m]` integer codes; -1 pads rows with fewer active latents."""
    kind: str
    """How they were made: `argmax`, `active`, `codebook` or `quantized`."""


@torch.no_grad()
def discrete_codes(
    dictionary: Dictionary, x: Tensor, kind: CodeKind = "argmax", max_active: int | None = None
) -> DiscreteCodes:
    """Integer codes for inputs `x [n, d]`.

    - `argmax`: the most active latent of each input (`-1` when none fires);
    - `active`: the set of active latents, sorted by index, padded with -1 to the longest set
      (or to `max_active`, keeping the strongest);
    - `native`: the dictionary's own symbols: the k selected codes of a codebook, or each
      latent's value index for a QLAE.
    """
    if kind == "native":
        if dictionary.native_codes is None:
            raise ValueError(
                f"a {dictionary.architecture} dictionary has no native codes: "
                "use kind='argmax' or 'active'"
            )
        return DiscreteCodes(dictionary.code_indices(x), dictionary.native_codes)
    latents = dictionary.encode(x)
    if kind == "argmax":
        values, indices = latents.max(dim=-1)
        return DiscreteCodes(torch.where(values > 0, indices, -1), "argmax")
    if kind != "active":
        raise ValueError(f"kind must be argmax, active or native, not {kind!r}")
    active = latents > 0
    width = max_active or max(int(active.sum(-1).max()), 1)
    values, indices = latents.topk(min(width, latents.shape[-1]), dim=-1)
    indices = torch.where(values > 0, indices, torch.iinfo(torch.long).max)
    indices = indices.sort(dim=-1).values
    return DiscreteCodes(torch.where(indices == torch.iinfo(torch.long).max, -1, indices), "active")
