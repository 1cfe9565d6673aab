"""The README's composition example runs as written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from tests.conftest import Engine
from tests.test_stack import run_main

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


def worked_auth_example() -> dict[str, Any]:
    section = README.split("### Authentication and authorization", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match, "the README lost its authentication example"
    config: dict[str, Any] = yaml.safe_load(match.group(1))["config"]
    return {key.removeprefix("aio-mq:"): value for key, value in config.items()}


@pytest.mark.usefixtures("cluster")  # a fresh install, in memory
def test_authentication_example_creates_what_it_says(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = worked_auth_example()
    engine.configure(config)
    edge = run_main(engine, monkeypatch)["listeners"]["edge"]
    assert (edge["authentication"], edge["authorization"]) == ("edge-authn", "edge-authz")
    api = "kubernetes:mq.iotoperations.azure.com/v1beta1"
    (authn,) = engine.mocks.of_type(f"{api}:BrokerAuthentication")
    methods = authn.inputs["spec"]["authenticationMethods"]
    assert [next(iter(m)) for m in methods] == ["sat", "x509"]
    (authz,) = engine.mocks.of_type(f"{api}:BrokerAuthorization")
    rules = config["authorizations"][0]["authorizationPolicies"]["rules"]
    assert authz.inputs["spec"]["authorizationPolicies"] == {
        "enableCache": False,
        "rules": [
            {
                "principals": rule["principals"],
                "brokerResources": rule["brokerResources"],
            }
            for rule in rules
        ],
    }
    assert engine.mocks.broker_listeners["edge"]["spec"]["serviceType"] == "loadBalancer"


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
