"""Matryoshka BatchTopK SAE (Bussmann et al. 2025; Nabeshima 2024): every nested prefix of the
latents must reconstruct the input on its own, so early latents learn general features and later
ones refine them. Saved as SAELens `jumprelu`, like BatchTopK."""

from torch import Tensor

from saekit.sae.base import squared_error
from saekit.sae.batchtopk import BatchTopKSAE


class MatryoshkaSAE(BatchTopKSAE):
    architecture = "matryoshka_batchtopk"
    config_fields = (*BatchTopKSAE.config_fields, "matryoshka_widths")

    def prefix_widths(self) -> list[int]:
        widths = [w for w in self.cfg.matryoshka_widths if w < self.d_sae]
        return widths + [self.d_sae]

    def reconstruction_losses(self, latents: Tensor, reconstruction: Tensor, target: Tensor):
        """Mean over prefixes of the squared error of the prefix's own reconstruction."""
        errors = [
            squared_error(latents[:, :w] @ self.W_dec[:w] + self.b_dec, target)
            for w in self.prefix_widths()[:-1]
        ] + [squared_error(reconstruction, target)]
        loss = sum(errors) / len(errors)
        return loss, {"mse": errors[-1].detach(), "matryoshka": loss.detach()}
