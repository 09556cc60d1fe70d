"""`saekit report`: one self-contained HTML file from a run folder — the run summary, a feature
browser with a dashboard per latent (text or vision), and every analysis found beside it. CSS,
JavaScript (plotly.js for the per-feature histogram), data and images are inlined; the page
makes no network request."""

import base64
import gzip
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy as np
import torch

from saekit.artifacts import FEATURE_STATS, write_text_atomic
from saekit.evals.feature_stats import FeatureStats
from saekit.latents.sources import check_pairing
from saekit.models import LanguageModel, VisionModel, load_model
from saekit.reports.dashboards import DashboardConfig, text_dashboards
from saekit.reports.export import export_neuronpedia
from saekit.reports.interpretations import find_interpretations
from saekit.reports.schema import SCHEMA_ID
from saekit.reports.sections import find_sections, report_sections
from saekit.reports.summary import run_summary
from saekit.reports.token_text import join_split_characters, token_texts
from saekit.reports.vision import vision_dashboards
from saekit.sae import load
from saekit.store import ActivationStore

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class ReportConfig:
    dictionary: str
    """Dictionary folder (cfg.json, weights; metrics.jsonl, eval.json and
    feature_stats.safetensors are used when present)."""
    acts: str
    """The activation store the dictionary was trained or evaluated on."""
    out: str = "report.html"
    model: str | None = None
    """Model for token texts and the unembedding (default: the store's model; `none`: no
    model, token ids are shown and promoted tokens left out)."""
    analyses: list[str] = field(default_factory=list)
    """Folders holding analysis results (each registered section's files: disentangle tables,
    probes.json, circuits.json; auto-interp results.jsonl)."""
    latents: int | None = None
    """Dashboards for the first N latents (default: all)."""
    title: str | None = None
    neuronpedia: str | None = None
    """Also write Neuronpedia/SAEDashboard-style JSON, one file per feature, into this folder
    (text dictionaries)."""
    dashboards: DashboardConfig = field(default_factory=DashboardConfig)


@dataclass
class ReportResult:
    path: Path
    bytes: int
    latents: int
    seconds: float
    sections: dict[str, bool]
    """Which optional sections had inputs."""


def build_report(config: ReportConfig) -> ReportResult:
    start = time.perf_counter()
    folder = Path(config.dictionary)
    dictionary = load(folder)
    store = ActivationStore.open(config.acts, verify="sha256")
    check_pairing(dictionary, store.manifest.model, store.hooks)
    model = _model(config.model, store)
    stats = FeatureStats.load(folder) if (folder / FEATURE_STATS).is_file() else None
    n = min(config.latents or dictionary.cfg.d_sae, dictionary.cfg.d_sae)
    latents = list(range(n))
    out = Path(config.out)
    folders = _analysis_folders(config.analyses)
    found = find_sections(folders, out.parent)
    interpretations = find_interpretations(folders)
    if isinstance(model, VisionModel):
        data, dashboards = _vision(dictionary, store, latents, stats, config)
    else:
        data, dashboards = _text(dictionary, store, model, latents, stats, interpretations, config)
    if config.neuronpedia and data["kind"] == "text":
        layer = f"{dictionary.cfg.hook_name}-{folder.name}"
        export_neuronpedia(data, dashboards, config.neuronpedia, store.manifest.model, layer)
    summary = run_summary(dictionary, folder, store, stats, out.parent)
    present = (
        {
            "training curves": summary.training_curves is not None,
            "evaluation": bool(summary.evaluation),
            "feature statistics": stats is not None,
        }
        | found.present(report_sections())
        | {"auto-interp": bool(interpretations)}
    )
    html = render(
        title=config.title or f"saekit report: {folder.name}",
        summary=summary,
        analyses=[(s, found.items[s.name]) for s in report_sections() if found.items.get(s.name)],
        sections=present,
        data=data,
        dashboards=packed(dashboards),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, html)
    return ReportResult(out, out.stat().st_size, n, time.perf_counter() - start, present)


def packed(value) -> str:
    """JSON, gzipped, base64: how the dashboards are embedded (a fifth of the plain size; the
    page unpacks them with the browser's DecompressionStream the first time one is opened)."""
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.b64encode(gzip.compress(raw, mtime=0)).decode()


def unpacked(text: str):
    """The inverse of `packed`."""
    return json.loads(gzip.decompress(base64.b64decode(text)))


def render(**context) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.policies["json.dumps_kwargs"] = {"separators": (",", ":")}
    assets = {
        "css": (TEMPLATES / "report.css").read_text(),
        "js": (TEMPLATES / "report.js").read_text() + (TEMPLATES / "graphs.js").read_text(),
        "plotly": _plotly_js(),
    }
    policy = content_security_policy([assets["plotly"], assets["js"]])
    return env.get_template("report.html.j2").render(**context, **assets, csp=policy)


def content_security_policy(scripts: list[str]) -> str:
    """The page's policy: nothing is fetched, images and fonts only from data: URIs, and only
    the report's own inline scripts run (each allowed by its sha256; no eval). Inline styles
    are allowed: plotly sets them on the elements it draws."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in scripts
    )
    return (
        f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src {hashes}; font-src data:"
    )


def _plotly_js() -> str:
    import plotly

    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text()


def _model(spec: str | None, store: ActivationStore):
    if spec == "none":
        return None
    return load_model(spec or store.manifest.model, "cpu")


def _analysis_folders(names: list[str]) -> list[Path]:
    folders = [Path(name) for name in names]
    for folder in folders:
        if not folder.is_dir():
            raise FileNotFoundError(f"analysis folder {folder} does not exist")
    return folders


def _features(latents, stats: FeatureStats | None, interpretations: dict[int, dict]) -> list[dict]:
    out = []
    for latent in latents:
        feature = {
            "id": latent,
            "density": _round(stats.density[latent]) if stats else None,
            "max": _round(stats.max_activation[latent]) if stats else None,
        }
        if latent in interpretations:
            feature |= interpretations[latent]
        out.append(feature)
    return out


def _text(dictionary, store, model: LanguageModel | None, latents, stats, interpretations, config):
    found = text_dashboards(dictionary, store, latents, model, config.dashboards)
    features = _features(latents, stats, interpretations)
    tokenizer = model.tokenizer if model is not None else None
    tokens = token_texts(tokenizer, found.token_ids())
    for board in found.dashboards.values():
        join_split_characters(tokenizer, board["top"] + board["quantiles"])
    for feature in features:
        top = found.dashboards[feature["id"]]["top"]
        if top:
            peak = top[0]["t"][int(np.argmax(top[0]["a"]))]
            feature["peak"] = tokens[str(peak)]
        if stats is None:  # fall back to what the dashboard pass saw
            feature["max"] = max((max(c["a"]) for c in top), default=0.0)
    data = _data("text", features, tokens)
    return data, {str(k): v for k, v in found.dashboards.items()}


def _vision(dictionary, store, latents, stats, config):
    found = vision_dashboards(dictionary, store, latents, config.dashboards)
    features = _features(latents, stats, {})
    for feature in features:
        if stats is None:
            feature["max"] = found.max_activation.get(feature["id"], 0.0)
    data = _data("vision", features, {}) | {"images": found.images}
    return data, {str(k): v for k, v in found.dashboards.items()}


def _data(kind: str, features: list[dict], tokens: dict) -> dict:
    scores = sorted({k for f in features for k in f.get("scores", {})})
    return {
        "schema": SCHEMA_ID,
        "kind": kind,
        "features": features,
        "tokens": tokens,
        "scores": scores,
    }


def _round(value: torch.Tensor | float) -> float:
    return float(f"{float(value):.4g}")
