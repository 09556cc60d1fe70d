"""JumpReLU SAE (Rajamanoharan et al. 2024): a latent fires when its pre-activation exceeds a
learned per-latent threshold. The step function's gradient is replaced by a rectangle-kernel
pseudo-derivative (straight-through estimator); an L0 penalty sets the sparsity."""

import torch
from torch import Tensor, nn

from saekit.sae.base import Dictionary, TrainStepOutput, squared_error
from saekit.sae.config import DictionaryConfig


def _rectangle(u: Tensor) -> Tensor:
    return ((u > -0.5) & (u < 0.5)).to(u)


class _JumpReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, pre: Tensor, threshold: Tensor, bandwidth: float) -> Tensor:
        ctx.save_for_backward(pre, threshold)
        ctx.bandwidth = bandwidth
        return pre * (pre > threshold)

    @staticmethod
    def backward(ctx, grad: Tensor):
        pre, threshold = ctx.saved_tensors
        eps = ctx.bandwidth
        grad_pre = (pre > threshold) * grad
        grad_threshold = -(threshold / eps) * _rectangle((pre - threshold) / eps) * grad
        return grad_pre, grad_threshold.sum(0), None


class _Step(torch.autograd.Function):
    @staticmethod
    def forward(ctx, pre: Tensor, threshold: Tensor, bandwidth: float) -> Tensor:
        ctx.save_for_backward(pre, threshold)
        ctx.bandwidth = bandwidth
        return (pre > threshold).to(pre)

    @staticmethod
    def backward(ctx, grad: Tensor):
        pre, threshold = ctx.saved_tensors
        eps = ctx.bandwidth
        grad_threshold = -(1.0 / eps) * _rectangle((pre - threshold) / eps) * grad
        return None, grad_threshold.sum(0), None


def jumprelu(pre: Tensor, threshold: Tensor) -> Tensor:
    """Inference rule (as SAELens): ReLU, zeroed where `pre <= threshold`."""
    return pre.relu() * (pre > threshold)


class JumpReLUSAE(Dictionary):
    architecture = "jumprelu"
    supports_skip = True
    config_fields = ("l0_coefficient", "jumprelu_bandwidth", "jumprelu_init_threshold")

    def __init__(self, cfg: DictionaryConfig):
        super().__init__(cfg)
        self.threshold = nn.Parameter(
            torch.full((cfg.d_sae,), cfg.jumprelu_init_threshold)
        )  # cpu: moved

    def activate(self, pre: Tensor) -> Tensor:
        return jumprelu(pre, self.threshold)

    def training_loss(self, x: Tensor, target: Tensor, dead_mask: Tensor | None = None):
        pre = self.pre_activations(x)
        bandwidth = self.cfg.jumprelu_bandwidth
        latents = _JumpReLU.apply(pre.relu(), self.threshold, bandwidth)
        reconstruction = self.decode(latents) + self.skip_term(x)
        mse = squared_error(reconstruction, target)
        l0 = _Step.apply(pre, self.threshold, bandwidth).sum(-1).mean()
        loss = mse + self.cfg.l0_coefficient * l0
        fired, mean_l0 = self.fired_and_l0(latents.detach())
        losses = {"mse": mse.detach(), "l0": l0.detach()}
        return TrainStepOutput(loss, losses, reconstruction.detach(), fired, mean_l0)
