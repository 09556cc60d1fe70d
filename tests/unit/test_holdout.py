"""Held-out windows: a store view of any rows, the last 10 % of windows kept out of training by
default and recorded in the dictionary's config, and evaluation on exactly those rows (said so);
the standardised FVU against its definition."""

import json

import pytest
import torch

import saekit
from saekit.cli import main
from saekit.evals.reconstruction import reconstruction_stats
from saekit.sae import load
from saekit.store.holdout import HeldOut, hold_out
from saekit.store.importing import import_array
from saekit.train import StoreSource, train
from tests.unit.train.commands import train_config

HOOK = "blocks.1.hook_resid_post"


@pytest.fixture(scope="module")
def text_store(tiny_lm, tmp_path_factory):
    corpus = [f"Document {i} tells of rivers and hills number {i % 7}." for i in range(400)]
    out = tmp_path_factory.mktemp("holdout") / "acts"
    return saekit.harvest(tiny_lm, data=corpus, hooks=HOOK, out=out, tokens=4096, context_length=32)


def test_a_view_reads_exactly_its_rows(tmp_path):
    array = torch.randn(1000, 6)
    store = import_array(array, tmp_path / "s", hook="h", shard_rows=128)
    for start, stop in [(0, 1000), (130, 900), (256, 384), (999, 1000)]:
        view = store.rows_between(start, stop)
        assert len(view) == stop - start
        assert torch.equal(view.activations("h"), array[start:stop])
        assert torch.equal(view.windows, store.windows[start:stop])
        shuffled = torch.cat([b["h"] for b in view.batches(["h"], 64, seed=3)])
        expected = array[start:stop]
        order = shuffled[:, 0].argsort(), expected[:, 0].argsort()
        assert torch.equal(shuffled[order[0]], expected[order[1]])  # every row once, no other
    assert len(store.rows_between(500, 500)) == 0
    nested = store.rows_between(100, 900).rows_between(50, 60)
    assert torch.equal(nested.activations("h"), array[150:160])
    with pytest.raises(ValueError, match="not within"):
        store.rows_between(10, 1001)


def test_the_last_tenth_of_windows_is_held_out_at_a_window_boundary(text_store):
    split = hold_out(text_store, 0.1)
    windows = text_store.windows
    n_windows = int(windows.max()) + 1
    assert split.first_window == n_windows - n_windows // 10
    assert int(windows[split.first_row]) == split.first_window
    assert int(windows[split.first_row - 1]) == split.first_window - 1
    assert split.applies_to(text_store) and split.rows == len(text_store)


def test_training_skips_the_held_out_rows_and_evaluation_uses_them(text_store, tmp_path):
    config = train_config(d_sae=32, k=4, tokens=2048, batch_size=128, hook_name=HOOK)
    source = StoreSource(text_store, [HOOK])
    (sae,) = train(source, config, tmp_path / "sae", progress=False)
    split = HeldOut(**sae.cfg.held_out)
    assert split == hold_out(text_store, 0.1)
    trained_on = source.without_held_out(0.1).store  # the rows training draws from
    everything = text_store.activations(HOOK)
    assert torch.equal(trained_on.activations(HOOK), everything[: split.first_row])

    report = saekit.evaluate(load(tmp_path / "sae"), text_store)
    assert report.reconstruction.rows == len(text_store) - split.first_row
    assert report.rows_used.startswith(f"held-out rows {split.first_row}..{len(text_store) - 1}")
    direct = reconstruction_stats(sae, text_store.rows_between(split.first_row, len(text_store)))
    assert report.reconstruction.fvu == pytest.approx(direct.fvu)

    other = import_array(torch.randn(300, text_store.d(HOOK)), tmp_path / "other", hook=HOOK)
    assert saekit.evaluate(sae, other).rows_used.startswith(
        "every row (the dictionary was trained on another store"
    )


def test_holdout_zero_trains_on_every_row(text_store, tmp_path):
    config = train_config(d_sae=32, k=4, tokens=512, batch_size=128, hook_name=HOOK, holdout=0.0)
    (sae,) = train(StoreSource(text_store, [HOOK]), config, tmp_path / "sae", progress=False)
    assert sae.cfg.held_out is None
    assert saekit.evaluate(sae, text_store).reconstruction.rows == len(text_store)


def test_the_eval_command_says_which_rows_it_used(text_store, tmp_path, capsys):
    config = train_config(d_sae=32, k=4, tokens=512, batch_size=128, hook_name=HOOK)
    train(StoreSource(text_store, [HOOK]), config, tmp_path / "sae", progress=False)
    args = ["eval", "--dictionary", str(tmp_path / "sae"), "--acts", str(text_store.folder)]
    assert main(args + ["--model", ""]) == 0
    out = capsys.readouterr().out
    assert "evaluated on held-out rows" in out
    saved = json.loads((tmp_path / "sae" / "eval.json").read_text())
    assert saved["rows_used"].startswith("held-out rows")


def test_standardised_fvu_is_the_mean_of_per_dimension_fvus(tmp_path):
    scale = torch.tensor([100.0, 1.0, 1.0, 0.5])  # one dimension carries almost all variance
    array = torch.randn(2000, 4) * scale
    store = import_array(array, tmp_path / "s", hook="h", shard_rows=300)
    config = train_config(d_sae=8, k=1, tokens=4000, batch_size=200)
    (sae,) = train(StoreSource(store), config, tmp_path / "sae", progress=False)
    stats = reconstruction_stats(sae, store, batch_size=256)
    with torch.no_grad():
        error = (sae(array).reconstruction - array).double()
    centred = array.double() - array.double().mean(0)
    per_dimension = error.pow(2).sum(0) / centred.pow(2).sum(0)
    assert stats.fvu == pytest.approx(float(error.pow(2).sum() / centred.pow(2).sum()), rel=1e-4)
    assert stats.fvu_standardized == pytest.approx(float(per_dimension.mean()), rel=1e-4)
    assert stats.fvu_standardized > 2 * stats.fvu  # raw FVU mostly measures dimension 0


def test_training_never_reads_a_held_out_row(tmp_path):
    """Held-out rows poisoned with huge values: a dictionary that saw any of them is ruined."""
    torch.manual_seed(0)
    array = torch.randn(2000, 6)
    array[1800:] *= 1e4  # the last 10 % of the windows (one row each)
    store = import_array(array, tmp_path / "s", hook="h", shard_rows=256)
    fvu = {}
    for holdout in (0.1, 0.0):
        config = train_config(d_sae=16, k=2, tokens=4000, batch_size=200, holdout=holdout)
        (sae,) = train(StoreSource(store), config, tmp_path / f"sae{holdout}", progress=False)
        fvu[holdout] = reconstruction_stats(sae, store.rows_between(0, 1800)).fvu
    assert fvu[0.1] < 0.6 and fvu[0.0] > 100  # the control shows what one poisoned read does
