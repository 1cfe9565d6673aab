"""Issue 8 on the real engine: each defect the adversarial run found, reproduced as it was found.

Each test writes a stack file the way an operator would and runs tools/pulumi on a copy of the
project; before the fix each of them passed preview (or crashed with a traceback).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import Project
from tests.e2e.test_policy_e2e import policy_venv
from tests.pki import FRONTEND_HOSTS, cert_pem, certificate, ec_key, key_pem, tls_pair

pytestmark = pytest.mark.e2e

RENDER = {"renderYamlToDirectory": "rendered/x"}


def write_stack(project: Project, config: dict[str, Any], stack: str = "x") -> None:
    """A stack file holding `config` (keys without the aio-mq: prefix); the stack is created."""
    body = {"config": {f"aio-mq:{key}": value for key, value in config.items()}}
    project.stack_file(stack).write_text(yaml.safe_dump(body))
    project.init(stack)


def refused(project: Project, *args: str, stack: str = "x") -> str:
    """Output of a `preview` that must fail without a traceback and without registering."""
    result = project.pulumi("preview", "--stack", stack, *args, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "no resource was registered" in output, output
    assert "Traceback" not in output, output
    # Only the stack itself shows up: no provider, issuer or listener was registered.
    assert "pulumi:providers:" not in output and " +  aio:mq:" not in output, output
    assert " +  kubernetes:" not in output, output
    return output


def test_values_the_cluster_refuses_fail_preview(project: Project) -> None:
    write_stack(
        project,
        {
            "kubernetes": RENDER,
            "issuers": [{"name": "ca", "selfSigned": {}}],
            "listeners": [
                {"name": "l1\n", "port": 1884},
                {
                    "name": "l2",
                    "port": 1885,
                    "tls": {"automatic": {"issuerRef": {"name": "ca"}, "duration": "3000000h"}},
                },
                {
                    "name": "l3",
                    "port": 1886,
                    "tls": {"automatic": {"issuerRef": {"name": "ca"}, "duration": "30m"}},
                },
                {
                    "name": "l4",
                    "port": 1887,
                    "tls": {"automatic": {"issuerRef": {"name": "ca"}, "renewBefore": "1m"}},
                },
            ],
        },
    )
    output = refused(project)
    assert "the configuration has 4 problems" in output
    assert "listeners[0].name: 'l1\\n' is not a DNS-1123 label" in output
    assert (
        "listeners[1].tls.automatic.duration: '3000000h' is longer than a Go duration can hold "
        "(2562047h)" in output
    )
    assert (
        "listeners[2].tls.automatic.duration: '30m' is shorter than cert-manager's minimum "
        "certificate duration of 1h" in output
    )
    assert "fix: use at least 1h, e.g. 720h" in output
    assert (
        "listeners[3].tls.automatic.renewBefore: '1m' is shorter than cert-manager's minimum "
        "renewBefore of 5m" in output
    )


def test_an_error_quotes_a_capped_prefix_of_a_huge_value(project: Project) -> None:
    write_stack(
        project,
        {
            "kubernetes": RENDER,
            "listeners": [{"name": "l1", "port": 1884, "serviceName": "s" * 100_000}],
        },
    )
    output = refused(project)
    assert f"listeners[0].serviceName: '{'s' * 59}... (100,000 characters) is not" in output
    assert "s" * 61 not in output


def manual_listener(name: str, port: int, cert: str) -> dict[str, Any]:
    return {
        "name": name,
        "port": port,
        "tls": {"manual": {"secretName": f"{name}-cert", "certificate": cert}},
    }


def set_key(project: Project, index: int, key: str, how: str, stack: str = "x") -> None:
    project.pulumi(
        "config",
        "set",
        how,
        "--path",
        f"listeners[{index}].tls.manual.privateKey",
        "--stack",
        stack,
        stdin=key,
    )


def test_a_clear_key_next_to_an_encrypted_one_fails_preview(project: Project) -> None:
    cert, key = tls_pair()
    write_stack(
        project,
        {
            "kubernetes": RENDER,
            "listeners": [manual_listener("a", 1884, cert), manual_listener("b", 1885, cert)],
        },
    )
    set_key(project, 0, key, "--plaintext")
    set_key(project, 1, key, "--secret")
    output = refused(project)
    assert "the configuration has 1 problem" in output
    assert (
        "listeners[0].tls.manual.privateKey: the private key is stored in clear in the stack file"
        in output
    )
    assert (
        "fix: store it encrypted: tools/pulumi config set --stack x --secret --path "
        "'listeners[0].tls.manual.privateKey' < key.pem" in output
    )
    assert key.splitlines()[1] not in output


def test_a_key_pasted_after_the_certificate_fails_preview(project: Project) -> None:
    cert, key = tls_pair()
    write_stack(
        project, {"kubernetes": RENDER, "listeners": [manual_listener("a", 1884, cert + key)]}
    )
    set_key(project, 0, key, "--secret")
    output = refused(project)
    assert (
        "listeners[0].tls.manual.certificate: the certificate text holds a private key too; "
        "tls.crt and the Pulumi state would carry it in clear" in output
    )
    assert key.splitlines()[1] not in output


def test_an_emptied_stack_file_deletes_nothing(project: Project) -> None:
    project.init("dev")
    project.pulumi("up", "--yes", "--stack", "dev")
    before = project.export("dev")["deployment"]["resources"]
    rendered = sorted(p.name for p in (project.root / "rendered" / "dev").rglob("*.yaml"))
    project.stack_file("dev").write_text("")

    up = project.pulumi("up", "--yes", "--stack", "dev", check=False)
    output = up.stdout + up.stderr
    assert up.returncode != 0
    assert (
        "the stack file sets no aio-mq: key (stacks/Pulumi.dev.yaml is empty, cut short or "
        "missing); running it would delete every listener of the stack" in output
    )
    assert "to remove every listener on purpose, write aio-mq:listeners: []" in output
    assert "Traceback" not in output and "deleted" not in output
    assert project.export("dev")["deployment"]["resources"] == before
    assert sorted(p.name for p in (project.root / "rendered" / "dev").rglob("*.yaml")) == rendered


def test_listeners_empty_on_purpose_removes_them(project: Project) -> None:
    write_stack(project, {"kubernetes": RENDER, "listeners": [{"name": "a", "port": 1884}]})
    project.pulumi("up", "--yes", "--stack", "x")
    write_stack_only = {"config": {"aio-mq:kubernetes": RENDER, "aio-mq:listeners": []}}
    stack_file = project.stack_file("x")
    salt = yaml.safe_load(stack_file.read_text()).get("encryptionsalt")
    stack_file.write_text(yaml.safe_dump({**write_stack_only, "encryptionsalt": salt}))
    up = project.pulumi("up", "--yes", "--stack", "x")
    assert "1 deleted" in up.stdout  # the listener's BrokerListener
    types = [r["type"] for r in project.export("x")["deployment"]["resources"]]
    assert not any(t.endswith(":BrokerListener") for t in types), types


def test_a_secret_under_the_dev_passphrase_on_a_cluster_stack_fails_preview(
    project: Project,
) -> None:
    cert, key = tls_pair()
    write_stack(
        project,
        {"kubernetes": {"context": "aks-aio-x"}, "listeners": [manual_listener("a", 1884, cert)]},
    )
    set_key(project, 0, key, "--secret")
    # Offline, as CI previews cluster stacks: the check holds there too.
    project.env["AIO_MQ_RENDER_YAML_TO_DIRECTORY"] = str(project.root / "rendered" / "x")
    output = refused(project)
    assert (
        "aio-mq:kubernetes: this stack deploys to a cluster, but its secrets are encrypted with "
        "the public dev passphrase 'aio-mq-dev' (anyone with the stack file can read them)"
        in output
    )
    assert "fix: re-encrypt them with a passphrase of your own: tools/pulumi stack " in output
    assert "change-secrets-provider --stack x passphrase" in output


def test_a_secret_under_an_own_passphrase_on_a_cluster_stack_previews(project: Project) -> None:
    cert, key = tls_pair()
    project.env["PULUMI_CONFIG_PASSPHRASE"] = "a passphrase of our own"
    write_stack(
        project,
        {"kubernetes": {"context": "aks-aio-x"}, "listeners": [manual_listener("a", 1884, cert)]},
    )
    set_key(project, 0, key, "--secret")
    project.env["AIO_MQ_RENDER_YAML_TO_DIRECTORY"] = str(project.root / "rendered" / "x")
    preview = project.pulumi("preview", "--stack", "x")
    assert "to create" in preview.stdout


TWO_NAMESPACES = {
    "kubernetes": RENDER,
    "issuers": [
        {"name": "ca", "selfSigned": {}},
        {"name": "ca", "namespace": "other", "selfSigned": {}},
    ],
    "listeners": [
        {"name": "x", "port": 1884, "tls": {"automatic": {"issuerRef": {"name": "ca"}}}},
        {
            "name": "x",
            "port": 1885,
            "namespace": "other",
            "tls": {"automatic": {"issuerRef": {"name": "ca"}}},
        },
    ],
}


def test_one_name_in_two_namespaces_deploys(project: Project) -> None:
    write_stack(project, TWO_NAMESPACES)
    up = project.pulumi("up", "--yes", "--stack", "x")
    assert "Traceback" not in up.stdout + up.stderr
    documents = [
        doc
        for path in sorted((project.root / "rendered" / "x").rglob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]
    assert sorted(
        (doc["kind"], doc["metadata"]["namespace"], doc["metadata"]["name"]) for doc in documents
    ) == [
        ("BrokerListener", "azure-iot-operations", "x"),
        ("BrokerListener", "other", "x"),
        ("Issuer", "azure-iot-operations", "ca"),
        ("Issuer", "other", "ca"),
    ]
    project.pulumi("preview", "--expect-no-changes", "--stack", "x")


OLD_NAMING = '''"""A listener in another namespace as aio-mq named it before: Pulumi name = its name."""
import pulumi
import pulumi_kubernetes as k8s

from components import MqListener

provider = k8s.Provider("kubernetes", render_yaml_to_directory="rendered/x")
MqListener(
    "x",
    {"name": "x", "port": 1885, "namespace": "other"},
    pulumi.ResourceOptions(providers=[provider]),
)
'''


def test_a_listener_in_another_namespace_keeps_its_resources(project: Project) -> None:
    main = project.root / "__main__.py"
    program = main.read_text()
    write_stack(
        project,
        {
            "kubernetes": RENDER,
            "listeners": [{"name": "x", "port": 1885, "namespace": "other"}],
        },
    )
    main.write_text(OLD_NAMING)
    project.pulumi("up", "--yes", "--stack", "x")
    main.write_text(program)
    preview = project.pulumi("preview", "--diff", "--stack", "x").stdout
    assert "to create" not in preview and "replace" not in preview
    # The one thing that goes: the listener's component, which the stack program no longer
    # registers (tests/e2e/test_upgrade_e2e.py); the listener is kept under its new name.
    assert "- 1 to delete" in preview and "- aio:mq:MqListener" in preview, preview
    up = project.pulumi("up", "--yes", "--stack", "x").stdout
    urns = [r["urn"] for r in project.export("x")["deployment"]["resources"]]
    assert any(urn.endswith(":BrokerListener::other/x") for urn in urns), urns
    assert "created" not in up and "replaced" not in up


# --- scale: the configuration reaches the program whatever its size --------------------------


def preview_creates(project: Project, stack: str = "x") -> int:
    """How many resources a `preview` of the stack would create (it must succeed)."""
    preview = project.pulumi("preview", "--stack", stack)
    output = preview.stdout + preview.stderr
    assert "argument list too long" not in output and "Traceback" not in output
    (count,) = re.findall(r"\+ (\d+) to create", output)
    return int(count)


def a_thousand_listeners_with_automatic_tls(project: Project) -> None:
    """A stack of 1,000 listeners with automatic TLS, authentication and a BrokerAuthentication
    listing them: about 230 bytes each in PULUMI_CONFIG, where one environment string may hold
    128 KB in all."""
    listeners = [
        {
            "name": f"tls-{i:04}",
            "port": 10000 + i,
            "authenticationEnabled": True,
            "tls": {
                "automatic": {
                    "issuerRef": {"name": "ca"},
                    "duration": "2160h",
                    "renewBefore": "360h",
                    "san": {"dns": [f"tls-{i:04}.mq.example.com"]},
                }
            },
        }
        for i in range(1000)
    ]
    authentication = {
        "name": "tls-authn",
        "listenerRef": [item["name"] for item in listeners],
        "authenticationMethods": [{"sat": {"audiences": ["aio-mq"]}}],
    }
    write_stack(
        project,
        {
            "kubernetes": RENDER,
            "issuers": [{"name": "ca", "selfSigned": {}}],
            "authentications": [authentication],
            "listeners": listeners,
        },
    )
    assert len(json.dumps(json.dumps(listeners))) > 200_000


def test_a_thousand_listeners_with_automatic_tls_preview(project: Project) -> None:
    a_thousand_listeners_with_automatic_tls(project)
    # The stack, the provider, the issuer, the BrokerAuthentication (a component and its CR),
    # and a CR per listener (no component per listener: docs/benchmarks.md).
    assert preview_creates(project) == 5 + 1000


def test_the_policy_pack_gets_a_large_configuration_too(project: Project) -> None:
    a_thousand_listeners_with_automatic_tls(project)
    pack_venv = project.root / "policy" / "venv"
    if pack_venv.is_symlink():
        pack_venv.unlink()
    pack_venv.symlink_to(policy_venv(), target_is_directory=True)
    preview = project.pulumi("preview", "--stack", "x", "--policy-pack", "policy")
    output = preview.stdout + preview.stderr
    assert "argument list too long" not in output
    assert "aio-mq-guardrails" in output and "+ 1005 to create" in output


def manual_pairs(count: int) -> list[tuple[str, str]]:
    """Certificates for the default frontend Service with their keys, made now."""
    keys = [ec_key() for _ in range(count)]
    return [(cert_pem(certificate(key, FRONTEND_HOSTS)), key_pem(key)) for key in keys]


def test_two_hundred_listeners_with_manual_tls_from_files_preview(project: Project) -> None:
    secrets = project.root / "secrets"
    secrets.mkdir()
    listeners = []
    for i, (cert, key) in enumerate(manual_pairs(200)):
        (secrets / f"m-{i}.crt").write_text(cert)
        key_file = secrets / f"m-{i}.key"
        key_file.write_text(key)
        key_file.chmod(0o600)
        manual = {
            "secretName": f"m-{i}-cert",
            "certificateFile": f"secrets/m-{i}.crt",
            "privateKeyFile": f"secrets/m-{i}.key",
        }
        listeners.append({"name": f"m-{i}", "port": 20000 + i, "tls": {"manual": manual}})
    write_stack(project, {"kubernetes": RENDER, "listeners": listeners})
    # The stack, the provider, and a Secret and a CR per listener.
    assert preview_creates(project) == 2 + 2 * 200
    project.pulumi("up", "--yes", "--stack", "x")
    state = json.dumps(project.export("x"))
    assert key_pem_body(secrets / "m-7.key") not in state
    assert key_pem_body(secrets / "m-7.key") not in project.stack_file("x").read_text()


def key_pem_body(path: Path) -> str:
    return path.read_text().splitlines()[1]


def test_two_hundred_listeners_with_inline_manual_tls_preview(project: Project) -> None:
    pairs = manual_pairs(200)
    listeners = [
        {
            "name": f"m-{i}",
            "port": 20000 + i,
            "tls": {"manual": {"secretName": f"m-{i}-cert", "certificate": cert}},
        }
        for i, (cert, _) in enumerate(pairs)
    ]
    write_stack(project, {"kubernetes": RENDER, "listeners": listeners})
    keys = [f"listeners[{i}].tls.manual.privateKey={key}" for i, (_, key) in enumerate(pairs)]
    project.pulumi(
        "config", "set-all", "--path", "--stack", "x", *(a for k in keys for a in ("--secret", k))
    )
    assert preview_creates(project) == 2 + 2 * 200
