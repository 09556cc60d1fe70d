"""Splicing: at a hook point of a running model, replace the activation — by a dictionary's
reconstruction (optionally keeping its error), with latents ablated, clamped or boosted first,
or by any function. Evaluation, steering, codebook bottlenecks, circuits and intervention
scoring all build on this one context manager; hooks are always removed afterwards."""

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import Tensor

from saekit.hooks import HookPoint
from saekit.models import HookedModel
from saekit.sae import Dictionary


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


def _check_spliceable(point: HookPoint) -> None:
    if point.site == "attn_weights":
        raise ValueError(f"{point.name} is attention weights: splice the attention output instead")


def _mask_positions(new: Tensor, old: Tensor, keep: Tensor | None) -> Tensor:
    """Use `new` where `keep [batch, pos]` is True, the original elsewhere."""
    if keep is None:
        return new
    return torch.where(keep.to(new.device).view(*keep.shape, *[1] * (new.ndim - 2)), new, old)


@contextmanager
def replacing(
    model: HookedModel, hook: str, fn: Callable[[Tensor], Tensor], where: Tensor | None = None
) -> Iterator[HookPoint]:
    """Replace the activation `x [batch, pos, ...]` at `hook` by `fn(x)` (at positions where
    `where [batch, pos]` is True, if given) for every forward pass inside the block."""
    (point,) = model.resolve_hooks(hook)
    _check_spliceable(point)
    module = dict(model.module.named_modules())[point.module]

    def swap(x: Tensor) -> Tensor:
        return _mask_positions(fn(x).to(x.dtype), x, where)

    if point.site == "input":

        def pre_hook(mod, args, kwargs):
            if args:
                return (swap(args[0]), *args[1:]), kwargs
            name = next(iter(kwargs))
            return args, {**kwargs, name: swap(kwargs[name])}

        handle = module.register_forward_pre_hook(pre_hook, with_kwargs=True)
    else:

        def hook_fn(mod, args, output):
            if isinstance(output, tuple):
                return (swap(output[0]), *output[1:])
            return swap(output)

        handle = module.register_forward_hook(hook_fn)
    try:
        yield point
    finally:
        handle.remove()


def reconstruct(
    dictionary: Dictionary, x: Tensor, edit: LatentEdit | None = None, keep_error: bool = False
) -> Tensor:
    """The dictionary's reconstruction of `x [..., d]` (flattening any head dimensions)."""
    flat = x.reshape(*x.shape[:2], -1).float()
    latents = dictionary.encode(flat)
    edited = edit.apply(latents) if edit is not None else latents
    out = dictionary.decode(edited)
    if keep_error:
        out = flat + (out - dictionary.decode(latents)) if edit is not None else flat
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
    hook = hook or dictionary.cfg.hook_name
    if hook is None:
        raise ValueError("the dictionary records no hook: pass hook=...")
    with replacing(
        model, hook, lambda x: reconstruct(dictionary, x, edit, keep_error), where
    ) as point:
        yield point
