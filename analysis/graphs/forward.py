"""A Llama-family model run layer by layer in plain torch from its Hugging Face weights, so that
attention patterns and norm denominators can be recorded on one run and frozen on another, and
every MLP can be replaced (by transcoders plus error terms).

With patterns and norm denominators frozen and the MLP outputs held fixed, the residual stream is
an affine function of the token embeddings and the MLP outputs: that is the local replacement
model attribution graphs are read from (`attribution.py` runs its transpose)."""

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

SUPPORTED = ("llama",)
"""Model types whose layer (pre-norm RMSNorm, rotary attention, MLP) `run_model` reproduces."""

MlpFn = Callable[[int, Tensor], Tensor]
"""`(layer, mlp_in [B, P, d]) -> mlp_out [B, P, d]`: what replaces a layer's MLP."""


@dataclass
class Recording:
    """What one run saw, per layer: attention patterns `[B, H, P, P]`, the norms' inverse RMS
    `[B, P, 1]` (before attention, before the MLP, final), and each MLP's input and output."""

    patterns: list[Tensor] = field(default_factory=list)
    attn_scales: list[Tensor] = field(default_factory=list)
    mlp_scales: list[Tensor] = field(default_factory=list)
    mlp_in: list[Tensor] = field(default_factory=list)
    mlp_out: list[Tensor] = field(default_factory=list)
    final_scale: Tensor | None = None


@dataclass
class Freeze:
    """Which recorded quantities a run reuses instead of recomputing."""

    recording: Recording
    attention: bool = True
    """Reuse the attention patterns (queries and keys no longer matter)."""
    norms: bool = True
    """Reuse every norm's inverse RMS (the norms become fixed linear maps)."""


def check_supported(module: nn.Module) -> None:
    model_type = module.config.model_type
    if model_type not in SUPPORTED:
        raise ValueError(
            f"attribution graphs need a Llama-family model; this one is {model_type!r} "
            f"(supported: {', '.join(SUPPORTED)})"
        )


def _inverse_rms(x: Tensor, eps: float) -> Tensor:
    return torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)


def _norm(
    norm: nn.Module, x: Tensor, frozen: list[Tensor] | None, record: list[Tensor], layer: int
) -> Tensor:
    scale = frozen[layer] if frozen is not None else _inverse_rms(x, norm.variance_epsilon)
    record.append(scale)
    return norm.weight * (x * scale)


def attention(
    attn: nn.Module, x: Tensor, position: tuple[Tensor, Tensor], pattern: Tensor | None
) -> tuple[Tensor, Tensor]:
    """One attention block on the normalised input `x [B, P, d]`; a given `pattern [B, H, P, P]`
    replaces the softmax. Returns (output [B, P, d], pattern)."""
    B, P, _ = x.shape
    head_dim, groups = attn.head_dim, attn.num_key_value_groups
    v = attn.v_proj(x).view(B, P, -1, head_dim).transpose(1, 2)
    if pattern is None:
        q = attn.q_proj(x).view(B, P, -1, head_dim).transpose(1, 2)
        k = attn.k_proj(x).view(B, P, -1, head_dim).transpose(1, 2)
        q, k = apply_rotary_pos_emb(q, k, *position)
        scores = q @ k.repeat_interleave(groups, dim=1).transpose(2, 3) * attn.scaling
        causal = torch.ones(P, P, dtype=torch.bool, device=x.device).tril()
        pattern = scores.masked_fill(~causal, float("-inf")).softmax(-1)
    z = pattern @ v.repeat_interleave(groups, dim=1)
    return attn.o_proj(z.transpose(1, 2).reshape(B, P, -1)), pattern


def run_model(
    module: nn.Module,
    tokens: Tensor,
    mlp: MlpFn | None = None,
    freeze: Freeze | None = None,
    embeddings: Tensor | None = None,
) -> tuple[Tensor, Recording]:
    """Logits `[B, P, vocab]` of `tokens [B, P]` (or of `embeddings [B, P, d]`), with each MLP
    replaced by `mlp` where given, and what the run saw."""
    check_supported(module)
    inner = module.model
    x = inner.embed_tokens(tokens) if embeddings is None else embeddings
    positions = torch.arange(x.shape[1], device=x.device).unsqueeze(0)
    rotary = inner.rotary_emb(x, positions)
    seen = Recording()
    frozen = freeze.recording if freeze is not None else None
    freeze_norms = freeze is not None and freeze.norms
    for index, layer in enumerate(inner.layers):
        normed = _norm(
            layer.input_layernorm,
            x,
            frozen.attn_scales if freeze_norms else None,
            seen.attn_scales,
            index,
        )
        fixed = frozen.patterns[index] if freeze is not None and freeze.attention else None
        attn_out, pattern = attention(layer.self_attn, normed, rotary, fixed)
        seen.patterns.append(pattern)
        x = x + attn_out
        mlp_in = _norm(
            layer.post_attention_layernorm,
            x,
            frozen.mlp_scales if freeze_norms else None,
            seen.mlp_scales,
            index,
        )
        mlp_out = layer.mlp(mlp_in) if mlp is None else mlp(index, mlp_in)
        seen.mlp_in.append(mlp_in)
        seen.mlp_out.append(mlp_out)
        x = x + mlp_out
    final = [frozen.final_scale] if freeze_norms else None
    record: list[Tensor] = []
    out = _norm(inner.norm, x, final, record, 0)
    seen.final_scale = record[0]
    return module.lm_head(out), seen
