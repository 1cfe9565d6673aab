"""The committed JSON Schema is current, and it agrees with the program on stack files."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from components import ConfigError
from components.schema import SCHEMA_PATH, render
from components.stack import load_config

ROOT = Path(__file__).resolve().parent.parent
STACK_FILES = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))
VALIDATOR = Draft202012Validator(yaml.safe_load(SCHEMA_PATH.read_text()))
GOOD: dict[str, Any] = {
    "config": {
        "aio-mq:issuers": [{"name": "ss", "selfSigned": {}}],
        "aio-mq:listeners": [
            {"name": "plain", "port": 1883},
            {"name": "tls", "port": 8884, "tls": {"automatic": {"issuerRef": {"name": "ss"}}}},
        ],
        "kubernetes:context": "somewhere",
    }
}


def test_committed_schema_is_up_to_date() -> None:
    assert SCHEMA_PATH.read_text() == render(), "run `make schema` and commit schema/"


def test_schema_is_a_valid_json_schema() -> None:
    Draft202012Validator.check_schema(VALIDATOR.schema)


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=lambda p: p.name)
def test_every_stack_file_validates(stack_file: Path) -> None:
    assert list(VALIDATOR.iter_errors(yaml.safe_load(stack_file.read_text()))) == []


def test_stack_files_point_editors_at_the_schema() -> None:
    for stack_file in STACK_FILES:
        assert stack_file.read_text().startswith(
            "# yaml-language-server: $schema=../schema/stack-config.schema.json"
        )


def test_secure_private_key_validates() -> None:
    doc = copy.deepcopy(GOOD)
    manual = {"secretName": "c", "certificate": "PEM", "privateKey": {"secure": "v1:abc"}}
    doc["config"]["aio-mq:listeners"].append({"name": "m", "port": 1885, "tls": {"manual": manual}})
    assert list(VALIDATOR.iter_errors(doc)) == []


def with_listener(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(GOOD)
    doc["config"]["aio-mq:listeners"][1].update(changes)
    return doc


BAD = {
    "service type spelled wrong": with_listener(serviceType="ClusterIP"),
    "port out of range": with_listener(port=70000),
    "port as text": with_listener(port="8884"),
    "unknown listener key": with_listener(prot=1),
    "two tls modes": with_listener(
        tls={"automatic": {"issuerRef": {"name": "ss"}}, "manual": {"secretName": "s"}}
    ),
    "issuerRef without name": with_listener(tls={"automatic": {"issuerRef": {"kind": "Issuer"}}}),
    "name not a DNS label": with_listener(name="My_Listener"),
    "nodePort on a clusterIp listener": with_listener(nodePort=30001),
    "unknown aio-mq key": {"config": {**GOOD["config"], "aio-mq:listener": []}},
    "issuer without a type": {"config": {**GOOD["config"], "aio-mq:issuers": [{"name": "ss"}]}},
}


@pytest.mark.parametrize("doc", BAD.values(), ids=BAD.keys())
def test_wrong_files_fail_the_schema_and_the_program_alike(doc: dict[str, Any]) -> None:
    assert list(VALIDATOR.iter_errors(doc)), "the schema accepted it"
    raw = {
        key.removeprefix("aio-mq:"): value
        for key, value in doc["config"].items()
        if key.startswith("aio-mq:")
    }
    with pytest.raises(ConfigError):
        load_config(raw)


def test_good_file_passes_the_program_too() -> None:
    raw = {
        key.removeprefix("aio-mq:"): value
        for key, value in GOOD["config"].items()
        if key.startswith("aio-mq:")
    }
    assert len(load_config(raw).listeners) == 2
