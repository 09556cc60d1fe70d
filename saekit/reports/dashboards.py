"""The data behind each text feature's dashboard: top activating contexts and samples from its
activation quantiles (token ids with the latent's activation at every token), the histogram of
its activations, and the tokens it promotes and suppresses through the unembedding."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from saekit.analysis.autointerp.vocab import vocab_projection
from saekit.latents.firing import Firing, latent_firing
from saekit.latents.sources import DictionarySource
from saekit.latents.spans import Spans, activating_spans, by_quantile
from saekit.models import LanguageModel
from saekit.sae import Dictionary
from saekit.sae.base import resolve_hook
from saekit.store import ActivationStore


@dataclass
class DashboardConfig:
    top: int = 20
    """Top activating contexts per latent."""
    quantiles: int = 5
    """Activation quantiles sampled below the top contexts."""
    per_quantile: int = 2
    """Contexts sampled from each quantile."""
    window: int = 24
    """Tokens per context."""
    before: int = 18
    """Tokens before the activating one."""
    bins: int = 30
    """Histogram bins of each latent's nonzero activations."""
    vocab_k: int = 10
    """Promoted and suppressed tokens listed."""
    max_rows: int | None = None
    """Scan only the first rows of the store (default: all)."""
    seed: int = 0


@dataclass
class TextDashboards:
    dashboards: dict[int, dict]
    """Per latent: `top` and `quantiles` contexts (`{"t": token ids, "a": activations, "q"}`),
    `hist` (`edges`, `counts`), and `promoted` / `suppressed` `[token, logit]` pairs."""
    rows_scanned: int

    def token_ids(self) -> list[int]:
        """Every token id a context uses, sorted."""
        ids = {
            t for d in self.dashboards.values() for c in d["top"] + d["quantiles"] for t in c["t"]
        }
        return sorted(ids)


def text_dashboards(
    dictionary: Dictionary,
    store: ActivationStore,
    latents: Sequence[int],
    model: LanguageModel | None = None,
    cfg: DashboardConfig | None = None,
) -> TextDashboards:
    """Dashboards for `latents`, from one ordered pass over the store; the vocabulary lists
    need `model` (its unembedding) and are left out without it."""
    cfg = cfg or DashboardConfig()
    source = DictionarySource(dictionary, resolve_hook(dictionary, None, store.hooks))
    firing = latent_firing(source, store, latents, max_rows=cfg.max_rows)
    spans = Spans(store, cfg.window, cfg.before, firing.n_rows)
    vocab = vocab_projection(dictionary, model, latents, cfg.vocab_k) if model else {}
    rng = np.random.default_rng(cfg.seed)
    out = {}
    for index, latent in enumerate(latents):
        board = _contexts(spans, firing, index, cfg, rng)
        board["hist"] = histogram(firing.values[index], cfg.bins)
        if latent in vocab:
            v = vocab[latent]
            board["promoted"] = [list(p) for p in zip(v.promoted, v.promoted_logits, strict=True)]
            board["suppressed"] = [
                list(p) for p in zip(v.suppressed, v.suppressed_logits, strict=True)
            ]
        out[latent] = board
    return TextDashboards(out, firing.n_rows)


def _contexts(spans: Spans, firing: Firing, index: int, cfg: DashboardConfig, rng) -> dict:
    used = np.zeros(firing.n_rows, dtype=bool)
    candidates = activating_spans(spans, firing.rows[index], firing.values[index], used)
    top, rest = candidates[: cfg.top], candidates[cfg.top :]
    sampled = by_quantile(rest, cfg.quantiles, cfg.per_quantile, rng) if rest else []
    return {
        "top": [_context(spans, firing, index, span) for span, _ in top],
        "quantiles": [_context(spans, firing, index, span) | {"q": q} for (span, _), q in sampled],
    }


def _context(spans: Spans, firing: Firing, index: int, span: tuple[int, int]) -> dict:
    example = spans.example(firing, index, span)
    return {"t": example.tokens, "a": [round(a, 3) if a else 0 for a in example.activations]}


def histogram(values: np.ndarray, bins: int) -> dict:
    if len(values) == 0:
        return {"edges": [], "counts": []}
    counts, edges = np.histogram(values, bins=bins)
    return {"edges": np.round(edges, 4).tolist(), "counts": counts.tolist()}
