"""Ground-truth disentanglement study (`make disentanglement`): train a plain AE, a beta-VAE and
a QLAE with the same encoder/decoder on dSprites-like images, over several seeds, and report
every metric in one table. Checks the QLAE paper's claim (Hsu et al. 2023) that latent
quantization improves InfoM and InfoE over the AE and VAE baselines without hurting
reconstruction. Every metric carries an interval (half-samples of the held-out images; BetaVAE
and FactorVAE rerun on fresh points), and InfoM/InfoC are also shown with the Miller–Madow
correction (`_mm`) and with uninformative latents left out (`_informative`). `--tiny` runs a
seconds-long version (what the tests run)."""

import argparse
import json
import logging
import warnings
from pathlib import Path

import numpy as np

from saekit.analysis.disentanglement import Uncertainty
from saekit.analysis.factor_data.dsprites import DSprites
from saekit.analysis.reference_models import (
    ReferenceTrainConfig,
    ScoringConfig,
    score_reference,
    train_reference,
)

MODELS = ("ae", "beta_vae", "qlae")
TINY = dict(
    steps=30, seeds=[0], eval_samples=400, score_points=40, dci_estimator="lasso", resamples=2
)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", default="disentanglement_out", help="folder for results and table")
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=3000, help="training steps (batch 64)")
    p.add_argument("--eval-samples", type=int, default=5000, help="held-out images scored")
    p.add_argument("--score-points", type=int, default=1000, help="BetaVAE/FactorVAE points")
    p.add_argument("--dci-estimator", choices=["gbt", "lasso"], default="gbt")
    p.add_argument("--resamples", type=int, default=10, help="per-metric interval resamples")
    p.add_argument("--tiny", action="store_true", help="a seconds-long smoke version")
    args = p.parse_args()
    if args.tiny:
        vars(args).update(TINY)
    return args


def _cell(rows: list[dict], metric: str) -> str:
    """mean ± std over training seeds, then (± the mean half-width of each run's interval)."""
    values = [r[metric] for r in rows if metric in r]
    if not values:
        return ""
    text = f"{np.mean(values):.3g} ± {np.std(values):.2g}"
    bounds = [r["intervals"][metric] for r in rows if metric in r.get("intervals", {})]
    return text + (f" (±{np.mean([(h - lo) / 2 for lo, h in bounds]):.2g})" if bounds else "")


def table(rows: list[dict]) -> str:
    """Markdown: one line per model, each metric as `mean ± std over seeds (± interval)`."""
    keys = dict.fromkeys(k for r in rows for k in r)
    metrics = [k for k in keys if k not in ("model", "seed", "seconds", "intervals")]
    lines = ["| model | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
    for model in dict.fromkeys(r["model"] for r in rows):
        per_model = [r for r in rows if r["model"] == model]
        cells = [_cell(per_model, m) for m in metrics]
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    warnings.filterwarnings("ignore", category=FutureWarning)
    args = parse_args()
    data = DSprites(orientations=4, positions=8, size=16) if args.tiny else DSprites()
    uncertainty = Uncertainty(resamples=args.resamples, seeds=0)
    scoring = ScoringConfig(
        args.eval_samples, args.score_points, args.dci_estimator, uncertainty=uncertainty
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for seed in args.seeds:
        for model in args.models:
            cfg = ReferenceTrainConfig(model=model, steps=args.steps, seed=seed)
            trained = train_reference(cfg, data)
            scored = score_reference(trained.model, data, scoring)
            row = {"model": model, "seed": seed} | scored.scores
            print(
                json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})
            )
            row["intervals"] = scored.intervals
            rows.append(row)
            (out / "results.json").write_text(json.dumps(rows, indent=1))
    text = table(rows)
    (out / "table.md").write_text(text + "\n")
    print(
        f"\n{len(args.seeds)} seeds, {args.steps} steps each; (±…): mean half-width of each "
        f"run's {uncertainty.confidence:.0%} interval\n{text}"
    )


if __name__ == "__main__":
    main()
