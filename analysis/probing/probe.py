"""Linear probes (logistic regression, cross-validated accuracy) at every layer."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from saekit.analysis.probing.concepts import ConceptSet
from saekit.models import LanguageModel


@dataclass
class ProbeCurve:
    concept: str
    accuracy: list[float]
    """Held-out accuracy per layer (5-fold cross-validation)."""
    depth: int | None
    """First layer whose accuracy reaches `threshold` (None: never)."""
    threshold: float


@torch.no_grad()
def last_token_states(model: LanguageModel, texts: list[str]) -> np.ndarray:
    """`[n_texts, n_layers, d]` residual stream after each layer at the last token (BOS first)."""
    points = model.resolve_hooks([f"blocks.{i}.hook_resid_post" for i in range(model.n_layers)])
    bos = model.tokenizer.bos_token_id
    out = []
    for text in texts:
        ids = model.tokenizer(text, return_tensors="pt", add_special_tokens=False).input_ids
        if bos is not None:
            ids = torch.cat([torch.tensor([[bos]]), ids], dim=1)  # cpu: capture moves it
        acts = model.capture(ids, points, stop_early=True)
        out.append(torch.stack([acts[p.name][0, -1] for p in points]).float().numpy())
    return np.stack(out)


def probe_layers(
    model: LanguageModel, concept: ConceptSet, threshold: float = 0.8, folds: int = 5, seed: int = 0
) -> ProbeCurve:
    if len(set(concept.labels)) < 2:
        raise ValueError(f"concept {concept.name} needs two classes")
    states = last_token_states(model, concept.texts)
    labels = np.asarray(concept.labels)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    accuracy = []
    for layer in range(states.shape[1]):
        probe = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=1000))
        accuracy.append(float(cross_val_score(probe, states[:, layer], labels, cv=splitter).mean()))
    depth = next((i for i, a in enumerate(accuracy) if a >= threshold), None)
    return ProbeCurve(concept.name, accuracy, depth, threshold)


def plot_curves(curves: list[ProbeCurve], path: str | Path) -> Path:
    """Accuracy vs layer, one line per concept, saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for curve in curves:
        ax.plot(range(len(curve.accuracy)), curve.accuracy, marker="o", ms=3, label=curve.concept)
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("layer")
    ax.set_ylabel("probe accuracy (5-fold CV)")
    ax.set_ylim(0.0, 1.02)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120, format="png")
    plt.close(fig)
    return Path(path)
