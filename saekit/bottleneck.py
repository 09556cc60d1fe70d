"""Run a model through a codebook bottleneck at a hook point (Tamkin et al.), and optionally
fine-tune the codebook, or the model too, on next-token loss with the bottleneck in place."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm.auto import tqdm

from saekit.data.text import TextWindows, load_texts, pack_windows
from saekit.hooks import HookPoint
from saekit.models import LanguageModel
from saekit.sae.base import Dictionary, resolve_hook
from saekit.sae.codebook import CodebookAutoencoder
from saekit.splice import replacing


@contextmanager
def codebook_bottleneck(
    model: LanguageModel,
    codebook: CodebookAutoencoder,
    hook: str | None = None,
    where: Tensor | None = None,
) -> Iterator[HookPoint]:
    """Inside the block, the activation at `hook` is replaced by the codebook's output
    (straight-through for gradients) at the positions `where [batch, pos]` is True (default:
    all); the model is untouched once the block exits."""
    hook = resolve_hook(codebook, hook)
    if hook is None:
        raise ValueError("the codebook records no hook: pass hook=...")

    def through(x: Tensor) -> Tensor:
        return codebook.bottleneck(x.reshape(*x.shape[:2], -1)).reshape(x.shape)

    with replacing(model, hook, through, where) as point:
        yield point


def next_token_loss(model: LanguageModel, windows: TextWindows) -> Tensor:
    """Mean next-token cross-entropy, special tokens neither predicted from nor scored.
    (The bottleneck leaves special positions alone: BOS activations are outliers no codebook
    trained on the store has seen.)"""
    ids = windows.tokens.to(model.device)
    logits = model.module(input_ids=ids, use_cache=False).logits[:, :-1]
    mask = (~windows.special[:, :-1] & ~windows.special[:, 1:]).to(model.device)
    return F.cross_entropy(logits[mask], ids[:, 1:][mask])


@dataclass
class BottleneckReport:
    ce_clean: float
    """Next-token loss of the unmodified model on the held-out windows."""
    ce_before: float
    """With the bottleneck, before fine-tuning."""
    ce_after: float
    """With the bottleneck, after fine-tuning."""
    steps: int
    trained_model: bool


def finetune_bottleneck(
    model: LanguageModel,
    codebook: CodebookAutoencoder,
    train_windows: TextWindows,
    eval_windows: TextWindows,
    steps: int = 50,
    lr: float = 1e-3,
    model_lr: float = 1e-5,
    batch_size: int = 4,
    train_model: bool = False,
    hook: str | None = None,
) -> BottleneckReport:
    """Train the codebook (and, with `train_model`, the model, at the gentler `model_lr`) on
    next-token loss through the bottleneck; report held-out loss clean, before and after."""

    def loss(windows: TextWindows, through: bool) -> Tensor:
        if not through:
            return next_token_loss(model, windows)
        with codebook_bottleneck(model, codebook, hook, where=~windows.special):
            return next_token_loss(model, windows)

    def evaluate(through: bool) -> float:
        with torch.no_grad():
            return float(loss(eval_windows, through))

    ce_clean, ce_before = evaluate(False), evaluate(True)
    groups = [{"params": list(codebook.parameters()), "lr": lr}]
    if train_model:
        model.module.requires_grad_(True)
        groups.append({"params": list(model.module.parameters()), "lr": model_lr})
    optimizer = torch.optim.Adam(groups)
    n = train_windows.tokens.shape[0]
    try:
        for step in tqdm(range(steps), desc="bottleneck fine-tune"):
            rows = (
                torch.arange(step * batch_size, (step + 1) * batch_size) % n
            )  # cpu: indexes CPU windows
            batch = TextWindows(train_windows.tokens[rows], train_windows.special[rows])
            optimizer.zero_grad(set_to_none=True)
            loss(batch, through=True).backward()
            optimizer.step()
    finally:
        model.module.requires_grad_(False)
    return BottleneckReport(ce_clean, ce_before, evaluate(True), steps, train_model)


def bottleneck_on_corpus(
    model: LanguageModel,
    codebook: Dictionary,
    corpus: str,
    context_length: int = 128,
    windows: int = 64,
    eval_windows: int = 16,
    steps: int = 50,
    train_model: bool = False,
) -> BottleneckReport:
    """`finetune_bottleneck` on the first `windows` windows of a corpus, evaluated on the
    `eval_windows` after them."""
    if not isinstance(codebook, CodebookAutoencoder):
        raise ValueError(f"the dictionary is a {codebook.cfg.architecture}, not a codebook")
    texts = load_texts(corpus, seed=0)
    packed = pack_windows(texts, model.tokenizer, context_length, windows + eval_windows)
    train_windows, held_out = packed.split(windows)
    return finetune_bottleneck(
        model, codebook, train_windows, held_out, steps=steps, train_model=train_model
    )
