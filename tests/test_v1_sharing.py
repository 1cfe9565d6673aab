"""The GA rules (components/v1/sharing.py): each rule, its message and fix, and properties that
hold for any set of listeners."""

from __future__ import annotations

import random as stdlib_random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from components.v1.models import DEFAULT_LISTENER, MqListenerV1Args
from components.v1.sharing import (
    Declared,
    Listener,
    ListenerIndex,
    Port,
    assumed_existing,
    default_listener_warnings,
    duplicate_names,
    listener_problems,
    reference_problems,
)

NS = "azure-iot-operations"
INSTALLED = Listener.of(DEFAULT_LISTENER, NS, "default", "the default listener", existing=True)


def ga(origin: str, **fields: Any) -> Listener:
    data = {"name": origin.replace("[", "").replace("]", ""), "ports": [{"port": 1883}], **fields}
    return Listener.of(MqListenerV1Args.model_validate(data), NS, "default", origin)


def messages(*listeners: Listener) -> list[str]:
    return [p.message for p in listener_problems(listeners)]


def test_a_second_cluster_ip_listener_beside_default_is_refused_with_the_way_out() -> None:
    (problem,) = listener_problems([INSTALLED, ga("listeners[0]", name="mine")])
    assert problem.path == "listeners[0].serviceType"
    assert problem.message == (
        "Service types: broker 'default' has at most one ClusterIp listener, and the default "
        "listener 'default' (ClusterIp Service aio-broker) is one"
    )
    assert problem.fix == (
        "add these ports to 'default' instead: manage it in this stack (leave it out of "
        "existingListeners and declare it with its port 18883 and yours), or use serviceType "
        "LoadBalancer or NodePort"
    )


def test_the_way_out_names_only_service_types_still_free() -> None:
    lb = ga("listeners[0]", name="lb", serviceType="LoadBalancer", ports=[{"port": 1}])
    (problem,) = listener_problems([INSTALLED, lb, ga("listeners[1]", name="mine")])
    assert problem.fix is not None and problem.fix.endswith("or use serviceType NodePort")


def test_two_declared_listeners_of_one_type_are_told_to_merge() -> None:
    a = ga("listeners[0]", name="a", serviceType="LoadBalancer", ports=[{"port": 1}])
    b = ga("listeners[1]", name="b", serviceType="LoadBalancer", ports=[{"port": 2}])
    (problem,) = listener_problems([a, b])
    assert (
        problem.fix
        == "move these ports into the ports of 'a', or use serviceType ClusterIp or NodePort"
    )


def test_one_listener_per_type_is_per_broker() -> None:
    a = ga("listeners[0]", name="a", serviceType="LoadBalancer")
    b = ga("listeners[1]", name="b", serviceType="LoadBalancer", brokerRef="other")
    assert listener_problems([a, b]) == []


def test_service_names_are_unique_in_a_namespace_defaulting_to_the_listener_name() -> None:
    a = ga("listeners[0]", name="edge", serviceType="LoadBalancer", ports=[{"port": 1}])
    b = ga(
        "listeners[1]", name="b", serviceType="NodePort", serviceName="edge", ports=[{"port": 2}]
    )
    (problem,) = listener_problems([a, b])
    assert problem.path == "listeners[1].serviceName"
    assert problem.message == (
        "Service names: listeners[1] 'b' (NodePort Service edge) and listeners[0] 'edge' "
        "(LoadBalancer Service edge) both use Service 'edge' in namespace 'azure-iot-operations'"
    )


def test_a_port_is_unique_across_the_listeners_of_a_broker() -> None:
    lb = ga("listeners[0]", name="lb", serviceType="LoadBalancer", ports=[{"port": 18883}])
    (problem,) = listener_problems([INSTALLED, lb])
    assert problem.path == "listeners[0].ports[0].port"
    assert problem.message == (
        "Ports: port 18883 is used twice on broker 'default' (also the default listener "
        "'default' (ClusterIp Service aio-broker))"
    )
    assert problem.fix == "give this port another number, or remove it from 'lb'"


def test_a_port_is_unique_within_a_listener() -> None:
    twice = ga(
        "listeners[0]", name="lb", serviceType="LoadBalancer", ports=[{"port": 1}, {"port": 1}]
    )
    (problem,) = listener_problems([twice])
    assert problem.path == "listeners[0].ports[1].port"
    assert problem.fix == "give this port another number"


def test_same_port_on_another_broker_is_fine() -> None:
    other = ga("listeners[0]", name="x", brokerRef="other", ports=[{"port": 18883}])
    assert listener_problems([INSTALLED, other]) == []


def test_node_ports_are_unique_in_the_cluster_even_across_namespaces_and_brokers() -> None:
    a = ga("listeners[0]", name="a", serviceType="NodePort", ports=[{"port": 1, "nodePort": 30001}])
    data = {"name": "b", "serviceType": "NodePort", "ports": [{"port": 2, "nodePort": 30001}]}
    b = Listener.of(MqListenerV1Args.model_validate(data), "elsewhere", "b2", "listeners[1]")
    (problem,) = listener_problems([a, b])
    assert problem.path == "listeners[1].ports[0].nodePort"
    assert problem.message.startswith(
        "NodePorts: nodePort 30001 is used twice (also listeners[0].ports[0]"
    )


def test_listener_names_are_unique_per_namespace() -> None:
    a = ga("listeners[0]", name="x", serviceType="LoadBalancer", ports=[{"port": 1}])
    b = ga("listeners[1]", name="x", serviceType="NodePort", serviceName="y", ports=[{"port": 2}])
    (problem,) = listener_problems([a, b])
    assert problem.path == "listeners[1]"
    assert problem.message.startswith("Names: listeners[1] 'x'")


def test_every_rule_one_listener_breaks_is_reported() -> None:
    lb = ga("listeners[0]", name="lb", serviceType="LoadBalancer", ports=[{"port": 1}])
    bad = ga(
        "listeners[1]", name="lb", serviceType="LoadBalancer", ports=[{"port": 1}, {"port": 18883}]
    )
    rules = [m.split(":")[0] for m in messages(INSTALLED, lb, bad)]
    assert rules == ["Names", "Service types", "Service names", "Ports", "Ports"]


def test_declaring_default_replaces_the_assumed_one() -> None:
    managed = ga("listeners[0]", name="default", serviceName="aio-broker", ports=[{"port": 1883}])
    assert assumed_existing([managed]) == []
    assert assumed_existing([ga("listeners[0]", name="x")]) == [DEFAULT_LISTENER]


# --- managing default ----------------------------------------------------------------------


def default_with(**changes: Any) -> MqListenerV1Args:
    data = DEFAULT_LISTENER.model_dump(by_alias=True, exclude_none=True)
    data.update(changes)
    return MqListenerV1Args.model_validate(data)


def test_managing_default_as_installed_plus_ports_warns_nothing() -> None:
    ports = [*DEFAULT_LISTENER.model_dump(by_alias=True)["ports"], {"port": 1883}]
    assert default_listener_warnings(default_with(ports=ports), "listeners[0]") == []


def test_managing_default_with_other_18883_settings_warns() -> None:
    changed = default_with(serviceName="mine", ports=[{"port": 18883, "authenticationRef": "mine"}])
    assert default_listener_warnings(changed, "listeners[0]") == [
        "listeners[0] manages the default listener 'default' with serviceName 'mine'; Azure IoT "
        "Operations components connect to 'aio-broker'",
        "listeners[0] manages the default listener 'default' with authenticationRef 'mine' on port "
        "18883; Azure IoT Operations installs 'default'",
        "listeners[0] manages the default listener 'default' with other TLS settings on port 18883 "
        "than Azure IoT Operations installs (mode Automatic, ClusterIssuer "
        "azure-iot-operations-aio-certificate-issuer, key Ec256/Always)",
    ]
    without = default_with(ports=[{"port": 1883}])
    assert default_listener_warnings(without, "listeners[0]") == [
        "listeners[0] manages the default listener 'default' without port 18883; Azure IoT "
        "Operations components connect to it: keep it in ports"
    ]


def test_a_listener_named_default_elsewhere_is_not_the_installed_one() -> None:
    other = default_with(namespace="elsewhere", ports=[{"port": 1}])
    assert default_listener_warnings(other, "listeners[0]") == []


# --- references ----------------------------------------------------------------------------

AUTHN = [
    Declared("default", NS, "the default authentication", ("ServiceAccountToken",)),
    Declared("devices", NS, "authentications[0]", ("ServiceAccountToken", "X509")),
]
AUTHZ = [Declared("rules", NS, "authorizations[0]")]


def test_references_to_declared_and_existing_objects_pass() -> None:
    tls = {"mode": "Manual", "manual": {"secretRef": "s"}}
    ports = [
        {"port": 1, "authenticationRef": "default", "authorizationRef": "rules"},
        {"port": 2, "authenticationRef": "devices", "tls": tls},
    ]
    assert reference_problems([ga("listeners[0]", ports=ports)], AUTHN, AUTHZ) == []


def test_a_missing_authentication_gets_a_did_you_mean() -> None:
    port = {"port": 1, "authenticationRef": "device", "authorizationRef": "rule"}
    first, second = reference_problems([ga("listeners[0]", ports=[port])], AUTHN, AUTHZ)
    assert first.path == "listeners[0].ports[0].authenticationRef"
    assert first.message == (
        "BrokerAuthentication 'device' is neither declared nor existing in namespace "
        "'azure-iot-operations'"
    )
    assert first.fix == (
        "did you mean 'devices'? declare it in aio-mq:authentications, or list it in "
        "aio-mq:existingAuthentications if it is already on the cluster (known here: default, "
        "devices)"
    )
    assert second.path == "listeners[0].ports[0].authorizationRef"
    assert second.fix is not None and second.fix.startswith("did you mean 'rules'?")


def test_references_are_per_namespace() -> None:
    data = {"name": "x", "ports": [{"port": 1, "authenticationRef": "devices"}]}
    elsewhere = Listener.of(
        MqListenerV1Args.model_validate(data), "other", "default", "listeners[0]"
    )
    (problem,) = reference_problems([elsewhere], AUTHN, AUTHZ)
    assert problem.message.endswith("in namespace 'other'")


def test_x509_method_on_a_port_without_tls_is_refused() -> None:
    port = {"port": 1, "authenticationRef": "devices"}
    (problem,) = reference_problems([ga("listeners[0]", ports=[port])], AUTHN, AUTHZ)
    assert problem.path == "listeners[0].ports[0].authenticationRef"
    assert problem.message == (
        "BrokerAuthentication 'devices' (authentications[0]) has an X509 method, but port 1 has "
        "no TLS: a client certificate is only presented in a TLS handshake"
    )


def test_names_are_unique_per_kind_and_namespace() -> None:
    objects = [
        Declared("a", NS, "authentications[0]"),
        Declared("a", "other", "authentications[1]"),
        Declared("a", NS, "existingAuthentications[0]"),
    ]
    (problem,) = duplicate_names("BrokerAuthentication", objects)
    assert problem.path == "existingAuthentications[0].name"
    assert problem.message == (
        "Names: BrokerAuthentication 'a' is declared twice in namespace 'azure-iot-operations' "
        "(also authentications[0])"
    )


# --- properties ----------------------------------------------------------------------------

ports = st.lists(
    st.builds(
        Port,
        port=st.sampled_from([1883, 8883, 18883]),
        node_port=st.one_of(st.none(), st.sampled_from([30001, 30002])),
        authentication=st.none(),
        authorization=st.none(),
        tls=st.booleans(),
        path=st.just(""),
    ),
    min_size=1,
    max_size=3,
).map(tuple)
listeners = st.builds(
    Listener,
    name=st.sampled_from(["a", "b", "c", "default"]),
    namespace=st.sampled_from([NS, "ns2"]),
    broker=st.sampled_from(["default", "b2"]),
    service_type=st.sampled_from(["ClusterIp", "LoadBalancer", "NodePort"]),
    service_name=st.sampled_from(["aio-broker", "svc-a", "svc-b"]),
    ports=ports,
)
listener_sets = st.lists(listeners, max_size=6)


def valid(items: list[Listener]) -> bool:
    return not listener_problems(items)


@settings(max_examples=300)
@given(listener_sets, st.randoms(use_true_random=False))
def test_verdict_does_not_depend_on_order(
    items: list[Listener], random: stdlib_random.Random
) -> None:
    shuffled = list(items)
    random.shuffle(shuffled)
    assert valid(items) == valid(shuffled)


@settings(max_examples=300)
@given(listener_sets, st.data())
def test_removing_a_listener_from_a_valid_set_keeps_it_valid(
    items: list[Listener], data: st.DataObject
) -> None:
    if not items or not valid(items):
        return
    drop = data.draw(st.integers(0, len(items) - 1))
    assert valid(items[:drop] + items[drop + 1 :])


@settings(max_examples=300)
@given(listener_sets, listeners)
def test_index_one_at_a_time_equals_the_whole_set(items: list[Listener], new: Listener) -> None:
    index = ListenerIndex()
    found = [p for item in items for p in index.add(item)] + index.add(new)
    assert found == listener_problems([*items, new])


@settings(max_examples=300)
@given(listener_sets)
def test_a_valid_set_has_at_most_one_listener_per_type_and_unique_ports(
    items: list[Listener],
) -> None:
    if not valid(items):
        return
    types = [(i.namespace, i.broker, i.service_type) for i in items]
    assert len(types) == len(set(types))
    used = [(i.namespace, i.broker, p.port) for i in items for p in i.ports]
    assert len(used) == len(set(used))
