"""Skip transcoders: a learned affine map from input to output beside the latents. On a target
that is mostly a linear map of the input, the skip map takes it and the latents the rest; it is
saved, loaded and folded with the input scaling like every weight; architectures without one
refuse the flag."""

import pytest
import torch

from saekit.sae import DictionaryConfig, build, load, save
from saekit.train import train
from saekit.train.sources import ArraySource
from tests.unit.train.commands import train_config


def _linear_plus_sparse(n: int = 8192, d: int = 16, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=generator) * 3.0  # inputs in units far from 1
    linear = torch.randn(d, d, generator=generator) / d**0.5
    atoms = torch.randn(32, d, generator=generator)
    which = torch.randint(0, 32, (n,), generator=generator)
    y = x @ linear + 0.3 * atoms[which] * (x[:, :1] > 0)
    return x, y, linear


@pytest.mark.parametrize("architecture", ["topk", "jumprelu"])
def test_the_skip_map_learns_the_linear_part_and_is_saved_folded(architecture, tmp_path):
    x, y, linear = _linear_plus_sparse()
    source = ArraySource({"x": x, "y": y})
    fvus = {}
    for skip in (False, True):
        config = train_config(
            architecture=architecture,
            d_sae=64,
            k=2,
            l0_coefficient=1e-3,
            skip=skip,
            hook_name="x",
            hook_name_out="y",
            tokens=120_000,
            batch_size=512,
            optimizer="adam",
            lr=3e-3,
            seed=1,
        )
        out = tmp_path / f"{architecture}-{skip}"
        (trained,) = train(source, config, out, progress=False)
        with torch.no_grad():
            reconstruction = trained(x).reconstruction
        fvus[skip] = float((reconstruction - y).pow(2).sum() / (y - y.mean(0)).pow(2).sum())
        if skip:
            loaded = load(out)
            with torch.no_grad():
                torch.testing.assert_close(loaded(x).reconstruction, reconstruction)
            share = float(loaded.W_skip.detach().norm() / linear.norm())
            assert share > (0.5 if architecture == "topk" else 0.1), share  # it was trained
    if architecture == "topk":  # k = 2 latents cannot carry a dense linear map: the skip map can
        assert fvus[True] < 0.2 * fvus[False], fvus
    else:  # no k: JumpReLU fits it with more latents; the skip map must not make it worse
        assert fvus[True] <= fvus[False] * 1.05, fvus


def test_architectures_without_a_skip_map_refuse_it():
    with pytest.raises(ValueError, match="no skip map"):
        build(DictionaryConfig(architecture="gated", d_in=8, d_sae=16, skip=True))


def test_forward_adds_the_skip_term(tmp_path):
    cfg = DictionaryConfig(architecture="topk", d_in=8, d_out=8, d_sae=16, k=2, skip=True)
    cfg.hook_name_out = "out"
    dictionary = build(cfg)
    with torch.no_grad():
        dictionary.W_skip.normal_()
    x = torch.randn(5, 8)
    out = dictionary(x)
    torch.testing.assert_close(
        out.reconstruction, dictionary.decode(out.latents) + x @ dictionary.W_skip
    )
    save(dictionary, tmp_path / "d")
    assert torch.equal(load(tmp_path / "d").W_skip, dictionary.W_skip)
