"""A random transcoder set for the tiny test Llama (every layer, TopK)."""

import torch

from saekit.analysis.graphs.transcoders import TranscoderSet, input_hook, output_hook
from saekit.sae import DictionaryConfig, build


def random_transcoders(model, d_sae: int = 48, k: int = 6, seed: int = 0) -> TranscoderSet:
    torch.manual_seed(seed)
    d = model.module.config.hidden_size
    found = TranscoderSet(model.spec, d, model.n_layers)
    for layer in range(model.n_layers):
        cfg = DictionaryConfig(
            architecture="topk",
            d_in=d,
            d_out=d,
            d_sae=d_sae,
            k=k,
            hook_name=input_hook(layer),
            hook_name_out=output_hook(layer),
        )
        transcoder = build(cfg).eval()
        with torch.no_grad():
            transcoder.W_enc.normal_(0, 0.3)
            transcoder.b_enc.normal_(0.2, 0.1)
            transcoder.W_dec.normal_(0, 0.05)
            transcoder.b_dec.normal_(0, 0.1)
        found.transcoders[layer] = transcoder.requires_grad_(False)
    return found
