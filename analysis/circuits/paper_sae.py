"""The small SAE of the seed circuit method as its paper trains it (O'Neill & Bui 2024, the
`sae-circuits` code): one bias subtracted before encoding and added after decoding, started at
0; encoder rows and decoder rows kept at unit norm (the gradient's component along each row is
removed, and rows are renormalised before every forward); ReLU; loss = mean squared error over
every element + λ · mean L1 norm of the latents; Adam, full batch."""

import math

import torch
from torch import Tensor, nn


class UnitRowLinear(nn.Module):
    """A linear map `x @ weight.T + bias` whose weight rows stay on the unit sphere."""

    def __init__(self, d_in: int, d_out: int, bias: bool, generator: torch.Generator) -> None:
        super().__init__()
        weight = torch.randn(d_out, d_in, generator=generator)  # cpu: head writes are
        self.weight = nn.Parameter(nn.functional.normalize(weight, dim=-1))
        bound = 1 / math.sqrt(d_in)
        start = (torch.rand(d_out, generator=generator) * 2 - 1) * bound  # cpu: as weight
        self.bias = nn.Parameter(start) if bias else None
        self.weight.register_hook(self._tangent)

    def _tangent(self, grad: Tensor) -> Tensor:
        """The gradient without its component along each (unit) row."""
        along = (grad * self.weight).sum(-1, keepdim=True)
        return grad - along * nn.functional.normalize(self.weight, dim=-1)

    def forward(self, x: Tensor) -> Tensor:
        with torch.no_grad():
            self.weight.copy_(nn.functional.normalize(self.weight, dim=-1))
        return nn.functional.linear(x, self.weight, self.bias)


class PaperSAE(nn.Module):
    def __init__(self, d_in: int, d_sae: int, seed: int = 0) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.tied_bias = nn.Parameter(torch.zeros(d_in))  # cpu: head writes are
        self.encoder = UnitRowLinear(d_in, d_sae, bias=True, generator=generator)
        self.decoder = UnitRowLinear(d_sae, d_in, bias=False, generator=generator)

    def encode(self, x: Tensor) -> Tensor:
        return torch.relu(self.encoder(x - self.tied_bias))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(latents, reconstruction)."""
        latents = self.encode(x)
        return latents, self.decoder(latents) + self.tied_bias


def paper_loss(sae: PaperSAE, x: Tensor, l1_coefficient: float) -> Tensor:
    latents, reconstruction = sae(x)
    mse = nn.functional.mse_loss(reconstruction, x)
    return mse + l1_coefficient * latents.abs().sum(-1).mean()


def train_paper_sae(
    vectors: Tensor, d_sae: int, l1_coefficient: float, lr: float, epochs: int, seed: int
) -> PaperSAE:
    """Full-batch Adam on `vectors [n, d]` (raw: no rescaling)."""
    sae = PaperSAE(vectors.shape[-1], d_sae, seed)
    optimizer = torch.optim.Adam(sae.parameters(), lr=lr)
    with torch.enable_grad():
        for _ in range(epochs):
            optimizer.zero_grad()
            paper_loss(sae, vectors, l1_coefficient).backward()
            optimizer.step()
    return sae.eval()
