"""Stack files as the real Pulumi CLI writes them back, and the migrated stacks, through the
commands a user types (tools/pulumi config set, tools/migrate-to-v1, make).

- A stack file rewritten by `pulumi config set` (every top-level scalar quoted: production
  "false") is read by tools/stacks as before, previews, and migrates; the migrated render stack
  renders into a directory of its own, next to the preview stack's.
- A port encrypted with `config set --secret --path` previews as the same port in clear; the
  migration, which cannot decrypt it, says so.
- The prod migration the README documents previews with the guardrails policy pack, as
  `make preview` runs it: the Secret that `--tls-secret` names is declared in the stack file.
"""

from __future__ import annotations

import json

import pytest
import yaml

from tests.e2e.conftest import Project
from tests.e2e.test_offline_e2e import run
from tests.e2e.test_policy_e2e import policy_venv
from tests.test_migrate import REPO_DECISIONS

pytestmark = pytest.mark.e2e


def facts(project: Project, stack: str) -> dict[str, object]:
    done = run(project, "tools/stacks", "facts", stack)
    assert done.returncode == 0, done.stderr
    loaded: dict[str, object] = json.loads(done.stdout)
    return loaded


def test_a_stack_file_the_cli_wrote_back_is_read_previewed_and_migrated(project: Project) -> None:
    before = facts(project, "dev")
    project.init("dev")
    # The README's way to add a value (here one that needs no key file), and a port.
    project.pulumi(
        "config",
        "set",
        "--secret",
        "--path",
        "listeners[1].tls.automatic.secretName",
        "dev-tls-cert",
        "--stack",
        "dev",
    )
    project.pulumi("config", "set", "--path", "listeners[0].port", "1884", "--stack", "dev")
    text = project.stack_file("dev").read_text()
    # What the CLI writes back: the top-level boolean quoted, the nested port a number.
    assert '  aio-mq:production: "false"\n' in text
    assert "      port: 1884\n" in text
    assert "secure: v1:" in text

    assert facts(project, "dev") == before
    preview = project.pulumi("preview", "--stack", "dev")
    assert "BrokerListener" in preview.stdout

    migrated = run(project, "tools/migrate-to-v1", "stacks/Pulumi.dev.yaml", "--stack", "dev-v1")
    assert migrated.returncode == 0, migrated.stderr
    assert "note: this is stack 'dev-v1': write it to stacks/Pulumi.dev-v1.yaml" in migrated.stderr
    assert (
        "note: aio-mq:kubernetes.renderYamlToDirectory 'rendered/dev' becomes "
        "'rendered/dev-v1'" in migrated.stderr
    )
    project.stack_file("dev-v1").write_text(migrated.stdout)
    assert facts(project, "dev-v1") == {
        **before,
        "stack": "dev-v1",
        "renderYamlToDirectory": "rendered/dev-v1",
    }

    # Each render stack renders into its own directory, as `make up` runs it.
    for stack in ("dev", "dev-v1"):
        up = run(project, "make", "up", f"STACK={stack}")
        assert up.returncode == 0, up.stdout + up.stderr
    dev = project.manifests("rendered/dev")
    ga = project.manifests("rendered/dev-v1")
    assert {doc["apiVersion"] for (kind, _), doc in dev.items() if kind == "BrokerListener"} == {
        "mq.iotoperations.azure.com/v1beta1"
    }
    assert ga[("BrokerListener", "default")]["apiVersion"] == (
        "mqttbroker.iotoperations.azure.com/v1"
    )
    ports = [p["port"] for p in ga[("BrokerListener", "default")]["spec"]["ports"]]
    assert ports == [18883, 1884, 8884]


def test_an_encrypted_port_previews_as_in_clear_and_the_migration_says_it_cannot_read_it(
    project: Project,
) -> None:
    project.init("dev")
    project.pulumi(
        "config", "set", "--secret", "--path", "listeners[0].port", "1884", "--stack", "dev"
    )
    assert "      port:\n        secure: v1:" in project.stack_file("dev").read_text()
    project.pulumi("preview", "--stack", "dev")  # the engine decrypts it to "1884"
    project.pulumi("up", "--yes", "--stack", "dev")
    (listener,) = [
        doc
        for (kind, name), doc in project.manifests("rendered/dev").items()
        if (kind, name) == ("BrokerListener", "dev-plain")
    ]
    assert listener["spec"]["port"] == 1884

    migrated = run(project, "tools/migrate-to-v1", "stacks/Pulumi.dev.yaml")
    assert migrated.returncode == 1
    assert (
        "listeners[0].port: is encrypted in the stack file, and migrate-to-v1 cannot decrypt it"
        in migrated.stderr
    )


@pytest.mark.parametrize("internal_port", [18883, 8883], ids=["as-documented", "installed-port"])
def test_the_documented_prod_migration_previews_with_the_policy_pack(
    project: Project, internal_port: int
) -> None:
    """As the README documents it; and with prod-internal on 8883, so that GA's default
    listener keeps its installed port 18883, whose issuer Azure IoT Operations installs."""
    pack_venv = project.root / "policy" / "venv"
    if pack_venv.is_symlink():
        pack_venv.unlink()
    pack_venv.symlink_to(policy_venv(), target_is_directory=True)
    prod = project.stack_file("prod")
    prod.write_text(prod.read_text().replace("port: 18883", f"port: {internal_port}"))
    migrated = run(
        project,
        "tools/migrate-to-v1",
        "stacks/Pulumi.prod.yaml",
        *REPO_DECISIONS["Pulumi.prod.yaml"],
    )
    assert migrated.returncode == 0, migrated.stderr
    config = yaml.safe_load(migrated.stdout)["config"]
    assert config["aio-mq:existingSecrets"] == ["azure-iot-operations/mq-edge-server-cert"]
    declared = ["ClusterIssuer/azure-iot-operations-aio-certificate-issuer"]
    assert config.get("aio-mq:existingIssuers") == (declared if internal_port == 8883 else None)
    project.stack_file("prod-ga").write_text(migrated.stdout)

    preview = run(project, "make", "preview", "STACK=prod-ga")
    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert "aio-mq-guardrails" in preview.stdout
    assert "mandatory" not in preview.stdout

    # The declarations are what let it pass: without them, the pack stops the preview.
    config.pop("aio-mq:existingSecrets")
    config.pop("aio-mq:existingIssuers", None)
    project.stack_file("prod-ga").write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    refused = run(project, "make", "preview", "STACK=prod-ga")
    assert refused.returncode != 0
    assert "tls-references-exist" in refused.stdout
    assert "uses Secret azure-iot-operations/mq-edge-server-cert" in refused.stdout
    installed = "uses ClusterIssuer 'azure-iot-operations-aio-certificate-issuer'"
    assert (installed in refused.stdout) == (internal_port == 8883)
