"""aio-mq guardrails: rules for Azure IoT MQ BrokerListeners, on the resources the engine sees.

The rules look at what the program registers (BrokerListener custom resources, cert-manager
Issuers and ClusterIssuers, Secrets), never at the aio-mq stack config, so they guard any program:
one made of `MqListener`s, one writing the custom resources by hand, or one applying YAML.

Every rule is a plain function over `Listener` / `Resource` values that returns `Violation`s, so it
is tested without the engine; `policies()` wraps them in pulumi_policy policies.

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

A stack is production when (first that applies): the policy's config says `production: true` or
`false`; the stack has the tag `environment` set to `production` or `prod`; its name (as in the
resources' URNs) is one of `productionStacks` (default `prod`, `production`). See docs/policy.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
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

PACK_NAME = "aio-mq-guardrails"

LISTENER_GROUP = "mq.iotoperations.azure.com"
LISTENER_KIND = "BrokerListener"
CERT_MANAGER_GROUP = "cert-manager.io"
TLS_SECRET_TYPE = "kubernetes.io/tls"
DEFAULT_NAMESPACE = "default"
"""Where the Kubernetes provider puts a namespaced object whose metadata has no namespace."""
DEFAULT_CERT_DURATION = "720h"
"""tls.automatic.duration when absent (the BrokerListener API default)."""
DEFAULT_MAX_CERT_DAYS = 90
DEFAULT_PRODUCTION_STACKS = ("prod", "production")
PRODUCTION_TAG = "environment"
PRODUCTION_TAG_VALUES = ("production", "prod")
EXPOSED_SERVICE_TYPES = ("loadBalancer", "nodePort")
TLS_MODES = ("automatic", "manual", "keyVault")

TLS_REQUIRED = "listener-tls-required"
AUTHENTICATION_REQUIRED = "listener-authentication-required"
REFERENCES_EXIST = "tls-references-exist"
EXPOSED_AUTHENTICATION = "exposed-listener-authentication"
AUTHORIZATION = "listener-authorization"
CERTIFICATE_DURATION = "certificate-duration"
AUTHENTICATION_LINKED = "authentication-linked"
X509_REQUIRES_TLS = "x509-requires-tls"
AUTHENTICATION_KIND = "BrokerAuthentication"


# --- what the rules read -------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """One resource as the engine shows it to a policy: type token, URN, Pulumi name, properties."""

    type: str
    urn: str
    name: str
    props: Mapping[str, Any]


@dataclass(frozen=True)
class Violation:
    """A problem found by a rule; `urn` is the resource to blame (None: the whole stack)."""

    message: str
    urn: str | None = None


@dataclass(frozen=True)
class KubernetesType:
    group: str
    """API group; "core" for the core API (Secrets, Services, ...)."""
    version: str
    kind: str


def kubernetes_type(token: str) -> KubernetesType | None:
    """The group, version and kind in a Kubernetes provider type token such as
    `kubernetes:mq.iotoperations.azure.com/v1beta1:BrokerListener`; None for other tokens."""
    parts = token.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes":
        return None
    group, slash, version = parts[1].rpartition("/")
    if not slash or not group:
        return None
    return KubernetesType(group, version, parts[2])


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        return []
    return [item for item in value if isinstance(item, str)]


@dataclass(frozen=True)
class Listener:
    """The BrokerListener fields the rules read, API defaults filled in."""

    name: str
    namespace: str
    urn: str
    port: int | None
    service_type: str
    authentication: bool
    authorization: bool
    tls: Mapping[str, Any] | None
    """spec.tls when it names a TLS mode, else None (no TLS)."""

    @property
    def ref(self) -> str:
        return f"BrokerListener {self.namespace}/{self.name}"

    @property
    def tls_mode(self) -> str | None:
        if self.tls is None:
            return None
        return next(mode for mode in TLS_MODES if mode in self.tls)


def listener_of(resource: Resource) -> Listener | None:
    """The listener a resource declares, or None if it is not a BrokerListener."""
    kind = kubernetes_type(resource.type)
    if kind is None or kind.group != LISTENER_GROUP or kind.kind != LISTENER_KIND:
        return None
    metadata = _mapping(resource.props.get("metadata"))
    spec = _mapping(resource.props.get("spec"))
    tls = _mapping(spec.get("tls"))
    has_tls = any(isinstance(tls.get(mode), Mapping) for mode in TLS_MODES)
    return Listener(
        name=_text(metadata.get("name")) or resource.name,
        namespace=_text(metadata.get("namespace")) or DEFAULT_NAMESPACE,
        urn=resource.urn,
        port=_port(spec.get("port")),
        service_type=_text(spec.get("serviceType")) or "clusterIp",
        authentication=spec.get("authenticationEnabled") is True,
        authorization=spec.get("authorizationEnabled") is True,
        tls={k: v for k, v in tls.items() if isinstance(v, Mapping)} if has_tls else None,
    )


def _port(value: Any) -> int | None:
    # Numbers reach a policy as floats (protobuf Struct).
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def listeners_of(resources: Iterable[Resource]) -> list[Listener]:
    return [listener for r in resources if (listener := listener_of(r)) is not None]


# --- which stacks are production -----------------------------------------------------------


@dataclass(frozen=True)
class Environment:
    production: bool
    reason: str
    """Why, in words that fit after "production:" / "not production:"."""


def stack_of(urn: str) -> str:
    """The stack name in a resource URN (`urn:pulumi:<stack>::<project>::<type>::<name>`)."""
    head = urn.split("::", 1)[0]
    return head.removeprefix("urn:pulumi:") if head.startswith("urn:pulumi:") else ""


def environment(stack: str, tags: Mapping[str, str], config: Mapping[str, Any]) -> Environment:
    """Whether `stack` is production: explicit policy config, else stack tag, else stack name."""
    explicit = config.get("production")
    if isinstance(explicit, bool):
        return Environment(explicit, f"the policy config sets production: {str(explicit).lower()}")
    tag = tags.get(PRODUCTION_TAG)
    if tag is not None and tag.lower() in PRODUCTION_TAG_VALUES:
        return Environment(True, f"the stack tag {PRODUCTION_TAG} is {tag!r}")
    configured = config.get("productionStacks")
    names = _strings(configured) if configured is not None else list(DEFAULT_PRODUCTION_STACKS)
    listed = ", ".join(names) or "none"
    if stack in names:
        return Environment(True, f"the stack name {stack!r} is one of productionStacks ({listed})")
    return Environment(False, f"the stack name {stack!r} is not one of productionStacks ({listed})")


# --- rules on one listener -----------------------------------------------------------------


def check_tls_required(listener: Listener) -> list[Violation]:
    if listener.tls is not None:
        return []
    return [
        Violation(
            f"{listener.ref} has no TLS (spec.tls is absent): credentials and messages would "
            "cross the network in clear. Give it tls.automatic (cert-manager), tls.manual "
            "(a kubernetes.io/tls Secret) or tls.keyVault.",
            listener.urn,
        )
    ]


def check_authentication_required(listener: Listener) -> list[Violation]:
    if listener.authentication:
        return []
    return [
        Violation(
            f"{listener.ref} has authentication off: any client that reaches "
            f"{_port_text(listener)} can connect. Set authenticationEnabled: true and link a "
            "BrokerAuthentication to the listener.",
            listener.urn,
        )
    ]


def _port_text(listener: Listener) -> str:
    return f"port {listener.port}" if listener.port is not None else "its port"


def check_exposed_authentication(listener: Listener) -> list[Violation]:
    if listener.service_type not in EXPOSED_SERVICE_TYPES or listener.authentication:
        return []
    return [
        Violation(
            f"{listener.ref} is exposed outside the cluster (serviceType {listener.service_type}) "
            "with authentication off: anyone who reaches the node or load balancer can connect. "
            "Set authenticationEnabled: true, or use serviceType clusterIp.",
            listener.urn,
        )
    ]


def check_authorization(listener: Listener) -> list[Violation]:
    if listener.authorization:
        return []
    return [
        Violation(
            f"{listener.ref} has authorization off: every client it admits may publish and "
            "subscribe to every topic. Consider authorizationEnabled: true with a "
            "BrokerAuthorization that lists what each client may do.",
            listener.urn,
        )
    ]


_GO_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,  # micro sign
    "\u03bcs": 1e-6,  # Greek small letter mu
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_GO_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_GO_UNIT = "(?:" + "|".join(sorted(_GO_UNIT_SECONDS, key=len, reverse=True)) + ")"
_GO_DURATION = re.compile(rf"[-+]?(?:{_GO_NUMBER}{_GO_UNIT})+")
_GO_TERM = re.compile(rf"({_GO_NUMBER})({_GO_UNIT})")


def go_duration_seconds(text: str) -> float:
    """Seconds in a Go duration string (time.ParseDuration syntax: "720h", "1h30m", "1.5h").

    Raises ValueError for text that Go would refuse, such as "30d" or "720".
    """
    if text in ("0", "+0", "-0"):
        return 0.0
    if not _GO_DURATION.fullmatch(text):
        raise ValueError(f"{text!r} is not a Go duration")
    sign = -1.0 if text.startswith("-") else 1.0
    return sign * sum(
        float(number) * _GO_UNIT_SECONDS[unit] for number, unit in _GO_TERM.findall(text)
    )


def check_certificate_duration(
    listener: Listener, max_days: float = DEFAULT_MAX_CERT_DAYS
) -> list[Violation]:
    automatic = _mapping(listener.tls.get("automatic")) if listener.tls else {}
    if not automatic:
        return []
    given = automatic.get("duration")
    duration = given if isinstance(given, str) else DEFAULT_CERT_DURATION
    where = "tls.automatic.duration" if isinstance(given, str) else "the default duration"
    try:
        seconds = go_duration_seconds(duration)
    except ValueError:
        return [
            Violation(
                f"{listener.ref}: tls.automatic.duration {duration!r} is not a Go duration "
                "(such as 720h or 2160h), so the certificate lifetime cannot be checked.",
                listener.urn,
            )
        ]
    if seconds <= max_days * 86400:
        return []
    return [
        Violation(
            f"{listener.ref}: {where} {duration!r} is {seconds / 86400:g} days, more than "
            f"{max_days:g}: a leaked key stays valid that long. Consider a shorter duration, "
            "e.g. 720h (30 days) with renewBefore 240h.",
            listener.urn,
        )
    ]


# --- rule on the whole stack: what TLS references must exist --------------------------------


@dataclass(frozen=True)
class Existing:
    """Objects declared to exist on the cluster already (the tls-references-exist config)."""

    secrets: frozenset[str] = frozenset()
    """"<namespace>/<name>" of Secrets."""
    issuers: frozenset[str] = frozenset()
    """"Issuer/<namespace>/<name>", "ClusterIssuer/<name>"; other groups "<Kind>.<group>/..."."""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Existing:
        return cls(
            secrets=frozenset(_strings(config.get("existingSecrets"))),
            issuers=frozenset(_strings(config.get("existingIssuers"))),
        )


@dataclass(frozen=True)
class _Object:
    group: str
    kind: str
    namespace: str | None
    name: str
    props: Mapping[str, Any]


def _objects(resources: Iterable[Resource]) -> list[_Object]:
    found = []
    for resource in resources:
        kind = kubernetes_type(resource.type)
        if kind is None:
            continue
        metadata = _mapping(resource.props.get("metadata"))
        name = _text(metadata.get("name"))
        if name is not None:
            namespace = _text(metadata.get("namespace"))
            found.append(_Object(kind.group, kind.kind, namespace, name, resource.props))
    return found


def _issuer_key(kind: str, group: str, namespace: str | None, name: str) -> str:
    kind_part = kind if group == CERT_MANAGER_GROUP else f"{kind}.{group}"
    return f"{kind_part}/{namespace}/{name}" if namespace else f"{kind_part}/{name}"


def check_references(resources: Sequence[Resource], existing: Existing) -> list[Violation]:
    """Every manual TLS Secret and cert-manager issuer a listener names is created by the
    program or declared as existing."""
    objects = _objects(resources)
    violations: list[Violation] = []
    for listener in listeners_of(resources):
        tls = listener.tls or {}
        manual = _mapping(tls.get("manual"))
        automatic = _mapping(tls.get("automatic"))
        if manual:
            violations += _check_secret(listener, manual, objects, existing)
        if automatic:
            violations += _check_issuer(listener, automatic, objects, existing)
    return violations


def _check_secret(
    listener: Listener, manual: Mapping[str, Any], objects: list[_Object], existing: Existing
) -> list[Violation]:
    name = _text(manual.get("secretName"))
    if name is None:
        return [Violation(f"{listener.ref}: tls.manual has no secretName.", listener.urn)]
    namespace = _text(manual.get("secretNamespace")) or listener.namespace
    key = f"{namespace}/{name}"
    in_program = [
        o
        for o in objects
        if o.group == "core"
        and o.kind == "Secret"
        and o.name == name
        and (o.namespace or DEFAULT_NAMESPACE) == namespace
    ]
    for secret in in_program:
        secret_type = _text(secret.props.get("type"))
        if secret_type not in (None, TLS_SECRET_TYPE):
            return [
                Violation(
                    f"{listener.ref} uses Secret {key} for tls.manual, but the program creates "
                    f"it with type {secret_type}; the broker reads tls.crt and tls.key from a "
                    f"{TLS_SECRET_TYPE} Secret.",
                    listener.urn,
                )
            ]
    if in_program or key in existing.secrets:
        return []
    return [
        Violation(
            f"{listener.ref} uses Secret {key} (tls.manual.secretName), which this program does "
            "not create; without it the broker frontend never starts. Create the Secret in the "
            f"program, or if it already exists on the cluster add {key!r} to existingSecrets "
            f"in the {REFERENCES_EXIST} policy config.",
            listener.urn,
        )
    ]


def _check_issuer(
    listener: Listener, automatic: Mapping[str, Any], objects: list[_Object], existing: Existing
) -> list[Violation]:
    ref = _mapping(automatic.get("issuerRef"))
    name = _text(ref.get("name"))
    if name is None:
        return [Violation(f"{listener.ref}: tls.automatic.issuerRef has no name.", listener.urn)]
    kind = _text(ref.get("kind")) or "Issuer"
    group = _text(ref.get("group")) or CERT_MANAGER_GROUP
    # An Issuer only signs certificates in its own namespace: the listener's, or the one its
    # certificate Secret is written to.
    namespaces = {listener.namespace, _text(automatic.get("secretNamespace")) or listener.namespace}
    if group == CERT_MANAGER_GROUP and kind == "ClusterIssuer":
        wanted = {_issuer_key(kind, group, None, name)}
    elif group == CERT_MANAGER_GROUP:
        wanted = {_issuer_key(kind, group, ns, name) for ns in sorted(namespaces)}
    else:  # an external issuer: whether its kind is namespaced is not known here
        wanted = {_issuer_key(kind, group, ns, name) for ns in sorted(namespaces)}
        wanted.add(_issuer_key(kind, group, None, name))
    in_program = {
        _issuer_key(o.kind, o.group, _issuer_namespace(o, group, kind), o.name)
        for o in objects
        if o.group == group and o.kind == kind and o.name == name
    }
    if in_program & wanted or existing.issuers & wanted:
        return []
    suggestion = _issuer_key(
        kind, group, None if kind == "ClusterIssuer" else listener.namespace, name
    )
    return [
        Violation(
            f"{listener.ref} uses {kind} {name!r} (group {group}) in tls.automatic.issuerRef, "
            "which this program does not create"
            + ("" if kind == "ClusterIssuer" else f" in namespace {listener.namespace}")
            + "; cert-manager would never issue its certificate. Create the issuer in the "
            f"program, or if it already exists on the cluster add {suggestion!r} to "
            f"existingIssuers in the {REFERENCES_EXIST} policy config.",
            listener.urn,
        )
    ]


def _issuer_namespace(obj: _Object, group: str, kind: str) -> str | None:
    if group == CERT_MANAGER_GROUP and kind == "ClusterIssuer":
        return None
    if group == CERT_MANAGER_GROUP:
        return obj.namespace or DEFAULT_NAMESPACE
    return obj.namespace


# --- rules on the whole stack: BrokerAuthentications and the listeners they list ----------


@dataclass(frozen=True)
class Authentication:
    """A BrokerAuthentication: the listeners it lists, and whether it has an x509 method."""

    name: str
    namespace: str
    listener_ref: tuple[str, ...]
    x509: bool = False
    urn: str | None = None
    """None for one declared as existing."""

    @property
    def ref(self) -> str:
        return f"BrokerAuthentication {self.namespace}/{self.name}"


DEFAULT_EXISTING_AUTHENTICATIONS = (Authentication("authn", "azure-iot-operations", ("listener",)),)
"""What every Azure IoT Operations (preview) deployment has."""


def authentication_of(resource: Resource) -> Authentication | None:
    kind = kubernetes_type(resource.type)
    if kind is None or kind.group != LISTENER_GROUP or kind.kind != AUTHENTICATION_KIND:
        return None
    metadata = _mapping(resource.props.get("metadata"))
    spec = _mapping(resource.props.get("spec"))
    methods = spec.get("authenticationMethods")
    return Authentication(
        name=_text(metadata.get("name")) or resource.name,
        namespace=_text(metadata.get("namespace")) or DEFAULT_NAMESPACE,
        listener_ref=tuple(_strings(spec.get("listenerRef"))),
        x509=isinstance(methods, Sequence)
        and any(isinstance(_mapping(m).get("x509"), Mapping) for m in methods),
        urn=resource.urn,
    )


def existing_authentications(config: Mapping[str, Any]) -> list[Authentication]:
    """The authentication-linked policy config's `existingAuthentications`; absent: the
    deployment's `authn`."""
    given = config.get("existingAuthentications")
    if not isinstance(given, Sequence) or isinstance(given, str):
        return list(DEFAULT_EXISTING_AUTHENTICATIONS)
    return [
        Authentication(
            name=_text(item.get("name")) or "",
            namespace=_text(item.get("namespace")) or "azure-iot-operations",
            listener_ref=tuple(_strings(item.get("listenerRef"))),
        )
        for item in map(_mapping, given)
    ]


def check_authentication_linked(
    resources: Sequence[Resource], existing: Sequence[Authentication]
) -> list[Violation]:
    """Every listener with authentication enabled is listed by a BrokerAuthentication that
    the program creates or that is declared as existing."""
    authentications = [
        *(a for r in resources if (a := authentication_of(r)) is not None),
        *existing,
    ]
    return [
        Violation(
            f"{listener.ref} has authentication enabled, but no BrokerAuthentication that this "
            "program creates or that is declared as existing lists it: clients cannot "
            f"authenticate. Add {listener.name!r} to the listenerRef of a BrokerAuthentication "
            f"in namespace {listener.namespace}, or if one on the cluster lists it, declare it "
            f"in existingAuthentications in the {AUTHENTICATION_LINKED} policy config.",
            listener.urn,
        )
        for listener in listeners_of(resources)
        if listener.authentication
        and not any(
            a.namespace == listener.namespace and listener.name in a.listener_ref
            for a in authentications
        )
    ]


def check_x509_requires_tls(resources: Sequence[Resource]) -> list[Violation]:
    """No BrokerAuthentication with an x509 method lists a listener without TLS."""
    listeners = {(li.namespace, li.name): li for li in listeners_of(resources)}
    violations = []
    for authentication in (a for r in resources if (a := authentication_of(r)) is not None):
        if not authentication.x509:
            continue
        for name in authentication.listener_ref:
            listener = listeners.get((authentication.namespace, name))
            if listener is not None and listener.tls is None:
                violations.append(
                    Violation(
                        f"{authentication.ref} has an x509 method and lists {listener.ref}, "
                        "which has no TLS: a client certificate is presented in the TLS "
                        f"handshake, so the method never applies. Give {name!r} TLS, or "
                        "remove it from the listenerRef or the x509 method.",
                        authentication.urn,
                    )
                )
    return violations


# --- pulumi_policy glue --------------------------------------------------------------------

_PRODUCTION_PROPERTIES: dict[str, dict[str, Any]] = {
    "production": {
        "type": "boolean",
        "description": "Treat this stack as production (true) or not (false), whatever its "
        "name and tags say.",
    },
    "productionStacks": {
        "type": "array",
        "items": {"type": "string"},
        "default": list(DEFAULT_PRODUCTION_STACKS),
        "description": "Stack names that are production.",
    },
}

ListenerRule = Callable[[Listener, Mapping[str, Any]], list[Violation]]


def _resource(args: ResourceValidationArgs) -> Resource:
    return Resource(type=args.resource_type, urn=args.urn, name=args.name, props=args.props)


def _listener_policy(
    name: str,
    description: str,
    rule: ListenerRule,
    level: EnforcementLevel,
    *,
    production_only: bool,
    properties: dict[str, dict[str, Any]] | None = None,
) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        listener = listener_of(_resource(args))
        if listener is None:
            return
        config = args.get_config()
        if production_only:
            env = environment(stack_of(args.urn), args.stack_tags, config)
            if not env.production:
                args.not_applicable(f"not a production stack: {env.reason}")
            for violation in rule(listener, config):
                report(f"{violation.message} (Production: {env.reason}.)", violation.urn)
            return
        for violation in rule(listener, config):
            report(violation.message, violation.urn)

    schema_properties = {
        **(_PRODUCTION_PROPERTIES if production_only else {}),
        **(properties or {}),
    }
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=level,
        config_schema=PolicyConfigSchema(schema_properties) if schema_properties else None,
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
            env = environment(stack_of(resources[0].urn), args.stack_tags, config)
            if not env.production:
                args.not_applicable(f"not a production stack: {env.reason}")
            note = f" (Production: {env.reason}.)"
        for violation in rule(resources, config):
            report(f"{violation.message}{note}", violation.urn)

    return validate


def _max_days(config: Mapping[str, Any]) -> float:
    value = config.get("maxDays", DEFAULT_MAX_CERT_DAYS)
    return float(value) if isinstance(value, int | float) and value > 0 else DEFAULT_MAX_CERT_DAYS


def policies() -> list[Policy]:
    """The pack's policies, in the order the docs list them."""
    mandatory, advisory = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY
    return [
        _listener_policy(
            TLS_REQUIRED,
            "Every BrokerListener of a production stack has TLS.",
            lambda listener, _: check_tls_required(listener),
            mandatory,
            production_only=True,
        ),
        _listener_policy(
            AUTHENTICATION_REQUIRED,
            "Every BrokerListener of a production stack has authentication enabled.",
            lambda listener, _: check_authentication_required(listener),
            mandatory,
            production_only=True,
        ),
        StackValidationPolicy(
            name=REFERENCES_EXIST,
            description="On a production stack, the manual TLS Secrets and cert-manager issuers "
            "that BrokerListeners reference are created by the program or declared as existing.",
            validate=_stack_validation(
                lambda resources, config: check_references(resources, Existing.from_config(config)),
                production_only=True,
            ),
            enforcement_level=mandatory,
            config_schema=PolicyConfigSchema(
                {
                    **_PRODUCTION_PROPERTIES,
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
            "No BrokerListener with serviceType loadBalancer or nodePort has authentication off.",
            lambda listener, _: check_exposed_authentication(listener),
            mandatory,
            production_only=False,
        ),
        _listener_policy(
            AUTHORIZATION,
            "BrokerListeners should have authorization enabled.",
            lambda listener, _: check_authorization(listener),
            advisory,
            production_only=False,
        ),
        _listener_policy(
            CERTIFICATE_DURATION,
            "Certificates that cert-manager issues for BrokerListeners (tls.automatic) should "
            "not be valid for more than maxDays (default 90) days.",
            lambda listener, config: check_certificate_duration(listener, _max_days(config)),
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
            "declared as existing.",
            validate=_stack_validation(
                lambda resources, config: check_authentication_linked(
                    resources, existing_authentications(config)
                ),
                production_only=True,
            ),
            enforcement_level=mandatory,
            config_schema=PolicyConfigSchema(
                {
                    **_PRODUCTION_PROPERTIES,
                    "existingAuthentications": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name", "listenerRef"],
                            "properties": {
                                "name": {"type": "string"},
                                "namespace": {"type": "string"},
                                "listenerRef": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                        "description": "BrokerAuthentications already on the cluster (default: "
                        "the deployment's authn, listenerRef [listener], in "
                        "azure-iot-operations).",
                    },
                }
            ),
        ),
        StackValidationPolicy(
            name=X509_REQUIRES_TLS,
            description="No BrokerAuthentication with an x509 method lists a BrokerListener "
            "without TLS.",
            validate=_stack_validation(
                lambda resources, _: check_x509_requires_tls(resources), production_only=False
            ),
            enforcement_level=mandatory,
        ),
    ]
