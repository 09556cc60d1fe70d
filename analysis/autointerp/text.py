"""Examples as text for prompts: tokens decoded one by one, activating tokens marked `<<…>>`
(adjacent ones merged into one mark), activations normalised to 0–10 by the latent's largest."""

from collections.abc import Sequence

from transformers import PreTrainedTokenizerBase

OPEN, CLOSE = "<<", ">>"


def token_strings(tokenizer: PreTrainedTokenizerBase, ids: Sequence[int]) -> list[str]:
    """Each token's own text (leading spaces kept), so marks land on token boundaries."""
    return [tokenizer.decode([i]) for i in ids]


def marked(pieces: Sequence[str], mask: Sequence[bool]) -> str:
    """The text with each run of masked tokens wrapped in `<<` `>>`."""
    out, inside = [], False
    for piece, on in zip(pieces, mask, strict=True):
        if on and not inside:
            out.append(OPEN)
        if not on and inside:
            out.append(CLOSE)
        out.append(piece)
        inside = on
    if inside:
        out.append(CLOSE)
    return "".join(out)


def normalised(activations: Sequence[float], max_activation: float) -> list[int]:
    """Activations on a 0–10 integer scale (10 = the latent's largest activation)."""
    scale = 10 / max_activation if max_activation > 0 else 0.0
    return [min(10, round(a * scale)) for a in activations]
