"""Prompt text, parsing, latent specs and scorer metrics against hand-computed cases."""

import pytest

from saekit.analysis.autointerp.latents import parse_latents
from saekit.analysis.autointerp.prompts import explain_messages, parse_explanation
from saekit.analysis.autointerp.scorers.metrics import binary_metrics, roc_auc
from saekit.analysis.autointerp.text import marked, normalised


def test_marks_merge_adjacent_tokens():
    pieces = ["The", " cat", " sat", " on", " mats"]
    assert marked(pieces, [False, True, True, False, True]) == "The<< cat sat>> on<< mats>>"
    assert marked(pieces, [False] * 5) == "The cat sat on mats"


def test_activations_normalised_to_ten():
    assert normalised([0.0, 1.0, 2.5, 5.0], 5.0) == [0, 2, 5, 10]
    assert normalised([0.0, 0.0], 0.0) == [0, 0]


def test_explanation_parsed_from_the_marker_or_recorded_as_failed():
    assert parse_explanation("thinking...\n[EXPLANATION]: month names\n") == "month names"
    assert parse_explanation('[EXPLANATION]: "digits"') == "digits"
    assert parse_explanation("just a phrase") == "just a phrase"
    assert parse_explanation("The marked tokens are all month names.") == (
        "The marked tokens are all month names."
    )
    assert parse_explanation("[EXPLANATION]:   \n") is None
    assert parse_explanation("x" * 400) is None
    assert parse_explanation("") is None
    assert parse_explanation("Sure! Here are some thoughts.\nThe examples vary a lot.") is None
    messages = explain_messages(["a <<b>>"], ["'b' (10)"])
    assert (
        messages[1]["content"].endswith("[EXPLANATION]:") and "'b' (10)" in messages[1]["content"]
    )


def test_binary_metrics_by_hand():
    truth = [True, True, True, False, False]
    predicted = [True, True, False, True, False]
    scores = [0.9, 0.8, 0.3, 0.6, 0.1]
    m = binary_metrics(truth, predicted, scores)
    # tp 2, fn 1, fp 1, tn 1
    assert m["recall"] == pytest.approx(2 / 3) and m["precision"] == pytest.approx(2 / 3)
    assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert m["f1"] == pytest.approx(2 / 3)
    # pairs (pos, neg): 0.9>0.6, 0.9>0.1, 0.8>0.6, 0.8>0.1, 0.3<0.6, 0.3>0.1 -> 5/6
    assert m["roc_auc"] == pytest.approx(5 / 6)
    assert roc_auc([True, False], [0.5, 0.5]) == 0.5
    assert roc_auc([True, True], [0.1, 0.2]) is None


def test_latent_specs():
    assert parse_latents("0-3,7", 10) == [0, 1, 2, 3, 7]
    chosen = parse_latents("random:4", 100, seed=1)
    assert (
        len(chosen) == 4
        and chosen == sorted(chosen)
        and chosen == parse_latents("random:4", 100, seed=1)
    )
    with pytest.raises(ValueError, match="out of range: the dictionary has 10"):
        parse_latents("5-12", 10)
    with pytest.raises(ValueError, match="random:N"):
        parse_latents("some", 10)
