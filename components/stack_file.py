"""A stack file (`stacks/Pulumi.<stack>.yaml`) read the way Pulumi reads it: the one reader of
the program, tools/stacks and tools/migrate-to-v1.

The Pulumi CLI reads and writes stack files with a YAML 1.2 parser (Go's yaml.v3): `no` is a
string, `False` a boolean. Whenever it writes a stack file back (any `pulumi config set`), it
writes every top-level scalar as a quoted string (`aio-mq:production: "false"`), while values
nested in a structured key keep their YAML type (a port set with `config set --path` is written
`1883`). And the engine hands the program every top-level value as a string, structured ones as
JSON. So what a stack file means is what the program makes of those strings:
`program_value` is that one parse, and `project_config` applies it to a file, so that a file
as a human wrote it and as the CLI wrote it back read the same everywhere.

Round-trip YAML (ruamel.yaml) keeps the file's comments, for a tool that rewrites it.
"""

from __future__ import annotations

import copy
import io
import json
import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

PROJECT = "aio-mq"
STRING_KEYS = frozenset({"namespace", "brokerRef", "apiVersion"})
"""Top-level keys whose value the program takes as the string the engine passes, unparsed."""


class StackFileError(ValueError):
    """A stack file that is not YAML, or not a mapping with a `config` mapping."""


def _yaml() -> YAML:
    yaml = YAML()  # round-trip, YAML 1.2 like the Pulumi CLI
    yaml.preserve_quotes = True
    # Never fold a long scalar (an ARM resource ID): the Pulumi CLI does not either, and a
    # file written back must read as it was written.
    yaml.width = 1 << 16
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def load(text: str) -> CommentedMap:
    """The stack file's document, with its comments; raises StackFileError."""
    try:
        document = _yaml().load(text)
    except YAMLError as exc:
        raise StackFileError(f"not YAML: {exc}") from None
    if document is None:
        document = CommentedMap()
    if not isinstance(document, CommentedMap):
        raise StackFileError("not a YAML mapping (config:, encryptionsalt: ...)")
    config = document.get("config")
    if config is not None and not isinstance(config, CommentedMap):
        raise StackFileError("`config` is not a mapping of keys to values")
    return document


def dump(document: CommentedMap) -> str:
    """The document as YAML, with the comments it kept."""
    out = io.StringIO()
    _yaml().dump(document, out)
    return out.getvalue()


def config_of(document: CommentedMap) -> CommentedMap:
    config = document.get("config")
    return config if isinstance(config, CommentedMap) else CommentedMap()


def project_config(document: CommentedMap) -> dict[str, Any]:
    """The `aio-mq:*` keys (without the prefix) as the program gets them from the engine.

    An encrypted value (`{secure: ...}`) stays as written: only the engine can decrypt it."""
    prefix = f"{PROJECT}:"
    return {
        str(key).removeprefix(prefix): as_program_gets(str(key), value)
        for key, value in config_of(document).items()
        if str(key).startswith(prefix)
    }


def as_program_gets(key: str, value: Any) -> Any:
    """The value of top-level key `key` of the stack file as the program gets it."""
    return plain(value) if is_secure(value) else program_value(key, engine_text(value))


def program_value(key: str, text: str) -> Any:
    """What the program makes of the string the engine passes for top-level key `key`
    (without the project prefix): a JSON value, or the string itself."""
    if key.removeprefix(f"{PROJECT}:") in STRING_KEYS:
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def engine_text(value: Any) -> str:
    """The string the engine passes the program for a top-level value of the stack file."""
    value = plain(value)
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))  # Go's JSON writes 1.0 as 1
    return json.dumps(value, separators=(",", ":"))


_PULUMI_INTEGER = re.compile(r"[+-]?[0-9]+")


def typed_as_in_clear(text: str) -> Any:
    """A value as `pulumi config set --path` stores it in clear (Go's config.coerce): "true" and
    "false" as booleans, base-10 digits as an integer unless they start with 0, else the text."""
    if text in ("true", "false"):
        return text == "true"
    if _PULUMI_INTEGER.fullmatch(text) and not (len(text) > 1 and text[0] == "0"):
        return int(text)
    return text


def with_decrypted_values_typed(
    raw: dict[str, Any], encrypted: Iterable[tuple[int | str, ...]]
) -> dict[str, Any]:
    """`raw` (the program's keys) with each value nested at an encrypted path typed as the CLI
    types the same value set in clear: the engine decrypts a nested `secure:` value to a string,
    so `config set --secret --path 'listeners[0].port' 1884` would otherwise reach the program
    as "1884" where `config set --path` gives it 1884. (Top-level values go through
    program_value already.)"""
    typed = copy.deepcopy(raw)
    for path in encrypted:
        parent: Any = typed
        for step in path[:-1]:
            parent = _child(parent, step)
        leaf = _child(parent, path[-1]) if len(path) > 1 else None
        if isinstance(leaf, str):
            parent[path[-1]] = typed_as_in_clear(leaf)
    return typed


def _child(container: Any, step: int | str) -> Any:
    if isinstance(container, dict) and isinstance(step, str):
        return container.get(step)
    if isinstance(container, list) and isinstance(step, int) and 0 <= step < len(container):
        return container[step]
    return None


def plain(value: Any) -> Any:
    """`value` as plain dicts, lists and scalars (Pulumi's own view of nested YAML: keys as
    strings, timestamps as text)."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)  # ruamel's ScalarInt subclasses (hex, octal) as the number
    if isinstance(value, float):
        return float(value)
    return str(value)


def is_secure(value: Any) -> bool:
    """Whether a value is encrypted in the file (`pulumi config set --secret`)."""
    return isinstance(value, dict) and set(value) == {"secure"}


def comments(node: Any) -> Iterator[str]:
    """Every comment attached to `node` or below it, as ruamel keeps them, one per line."""
    seen: set[int] = set()

    def tokens(value: Any) -> Iterator[Any]:
        if isinstance(value, list):
            for item in value:
                yield from tokens(item)
        elif value is not None and hasattr(value, "value") and hasattr(value, "start_mark"):
            yield value

    def walk(value: Any) -> Iterator[Any]:
        ca = getattr(value, "ca", None)
        if ca is not None:
            yield from tokens(ca.comment)
            yield from tokens(list(ca.items.values()))
            yield from tokens(getattr(ca, "end", None))
        if isinstance(value, dict):
            for item in value.values():
                yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)

    for token in walk(node):
        if id(token) not in seen:
            seen.add(id(token))
            for line in str(token.value).splitlines():
                if line.strip().startswith("#"):
                    yield line.strip()
