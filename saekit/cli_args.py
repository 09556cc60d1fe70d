"""Config dataclasses -> argparse flags, with each field's docstring as its --help text."""

import argparse
import ast
import dataclasses
import inspect
import types
import typing


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


def add_dataclass_arguments(
    parser: argparse.ArgumentParser, cls: type, skip=(), aliases: dict[str, str] | None = None
) -> None:
    docs = field_docs(cls)
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        if field.name in skip:
            continue
        flag = "--" + field.name.replace("_", "-")
        default = field.default_factory() if callable(field.default_factory) else field.default
        kind = _strip_optional(hints[field.name])
        options: dict = {
            "default": default,
            "help": f"{docs.get(field.name, '')} (default: {default})",
        }
        if typing.get_origin(kind) is typing.Literal:
            options["choices"] = typing.get_args(kind)
        elif kind is bool:
            options["action"] = argparse.BooleanOptionalAction
        elif typing.get_origin(kind) is list:
            options["nargs"] = "+"
        else:
            options["type"] = kind
        extra = [aliases[field.name]] if aliases and field.name in aliases else []
        parser.add_argument(flag, *extra, dest=field.name, **options)


def dataclass_from_args(cls: type, args: argparse.Namespace):
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in vars(args).items() if k in names})
