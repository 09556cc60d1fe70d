"""Several metrics over one latents/factors pair, timed, each score with its interval: what
`saekit disentangle` prints."""

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from saekit.analysis.disentanglement.dci import dci
from saekit.analysis.disentanglement.infomec import infomec
from saekit.analysis.disentanglement.inputs import Latents
from saekit.analysis.disentanglement.mig import mig
from saekit.analysis.disentanglement.modularity import modularity_explicitness
from saekit.analysis.disentanglement.sap import sap
from saekit.analysis.disentanglement.settings import MetricOptions, Uncertainty
from saekit.analysis.disentanglement.uncertainty import Estimate, Scorer, estimate_scores
from saekit.artifacts import write_atomic, write_text_atomic

UNINFORMATIVE_NMI = 0.05
"""A latent independent of every factor still gets a binned total normalised MI of about 0.02-0.03
at a few thousand samples (the plug-in bias, summed over sources; Miller–Madow removes only part
of it for rarely firing latents): 0.05 leaves such latents out and keeps any that carries a
twentieth of one factor's entropy."""
INFOMEC_VARIANTS = {
    "mm": {"mi_correction": "miller-madow"},
    "informative": {"min_latent_nmi": UNINFORMATIVE_NMI},
    "mm_informative": {"mi_correction": "miller-madow", "min_latent_nmi": UNINFORMATIVE_NMI},
}
"""InfoM/InfoC beside the published definition: Miller–Madow-corrected MI, uninformative latents
left out, and both."""


class Metric(NamedTuple):
    scorer: Scorer
    randomised: bool
    """Whether the estimator has randomness of its own (a seed), so its seed spread is shown."""


class MetricResult(NamedTuple):
    scores: dict[str, Estimate]
    seconds: float


def _mig(options: MetricOptions) -> Metric:
    return Metric(lambda z, v, seed: {"mig": mig(z, v, correction=options.mi_correction)}, False)


def _sap(options: MetricOptions) -> Metric:
    estimator = "correlation_ratio" if options.fast else "svm"
    return Metric(
        lambda z, v, seed: {"sap": sap(z, v, estimator=estimator, seed=seed)}, not options.fast
    )


def _dci(options: MetricOptions) -> Metric:
    estimator = options.dci_estimator or ("lasso" if options.fast else "gbt")

    def run(z: Latents, v: np.ndarray, seed: int):
        scores = dci(z, v, estimator=estimator, seed=seed)
        return dict(zip(("dci_d", "dci_c", "dci_i"), scores[:3], strict=True))

    return Metric(run, True)


def _modularity(options: MetricOptions) -> Metric:
    def run(z: Latents, v: np.ndarray, seed: int):
        return modularity_explicitness(z, v, correction=options.mi_correction, seed=seed)._asdict()

    return Metric(run, True)


def _infomec(options: MetricOptions) -> Metric:
    knn = not (options.fast or options.discrete_latents)

    def run(z: Latents, v: np.ndarray, seed: int):
        info = infomec(
            z,
            v,
            options.discrete_latents,
            mi_estimator="binned" if options.fast else "knn",
            seed=seed,
            mi_correction=options.mi_correction,
            min_latent_nmi=options.min_latent_nmi,
        )
        return {"infom": info.infom, "infoe": info.infoe, "infoc": info.infoc}

    return Metric(run, knn)


MetricBuilder = Callable[[MetricOptions], Metric]
METRIC_BUILDERS: dict[str, MetricBuilder] = {
    "mig": _mig,
    "sap": _sap,
    "dci": _dci,
    "modularity": _modularity,
    "infomec": _infomec,
}
"""Metric name -> how to run it under the options: the one list `saekit disentangle --metrics`
offers. Adding a metric is one module (its estimator) and one entry here (or
`register_metric`)."""
METRICS = tuple(METRIC_BUILDERS)
"""The metrics shipped with saekit, in table order."""


def register_metric(name: str, builder: MetricBuilder) -> None:
    if name in METRIC_BUILDERS:
        raise ValueError(f"a metric named {name!r} is already registered")
    METRIC_BUILDERS[name] = builder


def metric_table(
    latents,
    factors,
    metrics: Sequence[str] = METRICS,
    options: MetricOptions | None = None,
    uncertainty: Uncertainty | None = None,
) -> dict[str, MetricResult]:
    """`{metric: MetricResult}`: every score with its interval (see `uncertainty`); `None`
    for `uncertainty` scores once, without intervals (low == high == value)."""
    unknown = sorted(set(metrics) - set(METRIC_BUILDERS))
    if unknown:
        raise ValueError(f"unknown metrics {unknown}: choose from {list(METRIC_BUILDERS)}")
    options = options or MetricOptions()
    runs = {name: METRIC_BUILDERS[name](options) for name in metrics}
    cfg = uncertainty or Uncertainty(resamples=0, seeds=0)
    table = {}
    for name in metrics:
        start = time.perf_counter()
        scores = estimate_scores(runs[name].scorer, latents, factors, cfg, runs[name].randomised)
        table[name] = MetricResult(scores, round(time.perf_counter() - start, 3))
    return table


def infomec_variants(
    latents,
    factors,
    options: MetricOptions | None = None,
    variants: Mapping[str, dict] = INFOMEC_VARIANTS,
) -> dict[str, float]:
    """`{infom_<variant>: value, infoc_<variant>: value}`: InfoMEC under `options` changed by
    each variant's settings."""
    out = {}
    for name, changes in variants.items():
        changed = replace(options or MetricOptions(), **changes)
        scores = flat_scores(metric_table(latents, factors, ("infomec",), changed))
        out |= {f"{k}_{name}": scores[k].value for k in ("infom", "infoc")}
    return out


def flat_scores(table: dict[str, MetricResult]) -> dict[str, Estimate]:
    """One row of scores from a `metric_table` (timings dropped)."""
    return {k: v for result in table.values() for k, v in result.scores.items()}


def table_json(table: dict[str, MetricResult]) -> dict:
    """`{metric: {"seconds": s, "scores": {score: {value, low, high, seed_std, bias}}}}`."""
    return {
        name: {
            "seconds": result.seconds,
            "scores": {k: e._asdict() for k, e in result.scores.items()},
        }
        for name, result in table.items()
    }


def nmi_path(table: str | Path) -> Path:
    """Where `save_table(…, TABLE.json)` puts the `[factors, latents]` normalised MI matrix."""
    table = Path(table)
    return table.with_name(table.stem + ".nmi.npy")


def save_table(table: dict[str, MetricResult], path: str | Path, latents, factors) -> Path:
    """`table_json` to `path`, and beside it (`nmi_path`) the binned normalised MI between every
    factor and latent, which reports draw as a heatmap; each file written atomically."""
    nmi = infomec(latents, factors, mi_estimator="binned").nmi
    write_text_atomic(path, json.dumps(table_json(table), indent=1))

    def write_nmi(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.save(f, nmi)

    write_atomic(nmi_path(path), write_nmi)
    return Path(path)


def load_table(path: str | Path) -> dict[str, MetricResult]:
    """A table written by `save_table` (or `saekit disentangle --out`); ValueError if the file
    is not one."""
    not_a_table = ValueError(f"{path} is not a disentanglement table (saekit disentangle --out)")
    try:
        raw = json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise not_a_table from error
    if not isinstance(raw, dict) or not raw:
        raise not_a_table
    try:
        return {
            name: MetricResult(
                {k: Estimate(**e) for k, e in result["scores"].items()}, result["seconds"]
            )
            for name, result in raw.items()
        }
    except (KeyError, TypeError, AttributeError) as error:
        raise not_a_table from error


def table_text(table: dict[str, MetricResult], confidence: float | None = None) -> str:
    """One line per score: `name  value [low, high]`, the bias where it is of the order of the
    interval, the seed spread where measured."""
    header = f"score  value [{confidence:.0%} interval]" if confidence else "score  value"
    lines = [header]
    for name, result in table.items():
        for score, e in result.scores.items():
            lines.append(f"{score:<13s} {e}   [{name}, {result.seconds:.1f} s]")
    return "\n".join(lines)
