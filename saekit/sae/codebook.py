"""Codebook features (Tamkin et al. 2023): a vector-quantisation bottleneck that replaces an
activation by the sum (or mean) of the k codes, out of C learned codes, most similar to it.

The codes are trained directly by the reconstruction (or, in a model, the next-token) loss;
the input receives the output's gradient unchanged (straight-through). Codes start at k-means
centroids of the first batch, and codes unused for the trainer's dead window are replaced by
random inputs. It has no encoder (`has_encoder` is False): inputs are ranked against the codes
themselves, and `b_dec` is a fixed zero."""

import torch
import torch.nn.functional as F
from torch import Tensor

from saekit.sae.base import Dictionary, TrainStepOutput, squared_error
from saekit.sae.config import DictionaryConfig
from saekit.sae.kmeans import kmeans


class CodebookAutoencoder(Dictionary):
    architecture = "codebook"
    config_fields = ("codebook_similarity", "codebook_aggregate", "commitment_coefficient")
    uses_k = True
    has_encoder = False
    native_codes = "codebook"

    def __init__(self, cfg: DictionaryConfig):
        if cfg.out_dim != cfg.d_in:
            raise ValueError("a codebook reconstructs its own input: d_out must equal d_in")
        super().__init__(cfg)
        del self.b_dec  # the codes (W_dec) are the only parameters; the bias stays zero
        self.register_buffer(
            "b_dec", torch.zeros(cfg.d_in), persistent=False
        )  # cpu: built, then moved

    @property
    def codes(self) -> Tensor:
        """`[n_codes, d]` the codebook (stored as `W_dec`)."""
        return self.W_dec

    def pre_activations(self, x: Tensor) -> Tensor:
        """Similarity of `x [..., d]` to every code, `[..., n_codes]`."""
        self.check_width(x)
        how = self.cfg.codebook_similarity
        if how == "cosine":
            return F.normalize(x, dim=-1) @ F.normalize(self.codes, dim=-1).T
        if how == "dot":
            return x @ self.codes.T
        return 2 * x @ self.codes.T - self.codes.pow(2).sum(-1) - x.pow(2).sum(-1, keepdim=True)

    def code_indices(self, x: Tensor) -> Tensor:
        """`[..., k]` indices of the selected codes (the discrete codes)."""
        with torch.no_grad():
            return self.pre_activations(x).topk(self.cfg.k, dim=-1).indices

    def _weight(self) -> float:
        return 1.0 / self.cfg.k if self.cfg.codebook_aggregate == "mean" else 1.0

    def activate(self, pre: Tensor) -> Tensor:
        indices = pre.topk(self.cfg.k, dim=-1).indices
        return torch.zeros_like(pre).scatter(-1, indices, self._weight())

    def quantize(self, x: Tensor) -> Tensor:
        """The codebook output for `x`, differentiable in the codes."""
        return self.codes[self.code_indices(x)].sum(-2) * self._weight()

    def bottleneck(self, x: Tensor) -> Tensor:
        """In-model use: the value is the codebook output, the input gets its gradient as is."""
        return self.quantize(x) + (x - x.detach())

    def _share(self) -> float:
        """What one code should hold of an input: k summed codes each carry 1/k of it, the
        mean of k codes is input-sized."""
        return 1.0 / self.cfg.k if self.cfg.codebook_aggregate == "sum" else 1.0

    def commitment(self) -> float:
        return self.cfg.commitment_coefficient or 0.0

    def training_loss(self, x: Tensor, target: Tensor, dead_mask: Tensor | None = None):
        if dead_mask is not None and bool(dead_mask.any()):
            self.replace_dead_codes(x, dead_mask)
        indices = self.code_indices(x)
        reconstruction = self.codes[indices].sum(-2) * self._weight()
        mse = squared_error(reconstruction, target)
        commit = squared_error(x, reconstruction.detach())
        loss = mse + self.commitment() * commit
        fired = torch.zeros(self.d_sae, dtype=torch.bool, device=x.device)
        fired[indices.flatten()] = True
        losses = {"mse": mse.detach(), "commitment": commit.detach()}
        l0 = torch.tensor(float(self.cfg.k), device=x.device)
        return TrainStepOutput(loss, losses, reconstruction.detach(), fired, l0)

    @torch.no_grad()
    def replace_dead_codes(self, x: Tensor, dead_mask: Tensor) -> None:
        """Codes no input chose for the dead window restart at random inputs of this batch."""
        dead = dead_mask.nonzero().flatten()
        picks = torch.randint(0, x.shape[0], (dead.numel(),), device=x.device)
        self.codes[dead] = x[picks] * self._share()

    @torch.no_grad()
    def initialise_from_data(self, x: Tensor, centre: Tensor | None = None) -> None:
        """Codes start at k-means centroids of the batch (no bias to centre)."""
        n = min(x.shape[0], self.d_sae)
        centroids = kmeans(x, n) * self._share()
        self.codes[:n] = centroids

    @torch.no_grad()
    def fold_input_scaling(self, scale_in: float, scale_out: float) -> None:
        """Codes / s rank `x` exactly as codes rank `s * x`, for every similarity."""
        self.codes.div_(scale_out)
