"""Pre-flight checks and live discovery (components/preflight.py, components/v1beta1/discovery.py)
against an in-memory cluster, and the program that runs them."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components import ConfigError, MqListener, discover_existing_listeners
from components import discovery as discovery_module
from components.config import RENDER_OVERRIDE_ENV
from components.package import MqListenerSet
from components.preflight import check_cluster
from components.stack import CONFIG_MODELS
from components.v1beta1.authlinks import AUTHENTICATION, AUTHORIZATION, AuthObject
from components.v1beta1.discovery import discover
from tests.conftest import MARK, Engine
from tests.fake_cluster import CERT_MANAGER, GA, MQ, FakeCluster
from tests.pki import tls_pair

ROOT = Path(__file__).resolve().parent.parent
NS = "azure-iot-operations"
OURS = MARK


def problems(config: dict[str, Any]) -> list[str]:
    model = CONFIG_MODELS[config.get("apiVersion", MQ)]
    found, _ = check_cluster(model.model_validate(config))
    return [str(problem) for problem in found]


def run_main(engine: Engine, monkeypatch: pytest.MonkeyPatch, config: dict[str, Any]) -> None:
    engine.configure(config)
    monkeypatch.setattr(pulumi, "export", lambda *_: None)

    def program() -> None:
        runpy.run_path(str(ROOT / "__main__.py"))

    engine.run(program)


def refused(engine: Engine, monkeypatch: pytest.MonkeyPatch, config: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        run_main(engine, monkeypatch, config)
    assert engine.mocks.registered == []
    return str(caught.value)


def automatic(name: str, kind: str = "Issuer") -> dict[str, Any]:
    return {"automatic": {"issuerRef": {"name": name, "kind": kind}}}


# --- a fresh install passes ---------------------------------------------------------------


def test_a_fresh_install_has_what_a_plain_stack_needs(cluster: FakeCluster) -> None:
    config = {
        "kubernetes": {"context": "aio-mq-local", "kubeconfig": "/k/config"},
        "listeners": [{"name": "a", "port": 1884, "serviceName": "aio-mq-dmqtt-frontend"}],
    }
    assert problems(config) == []
    assert cluster.connected_with == ("/k/config", "aio-mq-local")


def test_render_mode_reads_no_cluster(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    monkeypatch.setenv(RENDER_OVERRIDE_ENV, "rendered/x")
    run_main(engine, monkeypatch, {"listeners": [{"name": "a", "port": 1884, "namespace": "x"}]})
    assert cluster.connected_with is None and cluster.requests == []
    assert list(engine.mocks.broker_listeners) == ["a"]


def test_a_listener_set_of_the_package_reads_no_cluster(
    engine: Engine, cluster: FakeCluster
) -> None:
    # Its cluster is the consumer's provider, which the component cannot read.
    engine.run(lambda: MqListenerSet("set", {"listeners": [{"name": "a", "port": 1884}]}))
    assert cluster.connected_with is None and cluster.requests == []
    assert list(engine.mocks.broker_listeners) == ["a"]


# --- the listener API ---------------------------------------------------------------------


def test_cluster_without_mq(cluster: FakeCluster) -> None:
    cluster.apis = {CERT_MANAGER}
    assert problems({"listeners": [{"name": "a", "port": 1884}]}) == [
        "kubernetes.context: the cluster (context fake) does not serve "
        "mq.iotoperations.azure.com/v1beta1 BrokerListener: Azure IoT Operations (preview MQ) "
        "is not installed there\n"
        "      fix: install Azure IoT Operations (preview MQ) on the cluster, or point "
        "aio-mq:kubernetes.context at one that has it"
    ]


def test_ga_only_cluster_is_named_as_such(cluster: FakeCluster) -> None:
    cluster.apis = {GA, CERT_MANAGER}
    (problem,) = problems({"listeners": [{"name": "a", "port": 1884}]})
    assert (
        "does not serve mq.iotoperations.azure.com/v1beta1 BrokerListener: Azure IoT "
        "Operations (preview MQ) is not installed there; it serves "
        "mqttbroker.iotoperations.azure.com/v1 instead: the cluster runs Azure IoT Operations "
        "(GA MQTT broker)" in problem
    )
    assert "or move this stack to GA: tools/migrate-to-v1 stacks/Pulumi.test.yaml" in problem


def test_the_check_follows_the_stacks_api_version(cluster: FakeCluster) -> None:
    ga = {"apiVersion": GA, "listeners": [{"name": "a", "ports": [{"port": 1884}]}]}
    (problem,) = problems(ga)
    assert (
        "does not serve mqttbroker.iotoperations.azure.com/v1 BrokerListener: Azure IoT "
        "Operations (GA MQTT broker) is not installed there; it serves "
        "mq.iotoperations.azure.com/v1beta1 instead: the cluster runs Azure IoT Operations "
        "(preview MQ)" in problem
    )
    assert "this stack writes mqttbroker.iotoperations.azure.com/v1" in problem
    assert "or write this stack for the preview API" in problem


# --- cert-manager and issuers -------------------------------------------------------------


def test_cert_manager_missing_is_reported_once_at_the_first_user(cluster: FakeCluster) -> None:
    cluster.apis = {MQ}
    config = {
        "issuers": [{"name": "ss", "selfSigned": {}}],
        "listeners": [
            {"name": "a", "port": 1884, "tls": automatic("ss")},
            {"name": "b", "port": 1885, "tls": automatic("ss")},
            {"name": "plain", "port": 1886},
        ],
    }
    assert problems(config) == [
        "issuers[0]: cert-manager is not installed on the cluster (context fake): it does not "
        "serve cert-manager.io/v1 Issuer and ClusterIssuer (also used by 2 other keys)\n"
        "      fix: install cert-manager on the cluster, or use tls.manual (a Secret) instead "
        "of tls.automatic and remove aio-mq:issuers"
    ]


def test_cert_manager_is_not_needed_without_issuers(cluster: FakeCluster) -> None:
    cluster.apis = {MQ}
    assert problems({"listeners": [{"name": "a", "port": 1884}]}) == []


def test_issuer_on_the_cluster_or_in_the_stack_is_found(cluster: FakeCluster) -> None:
    cluster.issuer("corp-ca")  # a ClusterIssuer
    config = {
        "issuers": [{"name": "ss", "selfSigned": {}}],
        "listeners": [
            {"name": "a", "port": 1884, "tls": automatic("mq-dmqtt-frontend")},
            {"name": "b", "port": 1885, "tls": automatic("corp-ca", "ClusterIssuer")},
            {"name": "c", "port": 1886, "tls": automatic("ss")},
        ],
    }
    assert problems(config) == []


def test_missing_issuers_name_the_key_and_what_exists(cluster: FakeCluster) -> None:
    config = {
        "listeners": [
            {"name": "a", "port": 1884, "tls": automatic("nope")},
            {"name": "b", "port": 1885, "tls": automatic("nope")},
            {"name": "c", "port": 1886, "tls": automatic("mq-dmqtt-frontend", "ClusterIssuer")},
        ]
    }
    assert problems(config) == [
        "listeners[0].tls.automatic.issuerRef.name: Issuer 'nope' does not exist in namespace "
        "'azure-iot-operations' on the cluster (context fake), and the stack does not create it "
        "(also used by 1 other key)\n"
        "      fix: declare it under aio-mq:issuers, create it on the cluster, or name one that "
        "exists (on the cluster: mq-dmqtt-frontend)",
        "listeners[2].tls.automatic.issuerRef.name: ClusterIssuer 'mq-dmqtt-frontend' does not "
        "exist on the cluster (context fake), and the stack does not create it\n"
        "      fix: declare it under aio-mq:issuers, create it on the cluster, or name one that "
        "exists (there are none)",
    ]


# --- namespaces, brokers, secrets ----------------------------------------------------------


def test_missing_namespaces_are_reported_once_each_and_nothing_inside_them(
    cluster: FakeCluster,
) -> None:
    config = {
        "namespace": "mq",
        "issuers": [{"name": "ss", "selfSigned": {}}],
        "listeners": [
            {"name": "a", "port": 1884, "tls": {"manual": {"secretName": "s"}}},
            {"name": "b", "port": 1885, "namespace": "edge", "tls": automatic("elsewhere")},
        ],
    }
    assert problems(config) == [
        "listeners[1].namespace: namespace 'edge' does not exist on the cluster (context fake)\n"
        "      fix: create it (kubectl create namespace edge), or use one that exists (on the "
        "cluster: azure-iot-operations)",
        "namespace: namespace 'mq' does not exist on the cluster (context fake) (also used by 1 "
        "other key)\n"
        "      fix: create it (kubectl create namespace mq), or use one that exists (on the "
        "cluster: azure-iot-operations)",
    ]


def test_missing_brokers(cluster: FakeCluster) -> None:
    config = {
        "brokerRef": "edge",
        "listeners": [
            {"name": "a", "port": 1884},
            {"name": "b", "port": 1885},
            {"name": "c", "port": 1886, "brokerRef": "broker"},
            {"name": "d", "port": 1887, "brokerRef": "brokr"},
        ],
    }
    assert problems(config) == [
        "brokerRef: Broker 'edge' does not exist in namespace 'azure-iot-operations' on the "
        "cluster (context fake) (also used by 1 other key)\n"
        "      fix: name a Broker of that namespace (on the cluster: broker), or deploy the "
        "broker first",
        "listeners[3].brokerRef: Broker 'brokr' does not exist in namespace "
        "'azure-iot-operations' on the cluster (context fake)\n"
        "      fix: name a Broker of that namespace (on the cluster: broker), or deploy the "
        "broker first",
    ]


def test_manual_tls_secrets(cluster: FakeCluster) -> None:
    cert, key = tls_pair()
    cluster.secrets[(NS, "good")] = "kubernetes.io/tls"
    cluster.secrets[(NS, "opaque")] = "Opaque"
    config = {
        "listeners": [
            {"name": "a", "port": 1884, "tls": {"manual": {"secretName": "good"}}},
            {"name": "b", "port": 1885, "tls": {"manual": {"secretName": "missing"}}},
            {"name": "c", "port": 1886, "tls": {"manual": {"secretName": "opaque"}}},
            # The stack creates this one (listener e), so d may use it.
            {"name": "d", "port": 1887, "tls": {"manual": {"secretName": "made"}}},
            {
                "name": "e",
                "port": 1888,
                "tls": {"manual": {"secretName": "made", "certificate": cert, "privateKey": key}},
            },
        ]
    }
    assert problems(config) == [
        "listeners[1].tls.manual.secretName: Secret 'missing' does not exist in namespace "
        "'azure-iot-operations' on the cluster (context fake), and the stack does not create "
        "it; without it the broker frontend does not start\n"
        "      fix: kubectl create secret tls missing -n azure-iot-operations "
        "--cert=server.crt --key=server.key, or give tls.manual.certificate and privateKey so "
        "that the stack creates it",
        "listeners[2].tls.manual.secretName: Secret 'opaque' in namespace "
        "'azure-iot-operations' is of type Opaque, not kubernetes.io/tls; the broker frontend "
        "does not start with it\n"
        "      fix: replace it with a TLS Secret: kubectl create secret tls opaque -n "
        "azure-iot-operations --cert=server.crt --key=server.key, or give "
        "tls.manual.certificate and privateKey so that the stack creates it",
    ]
    assert f"/api/v1/namespaces/{NS}/secrets/made" not in cluster.requests


def test_every_problem_comes_in_one_error_with_the_rules(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    cluster.apis = {MQ}
    message = refused(
        engine,
        monkeypatch,
        {
            "issuers": [{"name": "ss", "selfSigned": {}}],
            "listeners": [
                {"name": "a", "port": 1884, "brokerRef": "nope", "tls": automatic("ss")},
                {"name": "b", "port": 8883},
            ],
        },
    )
    assert "the configuration has 3 problems; no resource was registered." in message
    assert "issuers[0]: cert-manager is not installed" in message
    assert "listeners[0].brokerRef: Broker 'nope' does not exist" in message
    assert "Ports: listeners[1] 'b'" in message


# --- the cluster cannot be read ------------------------------------------------------------


def test_a_request_that_fails_midway_is_one_problem(cluster: FakeCluster) -> None:
    cluster.forbidden.add("/api/v1/namespaces/azure-iot-operations")
    assert problems({"listeners": [{"name": "a", "port": 1884}]}) == [
        "kubernetes.context: the API server of context 'fake' answered 403\n"
        "      fix: start the cluster (the local stack: tools/local-cluster up), set "
        "aio-mq:kubernetes.context to a cluster that answers, or render offline with "
        "aio-mq:kubernetes.renderYamlToDirectory"
    ]


# --- discovery ------------------------------------------------------------------------------


def test_a_live_listener_not_ours_is_checked_like_an_existing_one(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    cluster.listener("telemetry", 1883, serviceType="loadBalancer", serviceName="edge")
    message = refused(
        engine,
        monkeypatch,
        {
            "listeners": [
                {"name": "telemetry", "port": 1884},
                {"name": "lb", "port": 1885, "serviceType": "loadBalancer", "serviceName": "lb"},
            ]
        },
    )
    assert "has 2 problems" in message
    assert (
        "Names: listeners[0] 'telemetry' (clusterIp aio-mq-dmqtt-frontend:1884) conflicts with "
        "the listener 'telemetry' on the cluster (context fake), not managed by this stack "
        "(loadBalancer edge:1883): both are named 'telemetry' in namespace "
        "'azure-iot-operations'\n"
        "      fix: rename 'telemetry' (to manage the live listener with this stack, delete it "
        "on the cluster first)" in message
    )
    assert "Rule 1: listeners[1] 'lb'" in message and "already uses 'edge'" in message


def test_the_default_listener_another_stack_manages_is_refused_naming_it(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    # The preview API's `listener` is never taken over (no stack manages the live one), so a
    # stack's mark on it is refused like any other live listener: no GA-style hole.
    other = {**OURS, "annotations": {"aio-mq/stack": "organization/aio-mq/staging"}}
    cluster.listener("listener", 8883, metadata=other, serviceName="aio-mq-dmqtt-frontend")
    message = refused(engine, monkeypatch, {"listeners": [{"name": "listener", "port": 8883}]})
    assert (
        "conflicts with the listener 'listener' on the cluster (context fake), managed by the "
        "aio-mq stack organization/aio-mq/staging, not this one" in message
    )
    assert "fix: rename 'listener' (to manage the live listener with this stack" in message


def test_our_own_live_listeners_are_skipped_whatever_their_name(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    # As after an `up`: the stack's listeners are on the cluster, with the stack's mark.
    cluster.listener("a", 1884, metadata=OURS, serviceType="nodePort", serviceName="np")
    cluster.listener("renamed-away", 1885, metadata=OURS, nodePort=30001)
    run_main(engine, monkeypatch, {"listeners": [{"name": "a", "port": 1885}]})
    assert list(engine.mocks.broker_listeners) == ["a"]


def test_a_listener_of_another_aio_mq_stack_is_not_ours(cluster: FakeCluster) -> None:
    other = {**OURS, "annotations": {"aio-mq/stack": "organization/aio-mq/staging"}}
    cluster.listener("a", 1884, metadata=other)
    found = discover(cluster, [NS], MQ, "organization/aio-mq/test")
    assert [str(listener) for listener in found.listeners] == [
        "the listener 'listener' on the cluster (context fake), not managed by this stack "
        "(clusterIp aio-mq-dmqtt-frontend:8883)",
        "the listener 'a' on the cluster (context fake), managed by the aio-mq stack "
        "organization/aio-mq/staging, not this one (clusterIp aio-mq-dmqtt-frontend:1884)",
    ]


def test_other_namespaces_count_for_their_node_ports_only(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    cluster.listener("np", 1884, namespace="elsewhere", serviceType="nodePort", nodePort=30100)
    cluster.listener("same-port", 1885, namespace="elsewhere")
    message = refused(
        engine,
        monkeypatch,
        {
            "listeners": [
                {"name": "mine", "port": 1885, "serviceType": "nodePort", "serviceName": "n"},
                {
                    "name": "np",
                    "port": 1886,
                    "serviceType": "nodePort",
                    "serviceName": "n",
                    "nodePort": 30100,
                },
            ]
        },
    )
    assert "has 1 problem;" in message
    assert "NodePorts: listeners[1] 'np'" in message
    assert "the listener 'np' on the cluster (context fake)" in message


def test_two_live_listeners_that_clash_are_not_this_stacks_problem(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    cluster.listener("same-port", 8883)  # clashes with the default listener
    run_main(engine, monkeypatch, {"listeners": [{"name": "a", "port": 1884}]})
    assert list(engine.mocks.broker_listeners) == ["a"]


def test_existing_listeners_add_to_the_discovered_ones(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    message = refused(
        engine,
        monkeypatch,
        {
            # `listener` is live already (the live one counts); `planned` is not there yet.
            "existingListeners": [
                {"name": "listener", "port": 8883},
                {"name": "planned", "port": 1890},
            ],
            "listeners": [{"name": "a", "port": 1890}],
        },
    )
    assert "has 1 problem;" in message
    assert "Ports: listeners[0] 'a'" in message and "existingListeners[1] 'planned'" in message


def test_discovery_off_falls_back_to_existing_listeners(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    cluster.listener("telemetry", 1884)
    run_main(
        engine,
        monkeypatch,
        {"discovery": False, "listeners": [{"name": "telemetry", "port": 1885}]},
    )
    assert list(engine.mocks.broker_listeners) == ["telemetry"]
    assert not [r for r in cluster.requests if "brokerlisteners" in r]


def test_forbidden_cluster_wide_list_falls_back_to_the_namespaces(cluster: FakeCluster) -> None:
    cluster.forbidden.add(f"/apis/{MQ}/brokerlisteners")
    found = discover(cluster, [NS], MQ, "organization/aio-mq/test")
    assert [listener.name for listener in found.listeners] == ["listener"]
    assert f"/apis/{MQ}/namespaces/{NS}/brokerlisteners" in cluster.requests


def test_authentications_and_authorizations_are_discovered_as_link_facts(
    cluster: FakeCluster,
) -> None:
    cluster.add(
        f"/apis/{MQ}/namespaces/{NS}/brokerauthorizations/authz",
        {"metadata": {"name": "authz", "namespace": NS}, "spec": {"listenerRef": ["listener"]}},
    )
    cluster.add(
        f"/apis/{MQ}/namespaces/{NS}/brokerauthentications/certs",
        {
            "metadata": {"name": "certs", "namespace": NS},
            "spec": {
                "listenerRef": ["a", "b"],
                "authenticationMethods": [{"sat": {"audiences": ["x"]}}, {"x509": {}}],
            },
        },
    )
    cluster.add(
        f"/apis/{MQ}/namespaces/{NS}/brokerauthentications/ours",
        {"metadata": {"name": "ours", "namespace": NS, **OURS}, "spec": {"listenerRef": ["c"]}},
    )
    found = discover(cluster, [NS], MQ, "organization/aio-mq/test")
    live = "on the cluster (context fake), not managed by this stack"
    assert found.authentications == (
        AuthObject(AUTHENTICATION, "authn", NS, ("listener",), live, existing=True),
        AuthObject(AUTHENTICATION, "certs", NS, ("a", "b"), live, existing=True, x509=1),
    )
    assert found.authorizations == (
        AuthObject(AUTHORIZATION, "authz", NS, ("listener",), live, existing=True),
    )
    assert [(f.name, f.authentication, f.tls) for f in found.listener_links] == [
        ("listener", True, True)
    ]


def test_a_live_authentication_serves_the_stacks_listener(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    cluster.add(
        f"/apis/{MQ}/namespaces/{NS}/brokerauthentications/team-authn",
        {
            "metadata": {"name": "team-authn", "namespace": NS},
            "spec": {"listenerRef": ["a"], "authenticationMethods": [{"sat": {}}]},
        },
    )
    run_main(
        engine,
        monkeypatch,
        {"listeners": [{"name": "a", "port": 1884, "authenticationEnabled": True}]},
    )
    assert list(engine.mocks.broker_listeners) == ["a"]


def test_an_authentication_may_list_a_live_listener_of_its_namespace(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    # No listener of the stack is in `edge`: the namespace is read for the authentication.
    cluster.namespace("edge").listener("gateway", 1884, namespace="edge")
    authn = {"name": "gw-authn", "namespace": "edge", "listenerRef": ["gateway"]}
    run_main(
        engine,
        monkeypatch,
        {
            "listeners": [],
            "authentications": [
                {**authn, "authenticationMethods": [{"sat": {"audiences": ["a"]}}]}
            ],
        },
    )
    assert f"/apis/{MQ}/brokerlisteners" in cluster.requests


def test_the_namespace_of_an_authentication_must_exist(cluster: FakeCluster) -> None:
    authn = {"name": "a", "namespace": "nowhere", "listenerRef": ["x"]}
    methods = [{"sat": {"audiences": ["a"]}}]
    config = {"listeners": [], "authentications": [{**authn, "authenticationMethods": methods}]}
    (problem,) = problems(config)
    assert problem.startswith(
        "authentications[0].namespace: namespace 'nowhere' does not exist on the cluster"
    )


def test_without_a_live_authentication_the_listener_is_refused(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    message = refused(
        engine,
        monkeypatch,
        {"listeners": [{"name": "a", "port": 1884, "authenticationEnabled": True}]},
    )
    assert "listeners[0].authenticationEnabled" in message


# --- compositions ---------------------------------------------------------------------------


def test_compositions_discover_the_live_listeners(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    monkeypatch.setattr(discovery_module, "connect", lambda kubeconfig, context: cluster)

    def program() -> None:
        discover_existing_listeners(context="aio-mq-local", also=[{"name": "x", "port": 1890}])
        MqListener("ok", {"name": "ok", "port": 1884})
        MqListener("clash", {"name": "clash", "port": 8883})

    with pytest.raises(ConfigError) as caught:
        engine.run(program)
    message = str(caught.value)
    assert (
        "Ports: 'clash' (clusterIp aio-mq-dmqtt-frontend:8883) conflicts with the listener "
        "'listener' on the cluster (context fake), not managed by this stack" in message
    )
    assert "'ok'" not in message and "'x'" not in message
    assert engine.mocks.registered == []
