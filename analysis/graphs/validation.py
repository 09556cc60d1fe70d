"""Checking a graph against the model: intervene on its most influential features and compare the
change of the top logit the graph predicts with the change measured

- in the linear replacement model (attention patterns and norm denominators frozen, the clean
  run's active features only, errors frozen): the graph's own claim, which it must meet exactly;
- in the model with every MLP replaced by its transcoder plus the frozen error term, attention,
  norms and the transcoders' activation functions recomputed: the real question.

The prediction follows every path in the graph: a feature's activation moves by the direct
effects of the features below it, per unit of their activation (`logit_effects`). AtP on the
same spliced model (activation times gradient) gives the model-level estimate beside it."""

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from saekit.analysis.graphs.forward import run_model
from saekit.analysis.graphs.graph import AttributionGraph
from saekit.analysis.graphs.pruning import PruneResult
from saekit.analysis.graphs.replacement import PromptReplacement, run_replacement
from saekit.analysis.graphs.transcoders import TranscoderSet
from saekit.models import LanguageModel

Kind = Literal["ablate", "negate"]
RankBy = Literal["effect", "influence", "effect-at-last"]
SELECTIONS: dict[str, RankBy] = {
    "validation": "effect",
    "validation_by_influence": "influence",
    "validation_at_last": "effect-at-last",
}
"""The summary key of each selection `saekit graph` validates."""
FACTORS: dict[str, float] = {"ablate": 0.0, "negate": -1.0}
"""What each intervention multiplies the feature's activation by."""


@dataclass(frozen=True)
class Intervention:
    node: int
    """The feature's node index in the graph."""
    kind: Kind
    predicted: float
    """The graph's predicted change of the top logit (minus the mean logit)."""
    predicted_pruned: float
    """The same, through the pruned graph's kept edges only."""
    frozen: float
    """Measured in the linear replacement model (attention and norms frozen)."""
    attention_frozen: float
    """Measured with attention patterns frozen, norms and activations recomputed
    (circuit-tracer's default intervention)."""
    recomputed: float
    """Measured with attention, norms and activations recomputed."""
    atp: float
    """Activation-times-gradient estimate in the spliced model (attention recomputed)."""


@dataclass(frozen=True)
class Validation:
    interventions: list[Intervention]
    correlation_frozen: float
    """Pearson correlation of predicted and frozen changes."""
    correlation_attention_frozen: float
    """Pearson correlation of predicted changes and changes with attention frozen only."""
    correlation_recomputed: float
    """Pearson correlation of predicted and recomputed changes: the graph's validity."""
    correlation_pruned: float
    """Pearson correlation of the pruned graph's predictions and recomputed changes."""
    correlation_atp: float
    """Pearson correlation of AtP's estimates and recomputed changes."""
    rank_correlation_recomputed: float
    """Spearman correlation of predicted and recomputed changes (a few large outliers do not
    decide it)."""
    sign_agreement_recomputed: float
    """Share of interventions where prediction and recomputed change have the same sign."""


def logit_effects(graph: AttributionGraph, edges: Tensor | None = None) -> Tensor:
    """`[n_features]` the change of the top logit node (minus the mean logit) per unit change of
    each feature's activation, over every path of the graph (only through the `edges [N, N]`
    kept, when given), the features downstream moving linearly with their inputs."""
    n = graph.n_features
    adjacency = graph.adjacency
    top = graph.logit_start
    per_unit = 1.0 / graph.activations.clamp_min(1e-12)
    if edges is None:
        among, to_logit = adjacency[:n, :n], adjacency[top, :n]
    else:
        targets, origins = edges[:n, :n].nonzero(as_tuple=True)
        values = adjacency[targets, origins]
        among = torch.sparse_coo_tensor(
            torch.stack([origins, targets]), values, (n, n), check_invariants=True
        )  # transposed: rows are sources
        to_logit = adjacency[top, :n] * edges[top, :n]
    current = to_logit * per_unit
    total = current.clone()
    for _ in range(graph.n_layers + 1):
        current = (among.T @ current if edges is None else among @ current) * per_unit
        if not current.any():
            break
        total += current
    return total


def _chosen(
    graph: AttributionGraph, pruned: PruneResult, effects: Tensor, n: int, rank_by: RankBy
) -> Tensor:
    kept = pruned.node_mask[: graph.n_features]
    if rank_by == "influence":
        score = pruned.influence[: graph.n_features]
    else:
        score = (effects * graph.activations).abs()
    order = score.argsort(descending=True)
    if rank_by == "effect-at-last":
        order = order[graph.features[order, 1] == graph.n_positions - 1]
    return torch.cat([order[kept[order]], order[~kept[order]]])[:n]


def _logit_change(logits: Tensor, clean: Tensor, token: int) -> float:
    return float((logits[-1, token] - logits[-1].mean()) - (clean[-1, token] - clean[-1].mean()))


def atp_scores(
    model: LanguageModel,
    rep: PromptReplacement,
    transcoders: TranscoderSet,
    graph: AttributionGraph,
    token: int,
) -> Tensor:
    """`[n_features]` for each feature node of `graph`: its activation times the gradient of the
    top logit (minus the mean) with respect to it, every MLP spliced with its error kept
    (attention recomputed)."""
    acts = {}

    def mlp(layer: int, mlp_in: Tensor) -> Tensor:
        tc = transcoders.transcoders[layer]
        latents = tc.encode(mlp_in).detach().requires_grad_(True)
        acts[layer] = latents
        return tc.decode(latents) + tc.skip_term(mlp_in) + rep.errors[layer]

    with torch.enable_grad():
        logits, _ = run_model(model.module, rep.tokens[None], mlp)
        (logits[0, -1, token] - logits[0, -1].mean()).backward()
    grads = torch.stack([acts[layer].grad[0, p, i] for layer, p, i in graph.features.tolist()])
    return grads.cpu() * graph.activations


def _ranks(values: list[float]) -> list[float]:
    """Ranks from 0, ties sharing their mean rank."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for i in order[start : end + 1]:
            ranks[i] = (start + end) / 2
        start = end + 1
    return ranks


def _spearman(a: list[float], b: list[float]) -> float:
    return _pearson(_ranks(a), _ranks(b))


def _pearson(a: list[float], b: list[float]) -> float:
    x, y = torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)  # cpu: floats
    x, y = x - x.mean(), y - y.mean()
    return float((x * y).sum() / (x.norm() * y.norm()).clamp_min(1e-30))


@dataclass(frozen=True)
class _Baseline:
    """What every selection of a graph's validation shares: the graph's per-unit effects on the
    top logit (full and pruned), AtP, and the three clean runs the interventions are compared
    with."""

    token: int
    effects: Tensor
    through_pruned: Tensor
    atp: Tensor
    clean_frozen: Tensor
    clean: Tensor
    clean_attention: Tensor


def _baseline(
    model: LanguageModel,
    rep: PromptReplacement,
    transcoders: TranscoderSet,
    graph: AttributionGraph,
    pruned: PruneResult,
) -> _Baseline:
    token = int(graph.logit_tokens[0])
    return _Baseline(
        token=token,
        effects=logit_effects(graph),
        through_pruned=logit_effects(graph, pruned.edge_mask),
        atp=atp_scores(model, rep, transcoders, graph, token),
        clean_frozen=run_replacement(model, rep, transcoders, "fixed-set", (), True, True),
        clean=run_replacement(model, rep, transcoders),
        clean_attention=run_replacement(model, rep, transcoders, freeze_attention=True),
    )


def validate(
    model: LanguageModel,
    rep: PromptReplacement,
    transcoders: TranscoderSet,
    graph: AttributionGraph,
    pruned: PruneResult,
    n_features: int = 20,
    kinds: tuple[Kind, ...] = ("ablate", "negate"),
    rank_by: RankBy = "effect",
) -> Validation:
    """Intervene on `n_features` features the pruned graph kept (then others, if it kept
    fewer), each in every `kinds`: those whose ablation the graph predicts to move the top logit
    most (`effect`), the same among the features at the last position (`effect-at-last`: they
    reach the answer without passing through another position's keys and values), or the most
    influential (`influence`)."""
    (checked,) = validate_selections(
        model, rep, transcoders, graph, pruned, {"": rank_by}, n_features, kinds
    ).values()
    return checked


def validate_selections(
    model: LanguageModel,
    rep: PromptReplacement,
    transcoders: TranscoderSet,
    graph: AttributionGraph,
    pruned: PruneResult,
    selections: dict[str, RankBy] = SELECTIONS,
    n_features: int = 20,
    kinds: tuple[Kind, ...] = ("ablate", "negate"),
) -> dict[str, Validation]:
    """`validate` for each named selection, the clean runs and AtP measured once for all."""
    base = _baseline(model, rep, transcoders, graph, pruned)
    return {
        name: _intervene(
            model,
            rep,
            transcoders,
            graph,
            base,
            _chosen(graph, pruned, base.effects, n_features, rank_by),
            kinds,
        )
        for name, rank_by in selections.items()
    }


def _intervene(
    model: LanguageModel,
    rep: PromptReplacement,
    transcoders: TranscoderSet,
    graph: AttributionGraph,
    base: _Baseline,
    ranked: Tensor,
    kinds: tuple[Kind, ...],
) -> Validation:
    token, effects, through_pruned, atp = base.token, base.effects, base.through_pruned, base.atp
    clean_frozen, clean, clean_attention = base.clean_frozen, base.clean, base.clean_attention
    found = []
    for node in ranked.tolist():
        layer, position, feature = graph.features[node].tolist()
        activation = float(graph.activations[node])
        for kind in kinds:
            change = (FACTORS[kind] - 1.0) * activation
            edit = [(layer, position, feature, FACTORS[kind] * activation)]
            frozen = run_replacement(model, rep, transcoders, "fixed-set", edit, True, True)
            recomputed = run_replacement(model, rep, transcoders, "recomputed", edit)
            attention = run_replacement(model, rep, transcoders, "recomputed", edit, True)
            found.append(
                Intervention(
                    node=node,
                    kind=kind,
                    predicted=float(effects[node]) * change,
                    predicted_pruned=float(through_pruned[node]) * change,
                    frozen=_logit_change(frozen, clean_frozen, token),
                    attention_frozen=_logit_change(attention, clean_attention, token),
                    recomputed=_logit_change(recomputed, clean, token),
                    atp=float(atp[node]) * (1.0 - FACTORS[kind]) * -1.0,
                )
            )
    predicted = [x.predicted for x in found]
    measured = [x.recomputed for x in found]
    return Validation(
        interventions=found,
        correlation_frozen=_pearson(predicted, [x.frozen for x in found]),
        correlation_attention_frozen=_pearson(predicted, [x.attention_frozen for x in found]),
        correlation_recomputed=_pearson(predicted, measured),
        correlation_pruned=_pearson([x.predicted_pruned for x in found], measured),
        correlation_atp=_pearson([x.atp for x in found], measured),
        rank_correlation_recomputed=_spearman(predicted, measured),
        sign_agreement_recomputed=sum(
            (p > 0) == (m > 0) for p, m in zip(predicted, measured, strict=True)
        )
        / max(len(found), 1),
    )
