import json

import pytest
import torch

from saekit.data.text import load_texts, pack_windows, wiki_offline_texts


def test_pack_windows_prepends_bos_and_separates_documents(tiny_lm):
    tok = tiny_lm.tokenizer
    docs = ["one two three", "four five six seven", "eight"]
    windows = pack_windows(docs, tok, context_length=4, n_windows=3, bos="prepend")
    stream = [
        t for d in docs for t in tok(d, add_special_tokens=False).input_ids + [tok.eos_token_id]
    ]
    assert windows.tokens.shape == (3, 4)
    assert windows.tokens[:, 0].tolist() == [tok.bos_token_id] * 3
    assert windows.tokens[:, 1:].flatten().tolist() == stream[:9]
    assert (
        windows.special.tolist()
        == torch.isin(windows.tokens, torch.tensor(tok.all_special_ids)).tolist()
    )
    raw = pack_windows(docs, tok, context_length=4, n_windows=2, bos="none")
    assert raw.tokens.flatten().tolist() == stream[:8]


def test_pack_windows_rejects_a_corpus_too_small(tiny_lm):
    with pytest.raises(ValueError, match="fewer than 99 tokens"):
        pack_windows(["tiny"], tiny_lm.tokenizer, context_length=100, n_windows=1)


def test_local_text_and_jsonl_corpora(tmp_path):
    (tmp_path / "c.txt").write_text("first doc\n\nsecond doc\n")
    (tmp_path / "c.jsonl").write_text(json.dumps({"text": "a"}) + "\n" + json.dumps({"text": "b"}))
    assert load_texts(str(tmp_path / "c.txt")) == ["first doc", "second doc\n"]
    assert load_texts(str(tmp_path / "c.jsonl")) == ["a", "b"]
    assert sorted(load_texts(str(tmp_path / "c.jsonl"), seed=1)) == ["a", "b"]


def test_default_corpus_is_the_offline_wikipedia_summaries():
    texts = wiki_offline_texts()
    assert len(texts) > 9000
    assert sum(len(t) for t in texts) > 4_000_000
