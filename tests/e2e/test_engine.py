"""The project under the real Pulumi engine: up, preview, diffs, refusals and secrets."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import ROOT, Project
from tests.pki import tls_pair

pytestmark = pytest.mark.e2e

LISTENER = "kubernetes:mq.iotoperations.azure.com/v1beta1:BrokerListener"


def dev_config() -> dict[str, Any]:
    stack_file = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    config: dict[str, Any] = stack_file["config"]
    return config


def test_up_on_dev_renders_each_listener_and_issuer_then_previews_clean(project: Project) -> None:
    project.init("dev")
    up = project.pulumi("up", "--yes", "--stack", "dev")
    assert "listeners" in up.stdout

    config = dev_config()
    manifests = project.manifests("rendered/dev")
    listeners = {name: doc for (kind, name), doc in manifests.items() if kind == "BrokerListener"}
    issuers = {name for (kind, name) in manifests if kind in ("Issuer", "ClusterIssuer")}
    assert sorted(listeners) == sorted(item["name"] for item in config["aio-mq:listeners"])
    assert issuers == {item["name"] for item in config["aio-mq:issuers"]}
    for item in config["aio-mq:listeners"]:
        doc = listeners[item["name"]]
        assert doc["apiVersion"] == "mq.iotoperations.azure.com/v1beta1"
        assert doc["metadata"]["namespace"] == "azure-iot-operations"
        # The mark live discovery recognises this stack's own objects by.
        assert doc["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "aio-mq"}
        assert doc["metadata"]["annotations"]["aio-mq/stack"] == "organization/aio-mq/dev"
        assert doc["spec"]["port"] == item["port"]
        assert doc["spec"]["serviceType"] == "clusterIp"
        assert doc["spec"].get("tls") == _with_defaults(item.get("tls"))

    outputs = json.loads(project.pulumi("stack", "output", "--json", "--stack", "dev").stdout)
    assert sorted(outputs["listeners"]) == sorted(listeners)
    project.pulumi("preview", "--expect-no-changes", "--stack", "dev")


def _with_defaults(tls: dict[str, Any] | None) -> dict[str, Any] | None:
    if tls is None or "automatic" not in tls:
        return tls
    automatic = dict(tls["automatic"])
    automatic["issuerRef"] = {
        "kind": "Issuer",
        "group": "cert-manager.io",
        **automatic["issuerRef"],
    }
    if "san" in automatic:
        automatic["san"] = {"dns": [], "ip": [], **automatic["san"]}
    return {"automatic": automatic}


def test_changing_one_listener_updates_exactly_that_resource(project: Project) -> None:
    project.init("dev")
    project.pulumi("up", "--yes", "--stack", "dev")
    project.pulumi("config", "set", "--path", "listeners[0].port", "1885", "--stack", "dev")

    diff = project.pulumi("preview", "--diff", "--stack", "dev").stdout
    assert "~ 1 to update" in diff
    assert diff.count("(update)") == 1
    updated = diff.split("(update)", 1)[1].split("--outputs:--", 1)[0]
    assert f"{LISTENER}::dev-plain]" in updated
    assert "~ port: 1883 => 1885" in updated

    steps = json.loads(project.pulumi("preview", "--json", "--stack", "dev").stdout)["steps"]
    changed = [step for step in steps if step["op"] != "same"]
    assert [(step["op"], step["urn"].rsplit("::", 1)[1]) for step in changed] == [
        ("update", "dev-plain")
    ]
    assert changed[0]["urn"].split("::")[2].endswith(LISTENER)
    assert changed[0]["detailedDiff"] == {"spec.port": {"kind": "update", "inputDiff": False}}

    project.pulumi("up", "--yes", "--stack", "dev")
    assert (
        project.manifests("rendered/dev")[("BrokerListener", "dev-plain")]["spec"]["port"] == 1885
    )


def test_a_sharing_conflict_fails_preview_and_up_with_nothing_written(project: Project) -> None:
    project.init("dev")
    project.pulumi(
        "config", "set", "--path", "listeners[0].serviceName", "my-service", "--stack", "dev"
    )
    before = project.export("dev")

    preview = project.pulumi("preview", "--stack", "dev", check=False)
    output = preview.stdout + preview.stderr
    assert preview.returncode != 0
    assert "aio-mq: the configuration has 1 problem; no resource was registered." in output
    assert "Rule 1: listeners[0] 'dev-plain' (clusterIp my-service:1883)" in output
    assert "fix: set serviceName: aio-mq-dmqtt-frontend on 'dev-plain'" in output
    assert "Traceback" not in output

    up = project.pulumi("up", "--yes", "--stack", "dev", check=False)
    assert up.returncode != 0
    assert not (project.root / "rendered").exists()
    after = project.export("dev")
    assert after["deployment"].get("resources", []) == before["deployment"].get("resources", [])


def test_bad_values_fail_preview_with_every_key_path(project: Project) -> None:
    project.init("dev")
    project.pulumi("config", "set", "--path", "listeners[0].port", "70000", "--stack", "dev")
    project.pulumi(
        "config", "set", "--path", "listeners[1].serviceType", "ClusterIP", "--stack", "dev"
    )
    preview = project.pulumi("preview", "--stack", "dev", check=False)
    output = preview.stdout + preview.stderr
    assert preview.returncode != 0
    assert "has 2 problems" in output
    assert "listeners[0].port: 70000 is not a TCP port" in output
    assert "listeners[1].serviceType: 'ClusterIP' is not accepted" in output


def test_manual_tls_key_is_ciphertext_in_config_and_state(project: Project) -> None:
    cert, key = tls_pair()
    key_body = key.splitlines()[1]  # a line of the base64 body: unique to this key
    project.init("dev")
    base = "listeners[2]"
    for path, value in (
        ("name", "dev-manual"),
        ("port", "8885"),
        ("tls.manual.secretName", "dev-manual-cert"),
        ("tls.manual.certificate", cert),
    ):
        # --plaintext: the CLI guesses that keys named like "secret" hold secrets; these do not.
        project.pulumi(
            "config",
            "set",
            "--plaintext",
            "--path",
            f"{base}.{path}",
            "--stack",
            "dev",
            "--",
            value,
        )
    project.pulumi(
        "config",
        "set",
        "--secret",
        "--path",
        f"{base}.tls.manual.privateKey",
        "--stack",
        "dev",
        stdin=key,
    )

    stack_file = project.stack_file("dev").read_text()
    assert key_body not in stack_file
    assert "secure: v1:" in stack_file

    project.pulumi("up", "--yes", "--stack", "dev")
    manifests = project.manifests("rendered/dev")
    assert manifests[("BrokerListener", "dev-manual")]["spec"]["tls"] == {
        "manual": {"secretName": "dev-manual-cert"}
    }
    assert manifests[("Secret", "dev-manual-cert")]["type"] == "kubernetes.io/tls"

    exported = json.dumps(project.export("dev"))
    assert key_body not in exported
    assert "ciphertext" in exported
    outputs = project.pulumi("stack", "output", "--json", "--stack", "dev").stdout
    assert key_body not in outputs
    assert key_body not in project.pulumi("preview", "--diff", "--stack", "dev").stdout


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_cluster_stacks_preview_offline(project: Project, stack: str) -> None:
    project.init(stack)
    project.env["AIO_MQ_RENDER_YAML_TO_DIRECTORY"] = str(project.root / "rendered" / stack)
    preview = project.pulumi("preview", "--diff", "--stack", stack)
    config = yaml.safe_load(project.stack_file(stack).read_text())["config"]
    for item in config["aio-mq:listeners"]:
        assert item["name"] in preview.stdout
    assert "to create" in preview.stdout
