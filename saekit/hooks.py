"""Hook points and the one hook module: read, replace, patch from a cache, or keep gradients
at hook points, attached in a context manager and always removed.

A `HookPoint` says which module to hook, whether its input or output is wanted and how to lay
the tensor out as `[batch, position, *point_shape]`; every reader and writer here sees that
layout. Names are resolved to hook points by the model wrappers (`saekit.models`); splicing,
harvesting, steering and circuit discovery all go through `hooked`.
"""

import difflib
import fnmatch
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from einops import rearrange
from torch import Tensor, nn
from torch.utils.hooks import RemovableHandle

Site = Literal["output", "input", "attn_weights"]
Layout = Literal["tokens", "heads", "pattern", "channels"]


@dataclass(frozen=True)
class HookPoint:
    """One place in a model whose activations can be read (or, later, replaced)."""

    name: str
    """The name the user gave (a TransformerLens name or a module path)."""
    module: str
    """The `named_modules()` path it resolved to."""
    site: Site = "output"
    """`output`: the module's output (first element of a tuple); `input`: its first input;
    `attn_weights`: the second element of an attention module's output (needs eager attention)."""
    layout: Layout = "tokens"
    """How the raw tensor becomes `[batch, pos, ...]`: `tokens` as is, `heads` splits the last
    dimension into `n_heads`, `pattern` moves heads after the query position, `channels` turns a
    conv map `[B, C, H, W]` into `[B, H*W, C]`."""
    n_heads: int | None = None


class StopForward(Exception):
    """Raised by a capture hook once every requested point has fired (early stopping)."""


def natural_key(name: str) -> list[Any]:
    """Sort key that orders `layers.2` before `layers.10`."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def glob_names(pattern: str, names: Iterable[str]) -> list[str]:
    """Names matching a glob (`*` spans one dotted part), naturally sorted."""
    regex = re.compile(fnmatch.translate(pattern).replace(".*", "[^.]*"))
    return sorted((n for n in names if regex.fullmatch(n)), key=natural_key)


def unknown_hook_error(name: str, valid: Sequence[str]) -> KeyError:
    close = difflib.get_close_matches(name, valid, n=5, cutoff=0.4)
    hint = f" Closest valid names: {', '.join(close)}." if close else ""
    return KeyError(
        f"unknown hook point {name!r}.{hint} List them all with model.hook_names() "
        f"or `saekit hooks --model ...`."
    )


def to_positions(raw: Tensor, point: HookPoint) -> Tensor:
    """Lay a captured tensor out as `[batch, pos, *point_shape]`."""
    if point.layout == "heads":
        return rearrange(raw, "b p (h d) -> b p h d", h=point.n_heads)
    if point.layout == "pattern":
        return rearrange(raw, "b h q k -> b q h k")
    if point.layout == "channels":
        return rearrange(raw, "b c h w -> b (h w) c")
    return raw


def from_positions(value: Tensor, point: HookPoint, raw_shape: torch.Size) -> Tensor:
    """Undo `to_positions`: a `[batch, pos, *point_shape]` tensor back to the module's layout."""
    if point.layout == "heads":
        return rearrange(value, "b p h d -> b p (h d)")
    if point.layout == "pattern":
        return rearrange(value, "b q h k -> b h q k")
    if point.layout == "channels":
        return rearrange(value, "b (h w) c -> b c h w", h=raw_shape[2], w=raw_shape[3])
    return value


ATTENTION_WEIGHTS_READ_ONLY = (
    "{} is attention weights: they can be read, not replaced; replace the attention output"
)
Edit = Callable[[Tensor], Tensor | None]
"""Called with a hook point's activation laid out `[batch, pos, *point_shape]`; returns a
replacement of the same shape, or None to leave the activation as it is."""


def _edited(point: HookPoint, edit: Edit, raw: Tensor) -> Tensor | None:
    value = to_positions(raw, point)
    new = edit(value)
    if new is None:
        return None
    if new.shape != value.shape:
        raise ValueError(f"a replacement at {point.name} must keep its shape {tuple(raw.shape)}")
    return from_positions(new.to(raw.dtype), point, raw.shape)


def _register(module: nn.Module, point: HookPoint, edit: Edit) -> RemovableHandle:
    if point.site == "input":

        def pre_hook(mod: nn.Module, args: tuple, kwargs: dict):
            name = None if args else next(iter(kwargs))
            new = _edited(point, edit, args[0] if args else kwargs[name])
            if new is None:
                return None
            return ((new, *args[1:]), kwargs) if args else (args, {**kwargs, name: new})

        return module.register_forward_pre_hook(pre_hook, with_kwargs=True)

    def hook(mod: nn.Module, args: tuple, output: Any):
        if point.site == "attn_weights":
            if output[1] is None:
                raise RuntimeError(
                    f"{point.module} returned no attention weights: use eager attention"
                )
            if _edited(point, edit, output[1]) is not None:
                raise ValueError(
                    f"{point.name} is attention weights: they can be read, not replaced"
                )
            return None
        is_sequence = isinstance(output, tuple | list)
        new = _edited(point, edit, output[0] if is_sequence else output)
        if new is None:
            return None
        return (new, *output[1:]) if is_sequence else new

    return module.register_forward_hook(hook)


@contextmanager
def hooked(model: nn.Module, edits: Sequence[tuple[HookPoint, Edit]]) -> Iterator[None]:
    """The one way saekit touches a running model: attach an `Edit` at each hook point for the
    block (reading, replacing, patching, gradient probes are all edits) and always remove
    them, also when the block raises."""
    modules = dict(model.named_modules())
    handles: list[RemovableHandle] = []
    try:
        for point, edit in edits:
            handles.append(_register(modules[point.module], point, edit))
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def attached(
    model: nn.Module, points: Sequence[HookPoint], stop_early: bool = False
) -> Iterator[dict[str, Tensor]]:
    """Capture: yield a dict that every forward pass fills with `{point name: [batch, pos,
    ...]}` (detached).

    With `stop_early`, the forward pass is interrupted (by `StopForward`) as soon as every
    point has fired, so layers after the last hooked one cost nothing. Use `run_captured`
    to have that exception handled.
    """
    sink: dict[str, Tensor] = {}
    wanted = {p.name for p in points}

    def reader(name: str) -> Edit:
        def read(value: Tensor) -> None:
            sink[name] = value.detach()
            if stop_early and wanted.issubset(sink):
                raise StopForward

        return read

    with hooked(model, [(p, reader(p.name)) for p in points]):
        yield sink


def mask_positions(new: Tensor, old: Tensor, keep: Tensor | None) -> Tensor:
    """`new` where `keep [batch, pos]` is True, `old` elsewhere (everywhere `new` if None)."""
    if keep is None:
        return new
    return torch.where(keep.to(new.device).view(*keep.shape, *[1] * (new.ndim - 2)), new, old)


@contextmanager
def replacing(
    model: nn.Module,
    point: HookPoint,
    fn: Callable[[Tensor], Tensor],
    where: Tensor | None = None,
) -> Iterator[None]:
    """Replace the activation `x [batch, pos, ...]` at `point` by `fn(x)` (only at positions
    where `where [batch, pos]` is True, if given) in every forward pass inside the block."""
    if point.site == "attn_weights":
        raise ValueError(ATTENTION_WEIGHTS_READ_ONLY.format(point.name))
    with hooked(model, [(point, lambda x: mask_positions(fn(x).to(x.dtype), x, where))]):
        yield


@contextmanager
def patching(
    model: nn.Module, point: HookPoint, cached: Tensor, where: Tensor | None = None
) -> Iterator[None]:
    """Activation patching: inside the block, `point` takes the value `cached [batch, pos,
    ...]` captured from another run (e.g. a corrupted prompt), at positions `where`."""

    def patch(x: Tensor) -> Tensor:
        if cached.shape != x.shape:
            raise ValueError(
                f"the cached activation at {point.name} has shape {tuple(cached.shape)}, "
                f"this run's has {tuple(x.shape)}: patch between runs of equal shape"
            )
        return cached.to(x)

    with replacing(model, point, patch, where):
        yield


@dataclass
class GradientProbes:
    """What `keeping_grad` records: activations, and after `backward()` their gradients."""

    activations: dict[str, Tensor] = field(default_factory=dict)
    """`{point name: [batch, pos, ...]}` of the last forward pass (detached)."""
    probes: dict[str, Tensor] = field(default_factory=dict)
    """Zero tensors added at each point; their gradient is the activation's."""

    def gradients(self) -> dict[str, Tensor]:
        """`{point name: d(scalar)/d(activation)}`, laid out like `activations`."""
        missing = [name for name, probe in self.probes.items() if probe.grad is None]
        if missing or not self.probes:
            raise RuntimeError(
                f"no gradient reached {missing or 'any point'}: run the forward pass inside the "
                "block with gradients enabled (not under no_grad/inference_mode), then call "
                "backward() on a scalar computed from its output"
            )
        return {name: probe.grad for name, probe in self.probes.items()}


@contextmanager
def keeping_grad(model: nn.Module, points: Sequence[HookPoint]) -> Iterator[GradientProbes]:
    """Gradients at hook points (attribution patching): a zero probe that requires grad is
    added to each point's activation, so the total derivative flows through every point (none
    cuts the graph of another) even when the model's own parameters are frozen."""
    record = GradientProbes()

    def prober(name: str) -> Edit:
        def probe(value: Tensor) -> Tensor:
            record.activations[name] = value.detach()
            record.probes[name] = torch.zeros_like(value, requires_grad=True)
            return value + record.probes[name]

        return probe

    with hooked(model, [(p, prober(p.name)) for p in points]):
        yield record


def run_captured(
    model: nn.Module,
    call: Callable[[], Any],
    points: Sequence[HookPoint],
    stop_early: bool = False,
) -> dict[str, Tensor]:
    """Run `call()` (a forward pass of `model`) and return `{point name: [batch, pos, ...]}`."""
    with torch.inference_mode(), attached(model, points, stop_early) as sink:
        try:
            call()
        except StopForward:
            pass
    missing = [p.name for p in points if p.name not in sink]
    if missing:
        raise RuntimeError(f"hook points never fired during the forward pass: {missing}")
    return dict(sink)


def hooks_left(model: nn.Module) -> int:
    """How many forward hooks are attached anywhere in `model` (0 after a clean capture)."""
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())
