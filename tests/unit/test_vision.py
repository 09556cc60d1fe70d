import pytest
import torch
from transformers import ViTConfig, ViTModel

import saekit
from saekit.data.images import load_images

CAT_CLASSES = set(range(281, 286))  # ImageNet: tabby, tiger cat, Persian, Siamese, Egyptian cat


def test_mobilenet_v2_classifies_chelsea_as_a_cat():
    from skimage import data

    model = saekit.load_model("mobilenet-v2", "cpu")
    image = torch.from_numpy(data.chelsea()).permute(2, 0, 1).float() / 255
    logits = model.forward(model.preprocess(image[None]))
    assert int(logits.argmax()) in CAT_CLASSES
    assert float(logits.softmax(-1)[0, sorted(CAT_CLASSES)].sum()) > 0.8


def test_mobilenet_harvest_stores_one_row_per_spatial_position(tmp_path):
    model = saekit.load_model("mobilenet-v2", "cpu")
    store = saekit.harvest(
        model, "sklearn", ["features.17", "features.18"], tmp_path / "s", batch_size=2
    )
    assert store.manifest.hooks["features.18"].d == 1280
    assert store.manifest.hooks["features.17"].shape == [320]
    assert len(store) == 2 * 7 * 7  # two sample photos, 7x7 final map
    assert store.positions.max() == 48 and store.windows.tolist() == [0] * 49 + [1] * 49
    with pytest.raises(ValueError, match="different numbers of positions"):
        saekit.harvest(model, "sklearn", "features.*", tmp_path / "t")


def test_tiny_vit_from_a_folder(tmp_path):
    config = ViTConfig(
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        image_size=32,
        patch_size=8,
    )
    ViTModel(config).save_pretrained(tmp_path / "vit")
    model = saekit.load_model(str(tmp_path / "vit"), "cpu")
    images = load_images("digits")[:5]
    store = saekit.harvest(model, images, "layers.*", tmp_path / "s", batch_size=2)
    assert store.hooks == ["layers.0", "layers.1"]
    assert len(store) == 5 * (16 + 1)  # 4x4 patches + CLS per image
    direct = model.module(
        pixel_values=model.preprocess(images[0][None]), output_hidden_states=True
    ).hidden_states[2][0]
    torch.testing.assert_close(store.activations("layers.1")[:17], direct)
