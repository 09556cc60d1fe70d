"""Steering: generate text with a dictionary feature (or codebook code) forced on at its hook.

The strength is in units of the feature's largest activation seen in the feature-statistics
pass (`saekit eval --feature-stats`), so `strength=2` means twice the strongest natural firing.
"""

from pathlib import Path

import torch
from torch import Tensor

from saekit.evals.feature_stats import FeatureStats
from saekit.models import LanguageModel
from saekit.sae import Dictionary
from saekit.sae.base import resolve_hook
from saekit.splice import LatentEdit, reconstruct, replacing


def feature_max(folder: str | Path, feature: int) -> float:
    """The feature's largest observed activation, from `feature_stats.safetensors`."""
    try:
        stats = FeatureStats.load(folder)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{folder} has no feature statistics: run `saekit eval --dictionary {folder} "
            "--acts STORE --feature-stats` first"
        ) from None
    if not 0 <= feature < stats.max_activation.shape[0]:
        raise ValueError(
            f"feature {feature} is out of range (0..{stats.max_activation.shape[0] - 1})"
        )
    return float(stats.max_activation[feature])


@torch.no_grad()
def generate(
    model: LanguageModel,
    prompt: str,
    max_new_tokens: int = 30,
    seed: int = 0,
    temperature: float = 0.8,
) -> str:
    """Sample a continuation of `prompt` (BOS prepended explicitly)."""
    tok = model.tokenizer
    ids = tok(prompt, return_tensors="pt", add_special_tokens=False).input_ids
    if tok.bos_token_id is not None:
        ids = torch.cat(
            [torch.tensor([[tok.bos_token_id]]), ids], dim=1
        )  # cpu: moved with ids below
    torch.manual_seed(seed)
    out = model.module.generate(
        ids.to(model.device),
        attention_mask=torch.ones_like(ids).to(model.device),
        max_new_tokens=max_new_tokens,
        do_sample=True,
        temperature=temperature,
        top_p=0.95,
        pad_token_id=tok.eos_token_id,
    )
    return tok.decode(out[0, ids.shape[1] :], skip_special_tokens=True)


def steer(
    model: LanguageModel,
    dictionary: Dictionary,
    feature: int,
    strength: float,
    prompt: str,
    max_activation: float,
    max_new_tokens: int = 30,
    seed: int = 0,
    hook: str | None = None,
) -> str:
    """Generate with `feature` clamped to `strength * max_activation` at every position but BOS
    (the dictionary's reconstruction error is kept, so only that feature changes)."""
    if not 0 <= feature < dictionary.cfg.d_sae:
        raise ValueError(f"feature {feature} is out of range (0..{dictionary.cfg.d_sae - 1})")
    edit = LatentEdit(clamp={feature: strength * max_activation})
    hook = resolve_hook(dictionary, hook)

    def steered(x: Tensor) -> Tensor:
        out = reconstruct(dictionary, x, edit, keep_error=True)
        if x.shape[1] > 1:  # the prompt pass: leave BOS (position 0) alone, as in training
            out[:, 0] = x[:, 0]
        return out

    with replacing(model, hook, steered):
        return generate(model, prompt, max_new_tokens, seed)
