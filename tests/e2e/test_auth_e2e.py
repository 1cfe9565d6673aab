"""BrokerAuthentication / BrokerAuthorization on the real engine: rendered manifests, outputs,
ordering in state, and a broken link refused at preview with nothing rendered."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import Project
from tests.test_readme import worked_auth_example

pytestmark = pytest.mark.e2e

API = "kubernetes:mq.iotoperations.azure.com/v1beta1"


def write_stack(project: Project, stack: str, config: dict[str, Any]) -> None:
    keys = {f"aio-mq:{key}": value for key, value in config.items()}
    keys["aio-mq:kubernetes"] = {"renderYamlToDirectory": f"rendered/{stack}"}
    project.stack_file(stack).write_text(yaml.safe_dump({"config": keys}, sort_keys=False))
    project.init(stack)


def set_dev(project: Project, path: str, value: str) -> None:
    project.pulumi("config", "set", "--path", path, value, "--stack", "dev")


def test_readme_example_renders_both_kinds_with_defaults_and_orders_the_listener(
    project: Project,
) -> None:
    config = worked_auth_example()
    write_stack(project, "auth", config)
    project.pulumi("up", "--yes", "--stack", "auth")

    manifests = project.manifests("rendered/auth")
    authn = manifests[("BrokerAuthentication", "edge-authn")]
    assert authn["apiVersion"] == "mq.iotoperations.azure.com/v1beta1"
    assert authn["metadata"]["namespace"] == "azure-iot-operations"
    assert authn["spec"] == {
        "listenerRef": ["edge"],
        "authenticationMethods": config["authentications"][0]["authenticationMethods"],
    }
    authz = manifests[("BrokerAuthorization", "edge-authz")]
    policies = authz["spec"]["authorizationPolicies"]
    assert policies["enableCache"] is False
    assert [r["brokerResources"] for r in policies["rules"]] == [
        r["brokerResources"] for r in config["authorizations"][0]["authorizationPolicies"]["rules"]
    ]
    assert policies["rules"][0]["principals"] == {"attributes": [{"group": "sensors"}]}

    outputs = json.loads(project.pulumi("stack", "output", "--json", "--stack", "auth").stdout)
    edge = outputs["listeners"]["edge"]
    assert (edge["authentication"], edge["authorization"]) == ("edge-authn", "edge-authz")

    resources = project.export("auth")["deployment"]["resources"]
    urns = {r["urn"].rsplit("::", 1)[1] + ":" + r["type"]: r["urn"] for r in resources}
    (listener,) = [r for r in resources if r["type"] == f"{API}:BrokerListener"]
    assert urns[f"edge-authn:{API}:BrokerAuthentication"] in listener["dependencies"]
    assert urns[f"edge-authz:{API}:BrokerAuthorization"] in listener["dependencies"]

    project.pulumi("preview", "--expect-no-changes", "--stack", "auth")


def test_a_broken_link_fails_preview_and_up_with_nothing_rendered(project: Project) -> None:
    project.init("dev")
    set_dev(project, "authentications[0].listenerRef[0]", "dev-tsl")
    preview = project.pulumi("preview", "--stack", "dev", check=False)
    output = preview.stdout + preview.stderr
    assert preview.returncode != 0
    assert "aio-mq: the configuration has 2 problems; no resource was registered." in output
    assert (
        "authentications[0].listenerRef[0]: 'dev-tsl' names no listener in namespace "
        "'azure-iot-operations'" in output
    )
    assert "fix: did you mean 'dev-tls'?" in output
    assert (
        "listeners[1].authenticationEnabled: authentication is enabled, but no "
        "BrokerAuthentication lists 'dev-tls'" in output
    )
    assert "Traceback" not in output

    up = project.pulumi("up", "--yes", "--stack", "dev", check=False)
    assert up.returncode != 0
    assert not (project.root / "rendered").exists()
    assert project.export("dev")["deployment"].get("resources", []) == []


def test_x509_on_a_listener_without_tls_fails_preview(project: Project) -> None:
    project.init("dev")
    set_dev(project, "authentications[0].listenerRef[1]", "dev-plain")
    set_dev(
        project,
        "authentications[0].authenticationMethods[1].x509.trustedClientCaCert",
        "dev-client-ca",
    )
    preview = project.pulumi("preview", "--stack", "dev", check=False)
    output = preview.stdout + preview.stderr
    assert preview.returncode != 0
    assert (
        "authentications[0].authenticationMethods[1].x509: BrokerAuthentication 'dev-authn' "
        "(authentications[0]) has an x509 method and lists listener 'dev-plain' "
        "(listeners[0]), which has no TLS" in output
    )
    # dev-plain has authentication off: the inert link is also a warning in the log.
    assert "whose authenticationEnabled is false: the link has no effect" in output
    assert "Traceback" not in output
    assert not (project.root / "rendered").exists()


def test_a_link_without_effect_is_a_warning_and_preview_passes(project: Project) -> None:
    project.init("dev")
    set_dev(project, "authentications[0].listenerRef[1]", "dev-plain")
    preview = project.pulumi("preview", "--stack", "dev")
    assert "warning: aio-mq: authentications[0].listenerRef[1]: BrokerAuthentication " in (
        preview.stdout
    )
    assert "the link has no effect and any client connects" in preview.stdout


COMPOSITION = """
import pulumi
import pulumi_kubernetes as k8s
from components import MqAuthentication, MqListener

provider = k8s.Provider("render", render_yaml_to_directory="rendered/comp")
opts = pulumi.ResourceOptions(providers=[provider])
MqListener("edge", {"name": "edge", "port": 8884, "authenticationEnabled": True}, opts)
MqAuthentication(
    "certs",
    {"name": "certs", "listenerRef": ["edge"], "authenticationMethods": [{"x509": {}}]},
    opts,
)
"""


def test_a_composition_with_a_broken_link_registers_nothing(project: Project) -> None:
    # The listener comes before the object that breaks it: the gate still holds it back.
    (project.root / "__main__.py").write_text(COMPOSITION)
    project.stack_file("comp").write_text("config: {}\n")
    project.init("comp")
    up = project.pulumi("up", "--yes", "--stack", "comp", check=False)
    output = up.stdout + up.stderr
    assert up.returncode != 0
    assert (
        "aio-mq: the authentication and authorization of the listeners has 1 problem; "
        "no resource was registered." in output
    )
    assert (
        "MqAuthentication('certs').authenticationMethods[0].x509: BrokerAuthentication 'certs' "
        "(MqAuthentication('certs')) has an x509 method and lists listener 'edge' "
        "(MqListener('edge')), which has no TLS" in output
    )
    assert "Traceback" not in output
    assert not (project.root / "rendered").exists()
    resources = project.export("comp")["deployment"].get("resources", [])
    assert [r["type"] for r in resources if r["type"].startswith("kubernetes:mq")] == []
