"""The prompts: explaining a latent from marked examples, and the yes/no questions the
detection and fuzzing scorers ask. `PROMPT_VERSION` is recorded with every result."""

PROMPT_VERSION = "1"
MARKER = "[EXPLANATION]:"

Messages = list[dict[str, str]]

EXPLAIN_SYSTEM = (
    "You are a meticulous AI researcher explaining a neuron in a language model. You see text "
    "examples where it fires; the tokens where it fires are marked between << and >>. Say in "
    "one short phrase what the marked tokens have in common (the concept, word class or "
    f"pattern), not what the texts are about. Answer with one line: {MARKER} <phrase>"
)


def explain_messages(examples: list[str], activations: list[str] | None = None) -> Messages:
    lines = [f"Example {i + 1}: {text}" for i, text in enumerate(examples)]
    if activations:
        lines += ["", "Marked tokens with activation (0-10):"]
        lines += [f"Example {i + 1}: {a}" for i, a in enumerate(activations)]
    return [
        {"role": "system", "content": EXPLAIN_SYSTEM},
        {"role": "user", "content": "\n".join(lines) + f"\n\n{MARKER}"},
    ]


def parse_explanation(answer: str) -> str | None:
    """The text after the last marker; without a marker, an answer of one line is taken as the
    explanation itself. None (a failed parse) for anything else: empty, several lines without
    the marker, or longer than 300 characters."""
    if MARKER in answer:
        text = answer.rsplit(MARKER, 1)[-1].strip().split("\n")[0]
    elif "\n" not in answer.strip():
        text = answer
    else:
        return None
    text = text.strip().strip('"').strip()
    return text if text and len(text) <= 300 else None


def _yes_no(explanation: str, label: str, text: str, question: str) -> Messages:
    body = f'A neuron fires on: "{explanation}".\n{label}: {text}\n{question} Answer Yes or No.'
    return [{"role": "user", "content": body}]


def detection_messages(explanation: str, text: str) -> Messages:
    return _yes_no(explanation, "Text", text, "Does the neuron fire somewhere in this text?")


def fuzzing_messages(explanation: str, text: str) -> Messages:
    question = "Are the marked tokens what the neuron fires on?"
    return _yes_no(explanation, "Text (tokens marked with << >>)", text, question)
