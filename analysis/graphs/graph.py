"""An attribution graph: its nodes and the matrix of direct effects between them, saved as
`graph.safetensors` (tensors) plus `graph.json` (everything else).

Node order (as circuit-tracer): active features, then error nodes (layer-major: layer * P + pos),
then token embeddings (one per position), then logits (by descending probability).
`adjacency[target, source]` is the direct effect of the source on the target's pre-activation
(features) or on its logit minus the mean logit (logits); error, token and logit rows are zero."""

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import Tensor

from saekit.artifacts import write_atomic, write_text_atomic

GRAPH_TENSORS = "graph.safetensors"
GRAPH_META = "graph.json"


@dataclass
class AttributionGraph:
    model: str
    """The model spec."""
    prompt: str
    tokens: Tensor
    """`[P]` token ids."""
    token_strings: list[str]
    """Each token decoded alone."""
    n_layers: int
    features: Tensor
    """`[n_features, 3]` (layer, position, feature) of every active feature node."""
    activations: Tensor
    """`[n_features]` their activations."""
    logit_tokens: Tensor
    """`[n_logits]` token ids of the logit nodes."""
    logit_probabilities: Tensor
    """`[n_logits]` their probabilities."""
    logit_strings: list[str]
    """Each logit token decoded."""
    adjacency: Tensor
    """`[N, N]` direct effects, `adjacency[target, source]`."""
    transcoders: str = ""
    """Where the transcoder set was read from."""

    @property
    def n_positions(self) -> int:
        return self.tokens.numel()

    @property
    def n_features(self) -> int:
        return self.features.shape[0]

    @property
    def n_errors(self) -> int:
        return self.n_layers * self.n_positions

    @property
    def n_logits(self) -> int:
        return self.logit_tokens.numel()

    @property
    def n_nodes(self) -> int:
        return self.n_features + self.n_errors + self.n_positions + self.n_logits

    def error_index(self, layer: int, position: int) -> int:
        return self.n_features + layer * self.n_positions + position

    def token_index(self, position: int) -> int:
        return self.n_features + self.n_errors + position

    @property
    def logit_start(self) -> int:
        return self.n_nodes - self.n_logits

    def kinds(self) -> list[str]:
        """Each node's kind: feature, error, token or logit."""
        counts = (self.n_features, self.n_errors, self.n_positions, self.n_logits)
        return [
            k
            for k, n in zip(("feature", "error", "token", "logit"), counts, strict=True)
            for _ in range(n)
        ]

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {
            "tokens": self.tokens,
            "features": self.features,
            "activations": self.activations,
            "logit_tokens": self.logit_tokens,
            "logit_probabilities": self.logit_probabilities,
            "adjacency": self.adjacency,
        }
        tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
        write_atomic(folder / GRAPH_TENSORS, lambda tmp: save_file(tensors, str(tmp)))
        meta = {
            "model": self.model,
            "prompt": self.prompt,
            "token_strings": self.token_strings,
            "logit_strings": self.logit_strings,
            "n_layers": self.n_layers,
            "transcoders": self.transcoders,
        }
        write_text_atomic(folder / GRAPH_META, json.dumps(meta, indent=1))
        return folder


def load_graph(folder: str | Path, adjacency: bool = True) -> AttributionGraph:
    """Read a saved graph; `adjacency=False` leaves the matrix out (an empty tensor) and reads
    only the node tensors."""
    folder = Path(folder)
    if not (folder / GRAPH_TENSORS).is_file():
        raise FileNotFoundError(f"{folder} holds no attribution graph ({GRAPH_TENSORS})")
    meta = json.loads((folder / GRAPH_META).read_text())
    with safe_open(str(folder / GRAPH_TENSORS), "pt") as f:
        names = [n for n in f.keys() if adjacency or n != "adjacency"]
        tensors = {name: f.get_tensor(name) for name in names}
    tensors.setdefault("adjacency", torch.empty(0))  # cpu: an absent matrix
    return AttributionGraph(**meta, **tensors)


def node_label(graph: AttributionGraph, index: int) -> str:
    """A short readable name: `L12 F345 @5`, `err L3 @2`, `tok "Mary" @4`, `logit " Paris"`."""
    if index < graph.n_features:
        layer, position, feature = graph.features[index].tolist()
        return f"L{layer} F{feature} @{position}"
    index -= graph.n_features
    if index < graph.n_errors:
        return f"err L{index // graph.n_positions} @{index % graph.n_positions}"
    index -= graph.n_errors
    if index < graph.n_positions:
        return f"tok {graph.token_strings[index]!r} @{index}"
    index -= graph.n_positions
    return f"logit {graph.logit_strings[index]!r}"
