"""Token texts for the dashboards. Tokens are shown one by one, but byte-level BPE splits some
characters (CJK, emoji) over several tokens, each of which decodes alone to U+FFFD; contexts
holding such runs carry display strings (`"s"`) where each run is decoded jointly, its text on
the run's first token and empty strings on the rest."""

from collections.abc import Iterable

REPLACEMENT = "\ufffd"


def token_texts(tokenizer, token_ids: Iterable[int]) -> dict[str, str]:
    """`{str(id): text}` each token decoded alone (`<id>` without a tokenizer)."""
    if tokenizer is None:
        return {str(t): f"<{t}>" for t in token_ids}
    return {str(t): tokenizer.decode([t]) for t in token_ids}


def join_split_characters(tokenizer, contexts: Iterable[dict], texts: dict[str, str]) -> None:
    """Add `"s"` display strings to the contexts that hold runs of partial-character tokens."""
    if tokenizer is None:
        return
    for context in contexts:
        partial = [REPLACEMENT in texts[str(t)] for t in context["t"]]
        if not any(partial):
            continue
        shown, i = [], 0
        while i < len(partial):
            end = i + 1
            while partial[i] and end < len(partial) and partial[end]:
                end += 1
            run = context["t"][i:end]
            joined = tokenizer.decode(run) if partial[i] else texts[str(run[0])]
            shown += [joined] + [""] * (len(run) - 1)
            i = end
        context["s"] = shown
