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
from typing import Any, Literal

import torch
from torch import Tensor
from torch.optim import Optimizer

OptimizerName = Literal["adam", "signum", "schedule-free-sign"]
OPTIMIZERS = ("adam", "signum", "schedule-free-sign")
ParamGroup = dict[str, Any]
"""A torch parameter group: `params` and per-group settings such as `lr_scale`."""
BASE_LR = {"adam": 2e-4, "signum": 5e-3, "schedule-free-sign": 5e-3}
"""Learning rate at 2**14 latents (sparsify's reference width), scaled by 1/sqrt(width)."""


def default_lr(name: OptimizerName, d_sae: int) -> float:
    return BASE_LR[name] / math.sqrt(d_sae / 2**14)


def as_groups(params: Iterable[Tensor] | Iterable[ParamGroup]) -> list[ParamGroup]:
    """Parameters as torch's parameter groups (a plain list of tensors is one group)."""
    params = list(params)
    if params and isinstance(params[0], Tensor):
        return [{"params": params}]
    return params


class SignSGD(Optimizer):
    """p <- p - lr * s * sign(m), m the momentum average of the gradients (`momentum=0`: the
    gradient itself), s a parameter's step scale for the next step (`scale_steps`; 1 unless
    set); decoupled weight decay."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[ParamGroup],
        lr: float,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay})
        self.step_scales: dict[Tensor, Tensor] = {}

    def scale_steps(self, param: Tensor, scale: Tensor) -> None:
        """Multiply `param`'s next step by `scale` (broadcast to its shape) on top of the rate."""
        self.step_scales[param] = scale

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
                scale = self.step_scales.pop(p, None)
                if scale is None:
                    p.add_(direction.sign(), alpha=-group["lr"])
                else:
                    p.addcmul_(direction.sign(), scale, value=-group["lr"])


class ScheduleFree:
    """Schedule-free averaging around a base optimizer. The base optimizer steps a sequence z
    (its own copy of the parameters); x is the running average of z weighted by lr**2;
    gradients are taken at y = (1 - momentum) z + momentum x, which the parameters hold while
    training. `average()` puts x into the parameters (for evaluation and saving),
    `resume_training()` puts y back. z and x start from the parameters' values at the first
    step. A step touches each weight in four passes (the base step on z, x's update, y written
    once): handing the base optimizer the parameters instead, as before, cost three more copies
    (store shape, width 4608, d_in 576: 7.4 ms of a ~50 ms step). Each step's averaging weight
    is the first group's lr**2: a group whose rate is a fixed multiple of it leaves the weights'
    shares unchanged."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[ParamGroup],
        make_base: Callable[[list[ParamGroup]], Optimizer],
        momentum: float = 0.95,
    ):
        groups = as_groups(params)
        self.params = [p for group in groups for p in group["params"]]
        self.z = [p.detach().clone() for p in self.params]
        self.x = [p.detach().clone() for p in self.params]
        z = iter(self.z)  # the base optimizer's groups: the same settings, over z
        z_groups = [group | {"params": [next(z) for _ in group["params"]]} for group in groups]
        self.base, self.momentum = make_base(z_groups), momentum
        self.weight_sum = 0.0
        self.averaged = False

    @property
    def param_groups(self) -> list[dict]:
        """The base optimizer's (a property: loading a state replaces its list)."""
        return self.base.param_groups

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        if self.averaged:
            raise RuntimeError("call resume_training() before stepping an averaged optimizer")
        if self.weight_sum == 0:  # the first step: start z and x from the parameters
            torch._foreach_copy_(self.z, self.params)
            torch._foreach_copy_(self.x, self.params)
        for z, p in zip(self.z, self.params, strict=True):
            z.grad = p.grad  # the base optimizer steps z with the gradient taken at y
        self.base.step()
        for z in self.z:
            z.grad = None
        weight = self.param_groups[0]["lr"] ** 2
        self.weight_sum += weight
        share = weight / self.weight_sum if self.weight_sum else 1.0
        torch._foreach_lerp_(self.x, self.z, share)
        self._put_y()

    def _put_y(self) -> None:
        for p, z, x in zip(self.params, self.z, self.x, strict=True):
            torch.lerp(x, z, 1 - self.momentum, out=p.data)

    def scale_steps(self, param: Tensor, scale: Tensor) -> None:
        """Multiply `param`'s next base step by `scale` (a sign-based base optimizer's)."""
        self.base.scale_steps(self.z[self.index(param)], scale)

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
        i = self.index(param)
        project(param)
        # x = (y - (1 - momentum) z) / momentum, as one lerp from z through y
        torch.lerp(self.z[i], param.data, 1 / self.momentum, out=self.x[i])

    def index(self, param: Tensor) -> int:
        """The position of `param` among the optimized parameters (and in `z`, `x`)."""
        return next(i for i, p in enumerate(self.params) if p is param)

    @torch.no_grad()
    def average(self) -> None:
        """Parameters <- x (the point to evaluate and save)."""
        if not self.averaged and self.weight_sum:
            torch._foreach_copy_([p.data for p in self.params], self.x)
        self.averaged = True

    @torch.no_grad()
    def resume_training(self) -> None:
        """Parameters <- y (where gradients are taken)."""
        if self.averaged and self.weight_sum:
            self._put_y()
        self.averaged = False

    def state_dict(self) -> dict:
        averaging = {
            "weight_sum": self.weight_sum,
            "z": dict(enumerate(self.z)),
            "x": dict(enumerate(self.x)),
        }
        return {"base": self.base.state_dict(), "averaging": averaging}

    @torch.no_grad()
    def load_state_dict(self, state: dict) -> None:
        self.base.load_state_dict(state["base"])
        averaging = state["averaging"]
        self.weight_sum = averaging["weight_sum"]
        for i, z in averaging["z"].items():
            self.z[i].copy_(z)
        for i, x in averaging["x"].items():
            self.x[i].copy_(x)


def make_optimizer(
    name: OptimizerName, groups: list[ParamGroup], lr: float, weight_decay: float
) -> Optimizer | ScheduleFree:
    """The optimizer over parameter groups (each may carry an `lr_scale`, which the trainer
    multiplies its scheduled rate by)."""
    if name == "adam":
        return torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay)
    if name == "signum":
        return SignSGD(groups, lr, momentum=0.9, weight_decay=weight_decay)
    if name == "schedule-free-sign":
        return ScheduleFree(
            groups, lambda z: SignSGD(z, lr, momentum=0.0, weight_decay=weight_decay)
        )
    raise ValueError(f"unknown optimizer {name!r}: choose from {', '.join(OPTIMIZERS)}")
