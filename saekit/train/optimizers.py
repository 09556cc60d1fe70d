"""Optimizers for dictionary training, chosen by `TrainConfig.optimizer`:

- `adam`: AdamW with saekit's warmup and linear decay (SAELens' and dictionary_learning's
  choice);
- `signum`: sign descent on a momentum average (Bernstein et al. 2018), same schedule;
- `schedule-free-sign`: sign descent inside schedule-free averaging (Defazio et al. 2024, "The
  Road Less Scheduled") with momentum 0.95 and no decay — sparsify's default recipe.

Sign-based steps move every weight by the learning rate whatever its gradient's scale, so their
learning rates are ~10x Adam's; `default_lr` scales each by 1/sqrt(width) as sparsify does."""

import math
from collections.abc import Callable, Iterable
from typing import Literal

import torch
from torch import Tensor
from torch.optim import Optimizer

OptimizerName = Literal["adam", "signum", "schedule-free-sign"]
OPTIMIZERS = ("adam", "signum", "schedule-free-sign")
BASE_LR = {"adam": 2e-4, "signum": 5e-3, "schedule-free-sign": 5e-3}
"""Learning rate at 2**14 latents (sparsify's reference width), scaled by 1/sqrt(width)."""


def default_lr(name: OptimizerName, d_sae: int) -> float:
    return BASE_LR[name] / math.sqrt(d_sae / 2**14)


class SignSGD(Optimizer):
    """p <- p - lr * sign(m), m the momentum average of the gradients (`momentum=0`: the
    gradient itself); decoupled weight decay."""

    def __init__(
        self, params: Iterable[Tensor], lr: float, momentum: float = 0.9, weight_decay: float = 0.0
    ):
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                direction = p.grad
                if group["momentum"]:
                    m = self.state[p].setdefault("momentum", torch.zeros_like(p))
                    m.lerp_(p.grad, 1 - group["momentum"])
                    direction = m
                if group["weight_decay"]:
                    p.mul_(1 - group["lr"] * group["weight_decay"])
                p.add_(direction.sign(), alpha=-group["lr"])


class ScheduleFree:
    """Schedule-free averaging around a base optimizer. The base optimizer steps a sequence z;
    x is the running average of z weighted by lr**2; gradients are taken at
    y = (1 - momentum) z + momentum x, which the parameters hold while training. `average()`
    puts x into the parameters (for evaluation and saving), `resume_training()` puts y back."""

    def __init__(self, base: Optimizer, momentum: float = 0.95):
        self.base, self.momentum = base, momentum
        self.state: dict[str, object] = {"weight_sum": 0.0, "z": {}, "x": {}}
        self.averaged = False

    @property
    def param_groups(self) -> list[dict]:
        """The base optimizer's (a property: loading a state replaces its list)."""
        return self.base.param_groups

    def _params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.base.zero_grad(set_to_none=set_to_none)

    @torch.no_grad()
    def step(self) -> None:
        if self.averaged:
            raise RuntimeError("call resume_training() before stepping an averaged optimizer")
        params = self._params()
        z, x = self.state["z"], self.state["x"]
        for i, p in enumerate(params):
            if i not in z:
                z[i], x[i] = p.detach().clone(), p.detach().clone()
            p.copy_(z[i])  # the base optimizer steps z, with the gradient taken at y
        self.base.step()
        weight = self.param_groups[0]["lr"] ** 2
        self.state["weight_sum"] += weight
        share = weight / self.state["weight_sum"] if self.state["weight_sum"] else 1.0
        for i, p in enumerate(params):
            z[i].copy_(p)
            x[i].lerp_(z[i], share)
            p.copy_(x[i]).lerp_(z[i], 1 - self.momentum)

    @torch.no_grad()
    def constrain(self, param: Tensor, project: Callable[[Tensor], None]) -> None:
        """Apply an in-place constraint on one parameter (e.g. unit-norm decoder rows) where
        gradients are taken — to y, the parameter — and move the average x with it, so that
        y = (1 - momentum) z + momentum x still holds; the base sequence z stays free (sparsify's
        schedule-free recipe does the same). Sign steps then grow z's norm, shrinking the angle
        each later step turns it by: the decay schedule-free otherwise lacks. Projecting z and x
        as well measured worse on long runs (`benchmarks/recipe_study.py --variants defaults
        constrain-all`, dense toy set, 2M vectors at batch 4096: held-out FVU 0.355 vs 0.269,
        true features recovered 25 % vs 69 %). The averaged x is not constrained itself:
        project it after `average()`."""
        i = next(i for i, p in enumerate(self._params()) if p is param)
        project(param)
        z, x = self.state["z"][i], self.state["x"][i]
        x.copy_(param).sub_(z, alpha=1 - self.momentum).div_(self.momentum)

    @torch.no_grad()
    def average(self) -> None:
        """Parameters <- x (the point to evaluate and save)."""
        if not self.averaged and self.state["x"]:
            for i, p in enumerate(self._params()):
                p.copy_(self.state["x"][i])
        self.averaged = True

    @torch.no_grad()
    def resume_training(self) -> None:
        """Parameters <- y (where gradients are taken)."""
        if self.averaged and self.state["x"]:
            z, x = self.state["z"], self.state["x"]
            for i, p in enumerate(self._params()):
                p.copy_(x[i]).lerp_(z[i], 1 - self.momentum)
        self.averaged = False

    def state_dict(self) -> dict:
        return {"base": self.base.state_dict(), "averaging": self.state}

    def load_state_dict(self, state: dict) -> None:
        self.base.load_state_dict(state["base"])
        self.state = state["averaging"]


def make_optimizer(
    name: OptimizerName, params: Iterable[Tensor], lr: float, weight_decay: float
) -> Optimizer | ScheduleFree:
    if name == "adam":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "signum":
        return SignSGD(params, lr, momentum=0.9, weight_decay=weight_decay)
    if name == "schedule-free-sign":
        return ScheduleFree(SignSGD(params, lr, momentum=0.0, weight_decay=weight_decay))
    raise ValueError(f"unknown optimizer {name!r}: choose from {', '.join(OPTIMIZERS)}")
