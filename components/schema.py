"""JSON Schema of a stack file's `aio-mq:*` keys, generated from the pydantic models.

Editors use it for completion and validation of `stacks/Pulumi.*.yaml`; the committed copy is
`schema/stack-config.schema.json`, rewritten by `make schema` and checked by the tests.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .stack import PROJECT, StackConfig

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
    config = StackConfig.model_json_schema(by_alias=True)
    definitions = _secret_fields_take_secure_values(config.pop("$defs"))
    definitions["PulumiSecret"] = PULUMI_SECRET
    keys = {f"{PROJECT}:{key}": value for key, value in config["properties"].items()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "aio-mq stack file (stacks/Pulumi.<stack>.yaml)",
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "description": config.get("description", ""),
                "properties": keys,
                "required": [f"{PROJECT}:{key}" for key in config.get("required", [])],
                # Keys of other namespaces (kubernetes:*, pulumi:*) are free; aio-mq:* are known.
                "propertyNames": {
                    "anyOf": [{"not": {"pattern": f"^{PROJECT}:"}}, {"enum": list(keys)}]
                },
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
