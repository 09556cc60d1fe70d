import pytest
import torch

from saekit.sae import ARCHITECTURES, REGISTRY, DictionaryConfig, build, load, save
from saekit.sae.batchtopk import batch_topk
from saekit.sae.kernels import sparse_ops
from saekit.sae.kernels.sparse_ops import (
    RADIX_SORT_LATENTS,
    LatentMajor,
    dense_decode,
    exact_pre_activations,
    rank_latents,
    sparse_decode,
    staged_top_columns,
    top_columns,
)
from saekit.sae.topk import auxk_stride, topk_dense
from saekit.train import TrainConfig


def make(architecture: str, **overrides):
    options = dict(architecture=architecture, d_in=8, d_sae=32, k=4, matryoshka_widths=[8, 16])
    return build(DictionaryConfig(**(options | overrides)))


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_training_loss_backpropagates_and_save_load_round_trips(architecture, tmp_path):
    sae = make(architecture)
    x = torch.randn(64, 8)
    out = sae.training_loss(x, x, dead_mask=torch.ones(32, dtype=torch.bool))
    out.loss.backward()
    assert torch.isfinite(out.loss) and out.losses["mse"] > 0
    grads = [p.grad for p in sae.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0
    if architecture in ("batchtopk", "matryoshka_batchtopk"):
        assert float(sae.threshold[0]) > 0  # the running threshold was set
    save(sae, tmp_path / "d")
    loaded = load(tmp_path / "d")
    torch.testing.assert_close(loaded(x).reconstruction, sae(x).reconstruction)
    torch.testing.assert_close(loaded.encode(x), sae.encode(x))


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_every_architecture_honours_the_base_contract(architecture):
    sae = make(architecture)
    x = torch.randn(16, 8)
    with torch.no_grad():
        if sae.has_encoder:
            sae.b_dec.copy_(torch.randn(8))
        for name in ("r_mag", "b_mag"):  # gated: a non-trivial magnitude path
            if hasattr(sae, name):
                getattr(sae, name).uniform_(-0.5, 0.5)
    assert sae.W_dec.shape == (32, 8) and sae.b_dec.shape == (8,)
    assert ("W_enc" in dict(sae.named_parameters())) == sae.has_encoder
    latents = sae.encode(x)
    torch.testing.assert_close(sae.activate(sae.pre_activations(x)), latents)
    torch.testing.assert_close(sae(x).reconstruction, latents @ sae.W_dec + sae.b_dec)
    assert sae.uses_k == (architecture in ("topk", "batchtopk", "matryoshka_batchtopk", "codebook"))
    if sae.native_codes is None:
        with pytest.raises(ValueError, match="no native codes"):
            sae.code_indices(x)
    else:
        assert sae.code_indices(x).dtype == torch.long


def test_gated_latents_equal_the_two_path_definition():
    sae = make("gated")
    with torch.no_grad():
        for p in (sae.b_gate, sae.r_mag, sae.b_mag, sae.b_dec):
            p.uniform_(-0.5, 0.5)
    x = torch.randn(32, 8)
    x_in = x - sae.b_dec
    gate = (x_in @ sae.W_enc + sae.b_gate) > 0
    magnitude = (x_in @ (sae.W_enc * sae.r_mag.exp()) + sae.b_mag).relu()
    torch.testing.assert_close(sae.encode(x), gate * magnitude)


def test_topk_keeps_k_latents_and_batchtopk_k_per_example_on_average():
    x = torch.randn(50, 8)
    assert ((make("topk").encode(x) > 0).sum(-1) <= 4).all()
    latents, smallest = batch_topk(torch.randn(50, 32), k=4)
    assert (latents > 0).sum() == 200 and smallest > 0


def test_sparse_kernels_match_the_dense_reference():
    torch.manual_seed(1)
    sparse, dense = make("topk", d_in=16, d_sae=64, k=5), make("topk", d_in=16, d_sae=64, k=5)
    dense.load_state_dict(sparse.state_dict())
    dense.sparse_backward = False
    x = torch.randn(40, 16)
    dead = torch.zeros(64, dtype=torch.bool)
    dead[::3] = True
    outs = [m.training_loss(x, x, dead_mask=dead) for m in (sparse, dense)]
    for out in outs:
        out.loss.backward()
    torch.testing.assert_close(outs[0].loss, outs[1].loss)
    for name, param in sparse.named_parameters():
        torch.testing.assert_close(param.grad, dict(dense.named_parameters())[name].grad, msg=name)
    values = torch.rand(7, 3)
    indices = torch.stack([torch.randperm(64)[:3] for _ in range(7)])  # distinct, as from topk
    torch.testing.assert_close(
        sparse_decode(values, indices, sparse.W_dec), dense_decode(values, indices, sparse.W_dec)
    )


def test_unit_norm_decoder_and_parallel_gradient_removal():
    sae = make("topk")
    sae.W_dec.grad = torch.randn_like(sae.W_dec)
    sae.remove_parallel_decoder_grad()
    assert (sae.W_dec.grad * sae.W_dec).sum(-1).abs().max() < 1e-5
    with torch.no_grad():
        sae.W_dec *= 3
    sae.normalize_decoder()
    torch.testing.assert_close(sae.decoder_norms(), torch.ones(32))


def test_folding_input_scaling_keeps_latents_and_rescales_output():
    sae = make("jumprelu")
    x = torch.randn(10, 8)
    scaled_latents = sae.encode(x * 3.0)
    scaled_out = sae(x * 3.0).reconstruction
    sae.fold_input_scaling(3.0, 3.0)
    torch.testing.assert_close(sae.encode(x), scaled_latents)
    torch.testing.assert_close(sae(x).reconstruction, scaled_out / 3.0)


def test_transcoder_has_its_own_output_width():
    sae = make("topk", d_out=12, hook_name_out="blocks.1.hook_mlp_out")
    assert sae.cfg.is_transcoder and not sae.cfg.apply_b_dec_to_input
    out = sae.training_loss(torch.randn(5, 8), torch.randn(5, 12))
    assert out.reconstruction.shape == (5, 12)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(architecture="topk", k=64), "0 < k <= d_sae"),
        (dict(architecture="relu6"), "unknown architecture 'relu6'"),
        (dict(architecture="standard", l1_coefficient=-1.0), "l1_coefficient must be >= 0"),
        (dict(architecture="topk", d_sae=0), "d_sae must be positive"),
        (dict(architecture="topk", l1_coefficient=3.0), "--l1-coefficient set, but a topk"),
        (dict(architecture="standard", k=8), "--k set, but a standard dictionary"),
        (dict(architecture="jumprelu", quantizer_values=4, threshold_momentum=0.5), "them"),
    ],
)
def test_nonsense_configs_are_refused(overrides, message):
    """Refused when training is configured (a loaded dictionary's config is not re-judged)."""
    with pytest.raises(ValueError, match=message):
        TrainConfig(DictionaryConfig(**(dict(d_in=8, d_sae=32, k=4) | overrides)))


def test_each_architecture_accepts_the_fields_it_reads():
    for name, cls in REGISTRY.items():
        settings = {"k": 4} if cls.uses_k else {}
        defaults = DictionaryConfig()
        for field in cls.config_fields:  # every field it reads, moved off its default
            value = getattr(defaults, field)
            settings[field] = {
                float: 0.5,
                int: 3,
                list: [8],
                type(None): 0.2,
            }.get(type(value), value)
        TrainConfig(DictionaryConfig(architecture=name, d_in=8, d_sae=32, **settings))


def test_auxk_predicts_the_residual_from_the_dead_latents_of_every_stride_th_row():
    torch.manual_seed(4)
    sae = make("topk", d_in=16, d_sae=64, k=4)  # k_aux = 8: AuxK on every 8 // 4 = 2nd row
    with torch.no_grad():
        sae.b_dec.normal_()
    x, dead = torch.randn(30, 16), torch.rand(64) < 0.5
    out = sae.training_loss(x, x, dead_mask=dead)
    pre = (x - sae.b_dec) @ sae.W_enc + sae.b_enc
    residual = x - (topk_dense(pre, 4) @ sae.W_dec + sae.b_dec)
    dead_pre = pre[::2].masked_fill(~dead, float("-inf"))
    aux = topk_dense(dead_pre, 8) @ sae.W_dec
    torch.testing.assert_close(out.losses["auxk"], (aux - residual[::2]).pow(2).sum(-1).mean())
    assert auxk_stride(4, 8) == 2 and auxk_stride(4, 12) == 3 and auxk_stride(4, 2) == 1
    torch.testing.assert_close(out.loss, out.losses["mse"] + out.losses["auxk"] / 32)
    few = sae.training_loss(x, x, dead_mask=torch.arange(64) < 2)  # 2 dead of k_aux's cap 8
    torch.testing.assert_close(few.loss, few.losses["mse"] + few.losses["auxk"] / 32 * 2 / 8)


def test_topk_fired_mask_marks_the_latents_with_a_positive_activation():
    torch.manual_seed(6)
    sae = make("topk", d_in=16, d_sae=64, k=4)
    with torch.no_grad():
        sae.b_enc.fill_(-0.5)  # some rows keep fewer than k positive latents
    x = torch.randn(30, 16)
    out = sae.training_loss(x, x)
    pre = (x - sae.b_dec) @ sae.W_enc + sae.b_enc
    assert torch.equal(out.fired, (topk_dense(pre, 4) > 0).any(0))
    assert 0 < out.fired.sum() < 64


def test_bfloat16_ranking_selects_what_float32_selects_with_exact_values():
    torch.manual_seed(2)
    x, W, b = torch.randn(400, 32), torch.randn(32, 256) / 6, torch.randn(256) / 10
    dead = torch.rand(256) < 0.3
    exact = rank_latents(x, W, b, 8, dead, 16)
    fast = rank_latents(x, W, b, 8, dead, 16, dtype=torch.bfloat16)
    same_rows = (fast.indices.sort(-1).values == exact.indices.sort(-1).values).all(-1)
    assert same_rows.float().mean() >= 0.995  # re-ranked exactly: only exact near-ties differ
    pre = torch.addmm(b, x, W)
    torch.testing.assert_close(fast.values, pre.gather(-1, fast.indices))  # float32 values
    torch.testing.assert_close(fast.aux_values, pre.gather(-1, fast.aux_indices))
    assert dead[fast.aux_indices].all() and fast.values.dtype == torch.float32
    assert rank_latents(x, W, b, 8).aux_indices is None


@pytest.mark.parametrize("dtype", [None, torch.bfloat16])
def test_ranking_in_row_blocks_matches_ranking_the_whole_batch(dtype, monkeypatch):
    torch.manual_seed(4)
    x, W, b = torch.randn(50, 16), torch.randn(16, 64) / 4, torch.randn(64) / 10
    dead, aux_rows = torch.rand(64) < 0.4, slice(2, None, 3)  # 3 does not divide the blocks
    whole = rank_latents(x, W, b, 6, dead, 5, dtype, aux_rows)
    monkeypatch.setattr(sparse_ops, "RANK_BLOCK_BYTES", 64 * 4 * 7)  # 7 or 14 rows a block
    blocked = rank_latents(x, W, b, 6, dead, 5, dtype, aux_rows)
    assert len(whole.aux_indices) == len(range(50)[aux_rows]) == len(blocked.aux_indices)
    for values, indices in ((0, 1), (2, 3)):  # the fields of `Ranked`
        by_latent = [r[indices].sort(-1) for r in (whole, blocked)]
        assert torch.equal(by_latent[0].values, by_latent[1].values)
        torch.testing.assert_close(
            whole[values].gather(-1, by_latent[0].indices),
            blocked[values].gather(-1, by_latent[1].indices),
        )


def test_exact_pre_activations_match_the_dense_matmul():
    x, W, b = torch.randn(30, 8), torch.randn(8, 40), torch.randn(40)
    indices = torch.stack([torch.randperm(40)[:6] for _ in range(30)])  # unsorted, distinct
    torch.testing.assert_close(
        exact_pre_activations(x, W, b, indices), torch.addmm(b, x, W).gather(-1, indices)
    )


def test_sparse_decode_gradients_match_the_dense_reference():
    torch.manual_seed(3)
    indices = torch.stack([torch.randperm(64)[:5] for _ in range(20)])
    start_values, start_W_dec, weights = torch.rand(20, 5), torch.randn(64, 12), torch.randn(20, 12)
    grads = []
    for decode in (sparse_decode, dense_decode):
        values = start_values.clone().requires_grad_()
        W_dec = start_W_dec.clone().requires_grad_()
        (decode(values, indices, W_dec) * weights).sum().backward()
        grads.append((values.grad, W_dec.grad))
    for got, want in zip(*grads, strict=True):
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize("d_sae", [64, RADIX_SORT_LATENTS + 7])  # radix sort, then argsort
def test_latent_major_weight_gradient_matches_the_dense_product(d_sae):
    torch.manual_seed(4)
    indices = torch.stack([torch.randperm(d_sae)[:6] for _ in range(9)])
    indices[:, 0] = d_sae - 1  # one latent in every row, the last id
    values, dense = torch.randn(9, 6), torch.randn(9, 5)
    dense_code = torch.zeros(9, d_sae).scatter(-1, indices, values)
    code = LatentMajor.of(indices, d_sae)
    assert code.indices.reshape(-1)[code.order].diff().min() >= 0  # grouped by latent
    torch.testing.assert_close(code.matmul(values, dense), dense_code.T @ dense)


@pytest.mark.parametrize("select", [top_columns, staged_top_columns])
@pytest.mark.parametrize(
    "width, dtype",
    [(2048, torch.bfloat16), (2050, torch.float32), (16384, torch.bfloat16), (512, torch.float32)],
)  # two stages, a width that does not split into groups, three stages, below the threshold
def test_top_columns_selects_what_topk_selects(select, width, dtype):
    torch.manual_seed(5)
    x = torch.randn(6, width)
    x[0, :: width // 8] += 10  # every top column of row 0 in one group (j, j + width/8, ...)
    x[1] = torch.randint(0, 5, (width,)).float()  # many ties: the values must still agree
    x = x.to(dtype)
    got, want = select(x, 40), x.topk(40, dim=-1, sorted=False)
    torch.testing.assert_close(got.values.sort(-1).values, want.values.sort(-1).values)
    torch.testing.assert_close(x.gather(1, got.indices), got.values)
    assert (got.indices.sort(-1).values.diff() > 0).all()  # distinct columns
