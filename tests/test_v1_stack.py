"""GA stacks (aio-mq:apiVersion mqttbroker.iotoperations.azure.com/v1) and MqListenerV1 under
mocks: what is registered, what is exported, and what is refused (with nothing registered)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components import ConfigError, MqListenerV1, declare_existing_listeners_v1
from components.stack import deploy, load_config
from components.v1.models import ListenerPort, MqListenerV1Args
from components.v1beta1.listener import MqListener
from tests.conftest import Engine, resolve, serve
from tests.fake_cluster import GA_DEFAULT_PORT, FakeCluster, aio_ga_install
from tests.pki import tls_pair
from tests.test_stack import ROOT, STACK_FILES, on_disk, refused, run_main, stack_config

GA = "mqttbroker.iotoperations.azure.com/v1"
GA_STACK_FILES = [
    p
    for p in STACK_FILES
    if stack_config(p).get("apiVersion") == GA and "azure" not in stack_config(p)
]
"""GA stacks of the Kubernetes target (ARM stacks: tests/test_arm_stack.py)."""


@pytest.fixture(autouse=True)
def ga_cluster(monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    """The cluster of a GA stack in cluster mode (local-ga): a fresh GA install."""
    return serve(monkeypatch, aio_ga_install())


def own(metadata: dict[str, Any]) -> dict[str, Any]:
    """metadata without the marks every object aio-mq creates carries (components/metadata.py),
    which must be there."""
    assert metadata["labels"]["app.kubernetes.io/managed-by"] == "aio-mq"
    assert metadata["annotations"]["pulumi.com/patchForce"] == "true"
    return {k: v for k, v in metadata.items() if k not in ("labels", "annotations")}


LISTENER_PATCH = f"kubernetes:{GA}:BrokerListenerPatch"


def marked(engine: Engine, name: str, on_cluster: bool) -> dict[str, Any]:
    """The metadata a listener gets: its CR's; on a cluster the mark of `default` comes from a
    Patch of its own (which `destroy` deletes, leaving the retained listener unmarked)."""
    (cr,) = [r for r in engine.mocks.of_type(f"kubernetes:{GA}:BrokerListener") if r.name == name]
    patches = [r for r in engine.mocks.of_type(LISTENER_PATCH) if r.name == f"{name}-mark"]
    if name != "default" or not on_cluster:  # rendered, a patch would overwrite the listener
        assert patches == []
        return dict(cr.inputs["metadata"])
    (patch,) = patches
    assert "labels" not in cr.inputs["metadata"]
    assert "aio-mq/stack" not in cr.inputs["metadata"]["annotations"]
    assert patch.inputs["metadata"]["name"] == "default" and "spec" not in patch.inputs
    # The Patch waits for nothing (the listener does): awaiting, the provider could keep a
    # stale copy of the listener without the mark as the Patch's state.
    assert patch.inputs["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"
    assert "pulumi.com/skipAwait" not in cr.inputs["metadata"]["annotations"]
    metadata = dict(patch.inputs["metadata"])
    annotations = dict(metadata["annotations"])
    del annotations["pulumi.com/skipAwait"]
    return {**metadata, "annotations": annotations}


AUTHENTICATION = f"kubernetes:{GA}:BrokerAuthentication"
AUTHORIZATION = f"kubernetes:{GA}:BrokerAuthorization"


def ga_config(**keys: Any) -> dict[str, Any]:
    """A GA stack config that renders: what exists is what the keys say (or assume)."""
    return {"apiVersion": GA, "kubernetes": {"renderYamlToDirectory": "rendered/ga"}, **keys}


def with_defaults(port: dict[str, Any]) -> dict[str, Any]:
    """A port item as the CR spells it: protocol and issuerRef defaults, both san lists."""
    written = {"protocol": "Mqtt", **port}
    spec = written.get("tls", {}).get("certManagerCertificateSpec")
    if spec is not None:
        spec = {
            **spec,
            "issuerRef": {"kind": "Issuer", "group": "cert-manager.io", **spec["issuerRef"]},
        }
        if "san" in spec:
            spec["san"] = {"dns": [], "ip": [], **spec["san"]}
        written["tls"] = {**written["tls"], "certManagerCertificateSpec": spec}
    return written


@pytest.mark.parametrize("stack_file", GA_STACK_FILES, ids=lambda p: p.name)
def test_main_renders_each_ga_stack_file(
    stack_file: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = stack_config(stack_file)
    engine.configure(config)
    exports = run_main(engine, monkeypatch)

    crs = engine.mocks.ga_listeners
    assert sorted(crs) == sorted(item["name"] for item in config["listeners"])
    for item in config["listeners"]:
        cr = crs[item["name"]]
        assert cr["apiVersion"] == GA and cr["kind"] == "BrokerListener"
        on_cluster = "renderYamlToDirectory" not in config["kubernetes"]
        assert own(marked(engine, item["name"], on_cluster)) == {
            "name": item["name"],
            "namespace": "azure-iot-operations",
        }
        assert cr["spec"] == {
            "brokerRef": "default",
            "serviceType": item.get("serviceType", "ClusterIp"),
            "serviceName": item.get("serviceName", item["name"]),
            "ports": [with_defaults(port) for port in item["ports"]],
        }
        summary = exports["listeners"][item["name"]]
        service = item.get("serviceName", item["name"])
        assert summary["host"] == f"{service}.azure-iot-operations.svc.cluster.local"
        assert [
            (p["port"], p["authentication"], p["authorization"], p["tlsMode"])
            for p in summary["ports"]
        ] == [
            (
                p["port"],
                p.get("authenticationRef"),
                p.get("authorizationRef"),
                p["tls"]["mode"] if "tls" in p else "None",
            )
            for p in item["ports"]
        ]
    for kind, key in ((AUTHENTICATION, "authentications"), (AUTHORIZATION, "authorizations")):
        registered = {r.inputs["metadata"]["name"]: r.inputs for r in engine.mocks.of_type(kind)}
        assert sorted(registered) == sorted(item["name"] for item in config.get(key, []))
    assert engine.mocks.broker_listeners == {}


def test_dev_ga_listener_waits_for_the_objects_it_uses(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.configure(stack_config(ROOT / "stacks" / "Pulumi.dev-ga.yaml"))
    run_main(engine, monkeypatch)
    # No component per listener (docs/benchmarks.md): the CR is the stack's.
    assert engine.mocks.of_type("aio:mq:MqListenerV1") == []
    (cr,) = [
        r for r in engine.mocks.of_type(f"kubernetes:{GA}:BrokerListener") if r.name == "dev-edge"
    ]
    urns = {
        r.name: f"urn:pulumi:test::aio-mq::{r.typ}::{r.name}"
        for r in engine.mocks.registered
        if r.typ in (AUTHENTICATION, AUTHORIZATION, "kubernetes:cert-manager.io/v1:Issuer")
    }
    assert set(urns) == {
        "authentication-dev-devices",
        "authorization-dev-telemetry",
        "aio-mq-dev-selfsigned",
    }
    assert cr.inputs["spec"]["serviceType"] == "LoadBalancer"


def test_authentication_and_authorization_specs(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.configure(
        ga_config(
            namespace="mq",
            existingListeners=[],
            authentications=[
                {
                    "name": "sat",
                    "authenticationMethods": [
                        {
                            "method": "serviceAccountToken",
                            "serviceAccountTokenSettings": {"audiences": ["x"]},
                        }
                    ],
                }
            ],
            authorizations=[{"name": "none", "namespace": "other"}],
            listeners=[{"name": "l", "ports": [{"port": 1, "authenticationRef": "sat"}]}],
        )
    )
    run_main(engine, monkeypatch)
    (authn,) = engine.mocks.of_type(AUTHENTICATION)
    assert own(authn.inputs["metadata"]) == {"name": "sat", "namespace": "mq"}
    assert authn.inputs["spec"] == {
        "authenticationMethods": [
            {"method": "ServiceAccountToken", "serviceAccountTokenSettings": {"audiences": ["x"]}}
        ]
    }
    (authz,) = engine.mocks.of_type(AUTHORIZATION)
    assert own(authz.inputs["metadata"]) == {"name": "none", "namespace": "other"}
    assert authz.inputs["spec"] == {"authorizationPolicies": {"cache": "Enabled", "rules": []}}


def test_a_second_cluster_ip_listener_is_refused_with_the_way_out(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = refused(
        engine, monkeypatch, ga_config(listeners=[{"name": "mine", "ports": [{"port": 1883}]}])
    )
    assert message == (
        "aio-mq: the configuration has 1 problem; no resource was registered.\n"
        "  - listeners[0].serviceType: Service types: broker 'default' has at most one ClusterIp "
        "listener, and the default listener 'default' (ClusterIp Service aio-broker) is one\n"
        "      fix: add these ports to 'default' instead: manage it in this stack (leave it out of "
        "existingListeners and declare it with its port 18883 and yours), or use serviceType "
        "LoadBalancer or NodePort"
    )


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the program logs as warnings."""
    logged: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, resource=None: logged.append(message))
    return logged


def test_managing_default_as_installed_adds_ports_without_warning(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, warnings: list[str]
) -> None:
    engine.configure(
        ga_config(
            listeners=[
                {
                    "name": "default",
                    "serviceName": "aio-broker",
                    "ports": [GA_DEFAULT_PORT, {"port": 1883}],
                }
            ]
        )
    )
    exports = run_main(engine, monkeypatch)
    assert [p["port"] for p in exports["listeners"]["default"]["ports"]] == [18883, 1883]
    assert warnings == []


def test_managing_default_with_another_18883_is_a_warning(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, warnings: list[str]
) -> None:
    engine.configure(
        ga_config(
            listeners=[{"name": "default", "serviceName": "aio-broker", "ports": [{"port": 18883}]}]
        )
    )
    run_main(engine, monkeypatch)
    assert list(engine.mocks.ga_listeners) == ["default"]
    assert warnings == [
        "listeners[0] manages the default listener 'default' with authenticationRef None on port "
        "18883; Azure IoT Operations installs 'default'",
        "listeners[0] manages the default listener 'default' with other TLS settings on port 18883 "
        "than Azure IoT Operations installs (mode Automatic, ClusterIssuer "
        "azure-iot-operations-aio-certificate-issuer, key Ec256/Always)",
    ]


def test_every_kind_of_problem_comes_in_one_error(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    x509 = {"method": "X509", "x509Settings": {}}
    message = refused(
        engine,
        monkeypatch,
        ga_config(
            issuers=[{"name": "ca", "kind": "ClusterIssuer", "selfSigned": {}}],
            authentications=[
                {"name": "certs", "authenticationMethods": [x509]},
                {"name": "certs", "authenticationMethods": [x509]},
            ],
            listeners=[
                {
                    "name": "lb",
                    "serviceType": "LoadBalancer",
                    "ports": [
                        {"port": 1, "authenticationRef": "certs"},
                        {"port": 2, "authenticationRef": "cert", "authorizationRef": "nobody"},
                        {
                            "port": 3,
                            "tls": {
                                "mode": "Automatic",
                                "certManagerCertificateSpec": {"issuerRef": {"name": "ca"}},
                            },
                        },
                    ],
                },
                {
                    "name": "np",
                    "serviceType": "NodePort",
                    "ports": [{"port": 1, "nodePort": 30001}],
                },
            ],
        ),
    )
    assert "the configuration has 6 problems" in message
    for expected in (
        "listeners[0].ports[2].tls.certManagerCertificateSpec.issuerRef.kind: 'ca' is declared "
        "with kind ClusterIssuer (issuers[0]), but referenced with kind Issuer",
        "authentications[1].name: Names: BrokerAuthentication 'certs' is declared twice",
        "listeners[0].ports[0].authenticationRef: BrokerAuthentication 'certs' (authentications[0]) "
        "has an X509 method, but port 1 has no TLS",
        "listeners[0].ports[1].authenticationRef: BrokerAuthentication 'cert' is neither declared",
        "listeners[0].ports[1].authorizationRef: BrokerAuthorization 'nobody' is neither declared",
        "listeners[1].ports[0].port: Ports: port 1 is used twice on broker 'default' (also "
        "listeners[0].ports[0])",
    ):
        assert expected in message


def test_keys_of_the_ga_shape_are_refused_under_the_preview_api() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(
            {"authentications": [{"name": "a", "authenticationMethods": [{"method": "X509"}]}]}
        )
    paths = [p.path for p in caught.value.problems]
    assert "authentications[0].listenerRef" in paths
    assert "authentications[0].authenticationMethods[0].method" in paths


def test_an_unknown_api_version_is_refused_with_the_choices() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({"apiVersion": "mqttbroker.iotoperations.azure.com/v1beta1", "listeners": []})
    (problem,) = caught.value.problems
    assert problem.path == "aio-mq:apiVersion"
    assert (
        problem.message
        == "'mqttbroker.iotoperations.azure.com/v1beta1' is not an API version aio-mq speaks"
    )
    assert problem.fix == (
        f"use one of mq.iotoperations.azure.com/v1beta1, {GA} (default: "
        "mq.iotoperations.azure.com/v1beta1)"
    )


def test_ga_listener_shapes_are_refused_under_the_preview_api() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({"listeners": [{"name": "a", "ports": [{"port": 1}]}]})
    paths = [p.path for p in caught.value.problems]
    assert paths == ["listeners[0].port", "listeners[0].ports"]


def manual_port(cert: str, key: str) -> dict[str, Any]:
    return {
        "port": 8884,
        "tls": {
            "mode": "Manual",
            "manual": {"secretRef": "edge-cert", "certificate": cert, "privateKey": key},
        },
    }


GA_KEY_PATH = ("listeners", 0, "ports", 0, "tls", "manual", "privateKey")
EDGE_HOSTS = ["edge", "edge.azure-iot-operations.svc.cluster.local"]


def test_private_key_in_clear_is_refused_at_its_ga_path(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = ga_config(
        listeners=[
            {
                "name": "edge",
                "serviceType": "LoadBalancer",
                "ports": [manual_port(*tls_pair(EDGE_HOSTS))],
            }
        ]
    )
    message = refused(engine, monkeypatch, config)
    assert (
        "listeners[0].ports[0].tls.manual.privateKey: the private key is stored in clear" in message
    )


def test_manual_tls_material_creates_one_secret_and_stays_secret(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cert, key = tls_pair(EDGE_HOSTS)
    reuse = {"port": 8885, "tls": {"mode": "Manual", "manual": {"secretRef": "edge-cert"}}}
    config = ga_config(
        listeners=[
            {
                "name": "edge",
                "serviceType": "LoadBalancer",
                "ports": [manual_port(cert, key), reuse],
            }
        ]
    )
    on_disk(tmp_path, monkeypatch, config, [GA_KEY_PATH])
    engine.configure(config, secret_keys=["listeners"])
    exports = run_main(engine, monkeypatch)
    (secret,) = engine.mocks.of_type("kubernetes:core/v1:Secret")
    assert own(secret.inputs["metadata"]) == {
        "name": "edge-cert",
        "namespace": "azure-iot-operations",
    }
    assert secret.inputs["type"] == "kubernetes.io/tls"
    assert key not in repr(exports)
    assert key not in repr(engine.mocks.ga_listeners)


def test_material_for_one_secret_given_twice_and_a_wrong_certificate_are_reported(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cert, key = tls_pair(["elsewhere.example.com"])
    second = manual_port(cert, key) | {"port": 8885}
    config = ga_config(
        listeners=[
            {
                "name": "edge",
                "serviceType": "LoadBalancer",
                "ports": [manual_port(cert, key), second],
            }
        ]
    )
    second_key = ("listeners", 0, "ports", 1, "tls", "manual", "privateKey")
    on_disk(tmp_path, monkeypatch, config, [GA_KEY_PATH, second_key])
    message = refused(engine, monkeypatch, config, secret_keys=["listeners"])
    assert "listeners[0].ports[0].tls.manual.certificate: the certificate's SANs" in message
    assert (
        "listeners[0].ports[1].tls.manual: the certificate and key of Secret 'edge-cert' are "
        "given twice (also listeners[0].ports[0].tls.manual)"
    ) in message
    assert key not in message


# --- composition ---------------------------------------------------------------------------


def test_mq_listener_v1_from_python_with_typed_args(engine: Engine) -> None:
    def program() -> Any:
        declare_existing_listeners_v1([])
        listener = MqListenerV1(
            "in-cluster",
            MqListenerV1Args(
                name="in-cluster", ports=[ListenerPort(port=1883), ListenerPort(port=1884)]
            ),
        )
        return {"host": listener.host, "ports": listener.ports, "type": listener.service_type}

    result = engine.run(program)
    assert result["host"] == "in-cluster.azure-iot-operations.svc.cluster.local"
    assert [p["port"] for p in result["ports"]] == [1883, 1884]
    assert result["type"] == "ClusterIp"
    assert engine.mocks.ga_listeners["in-cluster"]["spec"]["brokerRef"] == "default"


def test_composition_conflict_registers_nothing(engine: Engine) -> None:
    def program() -> None:
        MqListenerV1("a", {"name": "a", "serviceType": "LoadBalancer", "ports": [{"port": 1}]})
        MqListenerV1("b", {"name": "b", "serviceType": "LoadBalancer", "ports": [{"port": 2}]})

    with pytest.raises(
        ConfigError, match="Service types: broker 'default' has at most one LoadBalancer"
    ):
        engine.run(program)
    assert engine.mocks.registered == []


def test_preview_and_ga_listeners_follow_their_own_rules_in_one_program(engine: Engine) -> None:
    def program() -> None:
        # Port 1883 twice and two clusterIp/ClusterIp listeners: fine, they are on different APIs.
        MqListener("preview", {"name": "preview", "port": 1883})
        MqListenerV1(
            "ga",
            {
                "name": "default",
                "serviceName": "aio-broker",
                "ports": [GA_DEFAULT_PORT, {"port": 1883}],
            },
        )

    engine.run(program)
    assert list(engine.mocks.broker_listeners) == ["preview"]
    assert list(engine.mocks.ga_listeners) == ["default"]


def test_deploy_returns_one_summary_per_ga_listener(engine: Engine) -> None:
    config = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev-ga.yaml").read_text())["config"]
    raw = {k.removeprefix("aio-mq:"): v for k, v in config.items()}
    summaries = engine.run(lambda: deploy(load_config(raw)))
    assert {name: resolve(s)["serviceType"] for name, s in summaries.items()} == {
        "default": "ClusterIp",
        "dev-edge": "LoadBalancer",
    }
