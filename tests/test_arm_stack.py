"""ARM stacks (`aio-mq:azure`) under Pulumi mocks with the real azure-native SDK: every
registered resource's inputs, what is refused (everything at once, nothing registered, no
template written), the template against what the program registers, and the discovery wiring
(a stand-in for components/arm/discovery.py: no real Azure is reached)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi_azure_native import iotoperations

from components import ConfigError
from components.arm import target as arm_target
from components.config import RENDER_OVERRIDE_ENV
from components.errors import Problem
from components.stack import deploy, validate_config
from components.v1.models import MqListenerV1Args
from tests.arm_stand_in import FakeArm, serve_arm
from tests.conftest import Engine
from tests.pki import tls_pair
from tests.test_stack import ROOT, on_disk, refused, run_main, stack_config

GA = "mqttbroker.iotoperations.azure.com/v1"
PROD_ARM = ROOT / "stacks" / "Pulumi.prod-arm.yaml"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
LOCATION = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-factory/providers/"
    "Microsoft.ExtendedLocation/customLocations/cl-factory"
)
AZURE = {"resourceGroup": "rg-factory", "instance": "aio-factory", "customLocation": LOCATION}
TYPES = {
    "azure-native:iotoperations:BrokerListener": (
        "Microsoft.IoTOperations/instances/brokers/listeners",
        "listenerName",
    ),
    "azure-native:iotoperations:BrokerAuthentication": (
        "Microsoft.IoTOperations/instances/brokers/authentications",
        "authenticationName",
    ),
    "azure-native:iotoperations:BrokerAuthorization": (
        "Microsoft.IoTOperations/instances/brokers/authorizations",
        "authorizationName",
    ),
}


@pytest.fixture(autouse=True)
def arm(monkeypatch: pytest.MonkeyPatch) -> FakeArm:
    return serve_arm(monkeypatch)


def arm_config(**keys: Any) -> dict[str, Any]:
    return {"apiVersion": GA, "azure": AZURE, **keys}


def port(number: int, **keys: Any) -> dict[str, Any]:
    return {"port": number, **keys}


def azure_resources(engine: Engine) -> list[pulumi.runtime.MockResourceArgs]:
    return [r for r in engine.mocks.registered if r.typ.startswith("azure-native:")]


@pytest.fixture
def opts_of(monkeypatch: pytest.MonkeyPatch) -> dict[str, pulumi.ResourceOptions]:
    """The options the ARM target gives each azure-native resource, by Pulumi name (mocks do
    not see parents and dependencies)."""
    seen: dict[str, pulumi.ResourceOptions] = {}

    def recording(cls: Any) -> Any:
        def make(name: str, **kwargs: Any) -> Any:
            seen[name] = kwargs["opts"]
            return cls(name, **kwargs)

        return make

    classes = {kind: recording(cls) for kind, cls in arm_target._CLASSES.items()}
    monkeypatch.setattr(arm_target, "_CLASSES", classes)
    return seen


def test_prod_arm_registers_azure_resources_and_no_custom_resource(
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    arm: FakeArm,
    opts_of: dict[str, pulumi.ResourceOptions],
) -> None:
    config = stack_config(PROD_ARM)
    engine.configure(config)
    exports = run_main(engine, monkeypatch)

    assert not [r for r in engine.mocks.registered if r.typ.startswith("kubernetes:")]
    registered = {r.name: r for r in azure_resources(engine)}
    assert sorted(registered) == [
        "authentication-factory-devices",
        "authorization-factory-telemetry",
        "factory-edge",
    ]
    common = {
        "resourceGroupName": "rg-factory",
        "instanceName": "aio-factory",
        "brokerName": "default",
        "extendedLocation": {"name": config["azure"]["customLocation"], "type": "CustomLocation"},
    }
    (listener,) = config["listeners"]
    assert registered["factory-edge"].inputs == {
        **common,
        "listenerName": "factory-edge",
        "properties": {
            # The GA spec without brokerRef, every default written out.
            "serviceName": "factory-edge",
            "serviceType": "LoadBalancer",
            "ports": [
                {
                    "port": 8883,
                    "protocol": "Mqtt",
                    "authenticationRef": "factory-devices",
                    "authorizationRef": "factory-telemetry",
                    "tls": {
                        "mode": "Automatic",
                        "certManagerCertificateSpec": {
                            **listener["ports"][0]["tls"]["certManagerCertificateSpec"],
                            "issuerRef": {
                                "name": "azure-iot-operations-aio-certificate-issuer",
                                "kind": "ClusterIssuer",
                                "group": "cert-manager.io",
                            },
                        },
                    },
                }
            ],
        },
    }
    (authentication,) = config["authentications"]
    assert registered["authentication-factory-devices"].inputs == {
        **common,
        "authenticationName": "factory-devices",
        "properties": {
            "authenticationMethods": [
                {
                    "method": "X509",
                    "x509Settings": {
                        "trustedClientCaCert": "factory-client-ca",
                        "authorizationAttributes": {},
                    },
                }
            ]
        },
    }
    assert authentication["name"] == "factory-devices"
    assert registered["authorization-factory-telemetry"].inputs == {
        **common,
        "authorizationName": "factory-telemetry",
        "properties": {
            "authorizationPolicies": {
                "cache": "Enabled",
                "rules": [
                    {
                        "principals": {
                            "attributes": [{"group": "sensors"}],
                            "clientIds": [],
                            "usernames": [],
                        },
                        "brokerResources": [
                            {"method": "Connect", "clientIds": [], "topics": []},
                            {
                                "method": "Publish",
                                "clientIds": [],
                                "topics": ["factory/telemetry/#"],
                            },
                        ],
                        "stateStoreResources": [],
                    }
                ],
            }
        },
    }
    # Children of one component, each after what it uses.
    assert len(engine.mocks.of_type("aio:mq:AzureBrokerObjects")) == 1
    assert {o.parent.__class__.__name__ for o in opts_of.values()} == {"AzureBrokerObjects"}
    uses = opts_of["factory-edge"].depends_on
    assert isinstance(uses, list)
    assert sorted(r._name for r in uses) == [
        "authentication-factory-devices",
        "authorization-factory-telemetry",
    ]
    assert opts_of["authentication-factory-devices"].depends_on is None
    # Exported as a GA Kubernetes stack exports it.
    assert exports["listeners"]["factory-edge"]["host"] == (
        "factory-edge.azure-iot-operations.svc.cluster.local"
    )
    # Discovery read the instance's broker from ARM, with the stack's names.
    assert arm.calls == [
        {
            "subscription_id": SUBSCRIPTION,
            "resource_group": "rg-factory",
            "instance": "aio-factory",
            "broker": "default",
            "namespace": "azure-iot-operations",
            "declared": ["factory-edge"],
            # What this stack manages is not someone else's.
            "declared_authentications": ["factory-devices"],
            "declared_authorizations": ["factory-telemetry"],
        }
    ]


def by_name(resource: dict[str, Any]) -> str:
    return f"{resource['type']} {resource['name']}"


def test_the_template_holds_exactly_what_the_program_registers(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, arm: FakeArm
) -> None:
    config = stack_config(PROD_ARM)
    engine.configure(config)
    run_main(engine, monkeypatch)
    registered = azure_resources(engine)

    monkeypatch.setenv(RENDER_OVERRIDE_ENV, str(tmp_path / "rendered"))
    engine.mocks.registered.clear()
    # A second program run: a new engine connection (each program has its own listeners).
    pulumi.runtime.set_mocks(engine.mocks, project="aio-mq", stack="test", preview=False)
    engine.configure(config)
    run_main(engine, monkeypatch)
    assert azure_resources(engine) == []  # rendering: the template only
    assert len(arm.calls) == 1  # and nothing read from Azure

    template = json.loads((tmp_path / "rendered" / "azuredeploy.json").read_text())
    assert template["$schema"].endswith("/2019-04-01/deploymentTemplate.json#")
    as_template = [
        {
            "type": TYPES[r.typ][0],
            "apiVersion": "2024-11-01",
            "name": f"{r.inputs['instanceName']}/{r.inputs['brokerName']}/"
            f"{r.inputs[TYPES[r.typ][1]]}",
            "extendedLocation": r.inputs["extendedLocation"],
            "properties": r.inputs["properties"],
        }
        for r in registered
    ]
    # The engine registers concurrently, in no fixed order; the template's order is its own.
    in_template = [{k: v for k, v in t.items() if k != "dependsOn"} for t in template["resources"]]
    assert sorted(in_template, key=by_name) == sorted(as_template, key=by_name)
    assert len(in_template) == 3
    (listener,) = [t for t in template["resources"] if t["type"].endswith("/listeners")]
    assert listener["dependsOn"] == [
        "[resourceId('Microsoft.IoTOperations/instances/brokers/authentications', "
        "'aio-factory', 'default', 'factory-devices')]",
        "[resourceId('Microsoft.IoTOperations/instances/brokers/authorizations', "
        "'aio-factory', 'default', 'factory-telemetry')]",
    ]


def test_a_bad_arm_stack_is_refused_at_once_with_nothing_registered_or_written(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(RENDER_OVERRIDE_ENV, str(tmp_path / "rendered"))
    config = stack_config(PROD_ARM)
    config["azure"] = {**AZURE, "customLocation": "cl-factory", "instance": "AIO"}
    config["authentications"][0]["name"] = "factory.devices"
    spec = config["listeners"][0]["ports"][0]["tls"]["certManagerCertificateSpec"]
    spec["privateKey"] = {"algorithm": "Ec384"}
    config["listeners"].append({"name": "ab", "serviceType": "LoadBalancer", "ports": [port(1)]})
    message = refused(engine, monkeypatch, config)
    for expected in (
        "azure.instance: 'AIO' is not an Azure IoT Operations resource name",
        "azure.customLocation: 'cl-factory' is not a custom location resource id",
        "listeners[0].ports[0].tls.certManagerCertificateSpec.privateKey.rotationPolicy: "
        "required key is missing",
    ):
        assert expected in message
    engine.mocks.registered.clear()
    config["azure"] = AZURE
    spec["privateKey"]["rotationPolicy"] = "Always"
    message = refused(engine, monkeypatch, config)
    assert "has 4 problems" in message
    for expected in (
        "authentications[0].name: 'factory.devices' is not a name Azure Resource Manager accepts",
        "listeners[1].name: 'ab' is not a name Azure Resource Manager accepts",
        "fix: use 3 to 63 lower-case letters (a-z), digits and '-'",
        # The GA rules hold as on Kubernetes: one LoadBalancer listener per broker.
        "listeners[1]",
        "LoadBalancer",
    ):
        assert expected in message
    # The renamed authentication is gone: the reference to it is reported with the rest.
    assert "BrokerAuthentication 'factory-devices' is neither declared nor existing" in message
    assert not (tmp_path / "rendered").exists()


def test_an_arm_stack_is_refused_on_the_same_ga_input_as_a_kubernetes_stack(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = {
        "listeners": [{"name": "second", "ports": [port(18883)]}],
        "authorizations": [{"name": "nobody"}],
    }
    messages = []
    for target in (
        {"kubernetes": {"renderYamlToDirectory": "rendered/x"}},
        {"azure": AZURE, "discovery": False},
    ):
        message = refused(engine, monkeypatch, {"apiVersion": GA, **target, **bad})
        messages.append(message.splitlines())
        engine.mocks.registered.clear()
    assert messages[0] == messages[1]
    assert any("18883" in line for line in messages[0])


def test_discovery_off_assumes_the_ga_defaults(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, arm: FakeArm
) -> None:
    message = refused(
        engine,
        monkeypatch,
        arm_config(discovery=False, listeners=[{"name": "edge", "ports": [port(18883)]}]),
    )
    assert "18883" in message and "the default listener" in message
    assert arm.calls == []


def test_live_listeners_read_from_arm_are_checked_against(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, arm: FakeArm
) -> None:
    arm.listeners.append(
        MqListenerV1Args.model_validate(
            {"name": "portal-made", "serviceType": "LoadBalancer", "ports": [port(8883)]}
        )
    )
    message = refused(
        engine,
        monkeypatch,
        arm_config(
            listeners=[
                {"name": "edge", "serviceType": "LoadBalancer", "ports": [port(8884)]},
            ]
        ),
    )
    assert "portal-made" in message
    assert "in Azure (instance aio-factory, rg-factory)" in message


def test_arm_that_cannot_be_read_is_a_problem_naming_the_key(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, arm: FakeArm
) -> None:
    arm.problems = [Problem("aio-mq:azure", "403 from ARM", "grant Reader on the instance")]
    message = refused(
        engine, monkeypatch, arm_config(listeners=[{"name": "edge", "ports": [port(8884)]}])
    )
    assert "aio-mq:azure: 403 from ARM" in message
    assert "fix: grant Reader on the instance" in message


def test_a_preview_api_stack_with_azure_is_refused_with_reason_and_fix(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = refused(engine, monkeypatch, {"azure": AZURE, "listeners": []})
    assert "aio-mq:azure: the Azure Resource Manager target is for the GA API only" in message
    assert "fix: set aio-mq:apiVersion: mqttbroker.iotoperations.azure.com/v1" in message


def test_namespaces_and_brokers_other_than_the_targets_are_refused(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = refused(
        engine,
        monkeypatch,
        arm_config(
            discovery=False,
            brokerRef="other",
            listeners=[
                {"name": "edge", "namespace": "mq", "brokerRef": "b2", "ports": [port(8884)]}
            ],
        ),
    )
    assert "aio-mq:brokerRef: is 'other', but the ARM target's broker is 'default'" in message
    assert "listeners[0].namespace: is 'mq'; Azure resources have no namespace" in message
    assert "listeners[0].brokerRef: is 'b2'" in message


def cluster_only_config(**keys: Any) -> dict[str, Any]:
    certificate, key = tls_pair(["edge.azure-iot-operations.svc.cluster.local", "edge"])
    return arm_config(
        discovery=False,
        issuers=[{"name": "plant-ca", "kind": "ClusterIssuer", "selfSigned": {}}],
        listeners=[
            {
                "name": "edge",
                "serviceType": "LoadBalancer",
                "ports": [
                    port(
                        8884,
                        tls={
                            "mode": "Automatic",
                            "certManagerCertificateSpec": {
                                "issuerRef": {"name": "plant-ca", "kind": "ClusterIssuer"}
                            },
                        },
                    ),
                    port(
                        8885,
                        tls={
                            "mode": "Manual",
                            "manual": {
                                "secretRef": "edge-tls",
                                "certificate": certificate,
                                "privateKey": key,
                            },
                        },
                    ),
                ],
            }
        ],
        **keys,
    )


@pytest.mark.parametrize("kubernetes", [None, {}], ids=["absent", "empty"])
def test_issuers_and_tls_material_without_a_cluster_are_refused_with_the_fix(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, kubernetes: dict[str, str] | None
) -> None:
    config = cluster_only_config()
    if kubernetes is not None:
        config["kubernetes"] = kubernetes  # the key alone names no cluster
    message = refused(engine, monkeypatch, config)
    assert "issuers[0]: a cert-manager issuer is a Kubernetes object, not an Azure resource" in (
        message
    )
    assert "listeners[0].ports[1].tls.manual: the certificate and key make a Kubernetes Secret" in (
        message
    )
    assert "fix: add aio-mq:kubernetes with the context" in message


def test_issuers_and_tls_secrets_go_to_the_named_cluster_before_the_azure_resources(
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    opts_of: dict[str, pulumi.ResourceOptions],
) -> None:
    config = cluster_only_config(kubernetes={"context": "aks-factory"})
    on_disk(
        tmp_path, monkeypatch, config, [("listeners", 0, "ports", 1, "tls", "manual", "privateKey")]
    )
    engine.configure(config, ["listeners"])
    run_main(engine, monkeypatch)
    (provider,) = engine.mocks.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "aks-factory"
    kinds = [r.typ for r in engine.mocks.registered if r.typ.startswith("kubernetes:")]
    assert sorted(kinds) == [
        "kubernetes:cert-manager.io/v1:ClusterIssuer",
        "kubernetes:core/v1:Secret",
    ]
    (secret,) = engine.mocks.of_type("kubernetes:core/v1:Secret")
    assert secret.inputs["metadata"]["name"] == "edge-tls"
    uses = opts_of["edge"].depends_on
    assert isinstance(uses, list)
    assert sorted(type(r).__name__ for r in uses) == ["CustomResource", "Secret"]


def names_azure_native(engine: Engine) -> None:
    """Have the mocks answer as Azure does: an instance's and a broker's `name` output is the
    name argument."""
    named = {
        "azure-native:iotoperations:Instance": "instanceName",
        "azure-native:iotoperations:Broker": "brokerName",
    }
    new_resource = engine.mocks.new_resource

    def with_names(args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        resource_id, outputs = new_resource(args)
        if args.typ in named:
            outputs["name"] = args.inputs[named[args.typ]]
        return resource_id, outputs

    engine.mocks.new_resource = with_names  # type: ignore[method-assign]


def instance_and_broker() -> dict[str, Any]:
    """What a program creates with azure-native, as the `azure` target of aio-mq's components:
    the instance's and broker's names are their outputs."""
    location = iotoperations.ExtendedLocationArgs(name=LOCATION, type="CustomLocation")
    instance = iotoperations.Instance(
        "aio",
        resource_group_name="rg-factory",
        instance_name="aio-factory",
        extended_location=location,
        properties={"schema_registry_ref": {"resource_id": "/subscriptions/x/sr"}},
    )
    broker = iotoperations.Broker(
        "broker",
        resource_group_name="rg-factory",
        instance_name=instance.name,
        broker_name="default",
        extended_location=location,
    )
    return {
        "resourceGroup": "rg-factory",
        "instance": instance.name,
        "broker": broker.name,
        "customLocation": LOCATION,
    }


@pytest.mark.parametrize("under_a_parent", [True, False], ids=["component", "program"])
def test_composition_passes_azure_native_outputs_in(
    engine: Engine, arm: FakeArm, under_a_parent: bool
) -> None:
    names_azure_native(engine)

    def program() -> Any:
        stack = validate_config(
            {
                "apiVersion": GA,
                "azure": instance_and_broker(),
                "listeners": [
                    {"name": "edge", "serviceType": "LoadBalancer", "ports": [port(8884)]}
                ],
            }
        )
        parent = pulumi.ComponentResource("test:index:Set", "set") if under_a_parent else None
        return deploy(stack, parent=parent)

    summaries = engine.run(program)
    (listener,) = engine.mocks.of_type("azure-native:iotoperations:BrokerListener")
    assert listener.inputs["instanceName"] == "aio-factory"
    assert listener.inputs["brokerName"] == "default"
    assert listener.inputs["properties"]["serviceType"] == "LoadBalancer"
    assert summaries["edge"]["serviceType"] == "LoadBalancer"
    # The Outputs are unknown while the program runs: ARM is not read with them; the GA
    # defaults are assumed, as with discovery off.
    assert arm.calls == []


def test_composition_checks_the_objects_even_with_outputs_in_the_target(
    engine: Engine,
) -> None:
    def program() -> None:
        validate_config(
            {
                "apiVersion": GA,
                "azure": {**AZURE, "instance": pulumi.Output.from_input("x")},
                "listeners": [{"name": "e", "ports": [port(8884)]}],
            }
        )

    with pytest.raises(ConfigError) as raised:
        engine.run(program)
    message = str(raised.value)
    assert "azure.instance" not in message  # an Output: Azure checks it when it is known
    assert "listeners[0].name: 'e' is not a name Azure Resource Manager accepts" in message
    assert engine.mocks.registered == []


def test_arm_stack_keys_are_in_the_stack_file_schema() -> None:
    schema = json.loads((ROOT / "schema" / "stack-config.schema.json").read_text())
    target = schema["$defs"]["AzureTarget"]
    assert sorted(target["required"]) == ["customLocation", "instance", "resourceGroup"]
    # The editor's pattern accepts what the program accepts.
    assert re.fullmatch(target["properties"]["customLocation"]["pattern"], LOCATION)
    assert not re.fullmatch(target["properties"]["instance"]["pattern"], "AIO")


def test_the_targets_broker_is_the_parent_of_every_resource(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, arm: FakeArm
) -> None:
    # aio-mq:brokerRef left out: the target's broker applies, nothing to repeat.
    config = arm_config(
        listeners=[{"name": "edge", "serviceType": "LoadBalancer", "ports": [port(8884)]}],
        authentications=[
            {
                "name": "devices",
                "authenticationMethods": [{"method": "X509"}],
            }
        ],
    )
    config["azure"] = {**AZURE, "broker": "edge-broker"}
    engine.configure(config)
    run_main(engine, monkeypatch)
    assert {r.inputs["brokerName"] for r in azure_resources(engine)} == {"edge-broker"}
    assert len(azure_resources(engine)) == 2
    assert arm.calls[0]["broker"] == "edge-broker"


def test_listeners_read_from_the_targets_broker_are_on_the_stacks_broker(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, arm: FakeArm
) -> None:
    # ARM lists the listeners of one broker: the stack's listeners are on it too, and meet the
    # one-LoadBalancer rule there, whatever the broker is called.
    arm.listeners.append(
        MqListenerV1Args.model_validate(
            {"name": "portal-made", "serviceType": "LoadBalancer", "ports": [port(8883)]}
        )
    )
    config = arm_config(
        listeners=[{"name": "edge", "serviceType": "LoadBalancer", "ports": [port(8884)]}]
    )
    config["azure"] = {**AZURE, "broker": "edge-broker"}
    message = refused(engine, monkeypatch, config)
    assert "broker 'edge-broker' has at most one LoadBalancer listener" in message


def test_rendering_writes_cluster_objects_as_manifests_beside_the_template(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, arm: FakeArm
) -> None:
    rendered = tmp_path / "rendered"
    monkeypatch.setenv(RENDER_OVERRIDE_ENV, str(rendered))
    config = cluster_only_config(kubernetes={"context": "aks-factory"})
    del config["discovery"]
    on_disk(
        tmp_path, monkeypatch, config, [("listeners", 0, "ports", 1, "tls", "manual", "privateKey")]
    )
    engine.configure(config, ["listeners"])
    run_main(engine, monkeypatch)
    (provider,) = engine.mocks.of_type("pulumi:providers:kubernetes")
    assert provider.inputs == {"renderYamlToDirectory": str(rendered)}
    assert len(engine.mocks.of_type("kubernetes:cert-manager.io/v1:ClusterIssuer")) == 1
    assert azure_resources(engine) == []
    template = json.loads((rendered / "azuredeploy.json").read_text())
    (listener,) = template["resources"]
    assert "dependsOn" not in listener  # the issuer and Secret are not template resources
    assert arm.calls == []


def test_a_template_of_outputs_is_refused_as_a_problem(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(RENDER_OVERRIDE_ENV, str(tmp_path / "rendered"))

    def program() -> Any:
        stack = validate_config(
            arm_config(
                azure={**AZURE, "instance": pulumi.Output.from_input("aio-factory")},
                listeners=[{"name": "edge", "serviceType": "LoadBalancer", "ports": [port(1884)]}],
            )
        )
        return deploy(stack)

    with pytest.raises(ConfigError) as raised:
        engine.run(program)
    assert "aio-mq:azure.instance: is another resource's output" in str(raised.value)
    assert engine.mocks.registered == []
    assert not (tmp_path / "rendered").exists()
