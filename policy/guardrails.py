"""aio-mq guardrails: rules for Azure IoT MQ BrokerListeners, on the resources the engine sees.

The rules look at what the program registers (BrokerListener custom resources and patches of
them, cert-manager Issuers and ClusterIssuers, Secrets), not at the listeners in the aio-mq stack
config, so they guard any program: one made of `MqListener`s, one writing the custom resources by
hand, or one applying YAML.

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

A stack is production unless its stack config says `<project>:production: false`
(`aio-mq:production`): the one declaration the program, this pack, the Makefile and the workflow
read. Its name, tags and the policy config do not matter. See docs/policy.md.
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
from pulumi_policy import policy as policy_module

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
PRODUCTION_KEY = "production"
"""`<project>:production` in the stack config: the one place a stack says what it is."""
EXPOSED_SERVICE_TYPES = ("loadBalancer", "nodePort")
TLS_MODES = ("automatic", "manual", "keyVault")
GENERIC_CR = "CustomResource"
"""pulumi-kubernetes' generic custom resource type (`kubernetes:apiextensions.k8s.io:...`)."""

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
    if not slash:  # a group without a version: `kubernetes:apiextensions.k8s.io:CustomResource`
        group, version = parts[1], ""
        if "." not in group:
            return None
    if not group:
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


def _at(value: Any, path: str) -> Any:
    for key in path.split("."):
        value = _mapping(value).get(key)
    return value


TLS_REQUIRED_FIELDS: Mapping[str, tuple[str, ...]] = {
    "automatic": ("issuerRef.name",),
    "manual": ("secretName",),
    "keyVault": (
        "vault.name",
        "vault.directoryId",
        "vault.credentials.servicePrincipalLocalSecretName",
        "vaultCert.name",
    ),
}
"""What each TLS mode needs before the broker can serve TLS with it: without these, the mode is
named but the listener has no certificate (`tls: {manual: {}}` is not TLS)."""


def tls_gaps(tls: Mapping[str, Any]) -> list[str]:
    """Why spec.tls gives the listener no working TLS: [] when it does."""
    modes = [mode for mode in TLS_MODES if mode in tls and tls[mode] is not None]
    if not modes:
        return ["spec.tls names no TLS mode (automatic, manual or keyVault)"]
    if len(modes) > 1:
        return [f"spec.tls names {' and '.join(modes)}; a listener has exactly one TLS mode"]
    mode = modes[0]
    return [
        f"spec.tls.{mode}.{path} is missing"
        for path in TLS_REQUIRED_FIELDS[mode]
        if _text(_at(tls[mode], path)) is None
    ]


@dataclass(frozen=True)
class Listener:
    """The BrokerListener fields the rules read.

    A BrokerListener gets the API defaults for what it leaves out. A patch of one
    (`...:BrokerListenerPatch`, `CustomResourcePatch`) changes only what it names, so a field it
    leaves out is None here: unknown, and not judged.
    """

    name: str
    namespace: str
    urn: str
    port: int | None
    service_type: str | None
    authentication: bool | None
    authorization: bool | None
    tls: Mapping[str, Any] | None
    """spec.tls as given; None: absent (no TLS) or, on a patch, set to null (TLS removed)."""
    tls_known: bool = True
    """False for a patch that leaves spec.tls as it is."""
    patch: bool = False

    @property
    def ref(self) -> str:
        kind = "BrokerListener patch" if self.patch else "BrokerListener"
        return f"{kind} {self.namespace}/{self.name}"

    @property
    def tls_mode(self) -> str | None:
        """The TLS mode the listener really has: None without TLS or with hollow TLS."""
        if self.tls is None or tls_gaps(self.tls):
            return None
        return next(mode for mode in TLS_MODES if self.tls.get(mode) is not None)


def _listener_kind(resource: Resource) -> tuple[bool, bool]:
    """(is it a BrokerListener or a patch of one, is it a patch)."""
    kind = kubernetes_type(resource.type)
    if kind is None:
        return False, False
    if kind.group == "apiextensions.k8s.io" and kind.kind in (GENERIC_CR, GENERIC_CR + "Patch"):
        # The generic custom resource types say what they are in their properties.
        group = str(resource.props.get("apiVersion", "")).rpartition("/")[0]
        listener = group == LISTENER_GROUP and resource.props.get("kind") == LISTENER_KIND
        return listener, kind.kind.endswith("Patch")
    if kind.group != LISTENER_GROUP:
        return False, False
    if kind.kind == LISTENER_KIND:
        return True, False
    return kind.kind == LISTENER_KIND + "Patch", True


def listener_of(resource: Resource) -> Listener | None:
    """The listener a resource declares or patches, or None if it does neither."""
    is_listener, patch = _listener_kind(resource)
    if not is_listener:
        return None
    metadata = _mapping(resource.props.get("metadata"))
    spec = _mapping(resource.props.get("spec"))

    def flag(key: str) -> bool | None:
        if patch and key not in spec:
            return None
        return spec.get(key) is True

    tls = spec.get("tls")
    return Listener(
        name=_text(metadata.get("name")) or resource.name,
        namespace=_text(metadata.get("namespace")) or DEFAULT_NAMESPACE,
        urn=resource.urn,
        port=_port(spec.get("port")),
        service_type=_text(spec.get("serviceType")) or (None if patch else "clusterIp"),
        authentication=flag("authenticationEnabled"),
        authorization=flag("authorizationEnabled"),
        tls=tls if isinstance(tls, Mapping) else None,
        tls_known="tls" in spec or not patch,
        patch=patch,
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


# --- rules on one listener -----------------------------------------------------------------


_TLS_FIX = (
    "credentials and messages would cross the network in clear. Give it tls.automatic with an "
    "issuerRef.name (cert-manager), tls.manual with a secretName (a kubernetes.io/tls Secret) "
    "or tls.keyVault with its vault and vaultCert."
)


def check_tls_required(listener: Listener) -> list[Violation]:
    if not listener.tls_known:
        return []
    if listener.tls is None:
        absent = "sets spec.tls to null" if listener.patch else "has no TLS (spec.tls is absent)"
        return [Violation(f"{listener.ref} {absent}: {_TLS_FIX}", listener.urn)]
    gaps = tls_gaps(listener.tls)
    if not gaps:
        return []
    return [
        Violation(
            f"{listener.ref} has no working TLS ({'; '.join(gaps)}): {_TLS_FIX}", listener.urn
        )
    ]


def check_authentication_required(listener: Listener) -> list[Violation]:
    if listener.authentication is not False:
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
    if listener.service_type not in EXPOSED_SERVICE_TYPES or listener.authentication is not False:
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
    if listener.authorization is not False:
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
        if listener.authentication is True
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
            if listener is not None and listener.tls_known and listener.tls_mode is None:
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
            env = stack_environment(args.urn)
            if not env.production:
                args.not_applicable(f"not a production stack: {env.reason}")
            for violation in rule(listener, config):
                report(f"{violation.message} (Production: {env.reason}.)", violation.urn)
            return
        for violation in rule(listener, config):
            report(violation.message, violation.urn)

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
