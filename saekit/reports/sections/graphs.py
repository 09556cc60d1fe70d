"""Attribution graphs (`graph_summary.json` and its folder, from `saekit graph`): the scores, the
validation and an interactive view of the pruned graph — nodes laid out by layer and position,
edges by weight, a click shows a feature's top contexts and promoted tokens."""

import json
from dataclasses import dataclass
from pathlib import Path

from saekit.analysis.graphs.export import node_ids
from saekit.analysis.graphs.graph import load_graph, node_label
from saekit.analysis.graphs.run import CARDS, SUMMARY, load_pruned
from saekit.reports.paths import shown_source
from saekit.reports.sections import Section

MAX_LINKS = 1500
"""The strongest links drawn (the pruned graph's others are left out of the page)."""


@dataclass(frozen=True)
class GraphItem:
    title: str
    facts: list[tuple[str, str]]
    data: dict
    """What the viewer draws: nodes, links, cards, layer and position counts."""


def _facts(summary: dict) -> list[tuple[str, str]]:
    nodes, edges, scores = summary["nodes"], summary["edges"], summary["scores"]
    facts = [
        (
            "top logits",
            ", ".join(f"{x['token']!r} {x['probability']:.2f}" for x in summary["logits"]),
        ),
        (
            "nodes",
            f"{nodes['features']} features, {nodes['errors']} errors, {nodes['tokens']} tokens",
        ),
        (
            "pruned to",
            f"{nodes['kept']} nodes ({nodes['kept_features']} features), {edges['kept']} edges",
        ),
        (
            "replacement / completeness",
            f"{scores['replacement']:.3f} / {scores['completeness']:.3f}",
        ),
        (
            "time, peak memory",
            f"{summary['seconds']['graph']:.1f} s, {summary['peak_memory_mb']:.0f} MB",
        ),
    ]
    if "validation" in summary:
        check = summary["validation"]
        facts.append(
            (
                "interventions vs graph (Pearson)",
                f"{check['correlation_recomputed']:.3f} attention recomputed, "
                f"{check['correlation_frozen']:.3f} frozen, "
                f"{len(check['interventions'])} interventions",
            )
        )
    return facts


def load(path: Path, shown: str) -> GraphItem:
    folder = path.parent
    summary = json.loads(path.read_text())
    graph = load_graph(folder, adjacency=False)
    pruned = load_pruned(folder)
    ids = node_ids(graph)
    kept = pruned["nodes"].tolist()
    influence = pruned["influence"]
    weights = pruned["edge_weights"]
    order = weights.abs().argsort(descending=True)[:MAX_LINKS]
    kinds = graph.kinds()
    index = {node: i for i, node in enumerate(kept)}
    nodes = []
    for node in kept:
        entry = {
            "id": ids[node],
            "kind": kinds[node],
            "label": node_label(graph, node),
            "influence": round(float(influence[node]), 5),
        }
        if node < graph.n_features:
            layer, position, _ = graph.features[node].tolist()
            entry |= {
                "layer": layer,
                "pos": position,
                "act": round(float(graph.activations[node]), 3),
            }
        elif kinds[node] == "error":
            entry |= dict(
                zip(
                    ("layer", "pos"),
                    divmod(node - graph.n_features, graph.n_positions),
                    strict=True,
                )
            )
        elif kinds[node] == "token":
            entry |= {"layer": -1, "pos": node - graph.token_index(0)}
        else:
            entry |= {"layer": graph.n_layers, "pos": graph.n_positions - 1}
        nodes.append(entry)
    links = [
        [
            index[int(pruned["edge_sources"][i])],
            index[int(pruned["edge_targets"][i])],
            round(float(weights[i]), 4),
        ]
        for i in order.tolist()
        if int(pruned["edge_sources"][i]) in index and int(pruned["edge_targets"][i]) in index
    ]
    cards_path = folder / CARDS
    cards = json.loads(cards_path.read_text()) if cards_path.is_file() else {}
    data = {
        "tokens": graph.token_strings,
        "layers": graph.n_layers,
        "nodes": nodes,
        "links": links,
        "cards": {k: v for k, v in cards.items() if k in {n["id"] for n in nodes}},
    }
    model = shown_source(summary["model"])
    return GraphItem(f"{summary['prompt']!r} on {model} ({shown})", _facts(summary), data)


SECTION = Section(
    "graphs", "Attribution graphs", lambda p: p.name == SUMMARY, load, "graphs.html.j2"
)
