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


def test_jsonl_lines_split_on_newline_only(tmp_path):
    texts = ["a\u2028b", "c\u0085d\u2029e", "f\x1cg"]  # raw, as a valid JSON string may hold
    lines = [json.dumps({"text": t}, ensure_ascii=False) for t in texts]
    (tmp_path / "c.jsonl").write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    assert load_texts(str(tmp_path / "c.jsonl")) == texts


def test_a_bad_jsonl_line_is_named(tmp_path):
    (tmp_path / "c.jsonl").write_text('{"text": "a"}\n{"txt": "b"}\n')
    with pytest.raises(ValueError, match=r"c.jsonl line 2: not a JSON object with a 'text'"):
        load_texts(str(tmp_path / "c.jsonl"))


def test_lone_surrogates_are_replaced_and_counted(tiny_lm, tmp_path):
    (tmp_path / "c.jsonl").write_text('{"text": "one \\ud800 two \\udfff three"}\n')
    docs = load_texts(str(tmp_path / "c.jsonl"))
    assert docs == ["one \ud800 two \udfff three"]  # as JSON decodes it
    windows = pack_windows(docs * 4, tiny_lm.tokenizer, context_length=8, n_windows=2)
    clean = pack_windows(["one \ufffd two \ufffd three"] * 4, tiny_lm.tokenizer, 8, 2)
    assert torch.equal(windows.tokens, clean.tokens)
    assert (windows.replaced_surrogates, clean.replaced_surrogates) == (8, 0)
