"""Three autoencoders with the same MLP encoder and decoder (images -> hidden -> hidden ->
latents and back, Bernoulli pixel likelihood), differing only in the bottleneck: continuous (AE),
diagonal Gaussian with a beta-weighted KL (beta-VAE, Higgins et al. 2017) and latent quantization
(QLAE, Hsu et al. 2023, reusing saekit's `LatentQuantizer`). Loss weights follow the QLAE
authors' dSprites configuration: per-pixel mean binary cross-entropy, quantization and commitment
0.01 each; the VAE's KL is summed over latents and divided by the pixel count so that beta keeps
its usual meaning."""

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from saekit.analysis.activity import kl_to_prior
from saekit.sae.quantized import LatentQuantizer


class LossOutput(NamedTuple):
    loss: Tensor
    """The scalar to minimise."""
    reconstruction: Tensor
    """Mean binary cross-entropy per pixel (detached): comparable across the three models."""
    terms: dict[str, Tensor]
    """Each weighted term of the loss (detached)."""


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class ReferenceAutoencoder(nn.Module):
    """`n_latents` bottleneck over `n_pixels` images; subclasses set the bottleneck."""

    head_width = 1
    """Encoder outputs per latent (2 for mean and log-variance)."""

    def __init__(self, n_pixels: int, n_latents: int = 10, hidden: int = 256):
        super().__init__()
        self.n_pixels, self.n_latents = n_pixels, n_latents
        self.encoder = _mlp([n_pixels, hidden, hidden, n_latents * self.head_width])
        self.decoder = _mlp([n_latents, hidden, hidden, n_pixels])

    def encode(self, images: Tensor) -> Tensor:
        return self.encoder(images.flatten(1))

    def represent(self, images: Tensor) -> Tensor:
        """`[n, L]` the deterministic representation the metrics score."""
        return self.encode(images)

    def bce(self, logits: Tensor, images: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(logits, images.flatten(1))

    def loss(self, images: Tensor) -> LossOutput:
        bce = self.bce(self.decoder(self.encode(images)), images)
        return LossOutput(bce, bce.detach(), {"bce": bce.detach()})


class AE(ReferenceAutoencoder):
    """Unregularised continuous bottleneck."""


class BetaVAE(ReferenceAutoencoder):
    head_width = 2

    def __init__(self, n_pixels: int, n_latents: int = 10, hidden: int = 256, beta: float = 4.0):
        super().__init__(n_pixels, n_latents, hidden)
        self.beta = beta

    def posterior(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Mean and log-variance `[n, L]` of q(z | x)."""
        mean, logvar = self.encode(images).chunk(2, dim=-1)
        return mean, logvar.clamp(-20, 10)

    def represent(self, images: Tensor) -> Tensor:
        return self.posterior(images)[0]

    def loss(self, images: Tensor) -> LossOutput:
        mean, logvar = self.posterior(images)
        z = mean + torch.randn_like(mean) * (0.5 * logvar).exp()
        bce = self.bce(self.decoder(z), images)
        kl = kl_to_prior(mean, logvar).sum(-1).mean() / self.n_pixels
        return LossOutput(
            bce + self.beta * kl, bce.detach(), {"bce": bce.detach(), "kl": kl.detach()}
        )


class QLAE(ReferenceAutoencoder):
    def __init__(
        self,
        n_pixels: int,
        n_latents: int = 10,
        hidden: int = 256,
        n_values: int = 10,
        quantization: float = 0.01,
        commitment: float = 0.01,
    ):
        super().__init__(n_pixels, n_latents, hidden)
        self.quantizer = LatentQuantizer(n_latents, n_values)
        self.weights = {"quantization": quantization, "commitment": commitment}

    def represent(self, images: Tensor) -> Tensor:
        return self.quantizer(self.encode(images)).values

    def codes(self, images: Tensor) -> Tensor:
        """`[n, L]` the index of each latent's value: the discrete code."""
        return self.quantizer(self.encode(images)).indices

    def loss(self, images: Tensor) -> LossOutput:
        q = self.quantizer(self.encode(images))
        bce = self.bce(self.decoder(q.values), images)
        terms = {
            "bce": bce,
            "quantization": self.weights["quantization"] * q.quantization_loss,
            "commitment": self.weights["commitment"] * q.commitment_loss,
        }
        return LossOutput(
            sum(terms.values()), bce.detach(), {k: v.detach() for k, v in terms.items()}
        )
