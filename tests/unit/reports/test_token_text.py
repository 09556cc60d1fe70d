"""Characters split over several byte-level tokens are shown whole: each run of tokens that
decode alone to U+FFFD is decoded jointly (SmolLM2's tokenizer)."""

from saekit.reports.token_text import REPLACEMENT, join_split_characters, token_texts


def test_split_characters_are_joined_and_the_rest_left_alone(tiny_lm):
    tokenizer = tiny_lm.tokenizer
    text = "river 日本語 and 🙂 Ω stays"
    ids = tokenizer(text).input_ids
    texts = token_texts(tokenizer, set(ids))
    assert any(REPLACEMENT in texts[str(t)] for t in ids)  # the case exists for this tokenizer
    context = {"t": ids, "a": [0.0] * len(ids)}
    plain = {"t": tokenizer(" plain words").input_ids, "a": [0.0, 0.0]}
    join_split_characters(tokenizer, [context, plain], texts | token_texts(tokenizer, plain["t"]))
    assert "s" not in plain and len(context["s"]) == len(ids)
    assert "".join(context["s"]) == tokenizer.decode(ids)
    assert REPLACEMENT not in "".join(context["s"])
    assert context["s"][0] == texts[str(ids[0])]  # whole tokens keep their own text
