"""The project's program (__main__.py) against stack configuration, under mocks."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components import ConfigError
from components.stack import RENDER_OVERRIDE_ENV
from tests.conftest import MARK, Engine, resolve
from tests.fake_cluster import FakeCluster
from tests.pki import tls_pair

ROOT = Path(__file__).resolve().parent.parent
STACK_FILES = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))
DEFAULTS = {
    "serviceType": "clusterIp",
    "serviceName": "aio-mq-dmqtt-frontend",
    "authenticationEnabled": False,
    "authorizationEnabled": False,
}


@pytest.fixture(autouse=True)
def _on_a_fresh_install(cluster: FakeCluster) -> FakeCluster:
    """Stacks without renderYamlToDirectory talk to a cluster: a fresh install, unless a test
    says otherwise."""
    return cluster


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


def test_there_are_four_environments() -> None:
    assert [p.name for p in STACK_FILES] == [
        "Pulumi.dev.yaml",
        "Pulumi.local.yaml",
        "Pulumi.prod.yaml",
        "Pulumi.staging.yaml",
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


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=lambda p: p.name)
def test_main_renders_each_stack_file(
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


def test_private_key_in_clear_in_the_stack_file_is_refused(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = refused(engine, monkeypatch, {"listeners": [manual_listener(*tls_pair())]})
    assert "listeners[0].tls.manual.privateKey: the private key is stored in clear" in message
    assert "pulumi config set --secret --path 'listeners[0].tls.manual.privateKey'" in message


def test_manual_tls_from_secret_config_creates_the_secret(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = tls_pair()
    engine.configure({"listeners": [manual_listener(cert, key)]}, secret_keys=["listeners"])
    exports = run_main(engine, monkeypatch)
    (secret,) = engine.mocks.of_type("kubernetes:core/v1:Secret")
    assert secret.inputs["metadata"]["name"] == "m-cert"
    assert key not in repr(exports)


def test_bad_tls_material_and_conflicts_of_different_listeners_come_together(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, _ = tls_pair(["elsewhere.example.com"])
    _, key = tls_pair()
    config = {
        "listeners": [
            manual_listener(cert, key),
            {"name": "lb", "port": 1885, "serviceType": "loadBalancer"},
        ]
    }
    message = refused(engine, monkeypatch, config, secret_keys=["listeners"])
    assert "listeners[0].tls.manual.privateKey: the private key does not belong" in message
    assert "listeners[0].tls.manual.certificate: the certificate's SANs" in message
    assert "Rule 2: listeners[1] 'lb'" in message
    assert key not in message
