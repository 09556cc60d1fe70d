import pytest
import torch

from saekit.analysis.codes import discrete_codes
from saekit.data.toy import toy_superposition
from saekit.sae import DictionaryConfig, build, load
from saekit.sae.kmeans import kmeans, quantization_error
from saekit.sae.quantized import LatentQuantizer
from saekit.train import ArraySource, train
from tests.unit.train.commands import train_config


def codebook(**overrides):
    options = dict(architecture="codebook", d_in=8, d_sae=16, k=2) | overrides
    return build(DictionaryConfig(**options))


def test_codebook_output_is_the_sum_or_mean_of_the_k_most_similar_codes():
    x = torch.randn(5, 8)
    for aggregate, scale in (("sum", 1.0), ("mean", 0.5)):
        cb = codebook(codebook_aggregate=aggregate)
        cos = (
            torch.nn.functional.normalize(x, dim=-1)
            @ torch.nn.functional.normalize(cb.codes, dim=-1).T
        )
        top = cos.topk(2, dim=-1).indices
        expected = cb.codes[top].sum(1) * scale
        torch.testing.assert_close(cb(x).reconstruction, expected)
        assert torch.equal(cb.code_indices(x).sort(-1).values, top.sort(-1).values)


def test_straight_through_gradients_reach_input_and_codes():
    cb = codebook()
    x = torch.randn(4, 8, requires_grad=True)
    out = cb.bottleneck(x)
    torch.testing.assert_close(out, cb.quantize(x))
    out.pow(2).sum().backward()
    torch.testing.assert_close(x.grad, 2 * out.detach())  # identity gradient to the input
    assert cb.codes.grad.abs().sum() > 0


def test_kmeans_init_reduces_quantization_error():
    x = toy_superposition(n_features=32, d=8, n_samples=4000, p_active=0.05, seed=2).x
    random_codes = x[torch.randperm(4000)[:16]]
    centroids = kmeans(x, 16)
    assert quantization_error(x, centroids) < 0.8 * quantization_error(x, random_codes)
    cb = codebook(k=1, codebook_similarity="euclidean")
    cb.initialise_from_data(x)
    torch.testing.assert_close(cb.codes, cb.codes)  # set in place
    assert quantization_error(x, cb.codes.detach()) < quantization_error(x, random_codes)


def test_dead_codes_are_replaced_by_inputs():
    cb = codebook()
    x = torch.randn(32, 8) + 100  # far from every code
    dead = torch.zeros(16, dtype=torch.bool)
    dead[[3, 7]] = True
    before = cb.codes[0].clone()
    cb.training_loss(x, x, dead_mask=dead)
    share = x / 2  # two summed codes each carry half an input
    assert (cb.codes[[3, 7]].detach().unsqueeze(1) - share).abs().sum(-1).min(
        -1
    ).values.max() < 1e-5
    assert torch.equal(cb.codes[0].detach(), before)


def clustered(n: int = 8192, centers: int = 16, d: int = 8, seed: int = 5) -> torch.Tensor:
    """Dense activations around a few directions (what codebooks are meant for)."""
    gen = torch.Generator().manual_seed(seed)
    means = torch.randn(centers, d, generator=gen) * 3
    labels = torch.randint(0, centers, (n,), generator=gen)
    return means[labels] + 0.1 * torch.randn(n, d, generator=gen)


@pytest.mark.parametrize("similarity", ["cosine", "euclidean"])
def test_codebook_trains_and_round_trips(tmp_path, similarity):
    x = clustered()
    config = train_config(
        architecture="codebook",
        d_sae=32,
        k=1,
        tokens=30 * 256,
        batch_size=256,
        lr=3e-3,
        dead_window=2048,
        codebook_similarity=similarity,
    )
    (cb,) = train(ArraySource(x), config, tmp_path / "cb", progress=False)
    loaded = load(tmp_path / "cb")
    assert loaded.cfg.codebook_similarity == similarity
    torch.testing.assert_close(loaded(x[:100]).reconstruction, cb(x[:100]).reconstruction)
    fvu = (x - cb(x).reconstruction).pow(2).sum() / (x - x.mean(0)).pow(2).sum()
    assert fvu < 0.05
    codes = discrete_codes(loaded, x[:10], "native")
    assert codes.kind == "codebook" and codes.codes.shape == (10, 1)


def test_latent_quantizer_snaps_to_values_with_straight_through_gradient():
    lq = LatentQuantizer(n_latents=3, n_values=5)
    z = torch.tensor([[0.1, -0.9, 0.6], [2.0, 0.0, -0.3]], requires_grad=True)
    q = lq(z)
    torch.testing.assert_close(
        q.values.detach(), torch.tensor([[0.0, -1.0, 0.5], [1.0, 0.0, -0.5]])
    )
    assert q.indices.tolist() == [[2, 0, 3], [4, 2, 1]]
    (q.values.sum() + q.quantization_loss + q.commitment_loss).backward()
    assert z.grad is not None and torch.all(z.grad != 0)
    assert lq.values.grad is not None and lq.values.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="expected 3 latents"):
        lq(torch.zeros(2, 4))


def test_qlae_trains_with_weight_decay_and_gives_value_codes(tmp_path):
    x = toy_superposition(n_features=6, d=12, n_samples=8192, p_active=0.3, seed=4).x
    config = train_config(architecture="qlae", d_sae=8, tokens=60 * 256, batch_size=256, lr=3e-3)
    (qlae,) = train(ArraySource(x), config, tmp_path / "q", progress=False)
    assert isinstance(qlae.quantizer, LatentQuantizer)
    fvu = (x - qlae(x).reconstruction).pow(2).sum() / (x - x.mean(0)).pow(2).sum()
    assert fvu < 0.8
    codes = discrete_codes(load(tmp_path / "q"), x[:5], "native")
    assert codes.kind == "quantized" and codes.codes.shape == (5, 8) and codes.codes.max() < 10
    latents = qlae.encode(x[:5])
    values = qlae.quantizer.values.detach()
    assert torch.all((latents[..., None] - values).abs().min(-1).values < 1e-6)


def test_discrete_codes_from_an_sae():
    sae = build(DictionaryConfig("topk", 8, 16, k=3))
    x = torch.randn(6, 8)
    latents = sae.encode(x)
    argmax = discrete_codes(sae, x, "argmax")
    assert torch.equal(
        argmax.codes, torch.where(latents.max(-1).values > 0, latents.argmax(-1), -1)
    )
    active = discrete_codes(sae, x, "active").codes
    for row, lat in zip(active, latents, strict=True):
        assert sorted(i for i in row.tolist() if i >= 0) == (lat > 0).nonzero().flatten().tolist()
    with pytest.raises(ValueError, match="no native codes"):
        discrete_codes(sae, x, "native")


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(k=17), "0 < k <= d_sae"),
        (dict(codebook_similarity="l1"), "cosine, dot or euclidean"),
        (dict(d_out=4), "d_out must equal d_in"),
    ],
)
def test_codebook_bad_configs(overrides, message):
    with pytest.raises(ValueError, match=message):
        codebook(**overrides)


def test_codebook_dimension_mismatch():
    with pytest.raises(ValueError, match="data has width 5"):
        codebook()(torch.randn(2, 5))
