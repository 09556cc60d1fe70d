"""Characters split over several byte-level tokens (SmolLM2's tokenizer): alone, such a token
shows its bytes (`<0xNN>`), never U+FFFD; in a context each run is decoded jointly and lit with
the run's strongest activation."""

import re

from saekit.reports.token_text import REPLACEMENT, join_split_characters, token_texts


def test_split_characters_are_joined_and_the_rest_left_alone(tiny_lm):
    tokenizer = tiny_lm.tokenizer
    text = "river 日本語 and 🙂 Ω stays"
    ids = tokenizer(text).input_ids
    texts = token_texts(tokenizer, set(ids))
    alone = [tokenizer.decode([t]) for t in ids]
    partial = [i for i, piece in enumerate(alone) if REPLACEMENT in piece]
    assert partial  # the case exists for this tokenizer
    assert all(re.fullmatch(r" ?(<0x[0-9A-F]{2}>)+", texts[str(ids[i])]) for i in partial)
    assert "<0xE6>" in "".join(texts[str(ids[i])] for i in partial)  # 日 starts with byte E6
    assert not any(REPLACEMENT in t for t in texts.values())
    activations = [0.0] * len(ids)
    activations[partial[1]] = 2.5  # the second byte-token of a character fires
    context = {"t": ids, "a": activations}
    plain = {"t": tokenizer(" plain words").input_ids, "a": [0.0, 0.0]}
    join_split_characters(tokenizer, [context, plain])
    assert "s" not in plain and len(context["s"]) == len(ids) == len(context["sa"])
    assert "".join(context["s"]) == tokenizer.decode(ids)
    assert context["s"][0] == texts[str(ids[0])]  # whole tokens keep their own text
    shown_at = max(i for i in range(partial[1] + 1) if context["s"][i])  # the run's first token
    assert context["sa"][shown_at] == 2.5 and context["s"][shown_at] != ""
    assert context["a"] == activations  # the recorded activations are left as they are


def test_a_byte_without_the_rest_of_its_character_shows_as_bytes(tiny_lm):
    tokenizer = tiny_lm.tokenizer
    ids = tokenizer("日", add_special_tokens=False).input_ids
    assert len(ids) > 1
    context = {"t": ids[1:], "a": [1.0] * (len(ids) - 1)}  # the character's first byte cut off
    join_split_characters(tokenizer, [context])
    assert context["s"][0].startswith("<0x") and REPLACEMENT not in "".join(context["s"])
