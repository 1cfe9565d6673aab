"""The service-sharing rules, read next to the seed document."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from components.v1beta1.sharing import Listener, SharingIndex, conflicts

DEFAULT = Listener(
    name="listener",
    namespace="azure-iot-operations",
    broker="broker",
    port=8883,
    service_type="clusterIp",
    service_name="aio-mq-dmqtt-frontend",
    origin="existing",
)


def listener(
    name: str,
    port: int,
    service_type: str = "clusterIp",
    service_name: str = "aio-mq-dmqtt-frontend",
    *,
    broker: str = "broker",
    namespace: str = "azure-iot-operations",
    node_port: int | None = None,
) -> Listener:
    return Listener(name, namespace, broker, port, service_type, service_name, node_port)


@pytest.mark.parametrize(
    ("service_type", "service_name", "accepted", "rule"),
    [
        ("clusterIp", "aio-mq-dmqtt-frontend", True, None),
        ("clusterIp", "my-service", False, "Rule 1"),
        ("loadBalancer", "aio-mq-dmqtt-frontend", False, "Rule 2"),
        ("nodePort", "aio-mq-dmqtt-frontend", False, "Rule 2"),
        ("loadBalancer", "my-service", True, None),
        ("nodePort", "my-service", True, None),
    ],
)
def test_seed_table_new_listener_beside_the_default_one(
    service_type: str, service_name: str, accepted: bool, rule: str | None
) -> None:
    found = conflicts([DEFAULT, listener("new", 1883, service_type, service_name)])
    assert (found == []) is accepted
    if rule:
        assert [c.rule for c in found] == [rule]
        assert found[0].other is DEFAULT
        assert found[0].new.name == "new"


def test_rule_1_fix_names_the_service_to_share() -> None:
    (found,) = conflicts([DEFAULT, listener("new", 1883, "clusterIp", "my-service")])
    assert "serviceName: aio-mq-dmqtt-frontend" in found.fix


def test_rule_2_is_per_namespace_even_across_brokers() -> None:
    other_broker = listener("lb", 1883, "loadBalancer", "aio-mq-dmqtt-frontend", broker="broker-2")
    assert [c.rule for c in conflicts([DEFAULT, other_broker])] == ["Rule 2"]


def test_rule_1_is_per_broker() -> None:
    other_broker = listener("b2", 1883, "clusterIp", "broker-2-frontend", broker="broker-2")
    assert conflicts([DEFAULT, other_broker]) == []


def test_same_port_on_one_broker_is_refused() -> None:
    found = conflicts([DEFAULT, listener("again", 8883)])
    assert [c.rule for c in found] == ["Ports"]
    assert "port 8883" in found[0].message


def test_same_port_through_one_shared_service_across_brokers_is_refused() -> None:
    a = listener("a", 1883, broker="broker-a")
    b = listener("b", 1883, broker="broker-b")
    assert [c.rule for c in conflicts([a, b])] == ["Ports"]


def test_same_port_in_other_namespaces_is_fine() -> None:
    elsewhere = listener("listener-2", 8883, namespace="other-ns")
    assert conflicts([DEFAULT, elsewhere]) == []


def test_duplicate_names_in_one_namespace() -> None:
    found = conflicts([DEFAULT, listener("listener", 1883)])
    assert [c.rule for c in found] == ["Names"]
    assert "existingListeners" in found[0].fix


def test_node_ports_are_cluster_wide() -> None:
    a = listener("a", 1883, "nodePort", "np", node_port=30001)
    b = listener("b", 1884, "nodePort", "np2", node_port=30001, namespace="other")
    assert [c.rule for c in conflicts([a, b])] == ["NodePorts"]


def test_every_rule_broken_by_one_listener_is_reported() -> None:
    bad = listener("listener", 8883, "loadBalancer", "aio-mq-dmqtt-frontend")
    assert {c.rule for c in conflicts([DEFAULT, bad])} == {"Names", "Ports", "Rule 2"}


def test_index_checks_one_listener_at_a_time() -> None:
    index = SharingIndex()
    assert index.add(DEFAULT) == []
    assert index.add(listener("ok", 1883)) == []
    assert [c.rule for c in index.add(listener("bad", 1884, "clusterIp", "x"))] == ["Rule 1"]


# --- properties ---------------------------------------------------------------------------

names = st.sampled_from(["a", "b", "c", "d", "e", "f"])
listeners = st.builds(
    Listener,
    name=names,
    namespace=st.sampled_from(["ns1", "ns2"]),
    broker=st.sampled_from(["broker", "b2"]),
    port=st.sampled_from([1883, 1884, 8883, 8884]),
    service_type=st.sampled_from(["clusterIp", "loadBalancer", "nodePort"]),
    service_name=st.sampled_from(["svc-a", "svc-b", "svc-c"]),
    node_port=st.one_of(st.none(), st.sampled_from([30001, 30002])),
)
listener_sets = st.lists(listeners, max_size=7)


@settings(max_examples=300)
@given(listener_sets, st.randoms(use_true_random=False))
def test_verdict_does_not_depend_on_order(items: list[Listener], random: object) -> None:
    shuffled = list(items)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    assert bool(conflicts(items)) == bool(conflicts(shuffled))


@settings(max_examples=300)
@given(listener_sets, st.data())
def test_removing_a_listener_from_a_valid_set_keeps_it_valid(
    items: list[Listener], data: st.DataObject
) -> None:
    assume(items and not conflicts(items))
    drop = data.draw(st.integers(0, len(items) - 1))
    assert conflicts(items[:drop] + items[drop + 1 :]) == []


@settings(max_examples=300)
@given(listener_sets, listeners)
def test_adding_a_listener_that_shares_nothing_never_conflicts(
    items: list[Listener], new: Listener
) -> None:
    assume(not conflicts(items))
    alone = replace(
        new,
        # Same namespace as the others may be, but a name, broker and Service of its own.
        name="zz-unique",
        broker="broker-unique",
        service_name="svc-unique",
        port=40000,
        node_port=None if new.node_port is None else 32000,
    )
    assert conflicts([*items, alone]) == []
