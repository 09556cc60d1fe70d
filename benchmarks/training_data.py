"""The datasets the training benchmarks compare trainers on, and how a trained dictionary is
scored on them: toy models of superposition of several difficulties (the true directions known)
real SmolLM2 residual activations from a store (held out by window, so the loss with the
dictionary spliced in is measured on text no trainer saw), and `make vision`'s MobileNetV2
store."""

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from saekit.data.toy import toy_superposition
from saekit.evals.recovery import feature_recovery
from saekit.sae import Dictionary

TOY_SETS = {  # name: (d, true features, p_active, width, k)
    "sparse": (64, 256, 0.01, 512, 8),  # 2.6 features active per vector
    "medium": (128, 1024, 0.005, 2048, 16),  # 5 active
    "dense": (256, 2048, 0.01, 4096, 32),  # 20 active
}
STORE_SET = "smollm2-l6"
VISION_SET = "mobilenet-f18"
VISION_STORE = Path("vision_out/acts_mobilenet")
"""Written by `make vision` (MobileNetV2 `features.18`, one row per spatial position)."""
HELD_OUT = 20_000


@dataclass
class LMHoldout:
    """Token windows the training rows do not come from, to splice a dictionary into."""

    store: str
    hook: str
    tokens: Tensor
    special: Tensor
    mean: Tensor


@dataclass
class Dataset:
    name: str
    train: Tensor
    """`[N, d]` rows the trainers draw from (in a seeded order, cycled if a run needs more)."""
    held_out: Tensor
    width: int
    k: int
    features: Tensor | None = None
    """The true directions (toy sets)."""
    lm: LMHoldout | None = None

    def describe(self) -> str:
        kind = "toy" if self.features is not None else "store"
        return f"{self.name} ({kind}, d={self.train.shape[1]}, width {self.width}, k {self.k})"


def toy_dataset(name: str, vectors: int, seed: int = 0) -> Dataset:
    d, n_features, p_active, width, k = TOY_SETS[name]
    toy = toy_superposition(n_features, d, vectors + HELD_OUT, p_active, seed=seed)
    return Dataset(name, toy.x[:vectors], toy.x[vectors:], width, k, features=toy.features)


def first_held_out_window(windows: Tensor) -> int:
    """The first of a store's last 10 % of windows, which the benchmarks hold out."""
    n_windows = int(windows.max()) + 1
    return n_windows - n_windows // 10


def store_dataset(
    folder: Path, hook: str, tokens: int, width: int, k: int, lm_windows: int = 16
) -> Dataset:
    """SmolLM2 activations at `hook`, harvested into `folder` if it holds no store yet; the
    last 10 % of windows are held out (their rows for FVU, their text for the LM loss)."""
    import saekit
    from saekit.evals.evaluate import store_windows
    from saekit.models import load_model

    model = load_model("smollm2-135m", "cpu")
    store = saekit.harvest(model, None, hook, folder, tokens=tokens)
    rows, windows = store.activations(hook).float(), store.windows
    first_held_out = first_held_out_window(windows)
    train, held_out = rows[windows < first_held_out], rows[windows >= first_held_out]
    packed = store_windows(store, model, int(windows.max()) + 1)
    lm_rows = slice(first_held_out, first_held_out + lm_windows)
    lm = LMHoldout(
        str(folder), hook, packed.tokens[lm_rows], packed.special[lm_rows], train.mean(0)
    )
    return Dataset(STORE_SET, train, held_out[:HELD_OUT], width, k, lm=lm)


def vision_dataset(folder: Path = VISION_STORE, width: int = 2560, k: int = 32) -> Dataset:
    """The vision recipe's store and dictionary shape; its last 10 % of windows (images) held
    out, as the recipe does."""
    from saekit.store.reader import ActivationStore

    if not (folder / "manifest.json").is_file():
        raise FileNotFoundError(f"no store at {folder}: run `make vision` first")
    store = ActivationStore.open(folder)
    rows, windows = store.activations("features.18").float(), store.windows
    first_held_out = first_held_out_window(windows)
    train, held_out = rows[windows < first_held_out], rows[windows >= first_held_out]
    return Dataset(VISION_SET, train, held_out[:HELD_OUT], width, k)


@torch.no_grad()
def fires_on(sae: Dictionary, rows: Tensor, chunk: int = 16_384) -> Tensor:
    """`[d_sae]` whether each latent fires on any of `rows`."""
    fired = torch.zeros(sae.d_sae, dtype=torch.bool)
    for part in rows.split(chunk):
        fired |= (sae(part).latents > 0).any(0)
    return fired


@torch.no_grad()
def quality(sae: Dictionary, data: Dataset, model=None) -> dict[str, float]:
    """Held-out FVU; FVU of per-dimension standardised activations (one large dimension cannot
        dominate it); L0; dead fraction (no held-out row fires it; `dead_train`: no training row
    does, the peers' own definition over a run); on toy sets MMCS and the fraction
        of true features recovered (cosine > 0.9); on a store with `model`, the loss recovered
        (against mean ablation) with the dictionary spliced in."""
    x = data.held_out
    out = sae(x)
    error, centred = x - out.reconstruction, x - x.mean(0)
    scale = centred.std(0).clamp_min(1e-6)
    active = out.latents > 0
    result = {
        "fvu": float(error.pow(2).sum() / centred.pow(2).sum()),
        "std_fvu": float((error / scale).pow(2).sum() / (centred / scale).pow(2).sum()),
        "l0": float(active.sum(-1).float().mean()),
        "dead": float((~active.any(0)).float().mean()),
        "dead_train": float((~fires_on(sae, data.train)).float().mean()),
    }
    if data.features is not None:
        recovery = feature_recovery(data.features, sae.W_dec)
        result |= {"mmcs": recovery.mmcs, "recovered": recovery.fraction_recovered}
    if data.lm is not None and model is not None:
        from saekit.evals.lm_loss import loss_recovered

        lm = data.lm
        scored = loss_recovered(model, sae, lm.tokens, lm.special, lm.mean, lm.hook)
        result["loss_recovered"] = scored.loss_recovered_mean
    return result
