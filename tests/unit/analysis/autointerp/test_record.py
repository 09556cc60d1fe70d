"""A latent's record: one JSON line with the same keys as before it had a type, read back equal;
skipped and unparsed latents keep their short forms."""

import json

from saekit.analysis.autointerp.record import LatentRecord


def test_records_round_trip_with_their_json_keys():
    full = LatentRecord(
        latent=7,
        explainer="token-frequency",
        explanation='the tokens "river"',
        parsed=True,
        examples={"train": [3, 40], "activating": [90], "random": [7], "hard": []},
        scores={"detection": {"roc_auc": 0.75, "f1": None}},
        predictions={"detection": [["activating", 0, True, 0.9], ["random", None, False, 0.2]]},
        versions={"prompt": "1", "judge": "local:m", "saekit": "0"},
        vocab={"promoted": [" river"], "promoted_logits": [2.5]},
    )
    line = full.to_json()
    assert list(json.loads(line)) == [
        "latent", "explainer", "explanation", "parsed", "examples", "scores", "predictions",
        "versions", "vocab",
    ]  # fmt: skip
    assert LatentRecord.from_json(line) == full
    assert full.flat_scores() == {"detection.roc_auc": 0.75}
    skipped = LatentRecord(3, skipped="fires in 2 separate spans")
    assert json.loads(skipped.to_json()) == {"latent": 3, "skipped": "fires in 2 separate spans"}
    assert LatentRecord.from_json(skipped.to_json()) == skipped
    unparsed = LatentRecord(4, explainer="llm:x", parsed=False, raw="I am not sure.")
    assert json.loads(unparsed.to_json())["raw"] == "I am not sure."
    assert LatentRecord.from_json(unparsed.to_json()) == unparsed
