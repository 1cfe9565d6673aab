"""The GA Kubernetes target reads the plan (components/kubernetes/ga.py): each listener is
registered after the issuer, authentication and authorization its planned object uses; and a GA
auth object registered alone (components/v1/auth.py)."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.kubernetes import ga as ga_target
from components.v1.auth import BrokerAuthenticationArgs, broker_resource
from components.v1.listener import MqListenerV1
from tests.conftest import Engine
from tests.test_stack import ROOT, run_main, stack_config


def test_each_ga_listener_waits_for_what_its_plan_uses(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mocks do not see dependencies: the target's options to each MqListenerV1 are recorded."""
    seen: dict[str, pulumi.ResourceOptions] = {}

    def recording(name: str, args: Any, opts: pulumi.ResourceOptions, **keys: Any) -> Any:
        seen[name] = opts
        return MqListenerV1(name, args, opts, **keys)

    monkeypatch.setattr(ga_target, "MqListenerV1", recording)
    engine.configure(stack_config(ROOT / "stacks" / "Pulumi.dev-ga.yaml"))
    run_main(engine, monkeypatch)

    def names(opts: pulumi.ResourceOptions) -> list[str]:
        resources: list[pulumi.Resource] = opts.depends_on or []  # type: ignore[assignment]
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
