"""`up` waits for the broker's answer (components/v1/wait.py) under mocks: which objects carry
the provider's await annotations, what a refusal or a LoadBalancer without an address does to
the program, and what the broker's status means."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components import ConfigError
from components.v1 import wait
from components.v1.objects import FINAL_STATUS
from components.v1.wait import BrokerRefusalError, broker_reason, verdict
from tests.conftest import Engine
from tests.fake_cluster import FakeCluster
from tests.test_stack import ROOT, run_main, stack_config
from tests.test_v1_stack import ga_cluster, ga_config

__all__ = ["ga_cluster"]  # the autouse fixture: a fresh GA install to discover

LOCAL_GA = stack_config(ROOT / "stacks" / "Pulumi.local-ga.yaml")
GA = "mqttbroker.iotoperations.azure.com/v1"
WAITED = ("BrokerListener", "BrokerAuthentication", "BrokerAuthorization")
EDGE_SERVICE = "/api/v1/namespaces/azure-iot-operations/services/local-ga-edge"


def answered(engine: Engine, monkeypatch: pytest.MonkeyPatch, statuses: dict[str, Any]) -> None:
    """The mocked provider returns `statuses[metadata.name]` as a GA object's status, as the
    real one does once the broker has answered."""
    recorded = engine.mocks.new_resource

    def new_resource(args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        resource_id, outputs = recorded(args)
        name = (args.inputs.get("metadata") or {}).get("name")
        if args.typ.startswith(f"kubernetes:{GA}:") and name in statuses:
            outputs = {**outputs, "status": statuses[name]}
        return resource_id, outputs

    monkeypatch.setattr(engine.mocks, "new_resource", new_resource)


def all_accepted(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    answered(
        engine,
        monkeypatch,
        {"default": provisioned("Succeeded"), "local-ga-edge": provisioned("Succeeded")},
    )


def provisioned(status: str, **more: Any) -> dict[str, Any]:
    return {"provisioningStatus": {"status": status, **more}}


def waited(engine: Engine) -> dict[str, dict[str, str]]:
    """The annotations of each GA broker object registered, by kind/name."""
    return {
        f"{r.typ.rsplit(':', 1)[1]}/{r.inputs['metadata']['name']}": r.inputs["metadata"][
            "annotations"
        ]
        for r in engine.mocks.registered
        if r.typ.startswith(f"kubernetes:{GA}:") and r.typ.rsplit(":", 1)[1] in WAITED
    }


def test_on_a_cluster_every_object_is_awaited_by_the_provider_within_the_timeout(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.configure(
        {
            **LOCAL_GA,
            "waitTimeoutSeconds": 120,
            "authorizations": [{"name": "edge-rules"}],
        }
    )
    run_main(engine, monkeypatch)
    found = waited(engine)
    assert sorted(found) == [
        "BrokerAuthorization/edge-rules",
        "BrokerListener/default",
        "BrokerListener/local-ga-edge",
    ]
    for marks in found.values():
        assert marks["pulumi.com/waitFor"] == FINAL_STATUS
        # The provider's timeout is a backstop, 10 s after the program's own.
        assert marks["pulumi.com/timeoutSeconds"] == "130"


@pytest.mark.parametrize(
    "config",
    [
        ga_config(
            listeners=[{"name": "edge", "serviceType": "LoadBalancer", "ports": [{"port": 1884}]}]
        ),
        {**LOCAL_GA, "waitTimeoutSeconds": 0},
    ],
    ids=["rendered", "waiting off"],
)
def test_rendering_or_a_zero_timeout_does_not_wait(
    config: dict[str, Any], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.configure(config)
    run_main(engine, monkeypatch)
    found = waited(engine)
    assert found
    assert all(
        "pulumi.com/waitFor" not in a and "pulumi.com/timeoutSeconds" not in a
        for a in found.values()
    )


def test_the_wait_condition_is_a_final_status_in_any_case() -> None:
    # What the provider's JSONPath matches, spelled out (the apiserver tests run it for real).
    assert FINAL_STATUS == (
        "jsonpath={$[?@.provisioningStatus.status && match(@.provisioningStatus.status, "
        "'([Ss][Uu][Cc][Cc][Ee][Ee][Dd][Ee][Dd]|[Ff][Aa][Ii][Ll][Ee][Dd])')]}"
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (provisioned("Succeeded"), "succeeded"),
        (provisioned("succeeded"), "succeeded"),
        (provisioned("FAILED"), "failed"),
        (provisioned("Accepted"), "pending"),
        (provisioned("NotFailed"), "pending"),
        ({"provisioningStatus": {}}, "pending"),
        (None, "pending"),
        ("Succeeded", "pending"),
    ],
)
def test_the_broker_verdict(status: Any, expected: str) -> None:
    assert verdict(status) == expected


def test_the_broker_reason_quotes_message_code_and_cause() -> None:
    status = provisioned(
        "Failed",
        error={"code": "InvalidPort", "message": "port 1884 is in use"},
        failureCause={"listener": "edge"},
    )
    assert (
        broker_reason(status)
        == 'port 1884 is in use; code InvalidPort; cause: {"listener": "edge"}'
    )
    assert broker_reason(provisioned("Failed")) == "the broker gave no reason"


def test_a_refused_listener_fails_up_with_the_brokers_words_and_its_key_path(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    answered(
        engine,
        monkeypatch,
        {
            "default": provisioned("Succeeded"),
            "local-ga-edge": provisioned(
                "failed", error={"code": "Conflict", "message": "port 8885 is taken by 'other'"}
            ),
        },
    )
    engine.configure(LOCAL_GA)
    with pytest.raises(BrokerRefusalError) as caught:
        run_main(engine, monkeypatch)
    assert str(caught.value) == (
        "aio-mq: the broker's answer has 1 problem; the objects are on the cluster, but not "
        "(all) in effect.\n"
        "  - listeners[1]: the broker refused BrokerListener azure-iot-operations/local-ga-edge: "
        "port 8885 is taken by 'other'; code Conflict\n"
        "      fix: correct it as the broker says and run up again (the object is on the cluster "
        "but not in effect); if the cause was outside the stack, run up with --refresh once it "
        "is fixed"
    )
    assert isinstance(caught.value, pulumi.RunError)  # printed without a traceback


def test_a_load_balancer_address_is_waited_for_and_exported(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, ga_cluster: FakeCluster
) -> None:
    all_accepted(engine, monkeypatch)
    monkeypatch.setattr(wait, "POLL_SECONDS", 0.01)
    reads = 0

    def service_gets_an_address(path: str) -> Any:
        nonlocal reads
        if path == EDGE_SERVICE:
            reads += 1
            ingress = [{"ip": "192.0.2.7"}] if reads >= 3 else []
            return {
                "spec": {"ports": [{"port": 8885}]},
                "status": {"loadBalancer": {"ingress": ingress}},
            }
        return FakeCluster.get(ga_cluster, path)

    monkeypatch.setattr(ga_cluster, "get", service_gets_an_address)
    engine.configure(LOCAL_GA)
    endpoints = run_main(engine, monkeypatch)["endpoints"]
    assert reads == 3
    assert endpoints["local-ga-edge"]["ports"][0]["urls"] == [
        {
            "via": "cluster",
            "url": "mqtts://local-ga-edge.azure-iot-operations.svc.cluster.local:8885",
        },
        {"via": "loadBalancer", "url": "mqtts://192.0.2.7:8885"},
    ]


def test_a_load_balancer_without_an_address_in_time_fails_up(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, ga_cluster: FakeCluster
) -> None:
    all_accepted(engine, monkeypatch)
    monkeypatch.setattr(wait, "POLL_SECONDS", 0.05)
    ga_cluster.add(EDGE_SERVICE, {"spec": {"ports": [{"port": 8885}]}, "status": {}})
    engine.configure({**LOCAL_GA, "waitTimeoutSeconds": 1})
    with pytest.raises(BrokerRefusalError) as caught:
        run_main(engine, monkeypatch)
    assert (
        "  - listeners[1]: the broker accepted listener azure-iot-operations/local-ga-edge, but "
        "its LoadBalancer Service azure-iot-operations/local-ga-edge has no external address "
        "after 1 s (aio-mq:waitTimeoutSeconds)\n"
        "      fix: the cluster's load-balancer controller (the cloud's, MetalLB, k3s ServiceLB) "
        "gives it one: see `kubectl -n azure-iot-operations describe service local-ga-edge`; or "
        "raise aio-mq:waitTimeoutSeconds"
    ) in str(caught.value)


def test_a_listener_the_broker_has_not_judged_is_not_waited_for(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, ga_cluster: FakeCluster
) -> None:
    # Under mocks (and with waiting off) no status comes back: the Service is read once, and
    # the output has what is known.
    engine.configure(LOCAL_GA)
    endpoints = run_main(engine, monkeypatch)["endpoints"]
    assert ga_cluster.requests.count(EDGE_SERVICE) == 1
    assert [u["via"] for u in endpoints["local-ga-edge"]["ports"][0]["urls"]] == ["cluster"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "waitTimeoutSeconds: -1 is not a number of seconds from 0 to 86400"),
        (86401, "waitTimeoutSeconds: 86401 is not a number of seconds from 0 to 86400"),
        ("10m", "waitTimeoutSeconds: '10m' is not a whole number"),
    ],
)
def test_the_timeout_is_a_whole_number_of_seconds(
    value: Any, message: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.configure({**LOCAL_GA, "waitTimeoutSeconds": value})
    with pytest.raises(ConfigError) as caught:
        run_main(engine, monkeypatch)
    assert message in str(caught.value)
    assert engine.mocks.registered == []


def test_a_preview_does_not_judge_an_answer_it_may_have_from_the_state(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, ga_cluster: FakeCluster
) -> None:
    answered(
        engine, monkeypatch, {"local-ga-edge": provisioned("Failed", error={"message": "old"})}
    )
    ga_cluster.add(
        EDGE_SERVICE,
        {"spec": {"ports": [{"port": 8885}]}, "status": {"loadBalancer": {"ingress": []}}},
    )
    pulumi.runtime.set_mocks(engine.mocks, project="aio-mq", stack="test", preview=True)
    engine.configure(LOCAL_GA)
    endpoints = run_main(engine, monkeypatch)["endpoints"]
    assert endpoints["local-ga-edge"]["keyPath"] == "listeners[1]"
    # Nor does it wait for an address: the Service is read once, as it is now.
    assert ga_cluster.requests.count(EDGE_SERVICE) == 1
    assert [u["via"] for u in endpoints["local-ga-edge"]["ports"][0]["urls"]] == ["cluster"]


def test_a_preview_shows_the_addresses_the_services_have_now(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, ga_cluster: FakeCluster
) -> None:
    # What `up` exported, previewed again: an unchanged stack previews an unchanged output.
    ga_cluster.add(
        EDGE_SERVICE,
        {
            "spec": {"ports": [{"port": 8885}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.7"}]}},
        },
    )
    pulumi.runtime.set_mocks(engine.mocks, project="aio-mq", stack="test", preview=True)
    engine.configure(LOCAL_GA)
    endpoints = run_main(engine, monkeypatch)["endpoints"]
    assert endpoints["local-ga-edge"]["ports"][0]["urls"][1] == {
        "via": "loadBalancer",
        "url": "mqtts://192.0.2.7:8885",
    }


def test_a_preview_without_discovery_reads_no_service(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, ga_cluster: FakeCluster
) -> None:
    pulumi.runtime.set_mocks(engine.mocks, project="aio-mq", stack="test", preview=True)
    engine.configure({**LOCAL_GA, "discovery": False})
    endpoints = run_main(engine, monkeypatch)["endpoints"]
    assert [u["via"] for u in endpoints["local-ga-edge"]["ports"][0]["urls"]] == ["cluster"]
    assert not [r for r in ga_cluster.requests if "/services/" in r]


def test_a_stack_without_listeners_exports_no_endpoints(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    answered(engine, monkeypatch, {"edge-rules": provisioned("Succeeded")})
    engine.configure({**LOCAL_GA, "listeners": [], "authorizations": [{"name": "edge-rules"}]})
    assert run_main(engine, monkeypatch)["endpoints"] == {}
