"""The local client on a tiny random Llama: batched, left-padded judging and generation give
what each conversation gets alone, and P(yes) is the share of the yes/no token mass."""

import torch

from saekit.analysis.autointerp.clients import LocalClient
from saekit.analysis.autointerp.examples import LatentExamples
from saekit.analysis.autointerp.explainers import LLMExplainer, TokenFrequencyExplainer
from saekit.latents.contexts import Example

SHORT = [{"role": "user", "content": "Is it a month?"}]
LONG = [{"role": "user", "content": "Is the word in this long sentence about the sea a month?"}]


def test_batched_judging_equals_one_at_a_time(tiny_lm):
    client = LocalClient(tiny_lm, batch_size=8)
    together = client.yes_probability([SHORT, LONG, SHORT])
    alone = [client.yes_probability([c])[0] for c in (SHORT, LONG, SHORT)]
    assert torch.allclose(torch.tensor(together), torch.tensor(alone), atol=1e-4)
    # by hand for one conversation: the yes and no token groups' probability mass
    text = tiny_lm.tokenizer.apply_chat_template(SHORT, tokenize=False, add_generation_prompt=True)
    ids = tiny_lm.tokenizer(text, return_tensors="pt", add_special_tokens=False).input_ids
    p = tiny_lm.forward(ids)[0, -1].softmax(-1)
    yes, no = p[client.yes_ids].sum(), p[client.no_ids].sum()
    assert abs(alone[0] - float(yes / (yes + no))) < 1e-4


def test_batched_generation_equals_one_at_a_time(tiny_lm):
    client = LocalClient(tiny_lm, batch_size=8)
    together = client.generate([SHORT, LONG], max_tokens=5)
    assert together == [client.generate([SHORT], 5)[0], client.generate([LONG], 5)[0]]


def _examples(tokenizer) -> LatentExamples:
    ids = tokenizer(" in March and May", add_special_tokens=False).input_ids
    march = [1.0 if tokenizer.decode([i]).strip() in ("March", "May") else 0.0 for i in ids]
    train = [Example(ids, march, 0)] * 3
    return LatentExamples(5, train, [], [], [], [])


def test_explainers_read_the_marked_tokens(tiny_lm):
    examples = _examples(tiny_lm.tokenizer)
    (frequency,) = TokenFrequencyExplainer(tiny_lm.tokenizer).explain([examples])
    assert frequency.text == 'the tokens "March", "May"' and frequency.parsed
    llm = LLMExplainer(LocalClient(tiny_lm), tiny_lm.tokenizer, show_activations=True)
    prompt = llm._messages(examples)[1]["content"]
    assert "in<< March>> and<< May>>" in prompt and "' March' (10)" in prompt
    (answer,) = llm.explain([examples])  # a random model: whatever it says is recorded
    assert answer.raw is not None and answer.parsed == bool(answer.text)
