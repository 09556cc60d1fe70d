"""Token texts for the dashboards. Tokens are shown one by one, but byte-level BPE splits some
characters (CJK, emoji) over several tokens, each holding only some of the character's bytes.
Alone, such a token is shown as its bytes (`<0xE6>`), never as U+FFFD; in a context, each run of
them is decoded jointly: display strings (`"s"`) put the run's text on its first token (empty
strings on the rest) and display activations (`"sa"`) give that token the run's maximum, so the
visible character is lit as strongly as any of its bytes."""

from collections.abc import Iterable

REPLACEMENT = "\ufffd"


def _byte_level_alphabet() -> dict[str, int]:
    """GPT-2's byte-level BPE alphabet: the printable character standing for each byte."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    chars, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            chars[chr(byte)] = byte
        else:
            chars[chr(256 + extra)] = byte
            extra += 1
    return chars


BYTE_LEVEL = _byte_level_alphabet()


def _shown_bytes(raw: bytes) -> str:
    """UTF-8 text, with each byte that is not part of a whole character as `<0xNN>`."""
    text = raw.decode("utf-8", "surrogateescape")
    return "".join(f"<0x{ord(c) - 0xDC00:02X}>" if 0xDC80 <= ord(c) <= 0xDCFF else c for c in text)


def shown_text(tokenizer, tokens: list[int]) -> str:
    """The tokens decoded together; bytes left over from a partial character as `<0xNN>`."""
    text = tokenizer.decode(tokens)
    if REPLACEMENT not in text:
        return text
    pieces = "".join(tokenizer.convert_ids_to_tokens(tokens))
    if all(c in BYTE_LEVEL for c in pieces):
        return _shown_bytes(bytes(BYTE_LEVEL[c] for c in pieces))
    if len(tokens) == 1 and pieces.startswith("<0x"):  # SentencePiece names its byte tokens so
        return pieces
    return text


def token_texts(tokenizer, token_ids: Iterable[int]) -> dict[str, str]:
    """`{str(id): text}` each token decoded alone (`<id>` without a tokenizer)."""
    if tokenizer is None:
        return {str(t): f"<{t}>" for t in token_ids}
    return {str(t): shown_text(tokenizer, [t]) for t in token_ids}


def join_split_characters(tokenizer, contexts: Iterable[dict]) -> None:
    """Add `"s"` display strings and `"sa"` display activations to the contexts that hold runs
    of partial-character tokens."""
    if tokenizer is None:
        return
    partial_cache: dict[int, bool] = {}

    def partial(token: int) -> bool:
        if token not in partial_cache:
            partial_cache[token] = REPLACEMENT in tokenizer.decode([token])
        return partial_cache[token]

    for context in contexts:
        flags = [partial(t) for t in context["t"]]
        if any(flags):
            context["s"], context["sa"] = _joined(tokenizer, context, flags)


def _joined(tokenizer, context: dict, flags: list[bool]) -> tuple[list[str], list[float]]:
    shown, values, i = [], [], 0
    while i < len(flags):
        end = i + 1
        while flags[i] and end < len(flags) and flags[end]:
            end += 1
        run = context["t"][i:end]
        shown += [shown_text(tokenizer, run)] + [""] * (len(run) - 1)
        values += [max(context["a"][i:end])] + [0] * (len(run) - 1)
        i = end
    return shown, values
