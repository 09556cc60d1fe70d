"""Summaries of `results.jsonl`: per scorer and metric, the mean and quartiles over latents."""

import numpy as np

from saekit.analysis.autointerp.record import LatentRecord

SUMMARY_METRICS = ("roc_auc", "balanced_accuracy", "f1")


def summarise(results: dict[int, LatentRecord]) -> dict[str, dict[str, dict[str, float]]]:
    """`{scorer: {metric: {mean, q25, median, q75, n}}}` over the scored latents."""
    values: dict[str, dict[str, list[float]]] = {}
    for record in results.values():
        for scorer, metrics in record.scores.items():
            for metric, value in metrics.items():
                if metric in SUMMARY_METRICS and value is not None:
                    values.setdefault(scorer, {}).setdefault(metric, []).append(value)
    return {
        scorer: {
            metric: {
                "mean": float(np.mean(v)),
                "q25": float(np.quantile(v, 0.25)),
                "median": float(np.median(v)),
                "q75": float(np.quantile(v, 0.75)),
                "n": len(v),
            }
            for metric, v in metrics.items()
        }
        for scorer, metrics in values.items()
    }


def summary_text(results: dict[int, LatentRecord]) -> str:
    scored = sum(1 for r in results.values() if r.skipped is None)
    skipped = sum(1 for r in results.values() if r.skipped is not None)
    failed = sum(1 for r in results.values() if r.skipped is None and not r.parsed)
    lines = [f"{scored} latents scored, {skipped} skipped (too few activations), {failed} unparsed"]
    for scorer, metrics in summarise(results).items():
        for metric, s in metrics.items():
            lines.append(
                f"  {scorer:10s} {metric:18s} mean {s['mean']:.3f}  median {s['median']:.3f}  "
                f"IQR {s['q25']:.3f}-{s['q75']:.3f}  (n={s['n']})"
            )
    return "\n".join(lines)
