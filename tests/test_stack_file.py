"""components/stack_file.py: the one reader of stack files. A stack file as the Pulumi CLI
writes it back (`pulumi config set` quotes every top-level scalar; nested values keep their
type) reads the same as the file a human wrote, for the program, tools/stacks and the
migration alike (tests/e2e/test_stack_file_e2e.py does it with the real CLI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components import stack_file
from components.stack import load_config, read_config_keys
from tests.conftest import Engine
from tools.runner import stacks

HUMAN = """\
config:
  # Not production.
  aio-mq:production: false
  aio-mq:discovery: true
  aio-mq:namespace: mq
  aio-mq:kubernetes:
    renderYamlToDirectory: rendered/edge
  aio-mq:listeners:
    - name: plain
      port: 1883
      authenticationEnabled: false
other:key: 1
"""

WRITTEN_BACK = """\
config:
  aio-mq:discovery: "true"
  aio-mq:kubernetes:
    renderYamlToDirectory: rendered/edge
  aio-mq:listeners:
    - authenticationEnabled: false
      name: plain
      port: 1883
  aio-mq:namespace: mq
  aio-mq:production: "false"
  other:key: "1"
"""
"""HUMAN with what `pulumi config set` changes when it writes a file back: top-level scalars
quoted (here also reordered and without comments, which do not change what a file means);
tests/e2e/test_stack_file_e2e.py checks the quoting against the real CLI."""

AS_THE_PROGRAM_GETS_IT = {
    "production": False,
    "discovery": True,
    "namespace": "mq",
    "kubernetes": {"renderYamlToDirectory": "rendered/edge"},
    "listeners": [{"name": "plain", "port": 1883, "authenticationEnabled": False}],
}


def config_of(text: str) -> dict[str, Any]:
    return stack_file.project_config(stack_file.load(text))


def test_a_file_the_cli_wrote_back_reads_as_the_one_a_human_wrote() -> None:
    assert config_of(HUMAN) == AS_THE_PROGRAM_GETS_IT
    assert config_of(WRITTEN_BACK) == AS_THE_PROGRAM_GETS_IT


def test_the_program_parses_what_the_engine_passes_with_the_same_reader(engine: Engine) -> None:
    # The engine passes every top-level value as a string: scalars as written back, the
    # structured ones as JSON.
    engine.configure(
        {
            "production": "false",
            "discovery": "true",
            "namespace": "mq",
            "kubernetes": json.dumps({"renderYamlToDirectory": "rendered/edge"}),
            "listeners": json.dumps(AS_THE_PROGRAM_GETS_IT["listeners"]),
        }
    )
    assert engine.run(read_config_keys) == AS_THE_PROGRAM_GETS_IT


def test_yaml_is_read_as_pulumi_reads_it() -> None:
    # YAML 1.2, as Go's yaml.v3 in the CLI: False is a boolean, `no` and `off` are strings.
    read = config_of("config:\n  aio-mq:production: False\n  aio-mq:a: no\n  aio-mq:b: off\n")
    assert read == {"production": False, "a": "no", "b": "off"}
    # A string key stays the string the engine passes; a secure value stays encrypted.
    read = config_of('config:\n  aio-mq:namespace: "123"\n  aio-mq:listeners: {secure: v1:x}\n')
    assert read == {"namespace": "123", "listeners": {"secure": "v1:x"}}


def test_a_quoted_value_nested_in_a_key_stays_a_string() -> None:
    # The CLI keeps nested types (a port set with `config set --path` is written 1883), so a
    # quoted nested value is the human's; the models refuse it ("Ports and booleans are
    # strict", docs/decisions.md).
    read = config_of('config:\n  aio-mq:listeners:\n    - {name: a, port: "1883"}\n')
    assert read == {"listeners": [{"name": "a", "port": "1883"}]}


@pytest.mark.parametrize("text", [HUMAN, WRITTEN_BACK], ids=["human", "written-back"])
def test_tools_stacks_reads_both(text: str, tmp_path: Path) -> None:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.edge.yaml").write_text(text)
    facts = stacks.facts(tmp_path, "edge")
    assert (facts.production, facts.render_dir) == (False, "rendered/edge")


def test_tools_stacks_takes_a_yaml_false_as_pulumi_does(tmp_path: Path) -> None:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.edge.yaml").write_text("config:\n  aio-mq:production: False\n")
    assert stacks.facts(tmp_path, "edge").production is False


def test_a_file_that_is_not_a_stack_file_is_refused(tmp_path: Path) -> None:
    for text in ("- a\n", "config: [a]\n", "config: {a: [\n"):
        with pytest.raises(stack_file.StackFileError):
            stack_file.load(text)
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.edge.yaml").write_text("- a\n")
    with pytest.raises(
        stacks.StackFileError, match=r"stacks/Pulumi\.edge\.yaml: not a YAML mapping"
    ):
        stacks.facts(tmp_path, "edge")


def test_the_file_is_written_back_as_it_was_with_its_comments() -> None:
    for path in sorted((Path(__file__).resolve().parent.parent / "stacks").glob("*.yaml")):
        text = path.read_text()
        assert stack_file.dump(stack_file.load(text)) == text
    assert list(stack_file.comments(stack_file.load(HUMAN))) == ["# Not production."]


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        ("1884", 1884),
        ("true", True),
        ("false", False),
        ("0123", "0123"),
        ("0", 0),
        ("-5", -5),
        ("1_000", "1_000"),
        ("\u0661\u0662", "\u0661\u0662"),  # Arabic-Indic digits: Go's ParseInt refuses them
        (" 1", " 1"),
        ("True", "True"),
        ("mq", "mq"),
    ],
)
def test_a_value_is_typed_as_config_set_path_types_it_in_clear(text: str, typed: Any) -> None:
    assert stack_file.typed_as_in_clear(text) == typed


def test_an_encrypted_nested_value_reaches_the_program_typed_as_in_clear(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # `config set --secret --path 'listeners[0].port' 1884`: the engine decrypts it to "1884".
    (tmp_path / "Pulumi.yaml").write_text("name: aio-mq\nstackConfigDir: stacks\n")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.test.yaml").write_text(
        "config:\n  aio-mq:kubernetes: {renderYamlToDirectory: out}\n  aio-mq:listeners:\n"
        "    - name: a\n      port: {secure: v1:x}\n      authenticationEnabled: {secure: v1:y}\n"
    )
    monkeypatch.chdir(tmp_path)
    engine.configure(
        {
            "kubernetes": {"renderYamlToDirectory": "out"},
            "listeners": [{"name": "a", "port": "1884", "authenticationEnabled": "true"}],
        }
    )
    stack = engine.run(load_config)
    assert (stack.listeners[0].port, stack.listeners[0].authentication_enabled) == (1884, True)
