"""A GA stack (mqttbroker.iotoperations.azure.com/v1) in cluster mode: the pre-flight checks at
GA key paths, and discovery of the live GA listeners and authentication objects, which replace
what a rendering stack assumes. The cluster is tests/fake_cluster.py's GA install."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components import (
    ConfigError,
    MqListenerV1,
    discover_existing_listeners,
    discover_existing_listeners_v1,
)
from components import discovery as discovery_module
from components.cluster import ClusterError
from components.preflight import check_cluster
from components.v1.config import StackConfigV1
from components.v1.discovery import discover as discover_v1
from tests.conftest import MARK, Engine, serve
from tests.fake_cluster import (
    CERT_MANAGER,
    GA,
    GA_DEFAULT_PORT,
    MQ,
    FakeCluster,
    aio_ga_install,
    ga_authentication,
    ga_listener,
)

ROOT = Path(__file__).resolve().parent.parent
NS = "azure-iot-operations"
LIVE_FAKE = "on the cluster (context fake), not managed by this stack"
AUTOMATIC = {
    "mode": "Automatic",
    "certManagerCertificateSpec": {"issuerRef": {"name": "mine", "kind": "ClusterIssuer"}},
}


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    """The cluster a GA stack in cluster mode connects to: a fresh GA install."""
    return serve(monkeypatch, aio_ga_install())


def ga(**keys: Any) -> dict[str, Any]:
    return {"apiVersion": GA, "kubernetes": {"context": "aio-mq-local"}, **keys}


def problems(config: dict[str, Any]) -> list[str]:
    found, _ = check_cluster(StackConfigV1.model_validate(config))
    return [str(problem) for problem in found]


def run_main(engine: Engine, monkeypatch: pytest.MonkeyPatch, config: dict[str, Any]) -> None:
    engine.configure(config)
    monkeypatch.setattr(pulumi, "export", lambda *_: None)
    engine.run(lambda: runpy.run_path(str(ROOT / "__main__.py")))


def refused(engine: Engine, monkeypatch: pytest.MonkeyPatch, config: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        run_main(engine, monkeypatch, config)
    assert engine.mocks.registered == []
    return str(caught.value)


# --- pre-flight -----------------------------------------------------------------------------


def test_a_fresh_ga_install_has_what_a_plain_ga_stack_needs(cluster: FakeCluster) -> None:
    edge = {"name": "edge", "serviceType": "LoadBalancer", "ports": [{"port": 8883}]}
    assert problems(ga(listeners=[edge])) == []
    assert cluster.connected_with == (None, "aio-mq-local")
    assert f"/apis/{GA}/namespaces/{NS}/brokers/default" in cluster.requests


def test_a_preview_only_cluster_is_named_to_a_ga_stack(cluster: FakeCluster) -> None:
    cluster.apis = {MQ, CERT_MANAGER}
    (problem,) = problems(ga(listeners=[{"name": "edge", "ports": [{"port": 8883}]}]))
    assert problem.startswith(
        "kubernetes.context: the cluster (context fake) does not serve "
        "mqttbroker.iotoperations.azure.com/v1 BrokerListener: Azure IoT Operations (GA MQTT "
        "broker) is not installed there; it serves mq.iotoperations.azure.com/v1beta1 instead"
    )
    assert "or write this stack for the preview API" in problem


def test_every_ga_pre_flight_problem_at_its_ga_key_path_in_one_report(
    cluster: FakeCluster,
) -> None:
    config = ga(
        listeners=[
            {"name": "a", "namespace": "nowhere", "ports": [{"port": 1}]},
            {
                "name": "b",
                "brokerRef": "other",
                "serviceType": "LoadBalancer",
                "ports": [
                    {"port": 8883, "tls": AUTOMATIC},
                    {"port": 8884, "tls": {"mode": "Manual", "manual": {"secretRef": "gone"}}},
                ],
            },
        ]
    )
    found = problems(config)
    assert [p.split(":", 1)[0] for p in found] == [
        "listeners[0].namespace",
        "listeners[1].ports[0].tls.certManagerCertificateSpec.issuerRef.name",
        "listeners[1].brokerRef",
        "listeners[1].ports[1].tls.manual.secretRef",
    ]
    assert "ClusterIssuer 'mine' does not exist on the cluster" in found[1]
    assert "Broker 'other' does not exist in namespace 'azure-iot-operations'" in found[2]
    assert "(on the cluster: default)" in found[2]
    assert "Secret 'gone' does not exist in namespace 'azure-iot-operations'" in found[3]


def test_cert_manager_missing_names_the_ga_key(cluster: FakeCluster) -> None:
    cluster.apis = {GA}
    (problem,) = problems(ga(listeners=[{"name": "b", "ports": [{"port": 1, "tls": AUTOMATIC}]}]))
    assert problem.startswith(
        "listeners[0].ports[0].tls.certManagerCertificateSpec.issuerRef: cert-manager is not "
        "installed"
    )
    assert "instead of tls.certManagerCertificateSpec" in problem


# --- discovery --------------------------------------------------------------------------------


def test_discovery_reads_the_live_ga_objects(cluster: FakeCluster) -> None:
    ga_listener(cluster, "mine", {"port": 1}, metadata=MARK, serviceType="NodePort")
    ga_listener(
        cluster, "np", {"port": 2, "nodePort": 30100}, namespace="other", serviceType="nodePort"
    )
    ga_listener(cluster, "elsewhere", {"port": 3}, namespace="other", serviceType="NodePort")
    found = discover_v1(cluster, [NS], "organization/aio-mq/test")
    assert [(f.name, f.service_type, [p.port for p in f.ports]) for f in found.listeners] == [
        ("default", "ClusterIp", [18883]),
        ("np", "NodePort", [2]),  # another namespace: for its node port only
    ]
    assert str(found.listeners[0]) == (
        "the listener 'default' (ClusterIp Service aio-broker) on the cluster (context fake), "
        "not managed by this stack"
    )
    assert [(a.name, a.methods) for a in found.authentications] == [
        ("default", ("ServiceAccountToken",))
    ]


def test_a_second_cluster_ip_listener_meets_the_live_default(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    message = refused(engine, monkeypatch, ga(listeners=[{"name": "mine", "ports": [{"port": 1}]}]))
    assert (
        "listeners[0].serviceType: Service types: broker 'default' has at most one ClusterIp "
        "listener, and the listener 'default' (ClusterIp Service aio-broker) on the cluster "
        "(context fake), not managed by this stack is one\n"
        "      fix: add these ports to 'default' instead: manage it in this stack (declare it "
        "with its port 18883 and yours)" in message
    )


def test_declaring_default_manages_the_live_one(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    default = {
        "name": "default",
        "serviceName": "aio-broker",
        "ports": [GA_DEFAULT_PORT, {"port": 1883}],
    }
    run_main(engine, monkeypatch, ga(listeners=[default]))
    assert list(engine.mocks.ga_listeners) == ["default"]


def test_without_default_on_the_cluster_nothing_is_assumed(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    del cluster.objects[f"/apis/{GA}/namespaces/{NS}/brokerlisteners/default"]
    # A ClusterIp listener of its own is fine where no `default` listener runs ...
    run_main(engine, monkeypatch, ga(listeners=[{"name": "mine", "ports": [{"port": 1}]}]))
    assert list(engine.mocks.ga_listeners) == ["mine"]


def test_references_are_checked_against_the_live_objects(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    ga_authentication(cluster, "devices", "X509")
    config = ga(
        listeners=[
            {
                "name": "edge",
                "serviceType": "LoadBalancer",
                "ports": [
                    {"port": 8883, "authenticationRef": "default"},  # live: fine
                    {"port": 8884, "authenticationRef": "devices"},  # X509 without TLS
                    {"port": 8885, "authenticationRef": "gone"},
                ],
            }
        ]
    )
    message = refused(engine, monkeypatch, config)
    assert "has 2 problems" in message
    assert (
        "listeners[0].ports[1].authenticationRef: BrokerAuthentication 'devices' (on the "
        "cluster (context fake), not managed by this stack) has an X509 method, but port 8884 "
        "has no TLS" in message
    )
    assert (
        "listeners[0].ports[2].authenticationRef: BrokerAuthentication 'gone' is neither "
        "declared nor existing in namespace 'azure-iot-operations'" in message
    )
    assert "(known here: default, devices)" in message


DEFAULT_AUTHENTICATION = f"/apis/{GA}/namespaces/{NS}/brokerauthentications/default"
EDGE_ON_DEFAULT = {
    "name": "edge",
    "serviceType": "LoadBalancer",
    "ports": [{"port": 8883, "authenticationRef": "default"}],
}


def test_a_cluster_without_the_default_authentication_refuses_a_ref_to_it(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    del cluster.objects[DEFAULT_AUTHENTICATION]
    message = refused(engine, monkeypatch, ga(listeners=[EDGE_ON_DEFAULT]))
    assert "BrokerAuthentication 'default' is neither declared nor existing" in message


def test_an_authentication_declared_existing_counts_where_discovery_finds_none(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    del cluster.objects[DEFAULT_AUTHENTICATION]
    tokens = {"method": "ServiceAccountToken", "serviceAccountTokenSettings": {"audiences": ["a"]}}
    existing = [{"name": "default", "authenticationMethods": [tokens]}]
    run_main(engine, monkeypatch, ga(listeners=[EDGE_ON_DEFAULT], existingAuthentications=existing))
    assert list(engine.mocks.ga_listeners) == ["edge"]


def test_a_declared_authentication_that_is_live_and_not_ours_is_a_duplicate(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    authentication = {
        "name": "default",
        "authenticationMethods": [{"method": "X509", "x509Settings": {}}],
    }
    message = refused(
        engine,
        monkeypatch,
        ga(
            listeners=[{"name": "e", "serviceType": "LoadBalancer", "ports": [{"port": 1}]}],
            authentications=[authentication],
        ),
    )
    assert (
        "authentications[0].name: Names: BrokerAuthentication 'default' is declared twice in "
        "namespace 'azure-iot-operations' (also on the cluster (context fake), not managed by "
        "this stack)" in message
    )


def test_a_node_port_used_by_a_live_listener_elsewhere_is_refused(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    ga_listener(
        cluster, "np", {"port": 2, "nodePort": 30100}, namespace="other", serviceType="NodePort"
    )
    cluster.namespace("other")
    mine = {"name": "mine", "serviceType": "NodePort", "ports": [{"port": 1, "nodePort": 30100}]}
    message = refused(engine, monkeypatch, ga(listeners=[mine]))
    assert (
        "listeners[0].ports[0].nodePort: NodePorts: nodePort 30100 is used twice (also the "
        "listener 'np' (NodePort Service np) on the cluster (context fake), not managed by this "
        "stack)" in message
    )


def test_discovery_off_keeps_the_assumed_defaults_but_still_checks_the_cluster(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    del cluster.objects[f"/apis/{GA}/namespaces/{NS}/brokerlisteners/default"]
    config = ga(discovery=False, listeners=[{"name": "mine", "ports": [{"port": 1}]}])
    message = refused(engine, monkeypatch, config)
    assert "the default listener 'default' (ClusterIp Service aio-broker) is one" in message
    cluster.apis = {MQ, CERT_MANAGER}
    config = ga(
        discovery=False, existingListeners=[], listeners=[{"name": "m", "ports": [{"port": 1}]}]
    )
    message = refused(engine, monkeypatch, config)
    assert "does not serve mqttbroker.iotoperations.azure.com/v1 BrokerListener" in message


def test_a_composition_discovers_the_live_ga_listeners(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    monkeypatch.setattr(discovery_module, "connect", lambda kubeconfig, context: cluster)

    def program() -> None:
        also = [{"name": "soon", "serviceType": "NodePort", "ports": [{"port": 1890}]}]
        discover_existing_listeners_v1(context="aio-mq-local", also=also)
        MqListenerV1("ok", {"name": "ok", "serviceType": "LoadBalancer", "ports": [{"port": 1}]})
        MqListenerV1("clash", {"name": "clash", "ports": [{"port": 2}]})

    with pytest.raises(ConfigError) as caught:
        engine.run(program)
    message = str(caught.value)
    assert (
        "Service types: broker 'default' has at most one ClusterIp listener, and the listener "
        f"'default' (ClusterIp Service aio-broker) {LIVE_FAKE} is one" in message
    )
    assert "'ok'" not in message
    assert engine.mocks.registered == []


def test_a_composition_on_a_cluster_without_default_assumes_none(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    del cluster.objects[f"/apis/{GA}/namespaces/{NS}/brokerlisteners/default"]
    monkeypatch.setattr(discovery_module, "connect", lambda kubeconfig, context: cluster)

    def program() -> None:
        found = discover_existing_listeners_v1()
        assert [a.name for a in found.authentications] == ["default"]
        MqListenerV1("mine", {"name": "mine", "ports": [{"port": 2}]})

    engine.run(program)
    assert list(engine.mocks.ga_listeners) == ["mine"]


def left_in_place(cluster: FakeCluster) -> None:
    """`default` as a stack that managed it (adding 1883), then stopped, leaves it: retained,
    with the stack's mark."""
    ga_listener(
        cluster,
        "default",
        GA_DEFAULT_PORT,
        {"port": 1883},
        metadata=MARK,
        serviceType="ClusterIp",
        serviceName="aio-broker",
    )


def test_a_default_once_managed_and_left_in_place_still_counts(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    left_in_place(cluster)
    message = refused(engine, monkeypatch, ga(listeners=[{"name": "mine", "ports": [{"port": 1}]}]))
    assert (
        "the listener 'default' (ClusterIp Service aio-broker) on the cluster (context fake), "
        "left in place by this stack is one" in message
    )


def test_a_default_left_in_place_is_managed_again_when_declared(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    left_in_place(cluster)
    default = {"name": "default", "serviceName": "aio-broker", "ports": [GA_DEFAULT_PORT]}
    run_main(engine, monkeypatch, ga(listeners=[default]))
    assert list(engine.mocks.ga_listeners) == ["default"]


def test_a_default_another_stack_manages_is_refused_naming_that_stack(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    theirs = {**MARK, "annotations": {"aio-mq/stack": "organization/aio-mq/staging-ga"}}
    ga_listener(
        cluster,
        "default",
        GA_DEFAULT_PORT,
        {"port": 1883},
        metadata=theirs,
        serviceType="ClusterIp",
        serviceName="aio-broker",
    )
    default = {"name": "default", "serviceName": "aio-broker", "ports": [GA_DEFAULT_PORT]}
    edge = {"name": "edge", "serviceType": "LoadBalancer", "ports": [{"port": 8883}]}
    message = refused(engine, monkeypatch, ga(listeners=[edge, default]))
    assert (
        "  - listeners[1]: the listener 'default' (ClusterIp Service aio-broker) on the cluster "
        "(context fake), managed by the aio-mq stack organization/aio-mq/staging-ga, not this "
        "one: declaring 'default' here would take it over from that stack and rewrite its "
        "ports\n"
        "      fix: add these ports to 'default' in organization/aio-mq/staging-ga and remove it "
        "from this stack; or release it there first (`pulumi destroy` that stack, or remove "
        "'default' from its listeners and `up`: it stays on the cluster, unmarked)" in message
    )
    assert "1 problem" in message


def test_a_live_cluster_ip_listener_beside_a_managed_default_must_go(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster
) -> None:
    ga_listener(cluster, "rogue", {"port": 1884}, serviceType="ClusterIp")
    default = {"name": "default", "serviceName": "aio-broker", "ports": [GA_DEFAULT_PORT]}
    message = refused(engine, monkeypatch, ga(listeners=[default]))
    assert (
        "fix: 'rogue' takes the ClusterIp place of 'default', which Azure IoT Operations' "
        "components connect to: delete it on the cluster, or give it another serviceType" in message
    )


@pytest.mark.parametrize(
    "discover_existing", [discover_existing_listeners, discover_existing_listeners_v1]
)
def test_a_composition_on_a_cluster_that_does_not_answer_is_told_so(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, discover_existing: Any
) -> None:
    def connect(kubeconfig: str | None, context: str | None) -> FakeCluster:
        raise ClusterError("the API server of context 'x' did not answer within 10 s")

    monkeypatch.setattr(discovery_module, "connect", connect)
    with pytest.raises(ConfigError) as caught:
        engine.run(lambda: discover_existing(context="x"))
    message = str(caught.value)
    assert message.startswith(f"aio-mq: {discover_existing.__name__} has 1 problem")
    assert "did not answer within 10 s" in message
    assert "fix: pass the kubeconfig and context of a running cluster" in message
    assert engine.mocks.registered == []
