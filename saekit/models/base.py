"""What every loaded model offers: the torch module, its hook points and a forward pass."""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from saekit.hooks import HookPoint, glob_names, run_captured, unknown_hook_error


@dataclass
class HookedModel(ABC):
    """A torch module plus the names its activations can be read at.

    `named_points` maps the special names (TransformerLens names for language models) to hook
    points; every module path from `named_modules()` is a hook point too (its output).
    """

    spec: str
    """The spec the model was loaded from (recorded in stores)."""
    module: nn.Module
    named_points: dict[str, HookPoint] = field(default_factory=dict)

    @property
    def device(self) -> torch.device:
        return next(self.module.parameters()).device

    def module_names(self) -> list[str]:
        return [name for name, _ in self.module.named_modules() if name]

    def hook_names(self) -> list[str]:
        """Every valid hook name: the named points first, then the module paths."""
        return list(self.named_points) + self.module_names()

    def resolve_hooks(self, names: str | Sequence[str]) -> list[HookPoint]:
        """Resolve names or globs (`model.layers.*.mlp`, `blocks.*.hook_resid_post`)."""
        names = [names] if isinstance(names, str) else list(names)
        points: list[HookPoint] = []
        for name in names:
            points.extend(self._resolve_one(name))
        if len({p.name for p in points}) != len(points):
            raise ValueError(f"hook points named more than once: {names}")
        return points

    def _resolve_one(self, name: str) -> list[HookPoint]:
        if name in self.named_points:
            return [self.named_points[name]]
        modules = self.module_names()
        if name in modules:
            return [self.module_point(name)]
        matches = glob_names(name, self.named_points) or glob_names(name, modules)
        if not matches:
            raise unknown_hook_error(name, self.hook_names())
        return [self.named_points.get(m) or self.module_point(m) for m in matches]

    def module_point(self, module_name: str) -> HookPoint:
        return HookPoint(name=module_name, module=module_name)

    @abstractmethod
    def forward(self, inputs: Tensor) -> Tensor:
        """The model's forward pass on a batch of its inputs (token ids or pixel values)."""

    def capture(
        self, inputs: Tensor, points: Sequence[HookPoint], stop_early: bool = True
    ) -> dict[str, Tensor]:
        """One forward pass; `{point name: activations [batch, pos, ...]}`."""
        inputs = inputs.to(self.device)
        return run_captured(self.module, lambda: self.forward(inputs), points, stop_early)
