"""Causal language models from Hugging Face `transformers`, with TransformerLens hook names."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerBase

from saekit.hooks import HookPoint
from saekit.models.base import HookedModel
from saekit.models.lens_names import lens_points
from saekit.models.offline import OFFLINE_MODELS, fp32_copy_of, offline_gguf_path
from saekit.provenance import fingerprint


@dataclass
class LanguageModel(HookedModel):
    """A causal LM: `module` is the `transformers` model, `tokenizer` its tokenizer.

    The tokenizer never adds BOS by itself here: the data pipeline prepends it explicitly
    (see `saekit.data.text`), so what the model saw is always recorded.
    """

    tokenizer: PreTrainedTokenizerBase | None = None

    @property
    def n_layers(self) -> int:
        return self.module.config.num_hidden_layers

    def forward(self, inputs: Tensor) -> Tensor:
        return self.module(input_ids=inputs, use_cache=False).logits

    def capture(
        self, inputs: Tensor, points: Sequence[HookPoint], stop_early: bool = True
    ) -> dict[str, Tensor]:
        if any(p.site == "attn_weights" for p in points):
            with self._eager_attention():
                return super().capture(inputs, points, stop_early)
        return super().capture(inputs, points, stop_early)

    @contextmanager
    def _eager_attention(self) -> Iterator[None]:
        """Attention weights exist only under eager attention; switch to it for one pass."""
        previous = self.module.config._attn_implementation
        self.module.set_attn_implementation("eager")
        try:
            yield
        finally:
            self.module.set_attn_implementation(previous)

    def tokenizer_fingerprint(self) -> str:
        return fingerprint(sorted(self.tokenizer.get_vocab().items()))


def _from_folder(folder: str | Path, spec: str, device: torch.device) -> LanguageModel:
    tokenizer = AutoTokenizer.from_pretrained(folder)
    module = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).to(device).eval()
    module.requires_grad_(False)
    return LanguageModel(
        spec=spec, module=module, named_points=lens_points(module.config), tokenizer=tokenizer
    )


def load_language_model(spec: str, device: torch.device) -> LanguageModel:
    """An offline name (`smollm2-135m`, `gemma3-270m`), a GGUF file, a folder or a hub id."""
    if spec in OFFLINE_MODELS:
        return _from_folder(fp32_copy_of(offline_gguf_path(spec)), spec, device)
    path = Path(spec)
    if path.suffix == ".gguf":
        if not path.is_file():
            raise FileNotFoundError(f"GGUF file {spec} does not exist")
        return _from_folder(fp32_copy_of(path), spec, device)
    return _from_folder(spec, spec, device)  # a local folder, or a hub id for online users
