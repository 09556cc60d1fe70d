"""Config dataclasses -> argparse flags, with each field's docstring as its --help text.

A field whose type is itself a dataclass (the dictionary config inside the training config)
contributes its own fields as flags; fields marked `metadata={"cli": False}` are set from the
data, not from a flag, and fields marked `metadata={"positional": True}` are positional."""

import argparse
import ast
import dataclasses
import inspect
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import MISSING


def field_docs(cls: type) -> dict[str, str]:
    """The string literal written under each field of a dataclass (and of its bases)."""
    docs = {}
    for klass in reversed([k for k in cls.__mro__ if dataclasses.is_dataclass(k)]):
        body = ast.parse(inspect.getsource(klass)).body[0].body
        for node, following in zip(body, body[1:], strict=False):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
            ):
                docs[node.target.id] = " ".join(following.value.value.split())
    return docs


def _strip_optional(kind):
    """`int | None` -> `int` (the flag's default stays None)."""
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    is_union = typing.get_origin(kind) in (typing.Union, types.UnionType)
    return args[0] if is_union and len(args) == 1 else kind


def _flag_fields(cls: type) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(cls) if f.metadata.get("cli", True)]


def _options(field: dataclasses.Field, kind, doc: str, choices) -> dict:
    """argparse keyword arguments for one (non-dataclass) field."""
    required = field.default is MISSING and field.default_factory is MISSING
    default = None if required else field.default
    if field.default_factory is not MISSING:
        default = field.default_factory()
    shows_default = required or "default" in doc.lower()
    text = doc if shows_default else f"{doc} (default: {default})"
    options: dict = {"help": text.replace("%", "%%")}  # argparse formats help with %
    if not required:
        options["default"] = default
    if choices is not None:
        options["choices"] = list(choices)
    elif typing.get_origin(kind) is typing.Literal:
        options["choices"] = typing.get_args(kind)
    if kind is bool:
        options["action"] = argparse.BooleanOptionalAction
    elif typing.get_origin(kind) is list:
        options["nargs"] = "*" if field.metadata.get("positional") else "+"
        options["type"] = typing.get_args(kind)[0] if typing.get_args(kind) else str
    elif typing.get_origin(kind) is not typing.Literal:
        options["type"] = kind
    return options


def add_dataclass_arguments(
    parser: argparse.ArgumentParser,
    cls: type,
    skip: Sequence[str] = (),
    aliases: Mapping[str, str] | None = None,
    choices: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """One flag per field (nested dataclasses flattened; fields without a default are
    required; `POSITIONAL` ones positional); `aliases` adds a second spelling, `choices`
    restricts a field to the names of a registry."""
    docs = field_docs(cls)
    hints = typing.get_type_hints(cls)
    for field in _flag_fields(cls):
        if field.name in skip:
            continue
        kind = _strip_optional(hints[field.name])
        if dataclasses.is_dataclass(kind):
            add_dataclass_arguments(parser, kind, skip, aliases, choices)
            continue
        options = _options(field, kind, docs.get(field.name, ""), (choices or {}).get(field.name))
        if field.metadata.get("positional"):
            parser.add_argument(field.name, **options)
            continue
        if "default" not in options:
            options["required"] = True
        extra = [aliases[field.name]] if aliases and field.name in aliases else []
        flag = "--" + field.name.replace("_", "-")
        parser.add_argument(flag, *extra, dest=field.name, **options)


def dataclass_from_args(cls: type, args: argparse.Namespace):
    """The dataclass (nested ones included) from parsed flags; absent flags keep defaults."""
    hints = typing.get_type_hints(cls)
    values = vars(args)
    kwargs = {}
    for field in _flag_fields(cls):
        kind = _strip_optional(hints[field.name])
        if dataclasses.is_dataclass(kind):
            kwargs[field.name] = dataclass_from_args(kind, args)
        elif field.name in values:
            kwargs[field.name] = values[field.name]
    return cls(**kwargs)
