"""Hook points and capture: attach forward hooks in a context manager, always remove them.

A `HookPoint` says which module to hook, whether its input or output is wanted and how to lay
the captured tensor out as `[batch, position, *point_shape]`. Names are resolved to hook points
by the model wrappers (`saekit.models`); this module only attaches, captures and detaches.
"""

import difflib
import fnmatch
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import torch
from einops import rearrange
from torch import Tensor, nn

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


def _first(value: Any) -> Tensor:
    return value[0] if isinstance(value, tuple | list) else value


def _make_hook(point: HookPoint, sink: dict[str, Tensor], on_fire: Callable[[], None]):
    if point.site == "input":

        def pre_hook(module: nn.Module, args: tuple, kwargs: dict) -> None:
            value = args[0] if args else next(iter(kwargs.values()))
            sink[point.name] = to_positions(value.detach(), point)
            on_fire()

        return pre_hook

    def hook(module: nn.Module, args: tuple, output: Any) -> None:
        value = output[1] if point.site == "attn_weights" else _first(output)
        if value is None:
            raise RuntimeError(f"{point.module} returned no attention weights: use eager attention")
        sink[point.name] = to_positions(value.detach(), point)
        on_fire()

    return hook


@contextmanager
def attached(
    model: nn.Module, points: Sequence[HookPoint], stop_early: bool = False
) -> Iterator[dict[str, Tensor]]:
    """Attach capture hooks for `points`; yield the dict they fill; always remove them.

    With `stop_early`, the forward pass is interrupted (by `StopForward`) as soon as every
    point has fired, so layers after the last hooked one cost nothing. Use `run_captured`
    to have that exception handled.
    """
    modules = dict(model.named_modules())
    sink: dict[str, Tensor] = {}
    wanted = {p.name for p in points}

    def on_fire() -> None:
        if stop_early and wanted.issubset(sink):
            raise StopForward

    handles = []
    try:
        for point in points:
            module = modules[point.module]
            hook = _make_hook(point, sink, on_fire)
            if point.site == "input":
                handles.append(module.register_forward_pre_hook(hook, with_kwargs=True))
            else:
                handles.append(module.register_forward_hook(hook))
        yield sink
    finally:
        for handle in handles:
            handle.remove()


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
