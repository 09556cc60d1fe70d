"""Several metrics over one latents/factors pair, timed: what `saekit disentangle` prints."""

import time
from collections.abc import Callable, Sequence

from saekit.analysis.disentanglement.dci import dci
from saekit.analysis.disentanglement.infomec import infomec
from saekit.analysis.disentanglement.mig import mig
from saekit.analysis.disentanglement.modularity import modularity_explicitness
from saekit.analysis.disentanglement.sap import sap

METRICS = ("mig", "sap", "dci", "modularity", "infomec")


def _runs(latents, factors, fast: bool, dci_estimator: str | None, discrete: bool):
    def run_dci():
        scores = dci(latents, factors, estimator=dci_estimator or ("lasso" if fast else "gbt"))
        return dict(zip(("dci_d", "dci_c", "dci_i"), scores[:3], strict=True))

    def run_infomec():
        info = infomec(latents, factors, discrete, mi_estimator="binned" if fast else "knn")
        return {"infom": info.infom, "infoe": info.infoe, "infoc": info.infoc}

    runs: dict[str, Callable[[], dict[str, float]]] = {
        "mig": lambda: {"mig": mig(latents, factors)},
        "sap": lambda: {
            "sap": sap(latents, factors, estimator="correlation_ratio" if fast else "svm")
        },
        "dci": run_dci,
        "modularity": lambda: modularity_explicitness(latents, factors)._asdict(),
        "infomec": run_infomec,
    }
    return runs


def metric_table(
    latents,
    factors,
    metrics: Sequence[str] = METRICS,
    fast: bool = False,
    dci_estimator: str | None = None,
    discrete_latents: bool = False,
) -> dict[str, dict[str, float]]:
    """`{metric: {score: value, ..., "seconds": s}}`. `fast` picks the dictionary-scale
    estimators (correlation-ratio SAP, L1-logistic DCI, binned InfoMEC) over the published
    ones; `dci_estimator` overrides DCI's choice."""
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        raise ValueError(f"unknown metrics {unknown}: choose from {list(METRICS)}")
    runs = _runs(latents, factors, fast, dci_estimator, discrete_latents)
    table = {}
    for name in metrics:
        start = time.perf_counter()
        table[name] = runs[name]() | {"seconds": round(time.perf_counter() - start, 3)}
    return table


def flat_scores(table: dict[str, dict[str, float]]) -> dict[str, float]:
    """One row of scores from a `metric_table` (timings dropped)."""
    return {k: v for scores in table.values() for k, v in scores.items() if k != "seconds"}
