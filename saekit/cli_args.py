"""Config dataclasses -> argparse flags, with each field's docstring as its --help text.

A field whose type is itself a dataclass (the dictionary config inside the training config)
contributes its own fields as flags; fields marked `metadata={"cli": False}` are set from the
data, not from a flag."""

import argparse
import ast
import dataclasses
import inspect
import types
import typing
from collections.abc import Mapping, Sequence


def field_docs(cls: type) -> dict[str, str]:
    """The string literal written under each field of a dataclass."""
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body
    docs = {}
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


def add_dataclass_arguments(
    parser: argparse.ArgumentParser,
    cls: type,
    skip: Sequence[str] = (),
    aliases: Mapping[str, str] | None = None,
    choices: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """One flag per field (nested dataclasses flattened); `aliases` adds a second spelling,
    `choices` restricts a field to values from a registry."""
    docs = field_docs(cls)
    hints = typing.get_type_hints(cls)
    for field in _flag_fields(cls):
        if field.name in skip:
            continue
        kind = _strip_optional(hints[field.name])
        if dataclasses.is_dataclass(kind):
            add_dataclass_arguments(parser, kind, skip, aliases, choices)
            continue
        flag = "--" + field.name.replace("_", "-")
        default = field.default_factory() if callable(field.default_factory) else field.default
        options: dict = {
            "default": default,
            "help": f"{docs.get(field.name, '')} (default: {default})",
        }
        if choices and field.name in choices:
            options["choices"] = list(choices[field.name])
        elif typing.get_origin(kind) is typing.Literal:
            options["choices"] = typing.get_args(kind)
        if kind is bool:
            options["action"] = argparse.BooleanOptionalAction
        elif typing.get_origin(kind) is list:
            options["nargs"] = "+"
            options["type"] = typing.get_args(kind)[0] if typing.get_args(kind) else str
        elif typing.get_origin(kind) is not typing.Literal:
            options["type"] = kind
        extra = [aliases[field.name]] if aliases and field.name in aliases else []
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
