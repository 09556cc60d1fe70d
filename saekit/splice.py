"""Splicing: at a hook point of a running model, replace the activation — by a dictionary's
reconstruction (optionally keeping its error), with latents ablated, clamped or boosted first,
or by any function. Evaluation, steering, codebook bottlenecks, circuits and intervention
scoring all build on this one context manager; hooks are always removed afterwards."""

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from torch import Tensor

from saekit import hooks
from saekit.hooks import HookPoint
from saekit.models import HookedModel
from saekit.sae import Dictionary
from saekit.sae.base import resolve_hook


@dataclass(frozen=True)
class LatentEdit:
    """Changes to latent activations before decoding."""

    ablate: Sequence[int] = ()
    """Latents set to zero."""
    clamp: Mapping[int, float] = field(default_factory=dict)
    """Latents set to a value wherever the edit applies."""
    add: Mapping[int, float] = field(default_factory=dict)
    """Values added to latents."""

    def apply(self, latents: Tensor) -> Tensor:
        latents = latents.clone()
        if self.ablate:
            latents[..., list(self.ablate)] = 0
        for index, value in self.clamp.items():
            latents[..., index] = value
        for index, value in self.add.items():
            latents[..., index] += value
        return latents


@contextmanager
def replacing(
    model: HookedModel, hook: str, fn: Callable[[Tensor], Tensor], where: Tensor | None = None
) -> Iterator[HookPoint]:
    """Replace the activation `x [batch, pos, ...]` at the hook named `hook` by `fn(x)` (at
    positions where `where [batch, pos]` is True, if given) for every forward pass inside the
    block (`saekit.hooks.replacing` on a model's hook name)."""
    (point,) = model.resolve_hooks(hook)
    with hooks.replacing(model.module, point, fn, where):
        yield point


def reconstruct(
    dictionary: Dictionary, x: Tensor, edit: LatentEdit | None = None, keep_error: bool = False
) -> Tensor:
    """The dictionary's reconstruction of `x [batch, pos, ...]` (flattening any head or other
    per-position dimensions)."""
    flat = x.reshape(*x.shape[:2], -1).float()
    latents = dictionary.encode(flat)
    edited = edit.apply(latents) if edit is not None else latents
    decoded = dictionary.decode(edited)
    if not keep_error:
        out = decoded + dictionary.skip_term(flat)
    elif edit is not None:
        out = flat + (decoded - dictionary.decode(latents))
    else:
        out = flat
    return out.reshape(x.shape)


@contextmanager
def spliced(
    model: HookedModel,
    dictionary: Dictionary,
    hook: str | None = None,
    edit: LatentEdit | None = None,
    keep_error: bool = False,
    where: Tensor | None = None,
) -> Iterator[HookPoint]:
    """Run the model with `dictionary` spliced in at `hook` (default: the hook it was trained
    on). `keep_error=True` adds back the reconstruction error, so only the edit changes the
    activation. `where [batch, pos]` limits the splice to some positions (e.g. not BOS)."""
    hook = resolve_hook(dictionary, hook)
    if hook is None:
        raise ValueError("the dictionary records no hook: pass hook=...")
    with replacing(
        model, hook, lambda x: reconstruct(dictionary, x, edit, keep_error), where
    ) as point:
        yield point
