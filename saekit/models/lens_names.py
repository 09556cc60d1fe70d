"""TransformerLens hook names mapped onto plain Hugging Face modules.

Every name here has a module equivalent, so no `TransformerBridge` is needed to read it:
`hook_z` is the input of the attention output projection split into query heads (exactly what
TransformerLens computes), and `hook_pattern` is the attention module's returned weights under
eager attention. The integration tests compare these against the bridge on the real model.
"""

from transformers import PretrainedConfig

from saekit.hooks import HookPoint

# per architecture family: TL name template -> (module template, site); modules differ where
# the architecture normalises attention / MLP outputs before adding them to the residual stream.
_LLAMA = {
    "blocks.{i}.hook_resid_pre": ("model.layers.{i}", "input"),
    "blocks.{i}.hook_resid_mid": ("model.layers.{i}.post_attention_layernorm", "input"),
    "blocks.{i}.hook_resid_post": ("model.layers.{i}", "output"),
    "blocks.{i}.hook_attn_out": ("model.layers.{i}.self_attn", "output"),
    "blocks.{i}.hook_mlp_out": ("model.layers.{i}.mlp", "output"),
    "blocks.{i}.mlp.hook_post": ("model.layers.{i}.mlp.down_proj", "input"),
    "blocks.{i}.ln2.hook_normalized": ("model.layers.{i}.mlp", "input"),
}
_GEMMA = _LLAMA | {
    "blocks.{i}.hook_resid_mid": ("model.layers.{i}.pre_feedforward_layernorm", "input"),
    "blocks.{i}.hook_attn_out": ("model.layers.{i}.post_attention_layernorm", "output"),
    "blocks.{i}.hook_mlp_out": ("model.layers.{i}.post_feedforward_layernorm", "output"),
}
_FAMILIES = {"llama": _LLAMA, "gemma3_text": _GEMMA, "gemma3": _GEMMA, "mistral": _LLAMA}


def lens_points(config: PretrainedConfig) -> dict[str, HookPoint]:
    """TransformerLens-named hook points for a decoder-only model, or {} if not supported."""
    templates = _FAMILIES.get(config.model_type)
    if templates is None:
        return {}
    points = {"hook_embed": HookPoint("hook_embed", "model.embed_tokens")}
    for i in range(config.num_hidden_layers):
        for tl_name, (module, site) in templates.items():
            name = tl_name.format(i=i)
            points[name] = HookPoint(name, module.format(i=i), site=site)
        z = f"blocks.{i}.attn.hook_z"
        points[z] = HookPoint(
            z,
            f"model.layers.{i}.self_attn.o_proj",
            site="input",
            layout="heads",
            n_heads=config.num_attention_heads,
        )
        pattern = f"blocks.{i}.attn.hook_pattern"
        points[pattern] = HookPoint(
            pattern, f"model.layers.{i}.self_attn", site="attn_weights", layout="pattern"
        )
    points["ln_final.hook_normalized"] = HookPoint("ln_final.hook_normalized", "model.norm")
    return points
