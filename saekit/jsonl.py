r"""Reading JSON Lines: records are separated by "\n" only. `str.splitlines` also splits on
U+2028, U+0085 and other characters that a JSON string may hold raw, cutting a valid record."""


def jsonl_lines(text: str, keepends: bool = False) -> list[str]:
    r"""The non-empty lines of a JSONL text (with their "\n" when `keepends`; a last line
    without one, as a crash leaves it, comes without)."""
    pieces = text.split("\n")
    lines = [piece + "\n" for piece in pieces[:-1]] + [pieces[-1]]
    lines = [line for line in lines if line.strip()]
    return lines if keepends else [line.rstrip("\n") for line in lines]
