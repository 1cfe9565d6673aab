"""The README's composition example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pulumi
import pytest

from tests.conftest import Engine

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def example() -> str:
    section = README.split("## Using `MqListener` in your own program", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README lost its composition example"
    return match.group(1)


def test_composition_example_registers_what_it_says(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    exported: dict[str, object] = {}
    monkeypatch.setattr(pulumi, "export", exported.__setitem__)
    engine.run(lambda: exec(compile(example(), "README.md", "exec"), {}))
    cr = engine.mocks.broker_listeners["edge"]
    assert cr["spec"]["serviceType"] == "loadBalancer"
    types = [r.typ for r in engine.mocks.registered]
    assert types.index("kubernetes:cert-manager.io/v1:Issuer") < types.index(
        "kubernetes:mq.iotoperations.azure.com/v1beta1:BrokerListener"
    )
    assert "edge_host" in exported


def test_readme_starts_with_the_two_commands() -> None:
    head = README.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert [line.split()[:2] for line in head] == [["make", "up"], ["make", "test"]]


def test_ga_composition_example_registers_what_it_says(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    section = README.split("**In your own program**", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README lost its GA composition example"
    exported: dict[str, object] = {}
    monkeypatch.setattr(pulumi, "export", exported.__setitem__)
    engine.run(lambda: exec(compile(match.group(1), "README.md", "exec"), {}))
    spec = engine.mocks.ga_listeners["edge"]["spec"]
    assert spec["serviceType"] == "LoadBalancer"
    assert spec["ports"] == [{"port": 8884, "protocol": "Mqtt", "authenticationRef": "default"}]
    assert "edge_ports" in exported
