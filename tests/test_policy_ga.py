"""The guardrails on GA BrokerListeners (mqttbroker.iotoperations.azure.com/v1): every rule port
by port, through the pulumi_policy policies too, and the project's GA stacks."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy.policy import _NotApplicableError

from policy import guardrails as g
from tests.conftest import Engine
from tests.test_policy import (
    ISSUER_TYPE,
    NS,
    ROOT,
    SECRET_TYPE,
    k8s_object,
    program_resources,
    run_resource_policy,
    urn,
)
from tests.test_policy import mandatory_violations as preview_mandatory_violations

GA_TYPE = "kubernetes:mqttbroker.iotoperations.azure.com/v1:BrokerListener"
SECURED = {
    "port": 8884,
    "authenticationRef": "devices",
    "authorizationRef": "rules",
    "tls": {"mode": "Manual", "manual": {"secretRef": "edge-tls"}},
}


def ga_resource(
    name: str = "edge",
    *ports: dict[str, Any],
    stack: str = "prod",
    service_type: str = "LoadBalancer",
) -> g.Resource:
    props = {
        "apiVersion": "mqttbroker.iotoperations.azure.com/v1",
        "kind": "BrokerListener",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "brokerRef": "default",
            "serviceType": service_type,
            "serviceName": name,
            "ports": list(ports),
        },
    }
    return g.Resource(GA_TYPE, urn(GA_TYPE, name, stack, "aio:mq:MqListenerV1"), name, props)


def test_each_ga_port_is_checked_as_a_listener() -> None:
    resource = ga_resource("edge", SECURED, {"port": 1883.0})
    first, second = g.checked_listeners(resource)
    assert first == g.Listener(
        name="edge",
        namespace=NS,
        urn=resource.urn,
        port=8884,
        service_type="LoadBalancer",
        authentication=True,
        authorization=True,
        tls={"manual": {"secretName": "edge-tls"}},
        dialect=g.GA,
        port_index=0,
    )
    assert (second.port, second.authentication, second.tls) == (1883, False, None)
    assert second.ref == "BrokerListener azure-iot-operations/edge ports[1] (port 1883)"
    assert g.listener_of(resource) is None


def test_production_needs_tls_and_an_authentication_ref_on_every_port() -> None:
    (plain,) = g.ga_ports_of(ga_resource("edge", {"port": 1883}))
    (tls,) = g.check_tls_required(plain)
    assert tls.message == (
        "BrokerListener azure-iot-operations/edge ports[0] (port 1883) has no TLS (tls is "
        "absent): credentials and messages would cross the network in clear. Give the port tls "
        "with mode Automatic (certManagerCertificateSpec) or Manual (manual.secretRef, a "
        "kubernetes.io/tls Secret)."
    )
    (authn,) = g.check_authentication_required(plain)
    assert authn.message == (
        "BrokerListener azure-iot-operations/edge ports[0] (port 1883) has authentication off: "
        "any client that reaches port 1883 can connect. Set the port's authenticationRef to a "
        "BrokerAuthentication."
    )
    (secured,) = g.ga_ports_of(ga_resource("edge", SECURED))
    assert g.check_tls_required(secured) == g.check_authentication_required(secured) == []


@pytest.mark.parametrize("service_type", ["LoadBalancer", "NodePort"])
def test_exposed_ports_without_authentication_ref_are_refused_everywhere(service_type: str) -> None:
    resource = ga_resource("edge", SECURED, {"port": 1883}, stack="dev", service_type=service_type)
    ((message, at),) = run_resource_policy(g.EXPOSED_AUTHENTICATION, resource)
    assert message.startswith(
        f"BrokerListener azure-iot-operations/edge ports[1] (port 1883) is exposed outside the "
        f"cluster (serviceType {service_type}) with authentication off"
    )
    assert message.endswith(
        "Set the port's authenticationRef to a BrokerAuthentication, or use serviceType ClusterIp."
    )
    assert at == resource.urn


def test_cluster_ip_ports_may_skip_authentication_outside_production() -> None:
    resource = ga_resource("default", {"port": 1883}, stack="dev", service_type="ClusterIp")
    assert run_resource_policy(g.EXPOSED_AUTHENTICATION, resource) == []
    with pytest.raises(_NotApplicableError):
        run_resource_policy(g.TLS_REQUIRED, resource)


def test_production_policies_report_every_failing_port() -> None:
    resource = ga_resource("edge", {"port": 1}, SECURED, {"port": 2})
    reported = run_resource_policy(g.AUTHENTICATION_REQUIRED, resource)
    assert [m.split(" has ")[0] for m, _ in reported] == [
        "BrokerListener azure-iot-operations/edge ports[0] (port 1)",
        "BrokerListener azure-iot-operations/edge ports[2] (port 2)",
    ]
    assert all("(Production: the stack name 'prod'" in m for m, _ in reported)


def test_authorization_advice_names_the_ga_key() -> None:
    (port,) = g.ga_ports_of(ga_resource("edge", {"port": 1, "authenticationRef": "a"}))
    (advice,) = g.check_authorization(port)
    assert advice.message.endswith(
        "Consider an authorizationRef to a BrokerAuthorization that lists what each client may do."
    )


def test_certificate_duration_per_port() -> None:
    spec = {"issuerRef": {"name": "ca", "kind": "Issuer"}, "duration": "8760h"}
    port = {"port": 1, "tls": {"mode": "Automatic", "certManagerCertificateSpec": spec}}
    (listener,) = g.ga_ports_of(ga_resource("edge", port))
    (violation,) = g.check_certificate_duration(listener)
    assert violation.message.startswith(
        "BrokerListener azure-iot-operations/edge ports[0] (port 1): "
        "tls.certManagerCertificateSpec.duration '8760h' is 365 days, more than 90"
    )


def test_references_of_ga_ports_must_exist_in_production() -> None:
    spec = {"issuerRef": {"name": "ca", "kind": "Issuer", "group": "cert-manager.io"}}
    resource = ga_resource(
        "edge",
        SECURED,
        {"port": 2, "tls": {"mode": "Automatic", "certManagerCertificateSpec": spec}},
    )
    secret_message, issuer_message = (
        v.message for v in g.check_references([resource], g.Existing())
    )
    assert secret_message.startswith(
        "BrokerListener azure-iot-operations/edge ports[0] (port 8884) uses Secret "
        "azure-iot-operations/edge-tls (tls.manual.secretRef), which this program does not create"
    )
    assert issuer_message.startswith(
        "BrokerListener azure-iot-operations/edge ports[1] (port 2) uses Issuer 'ca' (group "
        "cert-manager.io) in tls.certManagerCertificateSpec.issuerRef, which this program does "
        "not create in namespace azure-iot-operations"
    )
    secret = k8s_object(SECRET_TYPE, "edge-tls", type="kubernetes.io/tls")
    issuer = k8s_object(ISSUER_TYPE, "ca")
    assert g.check_references([resource, secret, issuer], g.Existing()) == []


def test_the_ga_stacks_pass_the_mandatory_policies(engine: Engine) -> None:
    resources = program_resources(engine, ROOT / "stacks" / "Pulumi.dev-ga.yaml", "dev-ga")
    ports = g.listeners_of(resources)
    assert sorted((p.name, p.port) for p in ports) == [
        ("default", 1883),
        ("default", 18883),
        ("dev-edge", 8443),
        ("dev-edge", 8884),
    ]
    assert preview_mandatory_violations(resources, "dev-ga") == []
    # As a production stack it would fail only on the plain in-cluster port.
    as_production = [
        v.message
        for port in ports
        for v in g.check_tls_required(port) + g.check_authentication_required(port)
    ]
    assert len(as_production) == 2
    assert all("azure-iot-operations/default ports[1] (port 1883)" in m for m in as_production)
