"""ReLU SAE with an L1 penalty weighted by decoder row norms (SAELens `standard`)."""

from torch import Tensor

from saekit.sae.base import Dictionary, TrainStepOutput, squared_error


class StandardSAE(Dictionary):
    architecture = "standard"
    config_fields = ("l1_coefficient",)

    def activate(self, pre: Tensor) -> Tensor:
        return pre.relu()

    def training_loss(self, x: Tensor, target: Tensor, dead_mask: Tensor | None = None):
        latents = self.activate(self.pre_activations(x))
        reconstruction = self.decode(latents)
        mse = squared_error(reconstruction, target)
        l1 = (latents * self.decoder_norms()).sum(-1).mean()
        loss = mse + self.cfg.l1_coefficient * l1
        fired, l0 = self.fired_and_l0(latents.detach())
        losses = {"mse": mse.detach(), "l1": l1.detach()}
        return TrainStepOutput(loss, losses, reconstruction.detach(), fired, l0)
