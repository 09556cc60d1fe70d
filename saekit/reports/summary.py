"""The report's run summary: the model and hook, the store's provenance (every shard's sha256
checked), the dictionary's configuration and provenance, training curves from `metrics.jsonl`,
the evaluation table from `eval.json` and the latent-density histogram."""

import json
from dataclasses import dataclass
from pathlib import Path

from saekit.artifacts import DICTIONARY_CONFIG, EVAL_REPORT, TRAIN_METRICS
from saekit.evals.feature_stats import FeatureStats
from saekit.jsonl import jsonl_lines
from saekit.reports import plots
from saekit.reports.paths import shown_path, shown_source
from saekit.sae import Dictionary
from saekit.sae.base import resolve_hook
from saekit.store import ActivationStore


@dataclass
class RunSummary:
    model: str
    hook: str
    store: dict[str, object]
    """Folder, rows, shards, `sha256_verified`, dtype, corpus, provenance fields."""
    dictionary: dict[str, object]
    """The configuration fields its architecture uses, training settings and provenance."""
    evaluation: list[tuple[str, str]]
    """(quantity, formatted value) rows; empty without `eval.json`."""
    training_curves: str | None
    """PNG data URI; None without `metrics.jsonl`."""
    density_histogram: str | None


def applicable_config(dictionary: Dictionary) -> dict[str, object]:
    """The configuration fields its architecture uses (no field it ignores)."""
    cfg = dictionary.cfg
    names = ["architecture", "d_in", "d_sae"]
    names += ["d_out"] if cfg.is_transcoder else []
    names += [*dictionary.read_fields(), "hook_name"]
    names += ["hook_name_out"] if cfg.hook_name_out else []
    return {name: getattr(cfg, name) for name in names}


def run_summary(
    dictionary: Dictionary,
    folder: Path,
    store: ActivationStore,
    stats: FeatureStats | None,
    base: Path,
) -> RunSummary:
    """`base`: the report's folder; paths are shown relative to it (or by their names)."""
    manifest = store.manifest
    hook = resolve_hook(dictionary, None, store.hooks)
    saved = json.loads((folder / DICTIONARY_CONFIG).read_text()).get("saekit", {})
    return RunSummary(
        model=shown_source(manifest.model, base),
        hook=hook,
        store={
            "folder": shown_path(store.folder, base),
            "rows": len(store),
            "shards": len(manifest.shards),
            "sha256_verified": True,  # ActivationStore.open(verify="sha256") raised otherwise
            "dtype": manifest.dtype,
            "corpus": shown_source(manifest.config.get("data"), base),
            **manifest.provenance,
        },
        dictionary={
            "folder": shown_path(folder, base),
            **applicable_config(dictionary),
            "training": _training_settings(saved),
            **saved.get("provenance", {}),
        },
        evaluation=_evaluation(folder / EVAL_REPORT),
        training_curves=_curves(folder / TRAIN_METRICS),
        density_histogram=plots.density_histogram(stats.density.numpy()) if stats else None,
    )


def _training_settings(saved: dict) -> dict[str, object]:
    """The training config without its dictionary part (shown field by field above)."""
    config = saved.get("training", {}).get("config", {})
    return {k: v for k, v in config.items() if k != "dictionary"}


def _curves(path: Path) -> str | None:
    if not path.is_file():
        return None
    records = []
    for line in jsonl_lines(path.read_text()):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # the last line of a killed run
    return plots.training_curves(records) if records else None


def _evaluation(path: Path) -> list[tuple[str, str]]:
    if not path.is_file():
        return []
    report = json.loads(path.read_text())
    rec, lm = report["reconstruction"], report.get("lm")
    rows = [
        ("rows evaluated", f"{rec['rows']:,}"),
        ("evaluated on", report.get("rows_used", "every row")),
        (
            "FVU (standardised)",
            f"{rec['fvu']:.4f} ({rec.get('fvu_standardized', float('nan')):.4f})",
        ),
        ("L0", f"{rec['l0']:.1f}"),
        ("dead latents", f"{rec['dead_fraction']:.1%}"),
        ("dense latents", f"{rec['dense_fraction']:.1%}"),
    ]
    if lm:
        rows += [
            ("CE clean / spliced", f"{lm['ce_clean']:.3f} / {lm['ce_spliced']:.3f}"),
            (
                "CE zero / mean ablated",
                f"{lm['ce_zero_ablated']:.3f} / {lm['ce_mean_ablated']:.3f}",
            ),
            ("KL(clean || spliced)", f"{lm['kl_spliced']:.4f}"),
            (
                "loss recovered (zero / mean)",
                f"{lm['loss_recovered_zero']:.1%} / {lm['loss_recovered_mean']:.1%}",
            ),
        ]
    return rows
