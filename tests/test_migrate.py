"""tools/migrate-to-v1 (components/v1/migrate.py): every preview stack file of the repo is
carried over with each port once and its TLS and authentication intact, or refused for the
documented reasons only; each mapping and each refusal on its own."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components import ConfigError, stack_file
from components.config import RENDER_OVERRIDE_ENV
from components.stack import load_config
from components.v1.config import StackConfigV1
from components.v1.migrate import (
    KEY_ALGORITHMS,
    Decisions,
    migrate_config,
    migrate_stack_file,
    parse_arguments,
)
from tests.test_stack import PREVIEW_STACK_FILES, ROOT

GA = "mqttbroker.iotoperations.azure.com/v1"


def stack_text(config: dict[str, Any]) -> str:
    return yaml.safe_dump({"config": {f"aio-mq:{k}": v for k, v in config.items()}})


def migrated(config: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    text, notes = migrate_stack_file(stack_text(config))
    document = yaml.safe_load(text)
    return {k.removeprefix("aio-mq:"): v for k, v in document["config"].items()}, notes


def refusals(config: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        migrate_stack_file(stack_text(config))
    return [(p.path, p.message) for p in caught.value.problems]


REPO_DECISIONS: dict[str, list[str]] = {
    "Pulumi.prod.yaml": [
        "--tls-secret",
        "prod-edge=mq-edge-server-cert",
        "--x509-attributes",
        "prod-authn=stacks/migration/prod-x509-attributes.yaml",
    ]
}
"""The options that carry each preview stack file of the repo over whole (README, GA section):
what its operator decided for Key Vault TLS and X.509 attributes in a Secret."""


def decisions_of(stack_file: Path) -> Decisions:
    _, decisions = parse_arguments([str(stack_file), *REPO_DECISIONS.get(stack_file.name, [])])
    return decisions


def without_key_vault(config: dict[str, Any], key: str = "listeners") -> dict[str, Any]:
    """The documented way out for Key Vault TLS: the certificate synced into a Secret."""
    fixed = copy.deepcopy(config)
    for item in fixed.get(key, []):
        if "keyVault" in item.get("tls", {}):
            item["tls"] = {"manual": {"secretName": f"{item['name']}-synced"}}
    return fixed


def without_x509_attributes(config: dict[str, Any]) -> dict[str, Any]:
    """The documented way out for X.509 attributes in a Secret: written inline after migrating."""
    fixed = copy.deepcopy(config)
    for item in fixed.get("authentications", []):
        for method in item["authenticationMethods"]:
            method.get("x509", {}).pop("attributes", None)
    return fixed


def documented_refusals(config: dict[str, Any]) -> list[str]:
    """Where the migration must refuse a preview config for the documented reasons."""
    return [
        f"listeners[{i}].tls.keyVault"
        for i, item in enumerate(config.get("listeners", []))
        if "keyVault" in item.get("tls", {})
    ] + [
        f"authentications[{i}].authenticationMethods[{k}].x509.attributes"
        for i, item in enumerate(config.get("authentications", []))
        for k, method in enumerate(item["authenticationMethods"])
        if "attributes" in method.get("x509", {})
    ]


def preview_config(path: Path) -> dict[str, Any]:
    config = yaml.safe_load(path.read_text())["config"]
    return {k.removeprefix("aio-mq:"): v for k, v in config.items() if k.startswith("aio-mq:")}


def assert_every_port_carried_over_once(
    preview: dict[str, Any], ga: dict[str, Any], decisions: Decisions | None = None
) -> None:
    """Each preview listener's port is in exactly one GA port of the same namespace and broker,
    with its TLS (Key Vault: the Secret decided) and authentication."""
    ga_ports = [
        (item.get("namespace", ga.get("namespace")), port)
        for item in ga["listeners"]
        for port in item["ports"]
    ]
    for item in preview.get("listeners", []):
        namespace = item.get("namespace", preview.get("namespace"))
        (port,) = [p for ns, p in ga_ports if ns == namespace and p["port"] == item["port"]]
        assert port.get("nodePort") == item.get("nodePort")
        assert ("authenticationRef" in port) == item.get("authenticationEnabled", False)
        tls = item.get("tls")
        if tls is None:
            assert "tls" not in port
        elif "automatic" in tls:
            spec = port["tls"]["certManagerCertificateSpec"]
            assert port["tls"]["mode"] == "Automatic"
            for key in ("duration", "renewBefore", "san", "secretName"):
                assert spec.get(key) == tls["automatic"].get(key)
            assert spec["issuerRef"]["name"] == tls["automatic"]["issuerRef"]["name"]
            key = tls["automatic"].get("privateKey")
            if key:
                assert spec["privateKey"] == {
                    "algorithm": KEY_ALGORITHMS[(key["algorithm"], key["size"])],
                    "rotationPolicy": key["rotationPolicy"],
                }
        elif "keyVault" in tls:
            assert decisions is not None
            assert port["tls"] == {
                "mode": "Manual",
                "manual": {"secretRef": decisions.tls_secrets[item["name"]]},
            }
        else:
            assert port["tls"]["mode"] == "Manual"
            assert port["tls"]["manual"]["secretRef"] == tls["manual"]["secretName"]
    migrated_ports = [p["port"] for item in ga["listeners"] for p in item["ports"]]
    preview_ports = [item["port"] for item in preview.get("listeners", [])]
    assert sorted(set(migrated_ports) - set(preview_ports)) in ([], [18883])


@pytest.mark.parametrize("stack_file", PREVIEW_STACK_FILES, ids=lambda p: p.name)
def test_every_preview_stack_file_migrates_with_its_documented_decisions(
    stack_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    preview = preview_config(stack_file)
    # Without the options, refused for exactly the documented reasons (none: migrates as is).
    expected = documented_refusals(preview)
    assert (stack_file.name in REPO_DECISIONS) == bool(expected)
    if expected:
        assert sorted(path for path, _ in refusals(preview)) == sorted(expected)
    monkeypatch.chdir(ROOT)  # the attributes files are named relative to the project
    decisions = decisions_of(stack_file)
    text, notes = migrate_stack_file(stack_text(preview), decisions)
    ga = {k.removeprefix("aio-mq:"): v for k, v in yaml.safe_load(text)["config"].items()}
    # Passes the GA checks unchanged, all of them: as rendered, what exists is not read later.
    monkeypatch.setenv(RENDER_OVERRIDE_ENV, "rendered/migrated")
    assert isinstance(load_config(ga), StackConfigV1)
    assert_every_port_carried_over_once(preview, ga, decisions)
    for authentication in ga.get("authentications", []):
        for method in authentication["authenticationMethods"]:
            attributes = decisions.x509_attributes.get(authentication["name"])
            if method["method"] == "X509" and attributes is not None:
                assert method["x509Settings"]["authorizationAttributes"] == attributes
    assert notes


def test_the_documented_way_out_by_hand_migrates_too() -> None:
    """Without the options: the certificate synced into a Secret named in tls.manual, the
    attributes removed (to be written inline after migrating)."""
    preview = without_x509_attributes(
        without_key_vault(preview_config(ROOT / "stacks" / "Pulumi.prod.yaml"))
    )
    ga, _ = migrated(preview)
    (edge,) = [item for item in ga["listeners"] if item["name"] == "prod-edge"]
    assert edge["ports"][0]["tls"] == {
        "mode": "Manual",
        "manual": {"secretRef": "prod-edge-synced"},
    }


def test_a_decision_that_applies_to_nothing_is_refused() -> None:
    decisions = Decisions({"nope": "s"}, {"nobody": {"x": {"subject": "CN=x"}}})
    with pytest.raises(ConfigError) as caught:
        migrate_stack_file(stack_text({"listeners": [{"name": "a", "port": 1}]}), decisions)
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("--tls-secret nope", "'nope' is not a listener with Key Vault TLS in this stack"),
        (
            "--x509-attributes nobody",
            "'nobody' is not a BrokerAuthentication whose x509 method keeps its attributes in a "
            "Secret in this stack",
        ),
    ]


def test_x509_attributes_from_a_file_are_checked_as_ga_checks_them() -> None:
    preview = preview_config(ROOT / "stacks" / "Pulumi.prod.yaml")
    bad = Decisions({"prod-edge": "s"}, {"prod-authn": {"devices": {"attributes": {"a": "b"}}}})
    with pytest.raises(ConfigError) as caught:
        migrate_stack_file(stack_text(preview), bad)
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("--x509-attributes prod-authn: devices.subject", "required key is missing")
    ]


def test_the_stack_file_keeps_its_other_keys_and_salt() -> None:
    text = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    output, _ = migrate_stack_file(text, Decisions(stack="dev-v1"))
    assert output.startswith("# yaml-language-server: $schema=../schema/stack-config.schema.json")
    before, after = yaml.safe_load(text), yaml.safe_load(output)
    assert after["encryptionsalt"] == before["encryptionsalt"]
    assert next(iter(after["config"])) == "aio-mq:apiVersion"
    assert after["config"]["aio-mq:issuers"] == before["config"]["aio-mq:issuers"]


def test_a_render_stack_gets_a_directory_of_its_own() -> None:
    text = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    output, notes = migrate_stack_file(text, Decisions(stack="dev-v1"))
    assert yaml.safe_load(output)["config"]["aio-mq:kubernetes"] == {
        "renderYamlToDirectory": "rendered/dev-v1"
    }
    assert (
        "aio-mq:kubernetes.renderYamlToDirectory 'rendered/dev' becomes 'rendered/dev-v1': stack "
        "'dev-v1' renders into its own directory, the preview stack keeps 'rendered/dev'"
    ) in notes
    # Without the GA stack's name there is no directory of its own to give it.
    with pytest.raises(ConfigError) as caught:
        migrate_stack_file(text)
    assert [(p.path, p.message) for p in caught.value.problems] == [
        (
            "aio-mq:kubernetes.renderYamlToDirectory",
            "the GA stack would render into 'rendered/dev', the preview stack's directory",
        )
    ]
    # The command names it after the preview stack, or as --stack says.
    assert parse_arguments(["stacks/Pulumi.dev.yaml"])[1].stack == "dev-ga"
    assert parse_arguments(["stacks/Pulumi.dev.yaml", "--stack", "edge"])[1].stack == "edge"


def test_a_stack_file_the_pulumi_cli_wrote_back_migrates_as_the_original() -> None:
    # `pulumi config set` rewrites every top-level scalar as a string: production "false".
    text = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    written_back = text.replace("aio-mq:production: false", 'aio-mq:production: "false"')
    assert written_back != text
    decisions = Decisions(stack="dev-v1")
    output, notes = migrate_stack_file(written_back, decisions)
    original, original_notes = migrate_stack_file(text, decisions)
    assert notes == original_notes
    assert stack_file.project_config(stack_file.load(output)) == stack_file.project_config(
        stack_file.load(original)
    )
    assert 'aio-mq:production: "false"' in output  # kept as written: it reads the same


def test_a_name_encrypted_with_config_set_secret_is_carried_over_encrypted() -> None:
    encrypted = {"secure": "v1:AAAA:BBBB"}
    tls = {"automatic": {"issuerRef": {"name": "ca"}, "secretName": encrypted}}
    ga, _ = migrated({"listeners": [{"name": "a", "port": 8883, "tls": tls}]})
    (port,) = [p for p in ga["listeners"][0]["ports"] if p["port"] == 8883]
    assert port["tls"]["certManagerCertificateSpec"]["secretName"] == encrypted


def test_an_encrypted_value_the_checks_need_is_refused_as_unreadable() -> None:
    encrypted = {"secure": "v1:AAAA:BBBB"}
    assert refusals({"listeners": [{"name": "a", "port": encrypted}]}) == [
        (
            "listeners[0].port",
            "is encrypted in the stack file, and migrate-to-v1 cannot decrypt it to check it and "
            "carry it over",
        )
    ]


PROD_COMMENTS_LOST = [
    "line 15: comment not kept (in aio-mq:listeners, rewritten for GA): # In-cluster clients, "
    "on the default listener's ClusterIP Service.",
    "line 29: comment not kept (in aio-mq:listeners, rewritten for GA): # Devices on the plant "
    "network: a LoadBalancer with a certificate from Azure Key Vault.",
    "line 48: comment not kept (in aio-mq:authentications, rewritten for GA): # Every listener: "
    "service account tokens for workloads, client certificates for devices.",
    "line 64: comment not kept (in aio-mq:authorizations, rewritten for GA): # Workloads with a "
    "service account token: the whole plant namespace.",
    "line 74: comment not kept (in aio-mq:authorizations, rewritten for GA): # Devices publish "
    "their own telemetry and read their own commands.",
]


def test_comments_are_kept_where_their_keys_survive_and_the_others_are_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    path = ROOT / "stacks" / "Pulumi.prod.yaml"
    output, notes = migrate_stack_file(path.read_text(), decisions_of(path))
    assert output.splitlines()[:8] == [
        "# yaml-language-server: $schema=../schema/stack-config.schema.json",
        "# Written by tools/migrate-to-v1 from a preview (v1beta1) stack file.",
        "# prod: TLS and authentication on every listener. Offline, `make preview STACK=prod` /",
        "#   `make render STACK=prod` run on a disposable copy; `make up STACK=prod CLUSTER=yes` "
        "deploys.",
        "config:",
        "  aio-mq:apiVersion: mqttbroker.iotoperations.azure.com/v1",
        "  # Production: make up runs the guardrails policy pack and CI waits for approval.",
        "  aio-mq:production: true",
    ]
    assert [n for n in notes if "comment not kept" in n] == PROD_COMMENTS_LOST
    # A comment inside a key carried over stays where it was, and so does its text.
    text = (
        "config:\n  aio-mq:issuers:\n    # The CA.\n    - name: ca  # kept\n"
        "      selfSigned: {}\n  aio-mq:listeners:\n    # Plain.\n    - {name: a, port: 1883}\n"
    )
    text += "  aio-mq:brokerRef: broker  # the preview default\n"
    output, notes = migrate_stack_file(text)
    assert "  aio-mq:issuers:\n    # The CA.\n    - name: ca  # kept\n" in output
    assert notes[-2:] == [
        "line 7: comment not kept (in aio-mq:listeners, rewritten for GA): # Plain.",
        "line 9: comment not kept (in aio-mq:brokerRef, left out for GA): # the preview default",
    ]


@pytest.mark.parametrize("text", ["", "config: {}\n", "config:\n  aio-mq:production: false\n"])
def test_a_stack_file_without_listeners_is_refused_as_the_program_refuses_it(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        migrate_stack_file(text)
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("aio-mq:listeners", "required key is missing")
    ]


def test_a_file_that_is_no_stack_file_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        migrate_stack_file("- a\n")
    assert [p.message for p in caught.value.problems] == [
        "the preview stack file is not a YAML mapping (config:, encryptionsalt: ...)"
    ]


def test_a_tls_secret_is_declared_existing_for_the_policy_pack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    path = ROOT / "stacks" / "Pulumi.prod.yaml"
    preview = preview_config(path)
    preview["existingSecrets"] = ["other/made-elsewhere"]
    output, notes = migrate_stack_file(stack_text(preview), decisions_of(path))
    ga = yaml.safe_load(output)["config"]
    assert ga["aio-mq:existingSecrets"] == [
        "other/made-elsewhere",
        "azure-iot-operations/mq-edge-server-cert",
    ]
    assert (
        "listeners[1]: aio-mq:existingSecrets declares Secret "
        "'azure-iot-operations/mq-edge-server-cert' as existing (secret sync fills it, not the "
        "program), so the guardrails policy pack accepts the reference"
    ) in notes


def test_listeners_on_the_default_service_become_ports_of_default() -> None:
    ga, notes = migrated({"listeners": [{"name": "a", "port": 1883}, {"name": "b", "port": 1884}]})
    (default,) = ga["listeners"]
    assert (default["name"], default["serviceType"], default["serviceName"]) == (
        "default",
        "ClusterIp",
        "aio-broker",
    )
    assert [p["port"] for p in default["ports"]] == [18883, 1883, 1884]
    assert default["ports"][0]["authenticationRef"] == "default"
    assert "existingListeners" not in ga
    assert (
        "listeners[0] 'a', listeners[1] 'b' used the preview default listener's Service "
        "'aio-mq-dmqtt-frontend' (clusterIp); GA allows one ClusterIp listener per broker, and "
        "that is 'default' (Service 'aio-broker'), so they become its ports 1883, 1884: this "
        "stack now manages 'default', with port 18883 as Azure IoT Operations installs it. "
        "Clients connect to 'aio-broker' instead of 'aio-mq-dmqtt-frontend'"
    ) in notes


def test_the_installed_ports_issuer_is_declared_existing_for_the_policy_pack() -> None:
    ga, notes = migrated({"listeners": [{"name": "a", "port": 1883}]})
    assert ga["existingIssuers"] == ["ClusterIssuer/azure-iot-operations-aio-certificate-issuer"]
    assert (
        "aio-mq:existingIssuers declares 'ClusterIssuer/azure-iot-operations-aio-certificate-"
        "issuer' as existing (Azure IoT Operations installs it for port 18883 of 'default'), so "
        "the guardrails policy pack accepts the reference"
    ) in notes
    # A preview port 18883 replaces the installed one, and its issuer with it.
    ga, _ = migrated({"listeners": [{"name": "a", "port": 18883}]})
    assert "existingIssuers" not in ga


def test_a_preview_port_18883_on_the_default_service_replaces_the_installed_one() -> None:
    ga, notes = migrated({"listeners": [{"name": "own", "port": 18883}]})
    (default,) = ga["listeners"]
    assert default["ports"] == [{"port": 18883}]
    assert any(n.startswith("listeners[0] 'own' uses port 18883") for n in notes)


def test_listeners_sharing_a_service_become_one_listener_with_ports() -> None:
    edge = {"serviceType": "loadBalancer", "serviceName": "edge"}
    ga, notes = migrated(
        {
            "listeners": [
                {"name": "e1", "port": 8884, **edge},
                {
                    "name": "np",
                    "port": 8885,
                    "serviceType": "nodePort",
                    "serviceName": "np",
                    "nodePort": 30001,
                },
                {"name": "e2", "port": 8886, **edge},
            ]
        }
    )
    assert ga["listeners"] == [
        {
            "name": "e1",
            "serviceType": "LoadBalancer",
            "serviceName": "edge",
            "ports": [{"port": 8884}, {"port": 8886}],
        },
        {
            "name": "np",
            "serviceType": "NodePort",
            "serviceName": "np",
            "ports": [{"port": 8885, "nodePort": 30001}],
        },
    ]
    assert (
        "listeners[0] 'e1', listeners[2] 'e2' share Service 'edge' (loadBalancer): they become "
        "listener 'e1' with ports 8884, 8886"
    ) in notes


@pytest.mark.parametrize(("algorithm", "size"), list(KEY_ALGORITHMS))
def test_key_algorithm_and_size_map_to_the_ga_algorithm(algorithm: str, size: int) -> None:
    key = {"algorithm": algorithm, "size": size, "rotationPolicy": "Never"}
    tls = {"automatic": {"issuerRef": {"name": "ca"}, "privateKey": key}}
    ga, _ = migrated({"listeners": [{"name": "a", "port": 1, "tls": tls}]})
    spec = ga["listeners"][0]["ports"][1]["tls"]["certManagerCertificateSpec"]
    assert spec["privateKey"] == {
        "algorithm": KEY_ALGORITHMS[(algorithm, size)],
        "rotationPolicy": "Never",
    }


def test_manual_tls_becomes_secret_ref_and_keeps_an_encrypted_key_encrypted() -> None:
    manual = {"secretName": "c", "certificate": "PEM", "privateKey": {"secure": "v1:abc"}}
    ga, _ = migrated({"listeners": [{"name": "a", "port": 1, "tls": {"manual": manual}}]})
    assert ga["listeners"][0]["ports"][1]["tls"] == {
        "mode": "Manual",
        "manual": {"secretRef": "c", "certificate": "PEM", "privateKey": {"secure": "v1:abc"}},
    }


def test_a_secret_namespace_equal_to_the_listeners_is_dropped_with_a_note() -> None:
    tls = {"manual": {"secretName": "c", "secretNamespace": "azure-iot-operations"}}
    ga, notes = migrated({"listeners": [{"name": "a", "port": 1, "tls": tls}]})
    assert ga["listeners"][0]["ports"][1]["tls"]["manual"] == {"secretRef": "c"}
    assert (
        "listeners[0].tls.manual.secretNamespace 'azure-iot-operations' is the object's own "
        "namespace: left out"
    ) in notes


def test_authentication_flags_become_refs_with_notes() -> None:
    item = {"name": "a", "port": 1, "authenticationEnabled": True, "authorizationEnabled": True}
    ga, notes = migrated({"listeners": [item]})
    port = ga["listeners"][0]["ports"][1]
    assert port["authenticationRef"] == "default" and "authorizationRef" not in port
    assert any("GA's default BrokerAuthentication 'default'" in n for n in notes)
    assert any("its port gets no authorizationRef" in n for n in notes)


def test_broker_ref_broker_becomes_default_and_others_stay() -> None:
    ga, notes = migrated({"brokerRef": "broker", "listeners": []})
    assert "brokerRef" not in ga
    assert (
        "aio-mq:brokerRef: the preview default broker 'broker' becomes GA's default broker 'default' (the key is left out)"
        in notes
    )
    ga, _ = migrated({"brokerRef": "mine", "existingListeners": [], "listeners": []})
    assert ga["brokerRef"] == "mine"


def test_existing_listeners_become_ga_listeners_per_service() -> None:
    existing = [
        {"name": "listener", "port": 8883},
        {"name": "x1", "port": 1, "serviceType": "loadBalancer", "serviceName": "x"},
        {"name": "x2", "port": 2, "serviceType": "loadBalancer", "serviceName": "x"},
    ]
    ga, _ = migrated({"existingListeners": existing, "listeners": []})
    assert [item["name"] for item in ga["existingListeners"]] == ["default", "x1"]
    assert ga["existingListeners"][1]["ports"] == [{"port": 1}, {"port": 2}]
    ga, _ = migrated({"existingListeners": [], "listeners": [{"name": "a", "port": 1}]})
    assert ga["existingListeners"] == []
    assert ga["listeners"][0]["serviceName"] == "aio-mq-dmqtt-frontend"


def test_everything_that_cannot_be_carried_over_is_refused_at_once() -> None:
    vault = {
        "vault": {
            "name": "kv-x",
            "directoryId": "00000000-0000-0000-0000-000000000000",
            "credentials": {"servicePrincipalLocalSecretName": "sp"},
        },
        "vaultCert": {"name": "c"},
    }
    rsa3072 = {"algorithm": "RSA", "size": 3072, "rotationPolicy": "Always"}
    config = {
        "listeners": [
            {"name": "kv", "port": 1, "tls": {"keyVault": vault}},
            {
                "name": "ns",
                "port": 2,
                "tls": {"manual": {"secretName": "s", "secretNamespace": "other"}},
            },
            {
                "name": "rsa",
                "port": 3,
                "tls": {"automatic": {"issuerRef": {"name": "ca"}, "privateKey": rsa3072}},
            },
        ],
    }
    assert refusals(config) == [
        ("listeners[0].tls.keyVault", "GA listeners have no Key Vault TLS"),
        (
            "listeners[1].tls.manual.secretNamespace",
            "the Secret is in namespace 'other', its user in 'azure-iot-operations'; GA only "
            "reads Secrets of the object's own namespace",
        ),
        ("listeners[2].tls.automatic.privateKey", "GA has no key algorithm for RSA 3072"),
    ]


def test_an_invalid_or_ga_stack_is_refused() -> None:
    assert refusals({"listeners": [{"name": "a", "port": "x"}]}) == [
        ("listeners[0].port", "'x' is not a whole number")
    ]
    assert refusals({"apiVersion": GA}) == [
        ("aio-mq:apiVersion", f"the stack is not a preview stack (apiVersion {GA})")
    ]


def test_migrate_config_carries_keys_common_to_both_versions() -> None:
    migration = migrate_config(
        {"production": False, "namespace": "mq", "issuers": [{"name": "i", "selfSigned": {}}]}
    )
    assert migration.config["production"] is False
    assert migration.config["namespace"] == "mq"
    assert migration.config["issuers"] == [{"name": "i", "selfSigned": {}}]


def test_the_command_writes_the_stack_to_stdout_and_notes_to_stderr() -> None:
    tool = ROOT / "tools" / "migrate-to-v1"
    done = subprocess.run(
        [str(tool), "stacks/Pulumi.dev.yaml"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load(done.stdout)["config"]["aio-mq:apiVersion"] == GA
    assert all(line.startswith("note: ") for line in done.stderr.splitlines())
    refused = subprocess.run(
        [str(tool), "stacks/Pulumi.prod.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr.startswith(
        "aio-mq: aio-mq:* of the preview stack has 2 problems; nothing was written"
    )
    assert "listeners[1].tls.keyVault: GA listeners have no Key Vault TLS" in refused.stderr
    assert "then pass --tls-secret prod-edge=<that Secret>" in refused.stderr
    decided = subprocess.run(
        [str(tool), "Pulumi.prod.yaml", *REPO_DECISIONS["Pulumi.prod.yaml"]],
        cwd=ROOT / "stacks",  # paths are read from where the command is typed
        capture_output=True,
        text=True,
        check=False,
    )
    assert decided.returncode == 2  # the attributes file is named from the project
    assert "prod-x509-attributes.yaml: cannot read it" in decided.stderr
    decided = subprocess.run(
        [str(tool), "stacks/Pulumi.prod.yaml", *REPO_DECISIONS["Pulumi.prod.yaml"]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert decided.returncode == 0, decided.stderr
    assert "secretRef: mq-edge-server-cert" in decided.stdout
    assert "note: listeners[1]: Key Vault TLS becomes tls.manual" in decided.stderr


SAT = {"sat": {"audiences": ["aio-mq"]}}


def test_linked_objects_become_port_refs_and_ga_objects() -> None:
    custom = {
        "custom": {
            "endpoint": "https://auth.example.com",
            "caCert": "auth-ca",
            "auth": {"x509": {"secretName": "client", "namespace": "azure-iot-operations"}},
            "headers": {"a": "b"},
        }
    }
    config = {
        "listeners": [
            {
                "name": "edge",
                "port": 8884,
                "serviceType": "loadBalancer",
                "serviceName": "edge",
                "authenticationEnabled": True,
                "authorizationEnabled": True,
                "tls": {"automatic": {"issuerRef": {"name": "ca"}}},
            }
        ],
        "authentications": [
            {
                "name": "edge-authn",
                "listenerRef": ["edge"],
                "authenticationMethods": [SAT, {"x509": {"trustedClientCaCert": "ca"}}, custom],
            }
        ],
        "authorizations": [
            {
                "name": "edge-authz",
                "listenerRef": ["edge"],
                "authorizationPolicies": {
                    "enableCache": True,
                    "rules": [
                        {
                            "principals": {"clientids": ["c1"], "usernames": ["u1"]},
                            "brokerResources": [
                                {"method": "Connect"},
                                {"method": "Publish", "topics": ["t/#"]},
                            ],
                        }
                    ],
                },
            }
        ],
    }
    ga, notes = migrated(config)
    (port,) = ga["listeners"][0]["ports"]
    assert (port["authenticationRef"], port["authorizationRef"]) == ("edge-authn", "edge-authz")
    assert ga["authentications"] == [
        {
            "name": "edge-authn",
            "authenticationMethods": [
                {
                    "method": "ServiceAccountToken",
                    "serviceAccountTokenSettings": {"audiences": ["aio-mq"]},
                },
                {"method": "X509", "x509Settings": {"trustedClientCaCert": "ca"}},
                {
                    "method": "Custom",
                    "customSettings": {
                        "endpoint": "https://auth.example.com",
                        "caCertConfigMap": "auth-ca",
                        "auth": {"x509": {"secretRef": "client"}},
                        "headers": {"a": "b"},
                    },
                },
            ],
        }
    ]
    assert ga["authorizations"] == [
        {
            "name": "edge-authz",
            "authorizationPolicies": {
                "cache": "Enabled",
                "rules": [
                    {
                        "principals": {"clientIds": ["c1"], "usernames": ["u1"]},
                        "brokerResources": [
                            {"method": "Connect"},
                            {"method": "Publish", "topics": ["t/#"]},
                        ],
                    }
                ],
            },
        }
    ]
    assert "authorizations[0]: enableCache true becomes cache Enabled" in notes
    assert "existingAuthentications" not in ga


def test_a_listener_of_the_preview_default_authentication_uses_ga_default() -> None:
    existing = [
        {"name": "authn", "listenerRef": ["listener", "mine"], "authenticationMethods": [SAT]}
    ]
    item = {"name": "mine", "port": 1, "authenticationEnabled": True}
    ga, notes = migrated({"existingAuthentications": existing, "listeners": [item]})
    assert ga["listeners"][0]["ports"][1]["authenticationRef"] == "default"
    assert ga["existingAuthentications"] == [
        {
            "name": "default",
            "authenticationMethods": [
                {
                    "method": "ServiceAccountToken",
                    "serviceAccountTokenSettings": {"audiences": ["aio-internal"]},
                }
            ],
        }
    ]
    assert any("listed by the preview default authentication 'authn'" in n for n in notes)


def test_what_authentication_cannot_carry_over_is_refused() -> None:
    other_ns = {
        "endpoint": "https://a.example.com",
        "auth": {"x509": {"secretName": "s", "namespace": "x"}},
    }
    config = {
        "listeners": [{"name": "a", "port": 1, "authenticationEnabled": True}],
        "authentications": [
            {
                "name": "one",
                "listenerRef": ["a"],
                "authenticationMethods": [
                    {"usernamePassword": {"secretName": "pw"}},
                    {"x509": {"attributes": {"secretName": "attrs"}}},
                    {"custom": other_ns},
                ],
            },
            {"name": "two", "listenerRef": ["a"], "authenticationMethods": [SAT]},
        ],
    }
    assert refusals(config) == [
        (
            "authentications[0].authenticationMethods[0].usernamePassword",
            "GA has no username/password authentication",
        ),
        (
            "authentications[0].authenticationMethods[1].x509.attributes",
            "GA keeps the attributes of client certificates inline "
            "(x509Settings.authorizationAttributes), not in a Secret",
        ),
        (
            "authentications[0].authenticationMethods[2].custom.auth.x509.namespace",
            "the Secret is in namespace 'x', its user in 'azure-iot-operations'; GA only reads "
            "Secrets of the object's own namespace",
        ),
        (
            "listeners[0]",
            "'a' is listed by several BrokerAuthentications (authentications[0], "
            "authentications[1]); a GA port references one",
        ),
    ]


def test_an_existing_authentication_without_methods_is_refused() -> None:
    existing = [{"name": "theirs", "listenerRef": ["x"]}]
    assert refusals({"existingAuthentications": existing, "listeners": []}) == [
        (
            "existingAuthentications[0].authenticationMethods",
            "the methods of this existing BrokerAuthentication are not given, and a GA "
            "BrokerAuthentication is written with them",
        )
    ]


def test_an_inert_link_is_not_carried_over() -> None:
    config = {
        "listeners": [{"name": "a", "port": 1}],
        "authentications": [{"name": "one", "listenerRef": ["a"], "authenticationMethods": [SAT]}],
    }
    ga, notes = migrated(config)
    assert "authenticationRef" not in ga["listeners"][0]["ports"][1]
    assert (
        "listeners[0] 'a' is listed by authentications[0] but has authenticationEnabled false: "
        "the link never applied and is not carried over"
    ) in notes
