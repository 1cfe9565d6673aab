"""The project's program (__main__.py) against stack configuration, under mocks."""

from __future__ import annotations

import base64
import copy
import hashlib
import os
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from components import ConfigError
from components.config import RENDER_OVERRIDE_ENV
from components.stack import validate_config
from tests.arm_stand_in import serve_arm
from tests.conftest import MARK, Engine, resolve
from tests.fake_cluster import FakeCluster, add_ga_install
from tests.pki import tls_pair

ROOT = Path(__file__).resolve().parent.parent
STACK_FILES = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))
PREVIEW_STACK_FILES = [
    path
    for path in STACK_FILES
    if "aio-mq:apiVersion" not in yaml.safe_load(path.read_text())["config"]
]
DEFAULTS = {
    "serviceType": "clusterIp",
    "serviceName": "aio-mq-dmqtt-frontend",
    "authenticationEnabled": False,
    "authorizationEnabled": False,
}


@pytest.fixture(autouse=True)
def _on_a_fresh_install(cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    """Stacks without renderYamlToDirectory talk to a cluster: a fresh install of both APIs (as
    the local cluster has), unless a test says otherwise; ARM stacks to a fresh instance."""
    serve_arm(monkeypatch)
    return add_ga_install(cluster)


def stack_config(path: Path) -> dict[str, Any]:
    """The aio-mq:* keys of a stack file, without the project prefix."""
    config = yaml.safe_load(path.read_text())["config"]
    return {
        key.removeprefix("aio-mq:"): value
        for key, value in config.items()
        if key.startswith("aio-mq:")
    }


def run_main(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    exported: dict[str, Any] = {}
    monkeypatch.setattr(pulumi, "export", exported.__setitem__)

    def program() -> None:
        runpy.run_path(str(ROOT / "__main__.py"))

    engine.run(program)
    return {name: resolve(value) for name, value in exported.items()}


def test_there_are_four_preview_environments_and_three_ga_ones() -> None:
    assert [p.name for p in PREVIEW_STACK_FILES] == [
        "Pulumi.dev.yaml",
        "Pulumi.local.yaml",
        "Pulumi.prod.yaml",
        "Pulumi.staging.yaml",
    ]
    assert [p.name for p in STACK_FILES if p not in PREVIEW_STACK_FILES] == [
        "Pulumi.dev-ga.yaml",
        "Pulumi.local-ga.yaml",
        "Pulumi.prod-arm.yaml",
    ]


def assert_cr_matches(item: dict[str, Any], cr: dict[str, Any], config: dict[str, Any]) -> None:
    """Every key of the config item is in the CR spec as written; defaults are spelled out."""
    assert cr["metadata"] == {
        "name": item["name"],
        "namespace": config.get("namespace", "azure-iot-operations"),
        **MARK,
    }
    spec = cr["spec"]
    assert spec["brokerRef"] == item.get("brokerRef", config.get("brokerRef", "broker"))
    for key, value in item.items():
        if key not in ("name", "namespace", "tls"):
            assert spec[key] == value, key
    for key, default in DEFAULTS.items():
        assert spec[key] == item.get(key, default), key
    if "tls" not in item:
        assert "tls" not in spec
        return
    (mode,) = item["tls"]
    assert list(spec["tls"]) == [mode]
    given, written = item["tls"][mode], spec["tls"][mode]
    for key, value in given.items():
        if key not in ("issuerRef", "san"):
            assert written[key] == value
    if mode == "automatic":
        assert written["issuerRef"] == {
            "kind": "Issuer",
            "group": "cert-manager.io",
            **given["issuerRef"],
        }
        if "san" in given:
            assert written["san"] == {"dns": [], "ip": [], **given["san"]}


@pytest.mark.parametrize("stack_file", PREVIEW_STACK_FILES, ids=lambda p: p.name)
def test_main_renders_each_preview_stack_file(
    stack_file: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = stack_config(stack_file)
    engine.configure(config)
    exports = run_main(engine, monkeypatch)

    items = config["listeners"]
    crs = engine.mocks.broker_listeners
    assert sorted(crs) == sorted(item["name"] for item in items)
    for item in items:
        assert_cr_matches(item, crs[item["name"]], config)

    issuers = engine.mocks.of_type("kubernetes:cert-manager.io/v1:Issuer") + engine.mocks.of_type(
        "kubernetes:cert-manager.io/v1:ClusterIssuer"
    )
    assert sorted(i.inputs["metadata"]["name"] for i in issuers) == sorted(
        i["name"] for i in config.get("issuers", [])
    )
    for issuer in issuers:
        assert ("namespace" in issuer.inputs["metadata"]) == (issuer.inputs["kind"] == "Issuer")

    (provider,) = engine.mocks.of_type("pulumi:providers:kubernetes")
    target = config["kubernetes"]
    key = "renderYamlToDirectory" if "renderYamlToDirectory" in target else "context"
    assert provider.inputs[key] == target[key]

    listeners = exports["listeners"]
    assert sorted(listeners) == sorted(crs)
    for item in items:
        assert listeners[item["name"]]["port"] == item["port"]
        assert listeners[item["name"]]["tlsMode"] == (
            next(iter(item["tls"])) if "tls" in item else "none"
        )


def test_prod_has_tls_and_authentication_everywhere() -> None:
    prod = stack_config(ROOT / "stacks" / "Pulumi.prod.yaml")
    assert prod["listeners"]
    for item in prod["listeners"]:
        assert item.get("tls") and item.get("authenticationEnabled") is True, item["name"]


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=lambda p: p.name)
def test_every_authentication_enabled_listener_is_linked(
    stack_file: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = stack_config(stack_file)
    engine.configure(config)
    listeners = run_main(engine, monkeypatch)["listeners"]
    declared = {a["name"] for a in config.get("authentications", [])}
    for item in config["listeners"]:
        summary = listeners[item["name"]]
        if item.get("authenticationEnabled"):
            assert summary["authentication"] in declared, item["name"]
        if item.get("authorizationEnabled"):
            assert summary["authorization"] is not None, item["name"]


def test_dev_renders_offline_with_a_plain_and_a_self_signed_tls_listener() -> None:
    dev = stack_config(ROOT / "stacks" / "Pulumi.dev.yaml")
    assert "renderYamlToDirectory" in dev["kubernetes"]
    assert any("tls" not in item for item in dev["listeners"])
    self_signed = {i["name"] for i in dev["issuers"] if "selfSigned" in i}
    assert any(
        item.get("tls", {}).get("automatic", {}).get("issuerRef", {}).get("name") in self_signed
        for item in dev["listeners"]
    )


def test_render_override_renders_a_cluster_stack(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RENDER_OVERRIDE_ENV, "rendered/prod")
    engine.configure(stack_config(ROOT / "stacks" / "Pulumi.prod.yaml"))
    run_main(engine, monkeypatch)
    (provider,) = engine.mocks.of_type("pulumi:providers:kubernetes")
    assert provider.inputs == {"renderYamlToDirectory": "rendered/prod"}


def test_listener_depends_on_the_declared_issuer_it_names(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.configure(stack_config(ROOT / "stacks" / "Pulumi.dev.yaml"))
    run_main(engine, monkeypatch)
    names = [(r.typ.rsplit(":", 1)[-1], r.name) for r in engine.mocks.registered]
    assert names.index(("Issuer", "aio-mq-dev-selfsigned")) < names.index(
        ("BrokerListener", "dev-tls")
    )


def test_stack_namespace_and_broker_apply_to_listeners_and_issuers(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    cluster.namespace("mq").broker("mq", "edge-broker").namespace("other").broker("other", "b2")
    engine.configure(
        {
            "namespace": "mq",
            "brokerRef": "edge-broker",
            "issuers": [{"name": "ss", "selfSigned": {}}],
            "listeners": [
                {"name": "a", "port": 1883},
                {"name": "b", "port": 1884, "namespace": "other", "brokerRef": "b2"},
            ],
        }
    )
    run_main(engine, monkeypatch)
    crs = engine.mocks.broker_listeners
    assert (crs["a"]["metadata"]["namespace"], crs["a"]["spec"]["brokerRef"]) == (
        "mq",
        "edge-broker",
    )
    assert (crs["b"]["metadata"]["namespace"], crs["b"]["spec"]["brokerRef"]) == ("other", "b2")
    (issuer,) = engine.mocks.of_type("kubernetes:cert-manager.io/v1:Issuer")
    assert issuer.inputs["metadata"]["namespace"] == "mq"


# --- refused configurations: one error, every problem, nothing registered --------------------


def refused(
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    config: dict[str, Any],
    secret_keys: list[str] | None = None,
) -> str:
    engine.configure(config, secret_keys)
    with pytest.raises(ConfigError) as caught:
        run_main(engine, monkeypatch)
    assert engine.mocks.registered == []
    return str(caught.value)


def test_sharing_conflicts_of_several_listeners_come_in_one_error(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = refused(
        engine,
        monkeypatch,
        {
            "issuers": [{"name": "ss", "selfSigned": {}}],
            "listeners": [
                {"name": "ok", "port": 1883},
                {"name": "svc", "port": 1884, "serviceName": "my-service"},
                {"name": "lb", "port": 1885, "serviceType": "loadBalancer"},
                {"name": "dup-port", "port": 1883},
            ],
        },
    )
    assert "has 3 problems" in message
    assert "Rule 1: listeners[1] 'svc'" in message
    assert "the listener 'listener' on the cluster (context fake), not managed by this stack" in (
        message
    )
    assert "Rule 2: listeners[2] 'lb'" in message
    assert "Ports: listeners[3] 'dup-port'" in message and "listeners[0] 'ok'" in message


def test_existing_listeners_key(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    config = {
        "discovery": False,
        "existingListeners": [],
        "listeners": [{"name": "own", "port": 8883, "serviceName": "own"}],
    }
    engine.configure(config)
    run_main(engine, monkeypatch)
    assert list(engine.mocks.broker_listeners) == ["own"]


def test_existing_listener_name_clash(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RENDER_OVERRIDE_ENV, "rendered/x")
    message = refused(engine, monkeypatch, {"listeners": [{"name": "listener", "port": 1884}]})
    assert "Names: listeners[0] 'listener'" in message
    assert "remove it from existingListeners" in message


def test_field_problems_of_several_listeners_come_in_one_error(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = refused(
        engine,
        monkeypatch,
        {
            "listeners": [
                {"name": "a", "port": "1883"},
                {
                    "name": "b",
                    "port": 1884,
                    "tls": {"automatic": {"issuerRef": {"kind": "Issuer"}}},
                },
                {"name": "c", "port": 1885, "servicetype": "clusterIp"},
            ],
            "listener": [],
        },
    )
    assert "has 4 problems" in message
    assert "listeners[0].port: '1883' is not a whole number" in message
    assert "listeners[1].tls.automatic.issuerRef.name: required key is missing" in message
    assert (
        "listeners[2].servicetype: unknown key 'servicetype'" in message
        and "did you mean 'serviceType'?" in message
    )
    assert (
        "aio-mq:listener: unknown configuration key" in message
        and "did you mean aio-mq:listeners?" in message
    )


def test_declared_issuer_of_the_wrong_kind(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    message = refused(
        engine,
        monkeypatch,
        {
            "issuers": [{"name": "ca", "kind": "ClusterIssuer", "ca": {"secretName": "ca-pair"}}],
            "listeners": [
                {"name": "t", "port": 1884, "tls": {"automatic": {"issuerRef": {"name": "ca"}}}}
            ],
        },
    )
    assert "listeners[0].tls.automatic.issuerRef.kind" in message
    assert "set kind: ClusterIssuer" in message


def test_issuer_in_another_namespace(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    message = refused(
        engine,
        monkeypatch,
        {
            "issuers": [{"name": "ss", "namespace": "certs", "selfSigned": {}}],
            "listeners": [
                {"name": "t", "port": 1884, "tls": {"automatic": {"issuerRef": {"name": "ss"}}}}
            ],
        },
    )
    assert (
        "listeners[0].tls.automatic.issuerRef.name: Issuer 'ss' (issuers[0]) is in namespace 'certs'"
        in message
    )


def test_duplicate_issuer(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    message = refused(
        engine,
        monkeypatch,
        {"issuers": [{"name": "ss", "selfSigned": {}}, {"name": "ss", "selfSigned": {}}]},
    )
    assert "issuers[1].name: Issuer 'ss' is declared twice (also issuers[0])" in message


def test_issuer_of_another_group_is_not_checked(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = {"name": "ss", "kind": "ClusterIssuer", "group": "vault.example.com"}
    engine.configure(
        {
            "issuers": [{"name": "ss", "selfSigned": {}}],
            "listeners": [{"name": "t", "port": 1884, "tls": {"automatic": {"issuerRef": ref}}}],
        }
    )
    run_main(engine, monkeypatch)
    assert engine.mocks.broker_listeners["t"]["spec"]["tls"]["automatic"]["issuerRef"] == ref


def manual_listener(cert: str, key: str) -> dict[str, Any]:
    return {
        "name": "m",
        "port": 1884,
        "tls": {"manual": {"secretName": "m-cert", "certificate": cert, "privateKey": key}},
    }


def on_disk(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    config: dict[str, Any],
    encrypted: list[tuple[int | str, ...]],
    salt: str | None = None,
) -> None:
    """Write the stack file of `config` as Pulumi would, the values at `encrypted` (paths
    starting with the key) as `secure:` ones, and run the program from there."""
    written = copy.deepcopy(config)
    for path in encrypted:
        *parents, last = path
        node: Any = written
        for part in parents:
            node = node[part]
        node[last] = {"secure": "v1:bm9uY2U=:c2VhbGVk"}
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text("name: aio-mq\nstackConfigDir: stacks\n")
    document: dict[str, Any] = {"config": {f"aio-mq:{k}": v for k, v in written.items()}}
    if salt:
        document["encryptionsalt"] = salt
    (tmp_path / "stacks" / "Pulumi.test.yaml").write_text(yaml.safe_dump(document))
    monkeypatch.chdir(tmp_path)


KEY_PATH = ("listeners", 0, "tls", "manual", "privateKey")


def test_private_key_in_clear_in_the_stack_file_is_refused(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = {"listeners": [manual_listener(*tls_pair())]}
    on_disk(tmp_path, monkeypatch, config, [])
    message = refused(engine, monkeypatch, config)
    assert (
        "listeners[0].tls.manual.privateKey: the private key is stored in clear in the stack file"
        in message
    )
    assert (
        "fix: store it encrypted: tools/pulumi config set --stack test --secret --path "
        "'listeners[0].tls.manual.privateKey' < key.pem" in message
    )


def test_a_clear_key_next_to_an_encrypted_one_is_refused(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Pulumi marks the whole aio-mq:listeners key secret as soon as one value in it is.
    cert, key = tls_pair()
    second = {**manual_listener(cert, key), "name": "m2", "port": 1885}
    second["tls"] = {"manual": {**second["tls"]["manual"], "secretName": "m2-cert"}}
    config = {"listeners": [manual_listener(cert, key), second]}
    on_disk(tmp_path, monkeypatch, config, [KEY_PATH])
    message = refused(engine, monkeypatch, config, secret_keys=["listeners"])
    assert "has 1 problem" in message
    assert "listeners[1].tls.manual.privateKey: the private key is stored in clear" in message
    assert key not in message


def test_a_key_pasted_after_the_certificate_is_refused_even_encrypted(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cert, key = tls_pair()
    config = {"listeners": [manual_listener(cert + key, key)]}
    cert_path = ("listeners", 0, "tls", "manual", "certificate")
    on_disk(tmp_path, monkeypatch, config, [KEY_PATH, cert_path])
    message = refused(engine, monkeypatch, config, secret_keys=["listeners"])
    assert (
        "listeners[0].tls.manual.certificate: the certificate text holds a private key too"
        in message
    )
    assert key not in message


def test_a_key_pasted_into_any_other_value_is_refused(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, key = tls_pair()
    config = {"listeners": [{"name": "a", "port": 1884}], "brokerRef": key}
    on_disk(tmp_path, monkeypatch, config, [])
    message = refused(engine, monkeypatch, config)
    assert "brokerRef: a PEM private key is stored in the stack file" in message
    assert key.splitlines()[1] not in message


def test_manual_tls_from_secret_config_creates_the_secret(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cert, key = tls_pair()
    config = {"listeners": [manual_listener(cert, key)]}
    on_disk(tmp_path, monkeypatch, config, [KEY_PATH])
    engine.configure(config, secret_keys=["listeners"])
    exports = run_main(engine, monkeypatch)
    (secret,) = engine.mocks.of_type("kubernetes:core/v1:Secret")
    assert secret.inputs["metadata"]["name"] == "m-cert"
    assert key not in repr(exports)


def test_bad_tls_material_and_conflicts_of_different_listeners_come_together(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cert, _ = tls_pair(["elsewhere.example.com"])
    _, key = tls_pair()
    config = {
        "listeners": [
            manual_listener(cert, key),
            {"name": "lb", "port": 1885, "serviceType": "loadBalancer"},
        ]
    }
    on_disk(tmp_path, monkeypatch, config, [KEY_PATH])
    message = refused(engine, monkeypatch, config, secret_keys=["listeners"])
    assert "listeners[0].tls.manual.privateKey: the private key does not belong" in message
    assert "listeners[0].tls.manual.certificate: the certificate's SANs" in message
    assert "Rule 2: listeners[1] 'lb'" in message
    assert key not in message


# --- an empty stack file, and the public passphrase on a cluster stack ---------------------


def test_a_stack_file_without_aio_mq_keys_is_refused(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    on_disk(tmp_path, monkeypatch, {}, [])
    message = refused(engine, monkeypatch, {})
    assert (
        "the stack file sets no aio-mq: key (stacks/Pulumi.test.yaml is empty, cut short or "
        "missing); running it would delete every listener of the stack" in message
    )
    assert "to remove every listener on purpose, write aio-mq:listeners: []" in message


def test_listeners_must_be_listed_even_when_there_are_none(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = refused(engine, monkeypatch, {"namespace": "mq"})
    assert "aio-mq:listeners: required key is missing" in message
    engine.configure({"namespace": "mq", "listeners": []})
    assert run_main(engine, monkeypatch) == {"production": True, "listeners": {}}


DEV_SALT = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())["encryptionsalt"]


def salt_for(passphrase: str) -> str:
    """An encryptionsalt as Pulumi's passphrase secrets manager writes it."""
    salt, nonce = os.urandom(8), os.urandom(12)
    key = hashlib.pbkdf2_hmac("sha256", passphrase.encode(), salt, 1_000_000, 32)
    sealed = AESGCM(key).encrypt(nonce, b"pulumi", None)
    b64 = base64.b64encode
    return f"v1:{b64(salt).decode()}:v1:{b64(nonce).decode()}:{b64(sealed).decode()}"


def cluster_stack_with_a_secret() -> dict[str, Any]:
    cert, key = tls_pair()
    return {"kubernetes": {"context": "aks-prod"}, "listeners": [manual_listener(cert, key)]}


def test_secrets_under_the_dev_passphrase_are_refused_on_a_cluster_stack(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))  # a remote cluster
    config = cluster_stack_with_a_secret()
    on_disk(tmp_path, monkeypatch, config, [KEY_PATH], salt=DEV_SALT)
    message = refused(engine, monkeypatch, config, secret_keys=["listeners"])
    assert (
        "aio-mq:kubernetes: this stack deploys to a cluster, but its secrets are encrypted with "
        "the public dev passphrase 'aio-mq-dev'" in message
    )
    assert "tools/pulumi stack change-secrets-provider --stack test passphrase" in message


def test_the_dev_passphrase_check_also_holds_when_rendering_offline(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The override only changes where manifests go; the secret is in the same file either way.
    monkeypatch.setenv(RENDER_OVERRIDE_ENV, str(tmp_path / "rendered"))
    config = cluster_stack_with_a_secret()
    on_disk(tmp_path, monkeypatch, config, [KEY_PATH], salt=DEV_SALT)
    assert "public dev passphrase" in refused(engine, monkeypatch, config, ["listeners"])


@pytest.mark.parametrize(
    ("target", "salt"),
    [({"context": "aks-prod"}, salt_for("a passphrase of our own")), (None, DEV_SALT)],
    ids=["own passphrase", "dev stack"],
)
def test_secrets_are_fine_with_an_own_passphrase_or_on_a_rendering_stack(
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    target: dict[str, str] | None,
    salt: str,
) -> None:
    config = cluster_stack_with_a_secret()
    config["kubernetes"] = target or {"renderYamlToDirectory": "rendered/x"}
    on_disk(tmp_path, monkeypatch, config, [KEY_PATH], salt=salt)
    engine.configure(config, secret_keys=["listeners"])
    run_main(engine, monkeypatch)
    assert len(engine.mocks.of_type("kubernetes:core/v1:Secret")) == 1


def test_committed_stacks_have_no_secrets_under_the_dev_passphrase() -> None:
    for path in STACK_FILES:
        assert "secure:" not in path.read_text(), path.name


# --- one name in two namespaces --------------------------------------------------------------


def test_one_name_in_two_namespaces_makes_two_resources(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    cluster.namespace("other").broker("other")
    tls = {"automatic": {"issuerRef": {"name": "ca"}}}
    engine.configure(
        {
            "issuers": [
                {"name": "ca", "selfSigned": {}},
                {"name": "ca", "namespace": "other", "selfSigned": {}},
            ],
            "listeners": [
                {"name": "x", "port": 1884, "tls": tls},
                {"name": "x", "port": 1885, "namespace": "other", "tls": tls},
            ],
        }
    )
    exports = run_main(engine, monkeypatch)
    listeners = engine.mocks.of_type("kubernetes:mq.iotoperations.azure.com/v1beta1:BrokerListener")
    assert sorted(
        (r.name, r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]) for r in listeners
    ) == [("other/x", "other", "x"), ("x", "azure-iot-operations", "x")]
    issuers = engine.mocks.of_type("kubernetes:cert-manager.io/v1:Issuer")
    assert sorted((r.name, r.inputs["metadata"]["namespace"]) for r in issuers) == [
        ("ca", "azure-iot-operations"),
        ("other/ca", "other"),
    ]
    assert sorted(exports["listeners"]) == ["other/x", "x"]
    assert exports["listeners"]["other/x"]["namespace"] == "other"
    # Each listener waits for the Issuer of its own namespace.
    names = [(r.typ.rsplit(":", 1)[-1], r.name) for r in engine.mocks.registered]
    assert names.index(("Issuer", "other/ca")) < names.index(("BrokerListener", "other/x"))


def test_existing_objects_are_given_as_the_policy_config_gives_them() -> None:
    stack = validate_config({"listeners": [], "existingSecrets": ["azure-iot-operations/a.b"]})
    assert stack.existing_secrets == ["azure-iot-operations/a.b"]
    with pytest.raises(ConfigError) as caught:
        validate_config({"listeners": [], "existingSecrets": ["a.b", "Ns/x", "ns/x/y"]})
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("existingSecrets[0]", "'a.b' is not <namespace>/<name>"),
        ("existingSecrets[1]", "'Ns/x' is not <namespace>/<name>"),
        ("existingSecrets[2]", "'ns/x/y' is not <namespace>/<name>"),
    ]
    good = ["ClusterIssuer/aio-ca", "Issuer/ns/ca", "Vault.example.io/ca", "Vault.example.io/n/ca"]
    stack = validate_config({"listeners": [], "existingIssuers": good})
    assert stack.existing_issuers == good
    bad = ["Issuer/ca", "ClusterIssuer/ns/ca", "issuer/ns/ca", "Vault.x/ca", "ClusterIssuer/Ca"]
    with pytest.raises(ConfigError) as caught:
        validate_config({"listeners": [], "existingIssuers": bad})
    assert [p.path for p in caught.value.problems] == [f"existingIssuers[{i}]" for i in range(5)]
    assert caught.value.problems[0].message == (
        "'Issuer/ca' is not Issuer/<namespace>/<name> or ClusterIssuer/<name>"
    )
