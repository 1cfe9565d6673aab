"""The guardrails on GA resources (policy/v1.py), without the engine: every rule judges a port,
and the pack's policies run the GA rules on GA listeners."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pulumi_policy.policy import _NotApplicableError

from components.stack import deploy, load_config
from policy import common as c
from policy import v1
from tests.conftest import Engine
from tests.test_policy import (
    ROOT,
    by_name,
    configured,
    declared,
    program_resources,
    run_resource_policy,
    run_stack_policy,
    urn,
)

GROUP = "mqttbroker.iotoperations.azure.com"
LISTENER_TYPE = f"kubernetes:{GROUP}/v1:BrokerListener"
AUTHENTICATION_TYPE = f"kubernetes:{GROUP}/v1:BrokerAuthentication"
NS = "azure-iot-operations"
AUTOMATIC: dict[str, Any] = {
    "mode": "Automatic",
    "certManagerCertificateSpec": {"issuerRef": {"name": "ca", "kind": "Issuer"}},
}
MANUAL: dict[str, Any] = {"mode": "Manual", "manual": {"secretRef": "edge-tls"}}


def ga_listener(
    name: str = "edge",
    *ports: dict[str, Any],
    service_type: str | None = None,
    stack: str = "prod",
    patch: bool = False,
    namespace: str = NS,
) -> c.Resource:
    spec: dict[str, Any] = {"brokerRef": "default", "ports": list(ports)}
    if service_type is not None:
        spec["serviceType"] = service_type
    type_ = LISTENER_TYPE + ("Patch" if patch else "")
    props = {
        "apiVersion": f"{GROUP}/v1",
        "kind": "BrokerListener",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }
    return c.Resource(type_, urn(type_, name, stack, "aio:mq:MqListenerV1"), name, props)


def port(resource: c.Resource, index: int = 0) -> v1.Port:
    ports = v1.ports_of(resource)
    assert ports is not None
    return ports[index]


def ga_object(type_: str, name: str, namespace: str = NS, **props: Any) -> c.Resource:
    metadata = {"name": name, "namespace": namespace}
    return c.Resource(type_, urn(type_, name), name, {"metadata": metadata, **props})


def ga_authentication(name: str, *methods: str, namespace: str = NS) -> c.Resource:
    return ga_object(
        AUTHENTICATION_TYPE,
        name,
        namespace,
        spec={"authenticationMethods": [{"method": m} for m in methods or ("Custom",)]},
    )


SECURE = {"port": 8883, "authenticationRef": "default", "authorizationRef": "a", "tls": AUTOMATIC}


# --- reading GA listeners ------------------------------------------------------------------


def test_ports_are_read_with_the_api_defaults() -> None:
    resource = ga_listener("edge", {"port": 1883.0}, SECURE)
    ports = v1.ports_of(resource)
    assert ports is not None
    assert [(p.port, p.index, p.service_type, p.authentication_ref) for p in ports] == [
        (1883, 0, "ClusterIp", None),
        (8883, 1, "ClusterIp", "default"),
    ]
    assert ports[0].ref == "BrokerListener azure-iot-operations/edge port 1883 (spec.ports[0])"
    assert ports[0].tls_gaps == ["spec.ports[0].tls is absent"]
    assert ports[1].tls_gaps == []


def test_generic_custom_resources_and_patches_of_ga_listeners() -> None:
    generic = ga_listener("g", {"port": 1})
    generic = c.Resource(
        "kubernetes:apiextensions.k8s.io:CustomResource", generic.urn, "g", generic.props
    )
    assert [p.port for p in v1.ports_of(generic) or []] == [1]
    patch = ga_listener("default", {"port": 1883}, patch=True)
    (patched,) = v1.ports_of(patch) or []
    assert (patched.patch, patched.service_type) == (True, None)  # serviceType left as it is
    no_ports = c.Resource(patch.type, patch.urn, "default", {"spec": {"serviceType": "NodePort"}})
    assert v1.ports_of(no_ports) == []
    # The preview API's listener is not a GA one, and the reverse.
    preview = c.Resource(
        "kubernetes:mq.iotoperations.azure.com/v1beta1:BrokerListener", "u", "x", {"spec": {}}
    )
    assert v1.ports_of(preview) is None


@pytest.mark.parametrize(
    ("tls", "gap"),
    [
        ({}, "spec.ports[0].tls.mode is missing"),
        ({"mode": "Disabled"}, "spec.ports[0].tls.mode is 'Disabled', not Automatic or Manual"),
        (
            {"mode": "Automatic"},
            "spec.ports[0].tls.mode Automatic takes exactly certManagerCertificateSpec, but the "
            "tls gives no block",
        ),
        (
            {
                "mode": "Manual",
                "certManagerCertificateSpec": AUTOMATIC["certManagerCertificateSpec"],
            },
            "spec.ports[0].tls.mode Manual takes exactly manual, but the tls gives "
            "certManagerCertificateSpec",
        ),
        (
            {**AUTOMATIC, "manual": {"secretRef": "s"}},
            "spec.ports[0].tls.mode Automatic takes exactly certManagerCertificateSpec, but the "
            "tls gives certManagerCertificateSpec and manual",
        ),
        (
            {"mode": "Automatic", "certManagerCertificateSpec": {"issuerRef": {}}},
            "spec.ports[0].tls.certManagerCertificateSpec.issuerRef.name is missing",
        ),
        ({"mode": "Manual", "manual": {}}, "spec.ports[0].tls.manual.secretRef is missing"),
    ],
)
def test_hollow_tls_is_not_tls(tls: dict[str, Any], gap: str) -> None:
    hollow = port(ga_listener("h", {"port": 8883, "tls": tls}))
    assert hollow.tls_gaps == [gap]
    (violation,) = v1.check_tls_required(hollow)
    assert f"has no working TLS ({gap})" in violation.message


def test_lower_camel_tls_mode_is_tls() -> None:
    lower = {**MANUAL, "mode": "manual"}
    assert port(ga_listener("l", {"port": 8883, "tls": lower})).tls_gaps == []


# --- rules on one port ---------------------------------------------------------------------


def test_tls_required_names_the_port_without_it() -> None:
    ports = v1.ports_of(ga_listener("edge", SECURE, {"port": 1883}, {"port": 8884, "tls": MANUAL}))
    violations = [v for p in ports or [] for v in v1.check_tls_required(p)]
    (violation,) = violations
    assert violation.message.startswith(
        "BrokerListener azure-iot-operations/edge port 1883 (spec.ports[1]) has no TLS "
        "(spec.ports[1].tls is absent)"
    )
    assert "mode Automatic and certManagerCertificateSpec.issuerRef.name" in violation.message


def test_authentication_required_per_port() -> None:
    plain = port(ga_listener("edge", {"port": 1883, "tls": AUTOMATIC}))
    (violation,) = v1.check_authentication_required(plain)
    assert "port 1883 (spec.ports[0]) has no authenticationRef" in violation.message
    assert v1.check_authentication_required(port(ga_listener("e", SECURE))) == []


@pytest.mark.parametrize("service_type", ["LoadBalancer", "NodePort", "loadBalancer", "nodePort"])
def test_exposed_port_needs_an_authentication_ref(service_type: str) -> None:
    resource = ga_listener("wide", SECURE, {"port": 1884}, service_type=service_type)
    ports = v1.ports_of(resource) or []
    assert v1.check_exposed_authentication(ports[0]) == []
    (violation,) = v1.check_exposed_authentication(ports[1])
    assert (
        f"port 1884 (spec.ports[1]) is exposed outside the cluster (serviceType {service_type})"
        in violation.message
    )
    assert "without authenticationRef" in violation.message


def test_cluster_ip_and_an_unknown_service_type_are_not_exposed() -> None:
    assert v1.check_exposed_authentication(port(ga_listener("in", {"port": 1883}))) == []
    patch = ga_listener("default", {"port": 1883}, patch=True)
    assert v1.check_exposed_authentication(port(patch)) == []


def test_authorization_is_advised_per_port() -> None:
    (violation,) = v1.check_authorization(port(ga_listener("e", {"port": 1883})))
    assert "has no authorizationRef" in violation.message
    assert v1.check_authorization(port(ga_listener("e", SECURE))) == []


def with_duration(duration: str | None) -> v1.Port:
    spec = dict(AUTOMATIC["certManagerCertificateSpec"])
    if duration is not None:
        spec["duration"] = duration
    return port(
        ga_listener(
            "certs", {"port": 8883, "tls": {**AUTOMATIC, "certManagerCertificateSpec": spec}}
        )
    )


def test_certificate_duration_default_is_cert_managers_ninety_days() -> None:
    assert v1.check_certificate_duration(with_duration(None)) == []
    (violation,) = v1.check_certificate_duration(with_duration(None), max_days=30)
    assert "the default duration '2160h' (cert-manager's default) is 90 days, more than 30" in (
        violation.message
    )


def test_certificate_duration_given() -> None:
    (violation,) = v1.check_certificate_duration(with_duration("4000h"))
    assert (
        "spec.ports[0].tls.certManagerCertificateSpec.duration '4000h' is 166.667 days"
        in violation.message
    )
    (violation,) = v1.check_certificate_duration(with_duration("30d"))
    assert "'30d' is not a Go duration" in violation.message
    assert v1.check_certificate_duration(port(ga_listener("m", {"port": 1, "tls": MANUAL}))) == []


# --- rules on the whole stack --------------------------------------------------------------


def tls_secret(name: str = "edge-tls", **props: Any) -> c.Resource:
    return ga_object("kubernetes:core/v1:Secret", name, type="kubernetes.io/tls", **props)


def test_manual_secret_ref_must_be_created_or_existing() -> None:
    edge = ga_listener("edge", {"port": 8883, "tls": MANUAL})
    (violation,) = v1.check_references([edge], c.Existing())
    assert violation.urn == edge.urn
    assert (
        "port 8883 (spec.ports[0]) uses Secret azure-iot-operations/edge-tls "
        "(spec.ports[0].tls.manual.secretRef), which this program does not create"
    ) in violation.message
    assert v1.check_references([edge, tls_secret()], c.Existing()) == []
    existing = c.Existing(secrets=frozenset({"azure-iot-operations/edge-tls"}))
    assert v1.check_references([edge], existing) == []
    opaque = ga_object("kubernetes:core/v1:Secret", "edge-tls", type="Opaque")
    (violation,) = v1.check_references([edge, opaque], c.Existing())
    assert "creates it with type Opaque" in violation.message


def test_issuer_must_be_created_or_existing() -> None:
    edge = ga_listener("edge", {"port": 8883, "tls": AUTOMATIC})
    (violation,) = v1.check_references([edge], c.Existing())
    assert "uses Issuer 'ca' (group cert-manager.io) in spec.ports[0].tls." in violation.message
    assert "'Issuer/azure-iot-operations/ca'" in violation.message
    issuer = ga_object("kubernetes:cert-manager.io/v1:Issuer", "ca")
    assert v1.check_references([edge, issuer], c.Existing()) == []
    elsewhere = ga_object("kubernetes:cert-manager.io/v1:Issuer", "ca", namespace="other")
    assert len(v1.check_references([edge, elsewhere], c.Existing())) == 1
    existing = c.Existing(issuers=frozenset({"Issuer/azure-iot-operations/ca"}))
    assert v1.check_references([edge], existing) == []


def test_authentication_ref_must_name_an_authentication() -> None:
    edge = ga_listener("edge", {"port": 8883, "authenticationRef": "devices", "tls": AUTOMATIC})
    defaults = v1.existing_authentications({})
    (violation,) = v1.check_authentication_linked([edge], defaults)
    assert "has authenticationRef 'devices', but no BrokerAuthentication" in violation.message
    assert v1.check_authentication_linked([edge, ga_authentication("devices")], defaults) == []
    elsewhere = ga_authentication("devices", namespace="other")
    assert len(v1.check_authentication_linked([edge, elsewhere], defaults)) == 1
    # The deployment's `default` exists unless the policy config says otherwise.
    default = ga_listener("d", {"port": 18883, "authenticationRef": "default", "tls": AUTOMATIC})
    assert v1.check_authentication_linked([default], defaults) == []
    none = v1.existing_authentications({"existingAuthentications": []})
    assert len(v1.check_authentication_linked([default], none)) == 1
    declared_site = v1.existing_authentications({"existingAuthentications": [{"name": "devices"}]})
    assert declared_site == [v1.Authentication("devices", v1.namespace_home(NS))]
    assert v1.check_authentication_linked([edge], declared_site) == []


def test_x509_needs_tls_on_the_port_that_names_it() -> None:
    certs = ga_authentication("certs", "ServiceAccountToken", "X509")
    edge = ga_listener(
        "edge",
        {"port": 8883, "authenticationRef": "certs", "tls": AUTOMATIC},
        {"port": 1883, "authenticationRef": "certs"},
    )
    (violation,) = v1.check_x509_requires_tls([edge, certs])
    assert violation.urn == edge.urn
    assert violation.message.startswith(
        "BrokerListener azure-iot-operations/edge port 1883 (spec.ports[1]) has "
        "authenticationRef 'certs', whose BrokerAuthentication azure-iot-operations/certs has "
        "an X509 method, but the port has no TLS"
    )
    tokens = ga_authentication("certs", "ServiceAccountToken")
    assert v1.check_x509_requires_tls([edge, tokens]) == []


# --- the pack's policies on GA resources ---------------------------------------------------


def test_production_policies_judge_each_port(monkeypatch: pytest.MonkeyPatch) -> None:
    configured(monkeypatch, "true")
    edge = ga_listener("edge", SECURE, {"port": 1883})
    ((message, at),) = run_resource_policy(c.TLS_REQUIRED, edge)
    assert "edge port 1883 (spec.ports[1]) has no TLS" in message
    assert "(Production: the stack sets aio-mq:production: true.)" in message
    assert at == edge.urn
    ((message, _),) = run_resource_policy(c.AUTHENTICATION_REQUIRED, edge)
    assert "port 1883 (spec.ports[1]) has no authenticationRef" in message
    configured(monkeypatch, "false")
    with pytest.raises(_NotApplicableError):
        run_resource_policy(c.TLS_REQUIRED, edge)


def test_everywhere_policies_judge_ga_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    configured(monkeypatch, "false", "dev")
    wide = ga_listener("wide", SECURE, {"port": 1884}, service_type="LoadBalancer", stack="dev")
    ((message, _),) = run_resource_policy(c.EXPOSED_AUTHENTICATION, wide)
    assert "wide port 1884 (spec.ports[1]) is exposed outside the cluster" in message
    ((message, _),) = run_resource_policy(c.AUTHORIZATION, wide)
    assert "port 1884" in message
    long_lived = ga_listener(
        "long",
        {
            "port": 8883,
            "tls": {
                **AUTOMATIC,
                "certManagerCertificateSpec": {
                    **AUTOMATIC["certManagerCertificateSpec"],
                    "duration": "4000h",
                },
            },
        },
        stack="dev",
    )
    assert run_resource_policy(c.CERTIFICATE_DURATION, long_lived)
    assert run_resource_policy(c.CERTIFICATE_DURATION, long_lived, {"maxDays": 200}) == []
    plain = ga_listener("plain", {"port": 1883, "authenticationRef": "x509"}, stack="dev")
    x509 = ga_authentication("x509", "X509")
    ((message, _),) = run_stack_policy([plain, x509], name=c.X509_REQUIRES_TLS)
    assert "has an X509 method, but the port has no TLS" in message


def test_production_stack_policies_run_the_ga_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    configured(monkeypatch, "true")
    edge = ga_listener("edge", {"port": 8883, "authenticationRef": "devices", "tls": MANUAL})
    ((message, _),) = run_stack_policy([edge])
    assert "uses Secret azure-iot-operations/edge-tls" in message
    assert run_stack_policy([edge], {"existingSecrets": ["azure-iot-operations/edge-tls"]}) == []
    ((message, _),) = run_stack_policy([edge], name=c.AUTHENTICATION_LINKED)
    assert "authenticationRef 'devices'" in message
    existing = {"existingAuthentications": [{"name": "devices"}]}
    assert run_stack_policy([edge], existing, name=c.AUTHENTICATION_LINKED) == []


def test_existing_authentications_config_needs_no_listener_ref() -> None:
    schema = by_name()[c.AUTHENTICATION_LINKED].config_schema
    assert schema is not None
    assert schema.properties["existingAuthentications"]["items"]["required"] == ["name"]


# --- the project's GA stack, rendered by the program under mocks ---------------------------


def ga_mandatory_violations(resources: list[c.Resource], production: bool) -> list[str]:
    ports = v1.all_ports(resources)
    found = [v for p in ports for v in v1.check_exposed_authentication(p)]
    found += v1.check_x509_requires_tls(resources)
    if production:
        found += [v for p in ports for v in v1.check_tls_required(p)]
        found += [v for p in ports for v in v1.check_authentication_required(p)]
        found += v1.check_authentication_linked(resources, v1.existing_authentications({}))
    return [v.message for v in found]


def test_the_ga_stack_passes_the_mandatory_policies(engine: Engine) -> None:
    resources = program_resources(engine, ROOT / "stacks" / "Pulumi.dev-ga.yaml", "dev-ga")
    assert declared("dev-ga") == {"aio-mq:production": "false"}
    assert len(v1.all_ports(resources)) == 4
    assert ga_mandatory_violations(resources, production=False) == []
    # As production, the one port without TLS or authentication (1883 on default) is refused.
    messages = ga_mandatory_violations(resources, production=True)
    assert len(messages) == 2
    assert all("azure-iot-operations/default port 1883 (spec.ports[1])" in m for m in messages)


def test_an_exposed_ga_port_without_authentication_fails(engine: Engine) -> None:
    raw = load_config_raw("dev-ga")
    raw["listeners"][1]["ports"].append({"port": 1884})
    engine.run(lambda: deploy(load_config(raw)))
    resources = [
        c.Resource(r.typ, urn(r.typ, r.name, "dev-ga"), r.name, r.inputs)
        for r in engine.mocks.registered
    ]
    (message,) = ga_mandatory_violations(resources, production=False)
    assert "dev-edge port 1884 (spec.ports[2]) is exposed outside the cluster" in message


def load_config_raw(stack: str) -> dict[str, Any]:
    config = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {k.removeprefix("aio-mq:"): v for k, v in config.items() if k.startswith("aio-mq:")}
