"""The GA Kubernetes target reads the plan (components/kubernetes/ga.py): each listener is
registered after the issuer, authentication and authorization its planned object uses; and a GA
auth object registered alone (components/v1/auth.py)."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.kubernetes import ga as ga_target
from components.kubernetes.listener import former_component
from components.v1.auth import BrokerAuthenticationArgs, broker_resource
from components.v1.listener import register_listener
from tests.conftest import Engine
from tests.test_stack import ROOT, run_main, stack_config


def test_each_ga_listener_waits_for_what_its_plan_uses(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mocks do not see dependencies: what the target asks each listener to wait for is
    recorded."""
    seen: dict[str, list[pulumi.Resource]] = {}

    def recording(name: str, args: Any, opts: pulumi.ResourceOptions, **keys: Any) -> Any:
        seen[name] = keys["depends_on"] or []
        return register_listener(name, args, opts, **keys)

    monkeypatch.setattr(ga_target, "register_listener", recording)
    engine.configure(stack_config(ROOT / "stacks" / "Pulumi.dev-ga.yaml"))
    run_main(engine, monkeypatch)

    def names(resources: list[pulumi.Resource]) -> list[str]:
        return [str(resource._name) for resource in resources]

    assert sorted(seen) == ["default", "dev-edge"]
    # Both ports name the same three objects: each once. `default` uses what the stack does
    # not create (the ClusterIssuer and authentication Azure IoT Operations installs).
    assert names(seen["dev-edge"]) == [
        "aio-mq-dev-selfsigned",
        "authentication-dev-devices",
        "authorization-dev-telemetry",
    ]
    assert names(seen["default"]) == []


def test_broker_resource_registers_a_ga_auth_object_alone(engine: Engine) -> None:
    """`components.v1.auth.broker_resource`, the README's way to create one GA
    BrokerAuthentication in a composition: the same object the stack program registers."""
    args = BrokerAuthenticationArgs.model_validate(
        {
            "name": "devices",
            "authenticationMethods": [
                {
                    "method": "ServiceAccountToken",
                    "serviceAccountTokenSettings": {"audiences": ["aio-internal"]},
                }
            ],
        }
    )
    engine.run(lambda: broker_resource(args).urn)
    (registered,) = engine.mocks.of_type(
        "kubernetes:mqttbroker.iotoperations.azure.com/v1:BrokerAuthentication"
    )
    assert registered.name == "authentication-devices"
    assert registered.inputs["metadata"]["name"] == "devices"
    assert registered.inputs["metadata"]["namespace"] == "azure-iot-operations"
    assert registered.inputs["spec"] == args.spec()


def test_a_listener_resource_is_aliased_to_its_place_under_the_former_component(
    engine: Engine,
) -> None:
    """The URNs the stack program's listener resources had under one component per listener
    (tests/e2e/test_upgrade_e2e.py proves the engine keeps them), also under the plain name a
    namespaced listener had before, and under a set."""
    secret = "kubernetes:core/v1:Secret"
    top = former_component(
        "other/x-tls",
        secret,
        component="other/x",
        token="aio:mq:MqListener",
        parent=None,
        names=["x"],
    )
    assert top == [
        "urn:pulumi:test::aio-mq::aio:mq:MqListener$kubernetes:core/v1:Secret::other/x-tls",
        "urn:pulumi:test::aio-mq::aio:mq:MqListener$kubernetes:core/v1:Secret::x-tls",
    ]

    def in_a_set() -> pulumi.Output[list[str]]:
        parent = pulumi.ComponentResource("aio-mq:index:MqListenerSet", "dev")
        urns = former_component(
            "a", secret, component="a", token="aio:mq:MqListener", parent=parent
        )
        return pulumi.Output.all(*urns)

    # The set's type chain as the mocks make it (with the stack's type; the engine's has not).
    assert engine.run(in_a_set) == [
        "urn:pulumi:test::aio-mq::pulumi:pulumi:Stack$aio-mq:index:MqListenerSet"
        "$aio:mq:MqListener$kubernetes:core/v1:Secret::a"
    ]
