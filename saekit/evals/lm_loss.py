"""Next-token loss with the dictionary spliced into the model, as "loss recovered" against
zero-ablation and mean-ablation of the same activation."""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from saekit.models import LanguageModel
from saekit.sae import Dictionary
from saekit.sae.base import resolve_hook
from saekit.splice import replacing, spliced


@dataclass
class LossRecovered:
    tokens: int
    """Predicted positions scored (special tokens excluded)."""
    ce_clean: float
    ce_spliced: float
    ce_zero_ablated: float
    ce_mean_ablated: float
    kl_spliced: float
    """Mean KL(clean || spliced) of the next-token distributions."""
    loss_recovered_zero: float
    """(ce_zero - ce_spliced) / (ce_zero - ce_clean): 1 is perfect, 0 as bad as ablation."""
    loss_recovered_mean: float


def _scored(tokens: Tensor, special: Tensor) -> Tensor:
    """Positions whose next token is scored: neither it nor its input is special."""
    return ~special[:, :-1] & ~special[:, 1:]


def _ce_and_logprobs(model: LanguageModel, tokens: Tensor, mask: Tensor) -> tuple[float, Tensor]:
    logits = model.forward(tokens.to(model.device))[:, :-1].float().cpu()
    logprobs = logits.log_softmax(-1)
    nll = -logprobs.gather(-1, tokens[:, 1:, None]).squeeze(-1)
    return float(nll[mask].mean()), logprobs[mask]


@torch.no_grad()
def loss_recovered(
    model: LanguageModel,
    dictionary: Dictionary,
    tokens: Tensor,
    special: Tensor,
    mean_activation: Tensor,
    hook: str | None = None,
    batch_size: int = 8,
) -> LossRecovered:
    """`tokens [n, T]` windows (with `special [n, T]` marking BOS/EOS); the splice leaves
    special positions untouched, as the dictionary never saw them."""
    runs = {"clean": [], "spliced": [], "zero": [], "mean": []}
    kl_sum, count = 0.0, 0
    for start in range(0, tokens.shape[0], batch_size):
        ids, spec = tokens[start : start + batch_size], special[start : start + batch_size]
        mask = _scored(ids, spec)
        where = ~spec
        ce, clean = _ce_and_logprobs(model, ids, mask)
        runs["clean"].append((ce, int(mask.sum())))
        with spliced(model, dictionary, hook, where=where):
            ce, patched = _ce_and_logprobs(model, ids, mask)
        runs["spliced"].append((ce, int(mask.sum())))
        kl_sum += float(F.kl_div(patched, clean, log_target=True, reduction="sum"))
        count += int(mask.sum())
        hook_name = resolve_hook(dictionary, hook)
        for name, fn in (
            ("zero", torch.zeros_like),
            ("mean", lambda x: mean_activation.to(x).reshape(x.shape[2:]).expand_as(x)),
        ):
            with replacing(model, hook_name, fn, where):
                runs[name].append((_ce_and_logprobs(model, ids, mask)[0], int(mask.sum())))
    ce = {k: sum(c * n for c, n in v) / sum(n for _, n in v) for k, v in runs.items()}

    def recovered(ablated: float) -> float:
        return (ablated - ce["spliced"]) / max(ablated - ce["clean"], 1e-12)

    return LossRecovered(
        tokens=count,
        ce_clean=ce["clean"],
        ce_spliced=ce["spliced"],
        ce_zero_ablated=ce["zero"],
        ce_mean_ablated=ce["mean"],
        kl_spliced=kl_sum / max(count, 1),
        loss_recovered_zero=recovered(ce["zero"]),
        loss_recovered_mean=recovered(ce["mean"]),
    )
