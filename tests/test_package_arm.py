"""The package's GA components with the `azure` target (issue 19 item 6), under Pulumi mocks
with the real azure-native SDK: a program creates the IoT Operations instance and broker with
azure-native and passes their outputs in; every registered resource's inputs are checked, and a
refusal registers nothing of aio-mq. No real Azure is reached (nothing reads it under a parent,
and the discovery stand-in records that it was not called)."""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.output import Unknown
from pulumi_azure_native import iotoperations

from components import ConfigError
from components.arm import target as arm_target
from components.package import MqListenerSetV1, MqListenerV1
from tests.arm_stand_in import FakeArm, serve_arm
from tests.conftest import Engine
from tests.pki import tls_pair
from tests.test_arm_stack import AZURE, LOCATION, instance_and_broker, names_azure_native
from tests.test_package import engine_output, fresh_program
from tests.test_stack import ROOT

LISTENER = "azure-native:iotoperations:BrokerListener"
AUTHENTICATION = "azure-native:iotoperations:BrokerAuthentication"
INSTANCE_AND_BROKER = {"azure-native:iotoperations:Instance", "azure-native:iotoperations:Broker"}
WHERE = {
    "resourceGroupName": "rg-factory",
    "instanceName": "aio-factory",
    "brokerName": "default",
    "extendedLocation": {"name": LOCATION, "type": "CustomLocation"},
}
TOKENS = {"method": "ServiceAccountToken", "serviceAccountTokenSettings": {"audiences": ["plant"]}}


def a_set(name: str, args: Any) -> MqListenerSetV1:
    """The package's set, its args as the engine gives them (plain values, enums as text)."""
    return MqListenerSetV1(name, args)


def a_listener(name: str, args: Any) -> MqListenerV1:
    return MqListenerV1(name, args)


@pytest.fixture(autouse=True)
def arm(monkeypatch: pytest.MonkeyPatch) -> FakeArm:
    return serve_arm(monkeypatch)


def test_the_ga_components_add_checked_listeners_to_an_instance_the_program_creates(
    engine: Engine, arm: FakeArm
) -> None:
    names_azure_native(engine)

    def program() -> Any:
        azure: Any = instance_and_broker()
        listeners = a_set(
            "factory",
            {
                "azure": azure,
                "listeners": [
                    {
                        "name": "factory-edge",
                        "serviceType": "LoadBalancer",
                        "ports": [{"port": 8883, "authenticationRef": "factory-devices"}],
                    }
                ],
                "authentications": [{"name": "factory-devices", "authenticationMethods": [TOKENS]}],
            },
        )
        extra = a_listener(
            "nodes",
            {
                "azure": azure,
                "name": "nodes",
                "serviceType": "NodePort",
                "ports": [{"port": 1884, "nodePort": 31884}],
            },
        )
        return listeners.listeners, extra.ports, extra.host

    summaries, ports, host = engine.run(program)

    registered = {r.typ: r for r in engine.mocks.registered}
    assert not [t for t in registered if t.startswith("kubernetes:")]
    listeners = {r.inputs["listenerName"]: r.inputs for r in engine.mocks.of_type(LISTENER)}
    assert listeners == {
        "factory-edge": {
            **WHERE,
            "listenerName": "factory-edge",
            "properties": {
                "serviceName": "factory-edge",
                "serviceType": "LoadBalancer",
                "ports": [
                    {"port": 8883, "protocol": "Mqtt", "authenticationRef": "factory-devices"}
                ],
            },
        },
        "nodes": {
            **WHERE,
            "listenerName": "nodes",
            "properties": {
                "serviceName": "nodes",
                "serviceType": "NodePort",
                "ports": [{"port": 1884, "nodePort": 31884, "protocol": "Mqtt"}],
            },
        },
    }
    assert registered[AUTHENTICATION].inputs == {
        **WHERE,
        "authenticationName": "factory-devices",
        "properties": {"authenticationMethods": [TOKENS]},
    }
    assert sorted(t for t in registered if t.startswith("azure-native:")) == sorted(
        {*INSTANCE_AND_BROKER, LISTENER, AUTHENTICATION}
    )
    # The program's own resources, as it made them: the broker under the instance's name.
    location = WHERE["extendedLocation"]
    assert registered["azure-native:iotoperations:Instance"].inputs == {
        "resourceGroupName": "rg-factory",
        "instanceName": "aio-factory",
        "extendedLocation": location,
        "properties": {"schemaRegistryRef": {"resourceId": "/subscriptions/x/sr"}},
    }
    assert registered["azure-native:iotoperations:Broker"].inputs == {
        "resourceGroupName": "rg-factory",
        "instanceName": "aio-factory",
        "brokerName": "default",
        "extendedLocation": location,
    }
    # Under the package's components, as their children, each in its own container (one URN
    # per component: a program may hold several).
    assert {"aio-mq:index:MqListenerSetV1", "aio-mq:index:MqListenerV1"} <= set(registered)
    containers = engine.mocks.of_type("aio:mq:AzureBrokerObjects")
    assert sorted(r.name for r in containers) == ["factory-azure", "nodes-azure"]
    assert summaries["factory-edge"]["host"] == (
        "factory-edge.azure-iot-operations.svc.cluster.local"
    )
    assert [(p["port"], p["nodePort"]) for p in ports] == [(1884, 31884)]
    assert host == "nodes.azure-iot-operations.svc.cluster.local"
    assert arm.calls == []  # nothing read from Azure: the target is the program's outputs


def aio_mq_registered(engine: Engine) -> list[str]:
    return [r.typ for r in engine.mocks.registered if r.typ not in INSTANCE_AND_BROKER]


def test_bad_input_with_the_azure_target_is_refused_with_nothing_registered(
    engine: Engine,
) -> None:
    bad_target = {**AZURE, "instance": "AIO", "customLocation": "cl-factory"}
    listeners: Any = [
        {"name": "ab", "serviceType": "LoadBalancer", "ports": [{"port": 8883}]},
        {"name": "other", "serviceType": "LoadBalancer", "ports": [{"port": 0}]},
    ]

    def program(azure: dict[str, Any]) -> None:
        a_set("factory", {"azure": azure, "listeners": listeners})

    # As a stack file is: what the keys' models refuse at once, then the rules at once.
    with pytest.raises(ConfigError) as caught:
        engine.run(lambda: program(bad_target))
    report = str(caught.value)
    assert report.startswith("aio-mq: MqListenerSetV1 'factory' has 3 problems")
    for expected in (
        "azure.instance: 'AIO' is not an Azure IoT Operations resource name",
        "azure.customLocation: 'cl-factory' is not a custom location resource id",
        "listeners[1].ports[0].port: 0 is",
    ):
        assert expected in report
    assert engine.mocks.registered == []

    listeners[1]["ports"][0]["port"] = 8884
    with pytest.raises(ConfigError) as caught:
        engine.run(lambda: program(AZURE))
    report = str(caught.value)
    assert report.startswith("aio-mq: MqListenerSetV1 'factory' has 2 problems")
    assert "listeners[0].name: 'ab' is not a name Azure Resource Manager accepts" in report
    assert "fix: use 3 to 63 lower-case letters (a-z), digits and '-'" in report
    # The GA rules hold as on Kubernetes: one LoadBalancer listener per broker.
    assert "listeners[1].serviceType: " in report
    assert engine.mocks.registered == []


def test_a_single_listener_with_the_azure_target_is_refused_with_nothing_registered(
    engine: Engine,
) -> None:
    names_azure_native(engine)
    listener: Any = {"name": "ab", "serviceType": "LoadBalancer", "ports": [{"port": 0}]}

    def program(azure: dict[str, Any]) -> None:
        made = instance_and_broker()
        a_listener("ab", {"azure": {**made, **azure}, **listener})

    with pytest.raises(ConfigError) as caught:
        engine.run(lambda: program({"broker": "B"}))
    report = str(caught.value)
    assert report.startswith("aio-mq: MqListenerV1 'ab' has 2 problems")
    assert "azure.broker: 'B' is not an Azure IoT Operations resource name" in report
    assert "\n  - ports[0].port: 0 is" in report
    assert aio_mq_registered(engine) == []

    engine.mocks.registered.clear()
    listener["ports"][0]["port"] = 8883
    listener["brokerRef"] = "other"
    with pytest.raises(ConfigError) as caught:
        engine.run(lambda: program({}))
    report = str(caught.value)
    assert report.startswith("aio-mq: MqListenerV1 'ab' has 1 problem;")
    assert "\n  - name: 'ab' is not a name Azure Resource Manager accepts" in report
    assert "\n  - brokerRef: is 'other', but the ARM target's broker is" not in report  # an Output
    assert aio_mq_registered(engine) == []


def test_outputs_in_the_target_are_passed_on_and_other_values_checked(engine: Engine) -> None:
    # As the plugin gets them from a consumer at preview: the instance not created yet.
    azure = engine_output({**AZURE, "instance": Unknown()})  # type: ignore[no-untyped-call]
    engine.run(
        lambda: a_set(
            "factory",
            {
                "azure": azure,
                "listeners": [
                    {"name": "edge", "serviceType": "LoadBalancer", "ports": [{"port": 8884}]}
                ],
            },
        )
    )
    (listener,) = engine.mocks.of_type(LISTENER)
    # Unknown: the mocks leave it out. What came known with it is checked and passed on.
    assert "instanceName" not in listener.inputs
    assert listener.inputs["resourceGroupName"] == "rg-factory"
    assert listener.inputs["listenerName"] == "edge"

    with pytest.raises(ConfigError) as caught:
        engine.run(
            lambda: a_set(
                "again",
                {
                    "azure": {**AZURE, "subscriptionId": engine_output(None, known=False)},
                    "listeners": [],
                },
            )
        )
    assert "azure.subscriptionId: is not known before the deployment runs" in str(caught.value)

    bad = engine_output({**AZURE, "instance": Unknown(), "customLocation": "cl-1"})  # type: ignore[no-untyped-call]
    with pytest.raises(ConfigError) as caught:
        engine.run(lambda: a_set("bad", {"azure": bad, "listeners": []}))
    assert caught.value.problems[0].path == "azure.customLocation"
    assert len(caught.value.problems) == 1


def test_issuers_and_tls_secrets_of_a_composition_go_to_its_kubernetes_provider(
    engine: Engine,
) -> None:
    certificate, key = tls_pair(["edge.azure-iot-operations.svc.cluster.local", "edge"])
    manual = {"secretRef": "edge-tls", "certificate": certificate, "privateKey": key}
    ports = [{"port": 8885, "tls": {"mode": "Manual", "manual": manual}}]
    secret_ports = engine_output(ports, secret=True)
    engine.run(
        lambda: a_listener(
            "edge",
            {"azure": AZURE, "name": "edge", "serviceType": "LoadBalancer", "ports": secret_ports},
        )
    )
    (secret,) = engine.mocks.of_type("kubernetes:core/v1:Secret")
    assert secret.inputs["metadata"]["name"] == "edge-tls"
    (listener,) = engine.mocks.of_type(LISTENER)
    assert listener.inputs["properties"]["ports"][0]["tls"] == {
        "mode": "Manual",
        "manual": {"secretRef": "edge-tls"},
    }

    # A set's issuers too (a stack file needs aio-mq:kubernetes for them).
    fresh_program(engine)
    automatic = {
        "mode": "Automatic",
        "certManagerCertificateSpec": {"issuerRef": {"name": "plant-ca", "kind": "ClusterIssuer"}},
    }
    engine.run(
        lambda: a_set(
            "factory",
            {
                "azure": AZURE,
                "issuers": [{"name": "plant-ca", "kind": "ClusterIssuer", "selfSigned": {}}],
                "listeners": [
                    {
                        "name": "edge",
                        "serviceType": "LoadBalancer",
                        "ports": [{"port": 8884, "tls": automatic}],
                    }
                ],
            },
        )
    )
    (issuer,) = engine.mocks.of_type("kubernetes:cert-manager.io/v1:ClusterIssuer")
    assert issuer.inputs["metadata"]["name"] == "plant-ca"
    (listener,) = engine.mocks.of_type(LISTENER)
    assert listener.inputs["properties"]["ports"][0]["tls"]["mode"] == "Automatic"


def test_the_azure_target_is_not_a_listener_key(engine: Engine) -> None:
    with pytest.raises(ConfigError) as caught:
        engine.run(
            lambda: a_set(
                "factory",
                {"listeners": [{"name": "edge", "ports": [{"port": 8884}], "azure": AZURE}]},
            )
        )
    assert "listeners[0].azure: unknown key 'azure'" in str(caught.value)


def test_the_targets_outputs_reach_the_azure_resources_as_outputs(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The instance's and broker's names go to azure-native as their Outputs, whose dependencies
    order the listener after the broker on create and before it on delete."""
    names_azure_native(engine)
    given: dict[str, Any] = {}

    def recording(name: str, **kwargs: Any) -> Any:
        given.update(kwargs)
        return iotoperations.BrokerListener(name, **kwargs)

    monkeypatch.setitem(arm_target._CLASSES, "BrokerListener", recording)

    def program() -> None:
        azure = instance_and_broker()
        a_listener(
            "edge",
            {
                "azure": azure,
                "name": "edge",
                "serviceType": "LoadBalancer",
                "ports": [{"port": 8884}],
            },
        )

    engine.run(program)
    assert isinstance(given["instance_name"], pulumi.Output)
    assert isinstance(given["broker_name"], pulumi.Output)
    assert given["resource_group_name"] == "rg-factory"
    (listener,) = engine.mocks.of_type(LISTENER)
    assert listener.inputs["brokerName"] == "default"


def snake(value: Any) -> Any:
    """Pulumi YAML's camelCase properties as the Python SDK's keyword arguments."""
    if isinstance(value, dict):
        return {re.sub(r"(?<!^)([A-Z])", r"_\1", k).lower(): snake(v) for k, v in value.items()}
    return value


def test_the_readme_composition_example_registers_what_it_says(engine: Engine) -> None:
    section = (ROOT / "README.md").read_text().split("## Production: Azure Resource Manager")[1]
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", section, re.S)]
    (program_yaml,) = [b for b in blocks if "factory" in b.get("resources", {})]
    resources = program_yaml["resources"]
    names_azure_native(engine)

    def program() -> Any:
        made: dict[str, Any] = {}

        def resolved(value: Any) -> Any:  # ${instance.name} -> the instance's name output
            if isinstance(value, str) and (ref := re.fullmatch(r"\$\{(\w+)\.name\}", value)):
                return made[ref.group(1)].name
            if isinstance(value, dict):
                return {k: resolved(v) for k, v in value.items()}
            return value

        for name in ("instance", "broker"):
            cls = getattr(iotoperations, resources[name]["type"].rsplit(":", 1)[1])
            made[name] = cls(name, **snake(resolved(resources[name]["properties"])))
        assert resources["factory"]["type"] == "aio-mq:MqListenerSetV1"
        return a_set("factory", resolved(resources["factory"]["properties"])).listeners

    summaries = engine.run(program)
    assert [p["port"] for p in summaries["factory-edge"]["ports"]] == [8883]
    (listener,) = engine.mocks.of_type(LISTENER)
    assert {k: listener.inputs[k] for k in WHERE} == WHERE
    assert listener.inputs["properties"]["ports"][0]["tls"]["mode"] == "Automatic"
    (authentication,) = engine.mocks.of_type(AUTHENTICATION)
    assert authentication.inputs["authenticationName"] == "factory-devices"
    assert not [r for r in engine.mocks.registered if r.typ.startswith("kubernetes:")]
