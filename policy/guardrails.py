"""aio-mq guardrails: rules for Azure IoT MQ BrokerListeners, on the resources the engine sees.

The rules look at what the program registers (BrokerListener custom resources and patches of
them, BrokerAuthentications, cert-manager Issuers and ClusterIssuers, Secrets), not at the stack
config, so they guard any program: one made of `MqListener`s, one writing the custom resources by
hand, or one applying YAML.

Both APIs are guarded by the same policies: the preview API's rules (policy/v1beta1.py) judge a
listener, GA's (policy/v1.py) each port of a listener, since GA sets TLS and authentication per
port. GA's rules also judge the ARM form of the GA objects (azure-native's
`azure-native:iotoperations:BrokerListener`, `BrokerAuthentication`), whose `properties` are the
GA spec. Every rule is a plain function that returns `Violation`s, so it is tested without the
engine; `policies()` wraps them in pulumi_policy policies.

| policy                            | level     | where                 |
|-----------------------------------|-----------|-----------------------|
| listener-tls-required             | mandatory | production stacks     |
| listener-authentication-required  | mandatory | production stacks     |
| tls-references-exist              | mandatory | production stacks     |
| exposed-listener-authentication   | mandatory | every stack           |
| listener-authorization            | advisory  | every stack           |
| certificate-duration              | advisory  | every stack           |
| authentication-linked             | mandatory | production stacks     |
| x509-requires-tls                 | mandatory | every stack           |

A stack is production unless its stack config says `<project>:production: false`
(`aio-mq:production`): the one declaration the program, this pack, the Makefile and the workflow
read. Its name, tags and the policy config do not matter. The other declarations the pack reads
from the stack config are `<project>:existingSecrets` and `<project>:existingIssuers`: objects
made outside the program, which tls-references-exist accepts as it accepts the policy config's.
See docs/policy.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import policy as policy_module

from . import v1, v1beta1
from .common import (
    AUTHENTICATION_LINKED,
    AUTHENTICATION_REQUIRED,
    AUTHORIZATION,
    CERTIFICATE_DURATION,
    DEFAULT_MAX_CERT_DAYS,
    EXPOSED_AUTHENTICATION,
    REFERENCES_EXIST,
    TLS_REQUIRED,
    X509_REQUIRES_TLS,
    Existing,
    Resource,
    Violation,
    strings,
)

PACK_NAME = "aio-mq-guardrails"
PRODUCTION_KEY = "production"
"""`<project>:production` in the stack config: the one place a stack says what it is."""
EXISTING_SECRETS_KEY = "existingSecrets"
"""`<project>:existingSecrets` in the stack config: Secrets the stack declares as existing."""
EXISTING_ISSUERS_KEY = "existingIssuers"
"""`<project>:existingIssuers` in the stack config: issuers the stack declares as existing."""


# --- which stacks are production -----------------------------------------------------------


@dataclass(frozen=True)
class Environment:
    production: bool
    reason: str
    """Why, in words that fit after "Production:" / "not a production stack:"."""


def project_of(urn: str) -> str:
    """The project name in a resource URN (`urn:pulumi:<stack>::<project>::<type>::<name>`)."""
    parts = urn.split("::")
    return parts[1] if len(parts) >= 2 and parts[0].startswith("urn:pulumi:") else ""


def production_key(project: str) -> str:
    """The stack config key that declares a stack production: `aio-mq:production`."""
    return f"{project}:{PRODUCTION_KEY}"


def environment(stack_config: Mapping[str, str] | None, project: str) -> Environment:
    """Whether the stack is production, from its one declaration `<project>:production`.

    Fail safe: only the exact value `false` makes a stack non-production. A stack that does not
    say (a copy named `prd`, a new stack, another program) is production, and so is one whose
    engine sent no stack config at all.
    """
    key = production_key(project)
    if stack_config is None:
        return Environment(
            True, "the engine sent no stack config; undeclared stacks count as production"
        )
    value = stack_config.get(key)
    if value is None:
        return Environment(
            True, f"the stack does not set {key}; a stack is production unless it sets {key}: false"
        )
    if value == "false":
        return Environment(False, f"the stack sets {key}: false")
    if value == "true":
        return Environment(True, f"the stack sets {key}: true")
    return Environment(
        True, f"{key} is {value!r}, not true or false, so the stack counts as production"
    )


@dataclass(frozen=True)
class StackFacts:
    """What the engine tells a policy pack about the stack it checks (its ConfigureStack call)."""

    stack: str
    project: str
    config: Mapping[str, str]


class _ConfiguredStack:
    """The stack config the engine sent, kept for the policies of this pack process."""

    facts: StackFacts | None = None


def configured_stack() -> StackFacts | None:
    return _ConfiguredStack.facts


def listen_for_stack_config() -> None:
    """Keep the stack config the engine sends with ConfigureStack.

    The engine sends a pack the stack's name, project, tags and config; pulumi_policy keeps only
    the tags. Its servicer is private, so this wraps its one method (pulumi-policy is pinned, and
    tests/e2e/test_policy_e2e.py proves the wrapping on the real engine).
    """
    servicer: Any = policy_module._PolicyAnalyzerServicer
    original = servicer.ConfigureStack
    if getattr(original, "_aio_mq_keeps_config", False):
        return

    def configure_stack(self: Any, request: Any, context: Any) -> Any:
        _ConfiguredStack.facts = StackFacts(
            stack=str(request.stack), project=str(request.project), config=dict(request.config)
        )
        return original(self, request, context)

    configure_stack._aio_mq_keeps_config = True  # type: ignore[attr-defined]
    servicer.ConfigureStack = configure_stack


def stack_environment(urn: str) -> Environment:
    """The environment of the stack a resource (by its URN) belongs to."""
    facts = configured_stack()
    return environment(facts.config if facts else None, project_of(urn))


# --- pulumi_policy glue --------------------------------------------------------------------

PreviewRule = Callable[[v1beta1.Listener, Mapping[str, Any]], list[Violation]]
GaRule = Callable[[v1.Port, Mapping[str, Any]], list[Violation]]


def resource_violations(
    resource: Resource, config: Mapping[str, Any], preview: PreviewRule, ga: GaRule
) -> list[Violation] | None:
    """What a per-listener rule finds in a resource: `preview` on a preview-API listener,
    `ga` on each port of a GA listener; None when the resource is neither."""
    listener = v1beta1.listener_of(resource)
    if listener is not None:
        return preview(listener, config)
    ports = v1.ports_of(resource)
    if ports is None:
        return None
    return [violation for port in ports for violation in ga(port, config)]


def _listener_policy(
    name: str,
    description: str,
    rules: tuple[PreviewRule, GaRule],
    level: EnforcementLevel,
    *,
    production_only: bool,
    properties: dict[str, dict[str, Any]] | None = None,
) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        resource = Resource(type=args.resource_type, urn=args.urn, name=args.name, props=args.props)
        violations = resource_violations(resource, args.get_config(), *rules)
        if violations is None:
            return
        note = ""
        if production_only:
            env = stack_environment(args.urn)
            if not env.production:
                args.not_applicable(f"not a production stack: {env.reason}")
            note = f" (Production: {env.reason}.)"
        for violation in violations:
            report(f"{violation.message}{note}", violation.urn)

    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=level,
        config_schema=PolicyConfigSchema(properties) if properties else None,
    )


StackRule = Callable[[Sequence[Resource], Mapping[str, Any]], list[Violation]]


def _stack_validation(
    rule: StackRule, *, production_only: bool
) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        resources = [
            Resource(type=r.resource_type, urn=r.urn, name=r.name, props=r.props)
            for r in args.resources
        ]
        if not resources:
            return
        config = args.get_config()
        note = ""
        if production_only:
            env = stack_environment(resources[0].urn)
            if not env.production:
                args.not_applicable(f"not a production stack: {env.reason}")
            note = f" (Production: {env.reason}.)"
        for violation in rule(resources, config):
            report(f"{violation.message}{note}", violation.urn)

    return validate


def stack_declared(urn: str) -> Existing:
    """The objects the stack file declares as existing (`<project>:existingSecrets` and
    `<project>:existingIssuers`, JSON lists as the engine passes structured values): a stack
    that references objects made outside the program says so itself, wherever it runs (make,
    CI, a bare `pulumi preview`)."""
    facts = configured_stack()
    project = project_of(urn)

    def declared(key: str) -> frozenset[str]:
        given = facts.config.get(f"{project}:{key}") if facts else None
        try:
            value = json.loads(given) if given else []
        except ValueError:
            value = []  # the program refuses such a stack before registering anything
        return frozenset(strings(value))

    return Existing(declared(EXISTING_SECRETS_KEY), declared(EXISTING_ISSUERS_KEY))


def _check_references(resources: Sequence[Resource], config: Mapping[str, Any]) -> list[Violation]:
    existing = Existing.from_config(config) | stack_declared(resources[0].urn)
    return [
        *v1beta1.check_references(resources, existing),
        *v1.check_references(resources, existing),
    ]


def _max_days(config: Mapping[str, Any]) -> float:
    value = config.get("maxDays", DEFAULT_MAX_CERT_DAYS)
    return float(value) if isinstance(value, int | float) and value > 0 else DEFAULT_MAX_CERT_DAYS


def policies() -> list[Policy]:
    """The pack's policies, in the order the docs list them."""
    mandatory, advisory = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY
    return [
        _listener_policy(
            TLS_REQUIRED,
            "Every BrokerListener of a production stack has TLS (GA: every port).",
            (
                lambda listener, _: v1beta1.check_tls_required(listener),
                lambda port, _: v1.check_tls_required(port),
            ),
            mandatory,
            production_only=True,
        ),
        _listener_policy(
            AUTHENTICATION_REQUIRED,
            "Every BrokerListener of a production stack has authentication enabled (GA: an "
            "authenticationRef on every port).",
            (
                lambda listener, _: v1beta1.check_authentication_required(listener),
                lambda port, _: v1.check_authentication_required(port),
            ),
            mandatory,
            production_only=True,
        ),
        StackValidationPolicy(
            name=REFERENCES_EXIST,
            description="On a production stack, the manual TLS Secrets and cert-manager issuers "
            "that BrokerListeners (GA: their ports) reference are created by the program or "
            "declared as existing.",
            validate=_stack_validation(
                _check_references,
                production_only=True,
            ),
            enforcement_level=mandatory,
            config_schema=PolicyConfigSchema(
                {
                    "existingSecrets": {
                        "type": "array",
                        "items": {"type": "string", "pattern": "^[^/]+/[^/]+$"},
                        "description": 'Secrets already on the cluster, as "<namespace>/<name>".',
                    },
                    "existingIssuers": {
                        "type": "array",
                        "items": {"type": "string", "pattern": "^[^/]+/([^/]+/)?[^/]+$"},
                        "description": 'Issuers already on the cluster: "Issuer/<namespace>/'
                        '<name>", "ClusterIssuer/<name>"; other groups "<Kind>.<group>/...".',
                    },
                }
            ),
        ),
        _listener_policy(
            EXPOSED_AUTHENTICATION,
            "No BrokerListener with serviceType loadBalancer or nodePort has authentication off "
            "(GA: a port without authenticationRef).",
            (
                lambda listener, _: v1beta1.check_exposed_authentication(listener),
                lambda port, _: v1.check_exposed_authentication(port),
            ),
            mandatory,
            production_only=False,
        ),
        _listener_policy(
            AUTHORIZATION,
            "BrokerListeners should have authorization enabled (GA: an authorizationRef on every "
            "port).",
            (
                lambda listener, _: v1beta1.check_authorization(listener),
                lambda port, _: v1.check_authorization(port),
            ),
            advisory,
            production_only=False,
        ),
        _listener_policy(
            CERTIFICATE_DURATION,
            "Certificates that cert-manager issues for BrokerListeners (tls.automatic; GA: "
            "certManagerCertificateSpec) should "
            "not be valid for more than maxDays (default 90) days.",
            (
                lambda listener, config: v1beta1.check_certificate_duration(
                    listener, _max_days(config)
                ),
                lambda port, config: v1.check_certificate_duration(port, _max_days(config)),
            ),
            advisory,
            production_only=False,
            properties={
                "maxDays": {
                    "type": "number",
                    "minimum": 1,
                    "default": DEFAULT_MAX_CERT_DAYS,
                    "description": "Longest certificate lifetime, in days, that passes.",
                }
            },
        ),
        StackValidationPolicy(
            name=AUTHENTICATION_LINKED,
            description="On a production stack, every BrokerListener with authentication "
            "enabled is listed by a BrokerAuthentication that the program creates or that is "
            "declared as existing (GA: every authenticationRef names one).",
            validate=_stack_validation(
                lambda resources, config: [
                    *v1beta1.check_authentication_linked(
                        resources, v1beta1.existing_authentications(config)
                    ),
                    *v1.check_authentication_linked(resources, v1.existing_authentications(config)),
                ],
                production_only=True,
            ),
            enforcement_level=mandatory,
            config_schema=PolicyConfigSchema(
                {
                    "existingAuthentications": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {
                                "name": {"type": "string"},
                                "namespace": {"type": "string"},
                                "listenerRef": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                        "description": "BrokerAuthentications already on the cluster (default: "
                        "the deployment's authn, listenerRef [listener], in "
                        "azure-iot-operations; under GA its default). listenerRef matters to "
                        "preview listeners only: a GA port names its authentication. For ARM "
                        "listeners an item counts by its name in every broker.",
                    },
                }
            ),
        ),
        StackValidationPolicy(
            name=X509_REQUIRES_TLS,
            description="No BrokerAuthentication with an x509 method lists a BrokerListener "
            "without TLS (GA: is named by a port without TLS).",
            validate=_stack_validation(
                lambda resources, _: [
                    *v1beta1.check_x509_requires_tls(resources),
                    *v1.check_x509_requires_tls(resources),
                ],
                production_only=False,
            ),
            enforcement_level=mandatory,
        ),
    ]
