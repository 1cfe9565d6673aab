"""Problems with the configuration, reported all at once with key path, cause and fix.

Pydantic finds the problems; this module only words them for an operator who edits YAML:
the key path as it appears in the stack file (`listeners[1].tls.automatic.issuerRef.name`),
what is wrong, and what to write instead.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError

Loc = Sequence[int | str]

QUOTE_LIMIT = 60
"""Characters of a value an error message quotes: enough to recognise it, never a whole file."""


def quote(value: Any) -> str:
    """`repr(value)`, cut to its first QUOTE_LIMIT characters when longer; never a key."""
    text = repr(value)
    if "PRIVATE KEY-----" in text:
        return "(a PEM private key, not shown)"
    if len(text) <= QUOTE_LIMIT:
        return text
    return f"{text[:QUOTE_LIMIT]}... ({_size(value, text)})"


def _size(value: Any, text: str) -> str:
    """How long `value` is, as its owner counts it: a string's own characters (not repr's
    quotes and escapes, which a length rule such as "at most 63" never sees), a list's items."""
    if isinstance(value, str):
        return _count(len(value), "character")
    if isinstance(value, list | tuple | dict):
        return f"a {type(value).__name__} of {_count(len(value), 'item')}"
    return _count(len(text), "character")


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    fix: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{where}{self.message}" + (f"\n      fix: {self.fix}" if self.fix else "")


class ConfigError(pulumi.RunError):
    """Invalid input. A RunError, so Pulumi prints the message without a Python traceback."""

    def __init__(
        self,
        problems: Iterable[Problem],
        subject: str = "the configuration",
        outcome: str = "no resource was registered",
    ) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"aio-mq: {subject} has {count} {noun}; {outcome}."]
        lines += [f"  - {problem}" for problem in self.problems]
        super().__init__("\n".join(lines))


def join_path(prefix: str, loc: Loc) -> str:
    """('tls', 'automatic', 0) under 'listeners[1]' -> 'listeners[1].tls.automatic[0]'."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def problems_from_validation(
    exc: ValidationError, model: type[BaseModel], prefix: str = ""
) -> list[Problem]:
    """One Problem per pydantic error, located under prefix, with a fix where one is known."""
    return [_problem(err, model, prefix) for err in exc.errors(include_url=False)]


def _problem(err: Any, model: type[BaseModel], prefix: str) -> Problem:
    loc: tuple[int | str, ...] = tuple(err["loc"])
    kind: str = err["type"]
    ctx: dict[str, Any] = err.get("ctx") or {}
    path = join_path(prefix, loc)
    # A manual-TLS private key is secret, even when it is of the wrong type.
    value = err.get("input")
    value = f"a {type(value).__name__}" if _is_private_key(loc) else quote(value)
    if kind == "missing":
        return Problem(path, "required key is missing", f"add `{loc[-1]}`" if loc else None)
    if kind == "extra_forbidden":
        return Problem(path, f"unknown key {loc[-1]!r}", _unknown_key_fix(model, loc))
    if kind == "literal_error":
        return Problem(path, f"{value} is not accepted", _literal_fix(model, loc, err.get("input")))
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return Problem(
            path, f"{value} is not a whole number", "write an integer without quotes, e.g. 1883"
        )
    if kind == "bool_type":
        return Problem(path, f"{value} is not a boolean", "write true or false, without quotes")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return Problem(
            path, f"expected a mapping of keys, got {value}", "write key: value pairs here"
        )
    if kind == "list_type":
        return Problem(
            path, f"expected a list, got {value}", "write a YAML list ('- item' per line)"
        )
    if kind == "too_short":
        return Problem(path, "is empty; at least one entry is needed", "add an entry here")
    if kind == "string_type":
        return Problem(path, f"expected text, got {value}", "write a string")
    return Problem(path, err["msg"], ctx.get("fix"))


def _is_private_key(loc: tuple[int | str, ...]) -> bool:
    return "manual" in loc and "privateKey" in loc


def _unknown_key_fix(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    accepted = _keys_at(model, loc[:-1])
    near = difflib.get_close_matches(str(loc[-1]), accepted, n=1, cutoff=0.6)
    listing = ", ".join(accepted)
    if near:
        return f"did you mean {near[0]!r}? (keys accepted here: {listing})"
    return f"remove it; keys accepted here: {listing}"


def _literal_fix(model: type[BaseModel], loc: tuple[int | str, ...], value: Any) -> str:
    choices = [str(choice) for choice in typing.get_args(_annotation_at(model, loc))]
    text = f"use one of {', '.join(choices)} (spelled exactly so: values are case-sensitive)"
    if isinstance(value, str):
        near = [c for c in choices if c.lower() == value.lower()]
        near = near or difflib.get_close_matches(value, choices, n=1, cutoff=0.5)
        if near:
            text = f"did you mean {near[0]!r}? " + text
    return text


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated[...] and Optional[...], and step into list items."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _annotation_at(model: type[BaseModel], loc: Loc) -> Any:
    annotation: Any = model
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(part, int):
            if typing.get_origin(annotation) is list:
                annotation = typing.get_args(annotation)[0]
            continue
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        field = next(
            (f for n, f in annotation.model_fields.items() if part in (n, f.alias)),
            None,
        )
        if field is None:
            return None
        annotation = field.annotation
    return _unwrap(annotation)


def _keys_at(model: type[BaseModel], loc: Loc) -> list[str]:
    annotation = _annotation_at(model, loc)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [field.alias or name for name, field in annotation.model_fields.items()]
    return []
