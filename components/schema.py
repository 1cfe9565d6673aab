"""JSON Schema of a stack file's `aio-mq:*` keys, generated from the pydantic models.

Editors use it for completion and validation of `stacks/Pulumi.*.yaml`; the committed copy is
`schema/stack-config.schema.json`, rewritten by `make schema` and checked by the tests. The
shape of the keys depends on `aio-mq:apiVersion`: one `if`/`then` branch per API version.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from .stack import CONFIG_MODELS
from .stack_file import PROJECT

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "stack-config.schema.json"

# How Pulumi writes an encrypted value (`pulumi config set --secret`) into a stack file.
PULUMI_SECRET = {
    "type": "object",
    "description": "A value encrypted by `pulumi config set --secret`.",
    "properties": {"secure": {"type": "string"}},
    "required": ["secure"],
    "additionalProperties": False,
}


def stack_file_schema() -> dict[str, Any]:
    _, schema = models_json_schema(
        [(model, "validation") for model in CONFIG_MODELS.values()], by_alias=True
    )
    definitions = _secret_fields_take_secure_values(schema["$defs"])
    definitions["PulumiSecret"] = PULUMI_SECRET
    version_key = f"{PROJECT}:apiVersion"
    default_version = next(iter(CONFIG_MODELS))
    branches = []
    for version, model in CONFIG_MODELS.items():
        config = definitions.pop(model.__name__)
        keys = {f"{PROJECT}:{key}": value for key, value in config["properties"].items()}
        chosen: dict[str, Any] = {
            "required": [version_key],
            "properties": {version_key: {"const": version}},
        }
        if version == default_version:
            chosen = {"anyOf": [{"not": {"required": [version_key]}}, chosen]}
        branches.append(
            {
                "if": chosen,
                "then": {
                    "description": config.get("description", ""),
                    "properties": keys,
                    "required": [f"{PROJECT}:{key}" for key in config.get("required", [])],
                    # Keys of other namespaces (kubernetes:*, pulumi:*) are free; aio-mq:* known.
                    "propertyNames": {
                        "anyOf": [{"not": {"pattern": f"^{PROJECT}:"}}, {"enum": list(keys)}]
                    },
                },
            }
        )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "aio-mq stack file (stacks/Pulumi.<stack>.yaml)",
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "description": "aio-mq:apiVersion selects the shape of every other aio-mq key.",
                "properties": {
                    version_key: {
                        "enum": list(CONFIG_MODELS),
                        "default": default_version,
                        "description": "The API the custom resources are written for: "
                        "the preview API (default) or GA.",
                    }
                },
                "allOf": branches,
            },
            "encryptionsalt": {"type": "string"},
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
        },
        "$defs": definitions,
    }


def _secret_fields_take_secure_values(node: Any) -> Any:
    """SecretStr fields (the manual TLS private key) hold `secure:` values in a stack file."""
    if isinstance(node, dict):
        if node.get("format") == "password":
            return {"anyOf": [{"$ref": "#/$defs/PulumiSecret"}, {"type": "string"}]}
        return {key: _secret_fields_take_secure_values(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_secret_fields_take_secure_values(item) for item in node]
    return node


def render() -> str:
    return json.dumps(stack_file_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render())
    print(f"wrote {target}")
