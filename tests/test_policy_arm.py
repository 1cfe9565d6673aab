"""The guardrails on ARM resources (azure-native's BrokerListener, BrokerAuthentication and
BrokerAuthorization), without the engine: their `properties` are the GA spec, so the GA rules
(policy/v1.py) judge them, with messages naming the ARM resource.

The azure-native provider plugin is not on this machine, so no engine runs an ARM stack with the
pack here: the resources below are shaped as the engine shows them to a policy (the inputs of
`pulumi_azure_native.iotoperations.BrokerListener(...)`: resourceGroupName, instanceName,
brokerName, listenerName, extendedLocation, properties).
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy.policy import _NotApplicableError

from policy import common as c
from policy import v1
from tests.test_policy import configured, run_resource_policy, run_stack_policy, urn
from tests.test_policy_v1 import AUTOMATIC, MANUAL, SECURE, ga_listener, tls_secret

LISTENER = "azure-native:iotoperations:BrokerListener"
AUTHENTICATION = "azure-native:iotoperations:BrokerAuthentication"
AUTHORIZATION = "azure-native:iotoperations:BrokerAuthorization"
LOCATION = {
    "name": "/subscriptions/0000/resourceGroups/rg-factory/providers/"
    "Microsoft.ExtendedLocation/customLocations/cl-factory",
    "type": "CustomLocation",
}


def arm(
    type_: str, name_key: str, name: str, properties: dict[str, Any], **where: str
) -> c.Resource:
    props = {
        "resourceGroupName": where.get("resource_group", "rg-factory"),
        "instanceName": where.get("instance", "aio-factory"),
        "brokerName": where.get("broker", "default"),
        name_key: name,
        "extendedLocation": LOCATION,
        "properties": properties,
    }
    return c.Resource(
        type_, urn(type_, f"arm-{name}", "prod", "aio:mq:MqListenerSetV1"), f"arm-{name}", props
    )


def arm_listener(
    name: str, *ports: dict[str, Any], service_type: str | None = None, **where: str
) -> c.Resource:
    properties: dict[str, Any] = {"ports": list(ports)}
    if service_type is not None:
        properties["serviceType"] = service_type
    return arm(LISTENER, "listenerName", name, properties, **where)


def arm_authentication(name: str, *methods: str, **where: str) -> c.Resource:
    listed = [{"method": m} for m in methods or ("ServiceAccountToken",)]
    return arm(
        AUTHENTICATION, "authenticationName", name, {"authenticationMethods": listed}, **where
    )


def ports(resource: c.Resource) -> list[v1.Port]:
    found = v1.ports_of(resource)
    assert found is not None
    return found


def test_arm_listeners_are_read_as_ga_listeners() -> None:
    edge = arm_listener("edge", {"port": 1883.0}, SECURE)
    plain, secure = ports(edge)
    assert plain.ref == "BrokerListener aio-factory/default/edge port 1883 (properties.ports[0])"
    assert (plain.service_type, plain.tls_gaps) == (
        "ClusterIp",
        ["properties.ports[0].tls is absent"],
    )
    assert (secure.port, secure.authentication_ref, secure.tls_gaps) == (8883, "default", [])
    # A versioned module token is the same resource; other azure-native resources are not.
    versioned = c.Resource(
        "azure-native:iotoperations/v20241101:BrokerListener", edge.urn, edge.name, edge.props
    )
    assert len(ports(versioned)) == 2
    broker = c.Resource("azure-native:iotoperations:Broker", edge.urn, edge.name, edge.props)
    assert v1.ports_of(broker) is None


def test_the_same_rules_judge_the_same_port_in_both_forms() -> None:
    """A port says the same to every rule whether it is a custom resource's or ARM's."""
    items: list[dict[str, Any]] = [
        {"port": 1883},
        {"port": 8883, "tls": {"mode": "Manual", "manual": {}}},
        {"port": 8884, "authenticationRef": "x", "tls": {**AUTOMATIC, "certManagerCertificateSpec": {"issuerRef": {"name": "ca"}, "duration": "4000h"}}},
    ]  # fmt: skip
    rules = [
        v1.check_tls_required,
        v1.check_authentication_required,
        v1.check_exposed_authentication,
        v1.check_authorization,
        v1.check_certificate_duration,
    ]
    cr = ports(ga_listener("edge", *items, service_type="NodePort"))
    on_arm = ports(arm_listener("edge", *items, service_type="NodePort"))
    for rule in rules:
        for k8s_port, arm_port in zip(cr, on_arm, strict=True):
            expected = [
                v.message.replace("azure-iot-operations/edge", "aio-factory/default/edge").replace(
                    "spec.", "properties."
                )
                for v in rule(k8s_port)
            ]
            assert [v.message for v in rule(arm_port)] == expected


def test_production_policies_name_the_arm_resource(monkeypatch: pytest.MonkeyPatch) -> None:
    configured(monkeypatch, "true")
    edge = arm_listener("edge", SECURE, {"port": 8884})
    ((message, at),) = run_resource_policy(c.TLS_REQUIRED, edge)
    assert message.startswith(
        "BrokerListener aio-factory/default/edge port 8884 (properties.ports[1]) has no TLS "
        "(properties.ports[1].tls is absent)"
    )
    assert "(Production: the stack sets aio-mq:production: true.)" in message
    assert at == edge.urn
    ((message, _),) = run_resource_policy(c.AUTHENTICATION_REQUIRED, edge)
    assert (
        "aio-factory/default/edge port 8884 (properties.ports[1]) has no authenticationRef"
        in message
    )
    configured(monkeypatch, "false")
    with pytest.raises(_NotApplicableError):
        run_resource_policy(c.TLS_REQUIRED, edge)


def test_everywhere_policies_judge_arm_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    configured(monkeypatch, "false", "dev")
    wide = arm_listener("wide", SECURE, {"port": 1884}, service_type="LoadBalancer")
    ((message, _),) = run_resource_policy(c.EXPOSED_AUTHENTICATION, wide)
    assert message.startswith(
        "BrokerListener aio-factory/default/wide port 1884 (properties.ports[1]) is exposed "
        "outside the cluster (serviceType LoadBalancer) without authenticationRef"
    )
    ((message, _),) = run_resource_policy(c.AUTHORIZATION, wide)
    assert "wide port 1884 (properties.ports[1]) has no authorizationRef" in message
    spec = {**AUTOMATIC["certManagerCertificateSpec"], "duration": "4000h"}
    long_lived = arm_listener(
        "long", {"port": 8883, "tls": {**AUTOMATIC, "certManagerCertificateSpec": spec}}
    )
    ((message, _),) = run_resource_policy(c.CERTIFICATE_DURATION, long_lived)
    assert (
        "properties.ports[0].tls.certManagerCertificateSpec.duration '4000h' is 166.667 days"
        in message
    )


def test_tls_references_of_arm_listeners_are_cluster_objects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Secrets and issuers are not ARM resources: they are the cluster's, in the namespace
    IoT Operations runs in."""
    configured(monkeypatch, "true")
    edge = arm_listener("edge", {"port": 8883, "authenticationRef": "default", "tls": MANUAL})
    ((message, at),) = run_stack_policy([edge])
    assert message.startswith(
        "BrokerListener aio-factory/default/edge port 8883 (properties.ports[0]) uses Secret "
        "azure-iot-operations/edge-tls (properties.ports[0].tls.manual.secretRef), which this "
        "program does not create"
    )
    assert at == edge.urn
    assert run_stack_policy([edge, tls_secret()]) == []
    assert run_stack_policy([edge], {"existingSecrets": ["azure-iot-operations/edge-tls"]}) == []


def test_authentication_refs_resolve_in_the_arm_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    configured(monkeypatch, "true")
    edge = arm_listener("edge", {"port": 8883, "authenticationRef": "devices", "tls": AUTOMATIC})
    ((message, at),) = run_stack_policy([edge], name=c.AUTHENTICATION_LINKED)
    assert message.startswith(
        "BrokerListener aio-factory/default/edge port 8883 (properties.ports[0]) has "
        "authenticationRef 'devices', but no BrokerAuthentication of that name in broker "
        "aio-factory/default is created by this program or declared as existing"
    )
    assert at == edge.urn
    assert (
        run_stack_policy([edge, arm_authentication("devices")], name=c.AUTHENTICATION_LINKED) == []
    )
    # One of another broker, or a custom resource, is not this broker's.
    other = arm_authentication("devices", broker="other")
    assert len(run_stack_policy([edge, other], name=c.AUTHENTICATION_LINKED)) == 1
    # The installed `default`, and what the policy config declares, exist in every broker.
    default = arm_listener("d", {"port": 18883, "authenticationRef": "default", "tls": AUTOMATIC})
    assert run_stack_policy([default], name=c.AUTHENTICATION_LINKED) == []
    existing = {"existingAuthentications": [{"name": "devices"}]}
    assert run_stack_policy([edge], existing, name=c.AUTHENTICATION_LINKED) == []


def test_x509_on_arm_needs_tls_on_the_port_that_names_it() -> None:
    certs = arm_authentication("certs", "ServiceAccountToken", "X509")
    edge = arm_listener(
        "edge",
        {"port": 8883, "authenticationRef": "certs", "tls": AUTOMATIC},
        {"port": 1883, "authenticationRef": "certs"},
    )
    ((message, at),) = run_stack_policy([edge, certs], name=c.X509_REQUIRES_TLS)
    assert message.startswith(
        "BrokerListener aio-factory/default/edge port 1883 (properties.ports[1]) has "
        "authenticationRef 'certs', whose BrokerAuthentication aio-factory/default/certs has an "
        "X509 method, but the port has no TLS"
    )
    assert at == edge.urn
    elsewhere = arm_authentication("certs", "X509", instance="aio-other")
    assert run_stack_policy([edge, elsewhere], name=c.X509_REQUIRES_TLS) == []
