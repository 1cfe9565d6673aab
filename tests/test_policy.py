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
from pulumi_policy.policy import _NotApplicableError

from components.stack import deploy, load_config
from policy import guardrails as g
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
) -> g.Resource:
    metadata = {"name": name} | ({"namespace": namespace} if namespace else {})
    props = {
        "apiVersion": "mq.iotoperations.azure.com/v1beta1",
        "kind": "BrokerListener",
        "metadata": metadata,
        "spec": {"brokerRef": "broker", "port": 8884, **spec},
    }
    return g.Resource(
        LISTENER_TYPE, urn(LISTENER_TYPE, name, stack, "aio:mq:MqListener"), name, props
    )


def listener(**spec: Any) -> g.Listener:
    found = g.listener_of(listener_resource(**spec))
    assert found is not None
    return found


def k8s_object(
    type_: str, name: str, namespace: str | None = NS, stack: str = "prod", **props: Any
) -> g.Resource:
    metadata = {"name": name} | ({"namespace": namespace} if namespace else {})
    return g.Resource(type_, urn(type_, name, stack), name, {"metadata": metadata, **props})


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
    assert g.kubernetes_type(LISTENER_TYPE) == g.KubernetesType(
        "mq.iotoperations.azure.com", "v1beta1", "BrokerListener"
    )
    assert g.kubernetes_type(SECRET_TYPE) == g.KubernetesType("core", "v1", "Secret")
    for token in ("aio:mq:MqListener", "pulumi:providers:kubernetes", "kubernetes:yaml:x"):
        assert g.kubernetes_type(token) is None


def test_listener_fields_default_as_the_api_does() -> None:
    found = g.listener_of(listener_resource("bare", namespace=None))
    assert found == g.Listener(
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
    assert listener(tls={}).tls is None  # no TLS mode named: no TLS


def test_other_resources_are_not_listeners() -> None:
    assert g.listener_of(k8s_object(SECRET_TYPE, "s")) is None
    other_kind = g.Resource(
        "kubernetes:mq.iotoperations.azure.com/v1beta1:Broker", "urn", "broker", {}
    )
    assert g.listener_of(other_kind) is None
    # Another version of the API is still a BrokerListener.
    v1 = g.Resource("kubernetes:mq.iotoperations.azure.com/v1:BrokerListener", "u", "x", {})
    assert g.listener_of(v1) is not None


def test_stack_of_urn() -> None:
    assert g.stack_of(urn(LISTENER_TYPE, "x", stack="prod")) == "prod"
    assert g.stack_of("urn:pulumi:dev::aio-mq::pulumi:pulumi:Stack::aio-mq-dev") == "dev"
    assert g.stack_of("not-a-urn") == ""


# --- production ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack", "tags", "config", "production"),
    [
        ("prod", {}, {}, True),
        ("production", {}, {}, True),
        ("dev", {}, {}, False),
        ("staging", {}, {}, False),
        ("prod-eu", {}, {}, False),  # names are matched whole
        ("dev", {"environment": "production"}, {}, True),
        ("dev", {"environment": "Prod"}, {}, True),
        ("dev", {"environment": "staging"}, {}, False),
        ("edge", {}, {"productionStacks": ["edge", "prod"]}, True),
        ("prod", {}, {"productionStacks": ["live"]}, False),
        ("prod", {}, {"productionStacks": []}, False),
        ("dev", {}, {"production": True}, True),
        ("prod", {"environment": "production"}, {"production": False}, False),
    ],
)
def test_environment(
    stack: str, tags: dict[str, str], config: dict[str, Any], production: bool
) -> None:
    env = g.environment(stack, tags, config)
    assert env.production is production
    assert env.reason


def test_environment_reason_names_the_evidence() -> None:
    assert "stack name 'prod'" in g.environment("prod", {}, {}).reason
    assert "tag environment" in g.environment("x", {"environment": "prod"}, {}).reason
    assert "production: true" in g.environment("x", {}, {"production": True}).reason


def test_production_config_file_sets_every_production_policy() -> None:
    config = yaml.safe_load((ROOT / "policy" / "production.json").read_text())
    production_only = {g.TLS_REQUIRED, g.AUTHENTICATION_REQUIRED, g.REFERENCES_EXIST}
    assert set(config) == production_only
    assert all(entry == {"production": True} for entry in config.values())


# --- rules on one listener -----------------------------------------------------------------


def test_tls_required() -> None:
    assert g.check_tls_required(listener(**SECURE)) == []
    assert g.check_tls_required(listener(tls={"manual": {"secretName": "s"}})) == []
    (violation,) = g.check_tls_required(listener(name="plain"))
    assert "BrokerListener azure-iot-operations/plain has no TLS" in violation.message
    assert violation.urn == urn(LISTENER_TYPE, "plain", parent="aio:mq:MqListener")


def test_authentication_required() -> None:
    assert g.check_authentication_required(listener(authenticationEnabled=True)) == []
    (violation,) = g.check_authentication_required(listener(name="open", port=1883))
    assert "azure-iot-operations/open has authentication off" in violation.message
    assert "port 1883" in violation.message


@pytest.mark.parametrize("service_type", ["loadBalancer", "nodePort"])
def test_exposed_listener_needs_authentication(service_type: str) -> None:
    exposed = listener(name="wide", serviceType=service_type)
    (violation,) = g.check_exposed_authentication(exposed)
    assert f"serviceType {service_type}" in violation.message
    assert "azure-iot-operations/wide" in violation.message
    authenticated = listener(serviceType=service_type, authenticationEnabled=True)
    assert g.check_exposed_authentication(authenticated) == []


def test_cluster_ip_listener_may_skip_authentication() -> None:
    assert g.check_exposed_authentication(listener()) == []
    assert g.check_exposed_authentication(listener(serviceType="clusterIp")) == []


def test_authorization() -> None:
    assert g.check_authorization(listener(authorizationEnabled=True)) == []
    (violation,) = g.check_authorization(listener(name="all-topics"))
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
    assert g.go_duration_seconds(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "720", "30d", "1y", "h", "1.h2", "1 h", "1h-1m", "."])
def test_go_durations_go_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not a Go duration"):
        g.go_duration_seconds(text)


def automatic(duration: str | None = None) -> g.Listener:
    tls: dict[str, Any] = {"issuerRef": {"name": "ca"}}
    if duration is not None:
        tls["duration"] = duration
    return listener(name="certs", tls={"automatic": tls})


def test_certificate_duration_default_is_thirty_days() -> None:
    assert g.check_certificate_duration(automatic()) == []
    (violation,) = g.check_certificate_duration(automatic(), max_days=7)
    assert "the default duration '720h' is 30 days, more than 7" in violation.message


def test_certificate_duration_up_to_ninety_days_passes() -> None:
    assert g.check_certificate_duration(automatic("2160h")) == []
    assert g.check_certificate_duration(automatic("1440h30m")) == []


def test_certificate_duration_over_ninety_days() -> None:
    (violation,) = g.check_certificate_duration(automatic("8760h"))
    assert "azure-iot-operations/certs" in violation.message
    assert "tls.automatic.duration '8760h' is 365 days, more than 90" in violation.message
    (just_over,) = g.check_certificate_duration(automatic("2160h1s"))
    assert "more than 90" in just_over.message
    assert g.check_certificate_duration(automatic("8760h"), max_days=400) == []


def test_certificate_duration_that_is_not_a_go_duration() -> None:
    (violation,) = g.check_certificate_duration(automatic("90d"))
    assert "'90d' is not a Go duration" in violation.message


def test_certificate_duration_ignores_other_tls_modes() -> None:
    assert g.check_certificate_duration(listener()) == []
    assert g.check_certificate_duration(listener(tls={"manual": {"secretName": "s"}})) == []


# --- references that must exist ------------------------------------------------------------


def manual(secret: str = "edge-tls", **more: str) -> g.Resource:
    return listener_resource("edge", tls={"manual": {"secretName": secret, **more}})


def issued_by(
    name: str, kind: str | None = None, group: str | None = None, **more: Any
) -> g.Resource:
    ref = {"name": name} | ({"kind": kind} if kind else {}) | ({"group": group} if group else {})
    return listener_resource("edge", tls={"automatic": {"issuerRef": ref, **more}})


def tls_secret(name: str = "edge-tls", namespace: str | None = NS, **props: Any) -> g.Resource:
    return k8s_object(SECRET_TYPE, name, namespace, type="kubernetes.io/tls", **props)


def references(*resources: g.Resource, existing: g.Existing | None = None) -> list[str]:
    return [v.message for v in g.check_references(list(resources), existing or g.Existing())]


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
    existing = g.Existing.from_config({"existingSecrets": ["azure-iot-operations/edge-tls"]})
    assert references(manual(), existing=existing) == []
    other = g.Existing.from_config({"existingSecrets": ["default/edge-tls"]})
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
    existing = g.Existing.from_config(
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
    declared = g.Existing(issuers=frozenset({"VaultIssuer.issuers.example.com/vault"}))
    assert references(ref, existing=declared) == []


def test_listeners_without_references() -> None:
    key_vault = {"keyVault": {"vault": {"name": "kv"}, "vaultCert": {"name": "c"}}}
    assert references(listener_resource(), listener_resource(tls=key_vault)) == []


def test_every_listener_is_named_in_its_own_violation() -> None:
    a = listener_resource("a", tls={"manual": {"secretName": "shared"}})
    b = listener_resource("b", tls={"manual": {"secretName": "shared"}})
    violations = g.check_references([a, b], g.Existing())
    assert [v.urn for v in violations] == [a.urn, b.urn]


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
        g.TLS_REQUIRED: EnforcementLevel.MANDATORY,
        g.AUTHENTICATION_REQUIRED: EnforcementLevel.MANDATORY,
        g.REFERENCES_EXIST: EnforcementLevel.MANDATORY,
        g.EXPOSED_AUTHENTICATION: EnforcementLevel.MANDATORY,
        g.AUTHORIZATION: EnforcementLevel.ADVISORY,
        g.CERTIFICATE_DURATION: EnforcementLevel.ADVISORY,
        g.AUTHENTICATION_LINKED: EnforcementLevel.MANDATORY,
        g.X509_REQUIRES_TLS: EnforcementLevel.MANDATORY,
    }
    for name in (g.REFERENCES_EXIST, g.AUTHENTICATION_LINKED, g.X509_REQUIRES_TLS):
        assert isinstance(policies[name], StackValidationPolicy)
    for name in (
        g.TLS_REQUIRED,
        g.AUTHENTICATION_REQUIRED,
        g.REFERENCES_EXIST,
        g.AUTHENTICATION_LINKED,
    ):
        schema = policies[name].config_schema
        assert {"production", "productionStacks"} <= set(schema.properties)


def resource_args(
    resource: g.Resource,
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
    resource: g.Resource,
    config: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
) -> list[tuple[str, str | None]]:
    policy = by_name()[name]
    assert isinstance(policy, ResourceValidationPolicy)
    reported = Reported()
    policy.validate(resource_args(resource, config, tags), reported)
    return reported.items


def test_production_policy_reports_on_a_production_stack() -> None:
    plain = listener_resource("plain", stack="prod")
    ((message, at),) = run_resource_policy(g.TLS_REQUIRED, plain)
    assert "azure-iot-operations/plain has no TLS" in message
    assert "Production: the stack name 'prod' is one of productionStacks" in message
    assert at == plain.urn
    ((message, _),) = run_resource_policy(g.AUTHENTICATION_REQUIRED, plain)
    assert "authentication off" in message


def test_production_policy_is_not_applicable_elsewhere() -> None:
    plain = listener_resource("plain", stack="dev")
    with pytest.raises(_NotApplicableError) as raised:
        run_resource_policy(g.TLS_REQUIRED, plain)
    assert "not a production stack" in str(raised.value.reason)
    assert run_resource_policy(g.TLS_REQUIRED, plain, {"production": True})
    assert run_resource_policy(g.TLS_REQUIRED, plain, tags={"environment": "production"})


def test_production_policy_passes_a_secure_listener() -> None:
    secure = listener_resource("secure", **SECURE)
    for name in (g.TLS_REQUIRED, g.AUTHENTICATION_REQUIRED):
        assert run_resource_policy(name, secure) == []


def test_policies_ignore_other_resources() -> None:
    secret = k8s_object(SECRET_TYPE, "x", stack="prod")
    for name, policy in by_name().items():
        if isinstance(policy, ResourceValidationPolicy):
            assert run_resource_policy(name, secret) == [], name


def test_everywhere_policies_run_on_any_stack() -> None:
    exposed = listener_resource("wide", stack="dev", serviceType="loadBalancer")
    ((message, _),) = run_resource_policy(g.EXPOSED_AUTHENTICATION, exposed)
    assert "azure-iot-operations/wide is exposed" in message
    assert run_resource_policy(g.AUTHORIZATION, exposed)
    long_lived = listener_resource(
        "long", stack="dev", tls={"automatic": {"issuerRef": {"name": "ca"}, "duration": "4000h"}}
    )
    assert run_resource_policy(g.CERTIFICATE_DURATION, long_lived)
    assert run_resource_policy(g.CERTIFICATE_DURATION, long_lived, {"maxDays": 200}) == []


def policy_resource(resource: g.Resource) -> PolicyResource:
    return PolicyResource(
        resource.type, resource.props, resource.urn, resource.name, OPTIONS, None, None, [], {}
    )


def run_stack_policy(
    resources: list[g.Resource],
    config: Mapping[str, Any] | None = None,
    name: str = g.REFERENCES_EXIST,
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


def test_references_policy_is_not_applicable_elsewhere() -> None:
    dev = listener_resource("edge", stack="dev", tls={"manual": {"secretName": "x"}})
    with pytest.raises(_NotApplicableError):
        run_stack_policy([dev])


# --- the project's stacks, rendered by the program under mocks -----------------------------


def program_resources(engine: Engine, stack_file: Path, stack: str) -> list[g.Resource]:
    """What `__main__.py` registers for a stack file, as the policies would see it."""
    config = yaml.safe_load(stack_file.read_text())["config"]
    raw = {k.removeprefix("aio-mq:"): v for k, v in config.items() if k.startswith("aio-mq:")}
    engine.run(lambda: deploy(load_config(raw)))
    return [
        g.Resource(r.typ, urn(r.typ, r.name, stack), r.name, r.inputs)
        for r in engine.mocks.registered
    ]


def mandatory_violations(resources: list[g.Resource], stack: str) -> list[str]:
    env = g.environment(stack, {}, {})
    found: list[g.Violation] = []
    for item in g.listeners_of(resources):
        found += g.check_exposed_authentication(item)
        if env.production:
            found += g.check_tls_required(item) + g.check_authentication_required(item)
    found += g.check_x509_requires_tls(resources)
    if env.production:
        found += g.check_references(resources, g.Existing())
        found += g.check_authentication_linked(resources, g.DEFAULT_EXISTING_AUTHENTICATIONS)
    return [v.message for v in found]


# staging and prod talk to a cluster: the `cluster` fixture is a fresh install in memory.
@pytest.mark.usefixtures("cluster")
@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_project_stacks_pass_the_mandatory_policies(engine: Engine, stack: str) -> None:
    resources = program_resources(engine, ROOT / "stacks" / f"Pulumi.{stack}.yaml", stack)
    assert g.listeners_of(resources)
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
) -> g.Resource:
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
    (violation,) = g.check_authentication_linked([edge], g.DEFAULT_EXISTING_AUTHENTICATIONS)
    assert violation.urn == edge.urn
    assert "BrokerListener azure-iot-operations/edge has authentication enabled" in (
        violation.message
    )
    assert "existingAuthentications" in violation.message
    linked = authentication_resource("authn-edge", ["edge"])
    assert g.check_authentication_linked([edge, linked], ()) == []
    other_namespace = authentication_resource("authn-edge", ["edge"], namespace="other")
    assert len(g.check_authentication_linked([edge, other_namespace], ())) == 1
    open_listener = listener_resource("open")
    assert g.check_authentication_linked([open_listener], ()) == []


def test_existing_authentications_come_from_the_policy_config() -> None:
    default = listener_resource("listener", authenticationEnabled=True, tls=AUTOMATIC)
    assert g.check_authentication_linked([default], g.existing_authentications({})) == []
    assert (
        len(
            g.check_authentication_linked(
                [default], g.existing_authentications({"existingAuthentications": []})
            )
        )
        == 1
    )
    edge = listener_resource("edge", authenticationEnabled=True, tls=AUTOMATIC)
    declared = g.existing_authentications(
        {"existingAuthentications": [{"name": "site", "listenerRef": ["edge"]}]}
    )
    assert declared == [g.Authentication("site", NS, ("edge",))]
    assert g.check_authentication_linked([edge], declared) == []


def test_x509_method_needs_a_listener_with_tls() -> None:
    plain = listener_resource("plain", authenticationEnabled=True)
    secure = listener_resource("secure", authenticationEnabled=True, tls=AUTOMATIC)
    x509 = authentication_resource(
        "certs", ["plain", "secure"], {"sat": {"audiences": ["a"]}}, {"x509": {}}
    )
    (violation,) = g.check_x509_requires_tls([plain, secure, x509])
    assert violation.urn == x509.urn
    assert violation.message.startswith(
        "BrokerAuthentication azure-iot-operations/certs has an x509 method and lists "
        "BrokerListener azure-iot-operations/plain, which has no TLS"
    )
    sat_only = authentication_resource("tokens", ["plain"])
    assert g.check_x509_requires_tls([plain, sat_only]) == []
    hollow = listener_resource("hollow", tls={})
    assert (
        len(
            g.check_x509_requires_tls(
                [hollow, authentication_resource("h", ["hollow"], {"x509": {}})]
            )
        )
        == 1
    )


def test_x509_policy_applies_to_every_stack() -> None:
    plain = listener_resource("plain", stack="dev", authenticationEnabled=True)
    x509 = authentication_resource("certs", ["plain"], {"x509": {}})
    ((message, at),) = run_stack_policy([plain, x509], name=g.X509_REQUIRES_TLS)
    assert "has no TLS" in message
    assert at == x509.urn


def test_authentication_linked_policy_runs_on_production_only() -> None:
    edge = listener_resource("edge", authenticationEnabled=True, tls=AUTOMATIC)
    ((message, at),) = run_stack_policy([edge], name=g.AUTHENTICATION_LINKED)
    assert "(Production: the stack name 'prod'" in message
    assert at == edge.urn
    with pytest.raises(_NotApplicableError):
        run_stack_policy([edge], {"production": False}, name=g.AUTHENTICATION_LINKED)
