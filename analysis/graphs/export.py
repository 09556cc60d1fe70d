"""A pruned graph in the JSON that Neuronpedia's and circuit-tracer's graph viewers load
(`metadata`, `qParams`, `nodes`, `links`; schema version 1, circuit-tracer's
`create_graph_files`): only the nodes in a kept link, plus every token and logit node; link
weights are the raw signed direct effects."""

import json
from pathlib import Path

from saekit.analysis.graphs.graph import AttributionGraph
from saekit.analysis.graphs.pruning import PruneResult
from saekit.artifacts import write_text_atomic

GRAPH_METADATA = "graph-metadata.json"


def cantor(layer: int, feature: int) -> int:
    """The feature id Neuronpedia decodes (schema version 1): Cantor pairing of (layer, index)."""
    return (layer + feature) * (layer + feature + 1) // 2 + feature


def node_ids(graph: AttributionGraph) -> list[str]:
    """Every node's `node_id`, in graph order."""
    ids = [f"{layer}_{feature}_{position}" for layer, position, feature in graph.features.tolist()]
    P = graph.n_positions
    ids += [f"{e // P}_-1_{e % P}" for e in range(graph.n_errors)]
    ids += [f"E_{token}_{p}" for p, token in enumerate(graph.tokens.tolist())]
    ids += [f"{graph.n_layers + 1}_{token}_{P - 1}" for token in graph.logit_tokens.tolist()]
    return ids


def _node(graph: AttributionGraph, index: int, node_id: str, influence: float | None) -> dict:
    P = graph.n_positions
    node = {
        "node_id": node_id,
        "feature": None,
        "layer": "",
        "ctx_idx": 0,
        "feature_type": "",
        "token_prob": 0.0,
        "is_target_logit": False,
        "run_idx": 0,
        "reverse_ctx_idx": 0,
        "jsNodeId": "",
        "clerp": "",
        "influence": influence,
    }
    if index < graph.n_features:
        layer, position, feature = graph.features[index].tolist()
        node |= {
            "feature": cantor(layer, feature),
            "layer": str(layer),
            "ctx_idx": position,
            "feature_type": "cross layer transcoder",
            "jsNodeId": f"{layer}_{feature}-0",
            "activation": float(graph.activations[index]),
        }
    elif index < graph.token_index(0):
        layer, position = divmod(index - graph.n_features, P)
        node |= {
            "feature": -1,
            "layer": str(layer),
            "ctx_idx": position,
            "feature_type": "mlp reconstruction error",
            "jsNodeId": f"{layer}_-1-{position}",
        }
    elif index < graph.logit_start:
        position = index - graph.token_index(0)
        token = int(graph.tokens[position])
        node |= {
            "feature": position,
            "layer": "E",
            "ctx_idx": position,
            "feature_type": "embedding",
            "jsNodeId": f"E_{token}-{position}",
        }
    else:
        rank = index - graph.logit_start
        token, p = int(graph.logit_tokens[rank]), float(graph.logit_probabilities[rank])
        node |= {
            "feature": token,
            "layer": str(graph.n_layers + 1),
            "ctx_idx": P - 1,
            "feature_type": "logit",
            "token_prob": p,
            "is_target_logit": rank == 0,
            "jsNodeId": f"L_{token}-{P - 1}",
            "clerp": f'Output "{graph.logit_strings[rank]}" (p={p:.3f})',
            "influence": None,
        }
    return node


def neuronpedia_json(
    graph: AttributionGraph,
    pruned: PruneResult,
    slug: str,
    scan: str,
    node_threshold: float = 0.8,
) -> dict:
    """The viewer's graph document for the pruned graph."""
    ids = node_ids(graph)
    targets, sources = pruned.edge_mask.nonzero(as_tuple=True)
    linked = set(targets.tolist()) | set(sources.tolist())
    fixed = set(range(graph.token_index(0), graph.n_nodes))
    keep = sorted((linked & set(pruned.node_mask.nonzero().flatten().tolist())) | fixed)
    nodes = [_node(graph, i, ids[i], float(pruned.cumulative_scores[i])) for i in keep]
    weights = graph.adjacency[targets, sources].tolist()
    links = [
        {"source": ids[s], "target": ids[t], "weight": w}
        for t, s, w in zip(targets.tolist(), sources.tolist(), weights, strict=True)
    ]
    metadata = {
        "slug": slug,
        "scan": scan,
        "transcoder_list": [graph.transcoders] if graph.transcoders else [],
        "prompt_tokens": graph.token_strings,
        "prompt": graph.prompt,
        "node_threshold": node_threshold,
        "schema_version": 1,
    }
    q_params = {
        "pinnedIds": [],
        "supernodes": [],
        "linkType": "both",
        "clickedId": "",
        "sg_pos": "",
    }
    return {"metadata": metadata, "qParams": q_params, "nodes": nodes, "links": links}


def write_neuronpedia(document: dict, folder: str | Path) -> Path:
    """Write `<slug>.json` and add its metadata to `graph-metadata.json` (the local viewer's
    index) in `folder`."""
    folder = Path(folder)
    slug = document["metadata"]["slug"]
    path = folder / f"{slug}.json"
    write_text_atomic(path, json.dumps(document))
    index_path = folder / GRAPH_METADATA
    index = json.loads(index_path.read_text()) if index_path.is_file() else {"graphs": []}
    index["graphs"] = [g for g in index["graphs"] if g.get("slug") != slug]
    index["graphs"].append(document["metadata"])
    write_text_atomic(index_path, json.dumps(index, indent=1))
    return path
