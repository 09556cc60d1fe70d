"""JSON Schema of the data a report embeds: the feature list (parsed when the page opens) and
the dashboards (parsed the first time a feature is opened)."""

SCHEMA_ID = "saekit.report/1"

_NUMBER_OR_NULL = {"type": ["number", "null"]}

CONTEXT = {
    "type": "object",
    "required": ["t", "a"],
    "properties": {
        "t": {"type": "array", "items": {"type": "integer"}},
        "a": {"type": "array", "items": {"type": "number"}},
        "q": {"type": "integer", "minimum": 0},
        "s": {"type": "array", "items": {"type": "string"}},
        "sa": {"type": "array", "items": {"type": "number"}},
    },
}

IMAGE = {
    "type": "object",
    "required": ["image", "value", "grid"],
    "properties": {
        "image": {"type": "integer", "minimum": 0},
        "value": {"type": "number"},
        "grid": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
    },
}

TOKEN_LOGITS = {
    "type": "array",
    "items": {
        "type": "array",
        "prefixItems": [{"type": "string"}, {"type": "number"}],
        "minItems": 2,
        "maxItems": 2,
    },
}

DASHBOARD = {
    "type": "object",
    "required": ["hist"],
    "properties": {
        "top": {"type": "array", "items": CONTEXT},
        "quantiles": {"type": "array", "items": CONTEXT},
        "images": {"type": "array", "items": IMAGE},
        "hist": {
            "type": "object",
            "required": ["edges", "counts"],
            "properties": {
                "edges": {"type": "array", "items": {"type": "number"}},
                "counts": {"type": "array", "items": {"type": "integer"}},
            },
        },
        "promoted": TOKEN_LOGITS,
        "suppressed": TOKEN_LOGITS,
    },
}

FEATURE = {
    "type": "object",
    "required": ["id", "density", "max"],
    "properties": {
        "id": {"type": "integer", "minimum": 0},
        "density": _NUMBER_OR_NULL,
        "max": _NUMBER_OR_NULL,
        "peak": {"type": "string"},
        "explanation": {"type": "string"},
        "scores": {"type": "object", "additionalProperties": _NUMBER_OR_NULL},
    },
}

FEATURES = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["schema", "kind", "features", "tokens"],
    "properties": {
        "schema": {"const": SCHEMA_ID},
        "kind": {"enum": ["text", "vision"]},
        "features": {"type": "array", "items": FEATURE},
        "tokens": {"type": "object", "additionalProperties": {"type": "string"}},
        "scores": {"type": "array", "items": {"type": "string"}},
        "images": {
            "type": "object",
            "additionalProperties": {"type": "string", "pattern": "^data:image/(png|jpeg);base64,"},
        },
    },
}

DASHBOARDS = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": DASHBOARD,
    "propertyNames": {"pattern": "^[0-9]+$"},
}
