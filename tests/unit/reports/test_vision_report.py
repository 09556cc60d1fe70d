"""Vision dashboards: each feature's top images, ranked by the latent's largest activation on
them, with its activation grid (both checked against encoding the store directly), drawn as
heatmaps over the images in a real browser; and the `photos` image source: real photos from
packages, cropped reproducibly."""

import base64
import io
import json
import re

import jsonschema
import numpy as np
import pytest
import torch
from PIL import Image

import saekit
from benchmarks import headless_browser as driver
from saekit.data.images import load_images
from saekit.reports import DashboardConfig, ReportConfig, build_report
from saekit.reports.build import unpacked
from saekit.reports.schema import DASHBOARDS, FEATURES
from saekit.reports.vision import THUMBNAIL
from saekit.sae import DictionaryConfig, save
from saekit.sae.registry import build

HOOK = "features.17"


def test_photos_are_many_real_images_and_crops_are_reproducible():
    photos = load_images("photos")
    assert len(photos) >= 70 and all(p.shape[0] == 3 and p.shape[1] >= 100 for p in photos)
    first, again = load_images("photos:3"), load_images("photos:3")
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert first[0].shape == (3, 224, 224)
    with pytest.raises(ValueError, match="photos:N"):
        load_images("photos:many")


@pytest.fixture(scope="module")
def vision_report(tmp_path_factory):
    root = tmp_path_factory.mktemp("vision")
    model = saekit.load_model("mobilenet-v2", "cpu")
    store = saekit.harvest(model, "photos:8", HOOK, root / "acts")
    dictionary = build(DictionaryConfig(d_in=store.d(HOOK), d_sae=48, k=6, hook_name=HOOK))
    save(dictionary, root / "sae")
    config = ReportConfig(
        str(root / "sae"),
        str(root / "acts"),
        out=str(root / "r.html"),
        dashboards=DashboardConfig(top=4),
    )
    return build_report(config), store, dictionary


def _embedded(page: str) -> tuple[dict, dict]:
    data = json.loads(re.search(r'id="report-data">(.*?)</script>', page, re.S).group(1))
    boards = unpacked(re.search(r'id="dashboard-data"[^>]*>(.*?)</script>', page, re.S).group(1))
    return data, boards


def test_vision_dashboards_rank_images_by_the_latents_peak(vision_report):
    result, store, dictionary = vision_report
    data, boards = _embedded(result.path.read_text())
    jsonschema.validate(data, FEATURES)
    jsonschema.validate(boards, DASHBOARDS)
    assert data["kind"] == "vision"
    latents = dictionary.encode(store.activations(HOOK).float()).detach().view(8, 7, 7, -1)
    per_image = latents.amax((1, 2))  # [images, d_sae]
    checked = 0
    for latent, board in boards.items():
        expected = per_image[:, int(latent)].sort(descending=True).values
        expected = expected[expected > 0][:4].tolist()
        assert [i["value"] for i in board["images"]] == pytest.approx(expected, rel=1e-3)
        for image in board["images"]:
            grid = latents[image["image"], :, :, int(latent)]
            np.testing.assert_allclose(np.array(image["grid"]), grid.numpy(), atol=2e-3)
            raw = base64.b64decode(data["images"][str(image["image"])].split(",", 1)[1])
            assert Image.open(io.BytesIO(raw)).size == (THUMBNAIL, THUMBNAIL)
            checked += 1
    assert checked >= 20


def test_vision_dashboard_draws_heatmaps_over_images_in_the_browser(vision_report):
    result, _, _ = vision_report
    browser = driver.Browser()
    try:
        browser.open(result.path)
        browser.wait_for("document.querySelectorAll('#feature-table tbody tr').length", "list")
        browser.click("th[data-key=max]")
        browser.click("#feature-table tbody tr")
        browser.wait_for(
            "document.querySelectorAll('#dashboard .overlay .main-svg').length",
            "the image heatmaps",
        )
        hrefs = browser.js(
            "[...document.querySelectorAll('#dashboard .overlay image')]"
            ".map(i => i.getAttribute('href'))"
        )
        overlays = browser.js("document.querySelectorAll('#dashboard .overlay').length")
        photos = [h for h in hrefs if h.startswith("data:image/jpeg;base64,")]
        assert overlays > 0 and len(photos) == overlays  # one photo under each heatmap
        errors = [m for level, m in browser.page.console if level != "InfoMessageLevel"]
        assert errors == []
    finally:
        browser.close()
