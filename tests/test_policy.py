"""The guardrails policy pack (policy/guardrails.py), without the engine.

The rules are plain functions over the resources a policy is shown; the last part drives the
pulumi_policy policies themselves with the argument objects the analyzer builds, and runs the
project's program under mocks to check the stacks in stacks/ against the rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import policy as policy_module
from pulumi_policy.policy import _NotApplicableError

from components.stack import deploy, load_config
from policy import common as c
from policy import guardrails as g
from policy import v1beta1 as b
from tests.conftest import Engine

ROOT = Path(__file__).resolve().parent.parent
NS = "azure-iot-operations"
LISTENER_TYPE = "kubernetes:mq.iotoperations.azure.com/v1beta1:BrokerListener"
ISSUER_TYPE = "kubernetes:cert-manager.io/v1:Issuer"
CLUSTER_ISSUER_TYPE = "kubernetes:cert-manager.io/v1:ClusterIssuer"
SECRET_TYPE = "kubernetes:core/v1:Secret"


def urn(type_: str, name: str, stack: str = "prod", parent: str = "") -> str:
    qualified = f"{parent}${type_}" if parent else type_
    return f"urn:pulumi:{stack}::aio-mq::{qualified}::{name}"


def listener_resource(
    name: str = "edge", *, namespace: str | None = NS, stack: str = "prod", **spec: Any
) -> c.Resource:
    metadata = {"name": name} | ({"namespace": namespace} if namespace else {})
    props = {
        "apiVersion": "mq.iotoperations.azure.com/v1beta1",
        "kind": "BrokerListener",
        "metadata": metadata,
        "spec": {"brokerRef": "broker", "port": 8884, **spec},
    }
    return c.Resource(
        LISTENER_TYPE, urn(LISTENER_TYPE, name, stack, "aio:mq:MqListener"), name, props
    )


def listener(**spec: Any) -> b.Listener:
    found = b.listener_of(listener_resource(**spec))
    assert found is not None
    return found


def k8s_object(
    type_: str, name: str, namespace: str | None = NS, stack: str = "prod", **props: Any
) -> c.Resource:
    metadata = {"name": name} | ({"namespace": namespace} if namespace else {})
    return c.Resource(type_, urn(type_, name, stack), name, {"metadata": metadata, **props})


AUTOMATIC: dict[str, Any] = {
    "automatic": {"issuerRef": {"name": "ca", "kind": "Issuer", "group": "cert-manager.io"}}
}
SECURE: dict[str, Any] = {
    "authenticationEnabled": True,
    "authorizationEnabled": True,
    "tls": AUTOMATIC,
}
OPTIONS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


# --- reading resources ---------------------------------------------------------------------


def test_kubernetes_type_tokens() -> None:
    assert c.kubernetes_type(LISTENER_TYPE) == c.KubernetesType(
        "mq.iotoperations.azure.com", "v1beta1", "BrokerListener"
    )
    assert c.kubernetes_type(SECRET_TYPE) == c.KubernetesType("core", "v1", "Secret")
    for token in ("aio:mq:MqListener", "pulumi:providers:kubernetes", "kubernetes:yaml:x"):
        assert c.kubernetes_type(token) is None


def test_listener_fields_default_as_the_api_does() -> None:
    found = b.listener_of(listener_resource("bare", namespace=None))
    assert found == b.Listener(
        name="bare",
        namespace="default",
        urn=urn(LISTENER_TYPE, "bare", parent="aio:mq:MqListener"),
        port=8884,
        service_type="clusterIp",
        authentication=False,
        authorization=False,
        tls=None,
    )
    assert found.tls_mode is None


def test_listener_fields_as_given() -> None:
    found = listener(serviceType="nodePort", port=31883.0, tls={"manual": {"secretName": "s"}})
    assert (found.service_type, found.port, found.tls_mode) == ("nodePort", 31883, "manual")
    assert listener(tls={}).tls_mode is None  # no TLS mode named: no TLS


def test_other_resources_are_not_listeners() -> None:
    assert b.listener_of(k8s_object(SECRET_TYPE, "s")) is None
    other_kind = c.Resource(
        "kubernetes:mq.iotoperations.azure.com/v1beta1:Broker", "urn", "broker", {}
    )
    assert b.listener_of(other_kind) is None
    # Another version of the API is still a BrokerListener.
    v1 = c.Resource("kubernetes:mq.iotoperations.azure.com/v1:BrokerListener", "u", "x", {})
    assert b.listener_of(v1) is not None


def test_project_of_urn() -> None:
    assert g.project_of(urn(LISTENER_TYPE, "x", stack="prod")) == "aio-mq"
    assert g.project_of("not-a-urn") == ""


def test_generic_and_patch_types_of_a_listener() -> None:
    generic = {"apiVersion": "mq.iotoperations.azure.com/v1beta1", "kind": "BrokerListener"}
    for token, props, patch in [
        (LISTENER_TYPE + "Patch", {}, True),
        ("kubernetes:apiextensions.k8s.io:CustomResourcePatch", generic, True),
        ("kubernetes:apiextensions.k8s.io/v1:CustomResourcePatch", generic, True),
        ("kubernetes:apiextensions.k8s.io:CustomResource", generic, False),
    ]:
        found = b.listener_of(c.Resource(token, "u", "x", {**props, "spec": {}}))
        assert found is not None, token
        assert found.patch is patch, token
    other = {"apiVersion": "mq.iotoperations.azure.com/v1beta1", "kind": "Broker"}
    patch_of_other = c.Resource(
        "kubernetes:apiextensions.k8s.io:CustomResourcePatch", "u", "x", other
    )
    assert b.listener_of(patch_of_other) is None


# --- production ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "production"),
    [
        ({"aio-mq:production": "true"}, True),
        ({"aio-mq:production": "false"}, False),
        ({}, True),  # undeclared: production
        (None, True),  # the engine sent no stack config
        ({"aio-mq:production": "False"}, True),  # not what Pulumi writes for a YAML false
        ({"aio-mq:production": "no"}, True),
        ({"other:production": "false"}, True),  # another project's key
    ],
)
def test_environment_is_the_stack_declaration(
    config: dict[str, str] | None, production: bool
) -> None:
    env = g.environment(config, "aio-mq")
    assert env.production is production
    assert "aio-mq:production" in env.reason or "no stack config" in env.reason


def configured(monkeypatch: pytest.MonkeyPatch, declared: str | None, stack: str = "x") -> None:
    """What the engine's ConfigureStack would have told the pack."""
    config = {} if declared is None else {"aio-mq:production": declared}
    facts = g.StackFacts(stack=stack, project="aio-mq", config=config)
    monkeypatch.setattr(g._ConfiguredStack, "facts", facts)


@pytest.mark.parametrize("stack", ["prd", "Prod", "production-2", "dev", "anything"])
def test_a_stack_name_never_makes_a_stack_non_production(
    monkeypatch: pytest.MonkeyPatch, stack: str
) -> None:
    configured(monkeypatch, None, stack)
    plain = listener_resource("plain", stack=stack)
    ((message, _),) = run_resource_policy(c.TLS_REQUIRED, plain)
    assert "the stack does not set aio-mq:production" in message


def test_the_engine_stack_config_reaches_the_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    # ConfigureStack as the engine calls it, on the servicer pulumi_policy builds.
    servicer_class = policy_module._PolicyAnalyzerServicer
    monkeypatch.setattr(servicer_class, "ConfigureStack", servicer_class.ConfigureStack)
    monkeypatch.setattr(g._ConfiguredStack, "facts", None)
    g.listen_for_stack_config()
    g.listen_for_stack_config()  # idempotent: wrapped once
    request = analyzer_pb2.AnalyzerStackConfigureRequest(
        stack="prd", project="aio-mq", config={"aio-mq:production": "false"}
    )
    servicer = object.__new__(servicer_class)
    servicer.ConfigureStack(request, None)
    assert g.configured_stack() == g.StackFacts("prd", "aio-mq", {"aio-mq:production": "false"})
    assert g.stack_environment(urn(LISTENER_TYPE, "x", stack="prd")).production is False


# --- rules on one listener -----------------------------------------------------------------


def test_tls_required() -> None:
    assert b.check_tls_required(listener(**SECURE)) == []
    assert b.check_tls_required(listener(tls={"manual": {"secretName": "s"}})) == []
    (violation,) = b.check_tls_required(listener(name="plain"))
    assert "BrokerListener azure-iot-operations/plain has no TLS" in violation.message
    assert violation.urn == urn(LISTENER_TYPE, "plain", parent="aio:mq:MqListener")


HOLLOW_TLS: list[tuple[dict[str, Any], str]] = [
    ({"manual": {}}, "spec.tls.manual.secretName is missing"),
    ({"keyVault": {}}, "spec.tls.keyVault.vault.name is missing"),
    ({"keyVault": {"vault": {"name": "kv"}}}, "spec.tls.keyVault.vaultCert.name is missing"),
    ({"automatic": {}}, "spec.tls.automatic.issuerRef.name is missing"),
    ({"automatic": {"issuerRef": {"name": ""}}}, "spec.tls.automatic.issuerRef.name is missing"),
    ({}, "spec.tls names no TLS mode"),
    ({"manual": None}, "spec.tls names no TLS mode"),
    (
        {"manual": {"secretName": "s"}, **AUTOMATIC},
        "spec.tls names automatic and manual; a listener has exactly one TLS mode",
    ),
]


@pytest.mark.parametrize(("tls", "gap"), HOLLOW_TLS)
def test_hollow_tls_is_not_tls(tls: dict[str, Any], gap: str) -> None:
    hollow = listener(name="hollow", tls=tls)
    assert hollow.tls_mode is None
    (violation,) = b.check_tls_required(hollow)
    assert "azure-iot-operations/hollow has no working TLS (" in violation.message
    assert gap in violation.message


def test_complete_key_vault_tls_is_tls() -> None:
    key_vault = {
        "vault": {
            "name": "kv",
            "directoryId": "00000000-0000-0000-0000-000000000000",
            "credentials": {"servicePrincipalLocalSecretName": "sp"},
        },
        "vaultCert": {"name": "cert"},
    }
    assert b.check_tls_required(listener(tls={"keyVault": key_vault})) == []


def listener_patch(
    name: str = "default", token: str = LISTENER_TYPE + "Patch", **spec: Any
) -> b.Listener:
    props = {
        "apiVersion": "mq.iotoperations.azure.com/v1beta1",
        "kind": "BrokerListener",
        "metadata": {"name": name, "namespace": NS},
        "spec": spec,
    }
    found = b.listener_of(c.Resource(token, urn(token, name), name, props))
    assert found is not None and found.patch
    return found


def test_a_patch_is_judged_on_what_it_changes() -> None:
    generic = "kubernetes:apiextensions.k8s.io:CustomResourcePatch"
    for token in (LISTENER_TYPE + "Patch", generic):
        (violation,) = b.check_authentication_required(
            listener_patch(token=token, authenticationEnabled=False)
        )
        assert "BrokerListener patch azure-iot-operations/default has authentication off" in (
            violation.message
        )
    (violation,) = b.check_tls_required(listener_patch(tls={"manual": {}}))
    assert "spec.tls.manual.secretName is missing" in violation.message
    (violation,) = b.check_tls_required(listener_patch(tls=None))
    assert "patch azure-iot-operations/default sets spec.tls to null" in violation.message
    exposed = listener_patch(serviceType="loadBalancer", authenticationEnabled=False)
    assert b.check_exposed_authentication(exposed)
    # What a patch leaves out stays as it is on the cluster: not judged.
    only_port = listener_patch(port=1884)
    for rule in (
        b.check_tls_required,
        b.check_authentication_required,
        b.check_exposed_authentication,
        b.check_authorization,
    ):
        assert rule(only_port) == [], rule


def test_authentication_required() -> None:
    assert b.check_authentication_required(listener(authenticationEnabled=True)) == []
    (violation,) = b.check_authentication_required(listener(name="open", port=1883))
    assert "azure-iot-operations/open has authentication off" in violation.message
    assert "port 1883" in violation.message


@pytest.mark.parametrize("service_type", ["loadBalancer", "nodePort"])
def test_exposed_listener_needs_authentication(service_type: str) -> None:
    exposed = listener(name="wide", serviceType=service_type)
    (violation,) = b.check_exposed_authentication(exposed)
    assert f"serviceType {service_type}" in violation.message
    assert "azure-iot-operations/wide" in violation.message
    authenticated = listener(serviceType=service_type, authenticationEnabled=True)
    assert b.check_exposed_authentication(authenticated) == []


def test_cluster_ip_listener_may_skip_authentication() -> None:
    assert b.check_exposed_authentication(listener()) == []
    assert b.check_exposed_authentication(listener(serviceType="clusterIp")) == []


def test_authorization() -> None:
    assert b.check_authorization(listener(authorizationEnabled=True)) == []
    (violation,) = b.check_authorization(listener(name="all-topics"))
    assert "azure-iot-operations/all-topics has authorization off" in violation.message


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("720h", 720 * 3600),
        ("2160h", 2160 * 3600),
        ("1h30m", 5400),
        ("1.5h", 5400),
        (".5h", 1800),
        ("90m", 5400),
        ("45s", 45),
        ("300ms", 0.3),
        ("2us", 2e-6),
        ("2\u00b5s", 2e-6),
        ("2\u03bcs", 2e-6),
        ("10ns", 1e-8),
        ("1h1m1s1ms", 3661.001),
        ("0", 0),
        ("+3h", 10800),
        ("-3h", -10800),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert c.go_duration_seconds(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "720", "30d", "1y", "h", "1.h2", "1 h", "1h-1m", "."])
def test_go_durations_go_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not a Go duration"):
        c.go_duration_seconds(text)


def automatic(duration: str | None = None) -> b.Listener:
    tls: dict[str, Any] = {"issuerRef": {"name": "ca"}}
    if duration is not None:
        tls["duration"] = duration
    return listener(name="certs", tls={"automatic": tls})


def test_certificate_duration_default_is_thirty_days() -> None:
    assert b.check_certificate_duration(automatic()) == []
    (violation,) = b.check_certificate_duration(automatic(), max_days=7)
    assert (
        "the default duration '720h' (the API's default) is 30 days, more than 7"
        in violation.message
    )


def test_certificate_duration_up_to_ninety_days_passes() -> None:
    assert b.check_certificate_duration(automatic("2160h")) == []
    assert b.check_certificate_duration(automatic("1440h30m")) == []


def test_certificate_duration_over_ninety_days() -> None:
    (violation,) = b.check_certificate_duration(automatic("8760h"))
    assert "azure-iot-operations/certs" in violation.message
    assert "tls.automatic.duration '8760h' is 365 days, more than 90" in violation.message
    (just_over,) = b.check_certificate_duration(automatic("2160h1s"))
    assert "more than 90" in just_over.message
    assert b.check_certificate_duration(automatic("8760h"), max_days=400) == []


def test_certificate_duration_that_is_not_a_go_duration() -> None:
    (violation,) = b.check_certificate_duration(automatic("90d"))
    assert "'90d' is not a Go duration" in violation.message


def test_certificate_duration_ignores_other_tls_modes() -> None:
    assert b.check_certificate_duration(listener()) == []
    assert b.check_certificate_duration(listener(tls={"manual": {"secretName": "s"}})) == []


# --- references that must exist ------------------------------------------------------------


def manual(secret: str = "edge-tls", **more: str) -> c.Resource:
    return listener_resource("edge", tls={"manual": {"secretName": secret, **more}})


def issued_by(
    name: str, kind: str | None = None, group: str | None = None, **more: Any
) -> c.Resource:
    ref = {"name": name} | ({"kind": kind} if kind else {}) | ({"group": group} if group else {})
    return listener_resource("edge", tls={"automatic": {"issuerRef": ref, **more}})


def tls_secret(name: str = "edge-tls", namespace: str | None = NS, **props: Any) -> c.Resource:
    return k8s_object(SECRET_TYPE, name, namespace, type="kubernetes.io/tls", **props)


def references(*resources: c.Resource, existing: c.Existing | None = None) -> list[str]:
    return [v.message for v in b.check_references(list(resources), existing or c.Existing())]


def test_manual_secret_created_by_the_program() -> None:
    assert references(manual(), tls_secret()) == []
    # Output properties of a Secret may omit the type; only a different type is wrong.
    assert references(manual(), k8s_object(SECRET_TYPE, "edge-tls")) == []


def test_manual_secret_missing() -> None:
    (message,) = references(manual())
    assert (
        "BrokerListener azure-iot-operations/edge uses Secret azure-iot-operations/edge-tls"
        in message
    )
    assert "add 'azure-iot-operations/edge-tls' to existingSecrets" in message


def test_manual_secret_in_another_namespace_does_not_count() -> None:
    assert references(manual(), tls_secret(namespace="other"))
    assert references(manual(secretNamespace="other"), tls_secret(namespace="other")) == []
    assert references(manual(), tls_secret(namespace=None))  # that one lands in "default"


def test_manual_secret_declared_existing() -> None:
    existing = c.Existing.from_config({"existingSecrets": ["azure-iot-operations/edge-tls"]})
    assert references(manual(), existing=existing) == []
    other = c.Existing.from_config({"existingSecrets": ["default/edge-tls"]})
    assert references(manual(), existing=other)


def test_manual_secret_of_the_wrong_type() -> None:
    opaque = k8s_object(SECRET_TYPE, "edge-tls", type="Opaque")
    (message,) = references(manual(), opaque)
    assert "creates it with type Opaque" in message


def test_issuer_created_by_the_program() -> None:
    assert references(issued_by("ca"), k8s_object(ISSUER_TYPE, "ca")) == []
    assert (
        references(issued_by("ca", "Issuer", "cert-manager.io"), k8s_object(ISSUER_TYPE, "ca"))
        == []
    )
    cluster = k8s_object(CLUSTER_ISSUER_TYPE, "root", namespace=None)
    assert references(issued_by("root", "ClusterIssuer"), cluster) == []


def test_issuer_missing() -> None:
    (message,) = references(issued_by("ca"))
    assert "azure-iot-operations/edge uses Issuer 'ca'" in message
    assert "in namespace azure-iot-operations" in message
    assert "add 'Issuer/azure-iot-operations/ca' to existingIssuers" in message
    (cluster,) = references(issued_by("root", "ClusterIssuer"))
    assert "add 'ClusterIssuer/root' to existingIssuers" in cluster


def test_issuer_of_the_wrong_kind_or_namespace_does_not_count() -> None:
    # An Issuer and a ClusterIssuer of the same name are different objects.
    assert references(issued_by("ca", "ClusterIssuer"), k8s_object(ISSUER_TYPE, "ca"))
    assert references(issued_by("ca"), k8s_object(CLUSTER_ISSUER_TYPE, "ca", namespace=None))
    # An Issuer signs only in its own namespace.
    assert references(issued_by("ca"), k8s_object(ISSUER_TYPE, "ca", namespace="cert-manager"))
    # ... which may be the namespace the certificate Secret goes to.
    in_secret_ns = issued_by("ca", secretNamespace="cert-manager")
    assert references(in_secret_ns, k8s_object(ISSUER_TYPE, "ca", namespace="cert-manager")) == []


def test_issuer_declared_existing() -> None:
    existing = c.Existing.from_config(
        {"existingIssuers": ["Issuer/azure-iot-operations/ca", "ClusterIssuer/root"]}
    )
    assert references(issued_by("ca"), issued_by("root", "ClusterIssuer"), existing=existing) == []
    assert references(issued_by("ca", "ClusterIssuer"), existing=existing)


def test_external_issuer() -> None:
    ref = issued_by("vault", "VaultIssuer", "issuers.example.com")
    (message,) = references(ref)
    assert "add 'VaultIssuer.issuers.example.com/azure-iot-operations/vault'" in message
    in_program = k8s_object("kubernetes:issuers.example.com/v1:VaultIssuer", "vault", None)
    assert references(ref, in_program) == []
    namespaced = k8s_object("kubernetes:issuers.example.com/v1:VaultIssuer", "vault")
    assert references(ref, namespaced) == []
    declared = c.Existing(issuers=frozenset({"VaultIssuer.issuers.example.com/vault"}))
    assert references(ref, existing=declared) == []


def test_listeners_without_references() -> None:
    key_vault = {"keyVault": {"vault": {"name": "kv"}, "vaultCert": {"name": "c"}}}
    assert references(listener_resource(), listener_resource(tls=key_vault)) == []


def test_every_listener_is_named_in_its_own_violation() -> None:
    first = listener_resource("a", tls={"manual": {"secretName": "shared"}})
    second = listener_resource("b", tls={"manual": {"secretName": "shared"}})
    violations = b.check_references([first, second], c.Existing())
    assert [v.urn for v in violations] == [first.urn, second.urn]


# --- the pulumi_policy policies ------------------------------------------------------------


class Reported:
    """A report_violation callback that keeps what it is given."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str | None]] = []

    def __call__(self, message: str, urn: str | None = None) -> None:
        self.items.append((message, urn))


def by_name() -> dict[str, Any]:
    return {p.name: p for p in g.policies()}


def test_pack_policies_and_levels() -> None:
    policies = by_name()
    assert {name: p.enforcement_level for name, p in policies.items()} == {
        c.TLS_REQUIRED: EnforcementLevel.MANDATORY,
        c.AUTHENTICATION_REQUIRED: EnforcementLevel.MANDATORY,
        c.REFERENCES_EXIST: EnforcementLevel.MANDATORY,
        c.EXPOSED_AUTHENTICATION: EnforcementLevel.MANDATORY,
        c.AUTHORIZATION: EnforcementLevel.ADVISORY,
        c.CERTIFICATE_DURATION: EnforcementLevel.ADVISORY,
        c.AUTHENTICATION_LINKED: EnforcementLevel.MANDATORY,
        c.X509_REQUIRES_TLS: EnforcementLevel.MANDATORY,
    }
    for name in (c.REFERENCES_EXIST, c.AUTHENTICATION_LINKED, c.X509_REQUIRES_TLS):
        assert isinstance(policies[name], StackValidationPolicy)
    # Production is the stack's declaration, never policy config.
    for policy in policies.values():
        schema = policy.config_schema
        assert schema is None or "production" not in schema.properties


def resource_args(
    resource: c.Resource,
    config: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        resource.type,
        resource.props,
        resource.urn,
        resource.name,
        OPTIONS,
        None,
        config,
        tags,
    )


def run_resource_policy(
    name: str,
    resource: c.Resource,
    config: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
) -> list[tuple[str, str | None]]:
    policy = by_name()[name]
    assert isinstance(policy, ResourceValidationPolicy)
    reported = Reported()
    policy.validate(resource_args(resource, config, tags), reported)
    return reported.items


def test_production_policy_reports_on_a_production_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    configured(monkeypatch, "true")
    plain = listener_resource("plain", stack="prod")
    ((message, at),) = run_resource_policy(c.TLS_REQUIRED, plain)
    assert "azure-iot-operations/plain has no TLS" in message
    assert "(Production: the stack sets aio-mq:production: true.)" in message
    assert at == plain.urn
    ((message, _),) = run_resource_policy(c.AUTHENTICATION_REQUIRED, plain)
    assert "authentication off" in message


def test_production_policy_is_not_applicable_where_declared_false(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configured(monkeypatch, "false", "prod")
    plain = listener_resource("plain", stack="prod")
    with pytest.raises(_NotApplicableError) as raised:
        run_resource_policy(c.TLS_REQUIRED, plain)
    assert "not a production stack: the stack sets aio-mq:production: false" in str(
        raised.value.reason
    )


def test_production_policy_passes_a_secure_listener(monkeypatch: pytest.MonkeyPatch) -> None:
    configured(monkeypatch, "true")
    secure = listener_resource("secure", **SECURE)
    for name in (c.TLS_REQUIRED, c.AUTHENTICATION_REQUIRED):
        assert run_resource_policy(name, secure) == []


def test_policies_ignore_other_resources() -> None:
    secret = k8s_object(SECRET_TYPE, "x", stack="prod")
    for name, policy in by_name().items():
        if isinstance(policy, ResourceValidationPolicy):
            assert run_resource_policy(name, secret) == [], name


def test_everywhere_policies_run_on_any_stack() -> None:
    exposed = listener_resource("wide", stack="dev", serviceType="loadBalancer")
    ((message, _),) = run_resource_policy(c.EXPOSED_AUTHENTICATION, exposed)
    assert "azure-iot-operations/wide is exposed" in message
    assert run_resource_policy(c.AUTHORIZATION, exposed)
    long_lived = listener_resource(
        "long", stack="dev", tls={"automatic": {"issuerRef": {"name": "ca"}, "duration": "4000h"}}
    )
    assert run_resource_policy(c.CERTIFICATE_DURATION, long_lived)
    assert run_resource_policy(c.CERTIFICATE_DURATION, long_lived, {"maxDays": 200}) == []


def policy_resource(resource: c.Resource) -> PolicyResource:
    return PolicyResource(
        resource.type, resource.props, resource.urn, resource.name, OPTIONS, None, None, [], {}
    )


def run_stack_policy(
    resources: list[c.Resource],
    config: Mapping[str, Any] | None = None,
    name: str = c.REFERENCES_EXIST,
) -> list[tuple[str, str | None]]:
    policy = by_name()[name]
    reported = Reported()
    policy.validate(StackValidationArgs([policy_resource(r) for r in resources], config), reported)
    return reported.items


def test_references_policy() -> None:
    edge = manual()
    ((message, at),) = run_stack_policy([edge])
    assert "uses Secret azure-iot-operations/edge-tls" in message
    assert at == edge.urn
    assert run_stack_policy([edge, tls_secret()]) == []
    declared = {"existingSecrets": ["azure-iot-operations/edge-tls"]}
    assert run_stack_policy([edge], declared) == []
    assert run_stack_policy([]) == []


def test_references_policy_reads_what_the_stack_file_declares(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # aio-mq:existingSecrets, as the engine passes a structured value: JSON.
    edge = manual()
    facts = g.StackFacts(
        "prod",
        "aio-mq",
        {
            "aio-mq:production": "true",
            "aio-mq:existingSecrets": '["azure-iot-operations/edge-tls"]',
        },
    )
    monkeypatch.setattr(g._ConfiguredStack, "facts", facts)
    assert run_stack_policy([edge]) == []
    # Issuers likewise.
    automatic = issued_by("aio-ca", "ClusterIssuer")
    assert run_stack_policy([automatic])
    declared = {"aio-mq:existingIssuers": '["ClusterIssuer/aio-ca"]'}
    monkeypatch.setattr(g._ConfiguredStack, "facts", g.StackFacts("prod", "aio-mq", declared))
    assert run_stack_policy([automatic]) == []
    # Another stack's, or another namespace's, Secret is not this one.
    other = g.StackFacts("prod", "aio-mq", {"aio-mq:existingSecrets": '["other/edge-tls"]'})
    monkeypatch.setattr(g._ConfiguredStack, "facts", other)
    ((message, _),) = run_stack_policy([edge])
    assert "add 'azure-iot-operations/edge-tls' to existingSecrets: the stack file's" in message
    assert "aio-mq:existingSecrets" in message


def test_references_policy_is_not_applicable_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    configured(monkeypatch, "false", "dev")
    dev = listener_resource("edge", stack="dev", tls={"manual": {"secretName": "x"}})
    with pytest.raises(_NotApplicableError):
        run_stack_policy([dev])


# --- the project's stacks, rendered by the program under mocks -----------------------------


def program_resources(engine: Engine, stack_file: Path, stack: str) -> list[c.Resource]:
    """What `__main__.py` registers for a stack file, as the policies would see it."""
    config = yaml.safe_load(stack_file.read_text())["config"]
    raw = {k.removeprefix("aio-mq:"): v for k, v in config.items() if k.startswith("aio-mq:")}
    engine.run(lambda: deploy(load_config(raw)))
    return [
        c.Resource(r.typ, urn(r.typ, r.name, stack), r.name, r.inputs)
        for r in engine.mocks.registered
    ]


def declared(stack: str) -> dict[str, str]:
    """The stack config as the engine passes it: YAML booleans become "true" / "false"."""
    config = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {k: str(v).lower() for k, v in config.items() if isinstance(v, bool)}


def mandatory_violations(resources: list[c.Resource], stack: str) -> list[str]:
    env = g.environment(declared(stack), "aio-mq")
    found: list[c.Violation] = []
    for item in b.listeners_of(resources):
        found += b.check_exposed_authentication(item)
        if env.production:
            found += b.check_tls_required(item) + b.check_authentication_required(item)
    found += b.check_x509_requires_tls(resources)
    if env.production:
        found += b.check_references(resources, c.Existing())
        found += b.check_authentication_linked(resources, b.DEFAULT_EXISTING_AUTHENTICATIONS)
    return [v.message for v in found]


# staging and prod talk to a cluster: the `cluster` fixture is a fresh install in memory.
@pytest.mark.usefixtures("cluster")
@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_project_stacks_pass_the_mandatory_policies(engine: Engine, stack: str) -> None:
    resources = program_resources(engine, ROOT / "stacks" / f"Pulumi.{stack}.yaml", stack)
    assert b.listeners_of(resources)
    assert mandatory_violations(resources, stack) == []


@pytest.mark.usefixtures("cluster")
def test_a_listener_without_tls_fails_the_production_stack(engine: Engine, tmp_path: Path) -> None:
    stack_file = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())
    stack_file["config"]["aio-mq:listeners"].append(
        {"name": "prod-plain", "port": 1883, "serviceType": "nodePort", "serviceName": "plain"}
    )
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(yaml.safe_dump(stack_file))
    messages = mandatory_violations(program_resources(engine, path, "prod"), "prod")
    assert len(messages) == 3
    assert all("azure-iot-operations/prod-plain" in m for m in messages)


# --- BrokerAuthentications and the listeners they list -------------------------------------

AUTHENTICATION_TYPE = "kubernetes:mq.iotoperations.azure.com/v1beta1:BrokerAuthentication"


def authentication_resource(
    name: str, listener_ref: list[str], *methods: dict[str, Any], namespace: str = NS
) -> c.Resource:
    return k8s_object(
        AUTHENTICATION_TYPE,
        name,
        namespace,
        spec={
            "listenerRef": listener_ref,
            "authenticationMethods": list(methods) or [{"sat": {"audiences": ["aio-mq"]}}],
        },
    )


def test_authentication_enabled_listener_must_be_listed() -> None:
    edge = listener_resource("edge", authenticationEnabled=True, tls=AUTOMATIC)
    (violation,) = b.check_authentication_linked([edge], b.DEFAULT_EXISTING_AUTHENTICATIONS)
    assert violation.urn == edge.urn
    assert "BrokerListener azure-iot-operations/edge has authentication enabled" in (
        violation.message
    )
    assert "existingAuthentications" in violation.message
    linked = authentication_resource("authn-edge", ["edge"])
    assert b.check_authentication_linked([edge, linked], ()) == []
    other_namespace = authentication_resource("authn-edge", ["edge"], namespace="other")
    assert len(b.check_authentication_linked([edge, other_namespace], ())) == 1
    open_listener = listener_resource("open")
    assert b.check_authentication_linked([open_listener], ()) == []


def test_existing_authentications_come_from_the_policy_config() -> None:
    default = listener_resource("listener", authenticationEnabled=True, tls=AUTOMATIC)
    assert b.check_authentication_linked([default], b.existing_authentications({})) == []
    assert (
        len(
            b.check_authentication_linked(
                [default], b.existing_authentications({"existingAuthentications": []})
            )
        )
        == 1
    )
    edge = listener_resource("edge", authenticationEnabled=True, tls=AUTOMATIC)
    declared = b.existing_authentications(
        {"existingAuthentications": [{"name": "site", "listenerRef": ["edge"]}]}
    )
    assert declared == [b.Authentication("site", NS, ("edge",))]
    assert b.check_authentication_linked([edge], declared) == []


def test_x509_method_needs_a_listener_with_tls() -> None:
    plain = listener_resource("plain", authenticationEnabled=True)
    secure = listener_resource("secure", authenticationEnabled=True, tls=AUTOMATIC)
    x509 = authentication_resource(
        "certs", ["plain", "secure"], {"sat": {"audiences": ["a"]}}, {"x509": {}}
    )
    (violation,) = b.check_x509_requires_tls([plain, secure, x509])
    assert violation.urn == x509.urn
    assert violation.message.startswith(
        "BrokerAuthentication azure-iot-operations/certs has an x509 method and lists "
        "BrokerListener azure-iot-operations/plain, which has no TLS"
    )
    sat_only = authentication_resource("tokens", ["plain"])
    assert b.check_x509_requires_tls([plain, sat_only]) == []
    hollow = listener_resource("hollow", tls={})
    assert (
        len(
            b.check_x509_requires_tls(
                [hollow, authentication_resource("h", ["hollow"], {"x509": {}})]
            )
        )
        == 1
    )


def test_x509_policy_applies_to_every_stack() -> None:
    plain = listener_resource("plain", stack="dev", authenticationEnabled=True)
    x509 = authentication_resource("certs", ["plain"], {"x509": {}})
    ((message, at),) = run_stack_policy([plain, x509], name=c.X509_REQUIRES_TLS)
    assert "has no TLS" in message
    assert at == x509.urn


def test_authentication_linked_policy_runs_on_production_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    edge = listener_resource("edge", authenticationEnabled=True, tls=AUTOMATIC)
    configured(monkeypatch, "true")
    ((message, at),) = run_stack_policy([edge], name=c.AUTHENTICATION_LINKED)
    assert "(Production: the stack sets aio-mq:production: true.)" in message
    assert at == edge.urn
    configured(monkeypatch, "false")
    with pytest.raises(_NotApplicableError):
        run_stack_policy([edge], name=c.AUTHENTICATION_LINKED)
