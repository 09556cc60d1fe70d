"""How good a transcoder set is: each layer's FVU and L0 on text, and the next-token loss with
every MLP replaced by its transcoder at once (errors not kept) against the clean model and
against every MLP mean-ablated. Special positions (BOS) keep their real MLP output, as the
transcoders never saw them."""

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from saekit.analysis.graphs.forward import MlpFn, run_model
from saekit.analysis.graphs.transcoders import TranscoderSet
from saekit.artifacts import write_text_atomic
from saekit.models import LanguageModel

SET_EVAL = "set_eval.json"


@dataclass
class LayerQuality:
    layer: int
    fvu: float
    """Fraction of the MLP output's variance the transcoder leaves unexplained."""
    l0: float
    """Mean active latents per token."""


@dataclass
class TranscoderSetEval:
    tokens: int
    """Predicted positions scored."""
    layers: list[LayerQuality]
    ce_clean: float
    ce_replaced: float
    """Every MLP replaced by its transcoder at once, errors not kept."""
    ce_mean_ablated: float
    """Every MLP output replaced by its mean over the evaluation text."""
    loss_recovered: float
    """(ce_mean_ablated - ce_replaced) / (ce_mean_ablated - ce_clean): 1 is the model."""
    max_logit_gap_with_errors: float
    """Largest |logit| difference from the model with the error terms kept (0 up to rounding)."""

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / SET_EVAL
        write_text_atomic(path, json.dumps(asdict(self), indent=1))
        return path


def _nll(logits: Tensor, tokens: Tensor, scored: Tensor) -> Tensor:
    logprobs = F.log_softmax(logits[:, :-1].float(), -1)
    return -logprobs.gather(-1, tokens[:, 1:, None]).squeeze(-1)[scored]


def _keep_special(special: Tensor, real: list[Tensor], replace: MlpFn) -> MlpFn:
    def mlp(layer: int, mlp_in: Tensor) -> Tensor:
        return torch.where(special[..., None], real[layer], replace(layer, mlp_in))

    return mlp


@dataclass
class _BatchSums:
    nll: dict[str, float]
    """Summed next-token NLL per run (clean, replaced, mean)."""
    scored: int
    rows: int
    error: Tensor
    """`[n_layers]` summed squared reconstruction error."""
    variance: Tensor
    l0: Tensor
    gap: float


def _batch(
    model: LanguageModel, transcoders: TranscoderSet, ids: Tensor, spec: Tensor, means: list
) -> _BatchSums:
    tcs = transcoders.transcoders
    scored = ~spec[:, :-1] & ~spec[:, 1:]
    keep = ~spec
    clean, seen = run_model(model.module, ids)
    real = seen.mlp_out
    error, variance, l0 = (torch.zeros(model.n_layers) for _ in range(3))  # cpu: summed there
    clean_reconstructions = []
    for layer in range(model.n_layers):
        out = tcs[layer](seen.mlp_in[layer])
        clean_reconstructions.append(out.reconstruction)
        target = real[layer][keep]
        error[layer] = (out.reconstruction[keep] - target).pow(2).sum().cpu()
        variance[layer] = (target - means[layer]).pow(2).sum().cpu()
        l0[layer] = (out.latents[keep] > 0).sum().cpu()

    def transcoded(layer: int, mlp_in: Tensor) -> Tensor:
        return tcs[layer](mlp_in).reconstruction

    def mean(layer: int, mlp_in: Tensor) -> Tensor:
        return means[layer].expand_as(mlp_in)

    def with_errors(layer: int, mlp_in: Tensor) -> Tensor:
        # reconstruction + error, written as the real output plus the reconstruction's change,
        # so that identical inputs give the real output bit for bit (TopK has ties to break)
        return real[layer] + (transcoded(layer, mlp_in) - clean_reconstructions[layer])

    replaced, _ = run_model(model.module, ids, _keep_special(spec, real, transcoded))
    ablated, _ = run_model(model.module, ids, _keep_special(spec, real, mean))
    kept, _ = run_model(model.module, ids, with_errors)
    runs = {"clean": clean, "replaced": replaced, "mean": ablated}
    return _BatchSums(
        nll={name: float(_nll(logits, ids, scored).sum()) for name, logits in runs.items()},
        scored=int(scored.sum()),
        rows=int(keep.sum()),
        error=error,
        variance=variance,
        l0=l0,
        gap=float((kept - clean).abs().max()),
    )


@torch.no_grad()
def evaluate_set(
    model: LanguageModel,
    transcoders: TranscoderSet,
    tokens: Tensor,
    special: Tensor,
    batch_size: int = 8,
) -> TranscoderSetEval:
    """Evaluate on `tokens [n, T]` windows, `special [n, T]` marking BOS/EOS positions."""
    transcoders.check_model(model)
    means = _mean_outputs(model, tokens, special, batch_size)
    sums = [
        _batch(
            model,
            transcoders,
            tokens[start : start + batch_size].to(model.device),
            special[start : start + batch_size].to(model.device),
            means,
        )
        for start in range(0, tokens.shape[0], batch_size)
    ]
    count = sum(s.scored for s in sums)
    rows = sum(s.rows for s in sums)
    ce = {name: sum(s.nll[name] for s in sums) / max(count, 1) for name in sums[0].nll}
    error, variance, l0 = (sum(getattr(s, k) for s in sums) for k in ("error", "variance", "l0"))
    return TranscoderSetEval(
        tokens=count,
        layers=[
            LayerQuality(layer, float(error[layer] / variance[layer]), float(l0[layer] / rows))
            for layer in range(model.n_layers)
        ],
        ce_clean=ce["clean"],
        ce_replaced=ce["replaced"],
        ce_mean_ablated=ce["mean"],
        loss_recovered=(ce["mean"] - ce["replaced"]) / (ce["mean"] - ce["clean"]),
        max_logit_gap_with_errors=max(s.gap for s in sums),
    )


def _mean_outputs(
    model: LanguageModel, tokens: Tensor, special: Tensor, batch_size: int
) -> list[Tensor]:
    """Each MLP's mean output over the non-special positions."""
    totals: list[Tensor] | None = None
    count = 0
    for start in range(0, tokens.shape[0], batch_size):
        ids = tokens[start : start + batch_size].to(model.device)
        keep = ~special[start : start + batch_size].to(model.device)
        _, seen = run_model(model.module, ids)
        sums = [out[keep].sum(0) for out in seen.mlp_out]
        totals = sums if totals is None else [a + b for a, b in zip(totals, sums, strict=True)]
        count += int(keep.sum())
    return [total / count for total in totals]
