"""Vision dashboards: each feature's top images, ranked by the latent's largest activation on
them (checked against encoding the store directly), each overlaid with its heatmap; and the
`photos` image source: real photos from packages, cropped reproducibly."""

import base64
import io
import re

import numpy as np
import pytest
import torch
from PIL import Image

import saekit
from saekit.data.images import load_images
from saekit.reports import DashboardConfig, ReportConfig, build_report
from saekit.reports.build import unpacked
from saekit.reports.vision import THUMBNAIL, _overlay
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
    return build_report(config, progress=False), store, dictionary


def test_vision_dashboards_rank_images_by_the_latents_peak(vision_report):
    result, store, dictionary = vision_report
    page = result.path.read_text()
    blob = re.search(r'id="dashboard-data"[^>]*>(.*?)</script>', page, re.S).group(1)
    boards = unpacked(blob)
    latents = dictionary.encode(store.activations(HOOK).float()).detach()
    per_image = latents.view(8, 49, -1).amax(1)  # [images, d_sae]
    checked = 0
    for latent, board in boards.items():
        expected = per_image[:, int(latent)].sort(descending=True).values
        expected = expected[expected > 0][:4].tolist()
        assert [i["value"] for i in board["images"]] == pytest.approx(expected, rel=1e-3)
        for image in board["images"]:
            raw = base64.b64decode(image["src"].split(",", 1)[1])
            assert Image.open(io.BytesIO(raw)).size == (128, 128)
            checked += 1
    assert checked >= 20
    assert '"kind":"vision"' in page


def test_the_overlay_is_hottest_where_the_latent_peaks():
    grey = torch.full((3, 90, 90), 0.5)
    grid = np.zeros(49, dtype=np.float32)
    grid[2 * 7 + 5] = 3.0  # row 2, column 5 of the 7 x 7 map
    overlay = _overlay(grey, grid, 3.0, 0)
    raw = base64.b64decode(overlay["src"].split(",", 1)[1])
    pixels = np.asarray(Image.open(io.BytesIO(raw)).convert("RGB")).astype(float)
    cell = THUMBNAIL / 7
    heat = np.array(
        [
            [
                pixels[
                    int(r * cell) : int((r + 1) * cell), int(c * cell) : int((c + 1) * cell)
                ].mean()
                for c in range(7)
            ]
            for r in range(7)
        ]
    )
    assert np.unravel_index(heat.argmax(), heat.shape) == (2, 5)
    assert heat[2, 5] > heat[6, 0] + 10  # brighter than a far cell, where only grey shows
