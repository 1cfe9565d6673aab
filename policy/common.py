"""What the rules of both API versions read and share: resources as the engine shows them, the
violations they report, and the checks that do not depend on the BrokerListener shape (Go
durations, whether a TLS Secret or a cert-manager issuer is created or declared as existing).

The rules of each API version are side by side: `policy/v1beta1.py` (the preview API) and
`policy/v1.py` (GA); `policy/guardrails.py` makes policies of both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CERT_MANAGER_GROUP = "cert-manager.io"
TLS_SECRET_TYPE = "kubernetes.io/tls"
DEFAULT_NAMESPACE = "default"
"""Where the Kubernetes provider puts a namespaced object whose metadata has no namespace."""
IOT_OPERATIONS_NAMESPACE = "azure-iot-operations"
DEFAULT_MAX_CERT_DAYS = 90
GENERIC_CR = "CustomResource"
"""pulumi-kubernetes' generic custom resource type (`kubernetes:apiextensions.k8s.io:...`)."""
LISTENER_KIND = "BrokerListener"
AUTHENTICATION_KIND = "BrokerAuthentication"

TLS_REQUIRED = "listener-tls-required"
AUTHENTICATION_REQUIRED = "listener-authentication-required"
REFERENCES_EXIST = "tls-references-exist"
EXPOSED_AUTHENTICATION = "exposed-listener-authentication"
AUTHORIZATION = "listener-authorization"
CERTIFICATE_DURATION = "certificate-duration"
AUTHENTICATION_LINKED = "authentication-linked"
X509_REQUIRES_TLS = "x509-requires-tls"


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


AZURE_NATIVE_MODULE = "iotoperations"
"""azure-native's module of Azure IoT Operations resources (`azure-native:iotoperations:...`)."""


def azure_native_kind(token: str) -> str | None:
    """The resource kind in an azure-native IoT Operations type token,
    `azure-native:iotoperations:BrokerListener` or one of a pinned api-version
    (`azure-native:iotoperations/v20241101:BrokerListener`); None for other tokens."""
    parts = token.split(":")
    if len(parts) != 3 or parts[0] != "azure-native":
        return None
    return parts[2] if parts[1].split("/")[0] == AZURE_NATIVE_MODULE else None


def custom_resource_of(resource: Resource, group: str, kind: str) -> tuple[bool, bool]:
    """(does the resource declare or patch a `kind` of API `group`, is it a patch)."""
    found = kubernetes_type(resource.type)
    if found is None:
        return False, False
    if found.group == "apiextensions.k8s.io" and found.kind in (GENERIC_CR, GENERIC_CR + "Patch"):
        # The generic custom resource types say what they are in their properties.
        declared = str(resource.props.get("apiVersion", "")).rpartition("/")[0]
        return declared == group and resource.props.get("kind") == kind, found.kind.endswith(
            "Patch"
        )
    if found.group != group:
        return False, False
    if found.kind == kind:
        return True, False
    return found.kind == kind + "Patch", True


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def strings(value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        return []
    return [item for item in value if isinstance(item, str)]


def field_at(value: Any, path: str) -> Any:
    for key in path.split("."):
        value = mapping(value).get(key)
    return value


def port_number(value: Any) -> int | None:
    # Numbers reach a policy as floats (protobuf Struct).
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def metadata_of(resource: Resource) -> tuple[str, str]:
    """(name, namespace) of a namespaced object, as the provider would create it."""
    metadata = mapping(resource.props.get("metadata"))
    return text(metadata.get("name")) or resource.name, text(
        metadata.get("namespace")
    ) or DEFAULT_NAMESPACE


# --- certificate lifetimes -----------------------------------------------------------------

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
# [0-9], never \d: Python's \d takes every script's digits, Go's parser ASCII ones only.
_GO_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
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


@dataclass(frozen=True)
class Duration:
    """A certificate duration field as a listener gives it."""

    subject: str
    """The listener (or port) it belongs to, as messages name it."""
    urn: str
    field: str
    """Its field name in the spec, e.g. `tls.automatic.duration`."""
    given: Any
    default: str
    """What applies when it is absent"""
    default_source: str
    """and who says so, e.g. "the API's default"."""


def check_duration(duration: Duration, max_days: float) -> list[Violation]:
    """A certificate valid for longer than `max_days`, or a duration that is not Go's."""
    given = duration.given if isinstance(duration.given, str) else None
    value = given or duration.default
    where = duration.field if given else "the default duration"
    source = "" if given else f" ({duration.default_source})"
    try:
        seconds = go_duration_seconds(value)
    except ValueError:
        return [
            Violation(
                f"{duration.subject}: {duration.field} {value!r} is not a Go duration (such "
                "as 720h or 2160h), so the certificate lifetime cannot be checked.",
                duration.urn,
            )
        ]
    if seconds <= max_days * 86400:
        return []
    return [
        Violation(
            f"{duration.subject}: {where} {value!r}{source} is {seconds / 86400:g} days, more "
            f"than {max_days:g}: a leaked key stays valid that long. Consider a shorter duration, "
            "e.g. 720h (30 days) with renewBefore 240h.",
            duration.urn,
        )
    ]


# --- TLS references: created by the program or declared as existing --------------------------


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
            secrets=frozenset(strings(config.get("existingSecrets"))),
            issuers=frozenset(strings(config.get("existingIssuers"))),
        )

    def __or__(self, other: Existing) -> Existing:
        return Existing(self.secrets | other.secrets, self.issuers | other.issuers)


@dataclass(frozen=True)
class KubernetesObject:
    group: str
    kind: str
    namespace: str | None
    name: str
    props: Mapping[str, Any]


def objects_of(resources: Iterable[Resource]) -> list[KubernetesObject]:
    found = []
    for resource in resources:
        kind = kubernetes_type(resource.type)
        if kind is None:
            continue
        metadata = mapping(resource.props.get("metadata"))
        name = text(metadata.get("name"))
        if name is not None:
            namespace = text(metadata.get("namespace"))
            found.append(KubernetesObject(kind.group, kind.kind, namespace, name, resource.props))
    return found


@dataclass(frozen=True)
class Reference:
    """A listener's (or port's) reference to a Secret or an issuer, for the messages."""

    subject: str
    urn: str
    field: str
    """The referencing field, e.g. `tls.manual.secretName`."""


def check_secret(
    ref: Reference,
    name: str,
    namespace: str,
    objects: Sequence[KubernetesObject],
    existing: Existing,
) -> list[Violation]:
    """The manual-TLS Secret `namespace/name` is created by the program as a TLS Secret, or
    declared as existing."""
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
        secret_type = text(secret.props.get("type"))
        if secret_type not in (None, TLS_SECRET_TYPE):
            return [
                Violation(
                    f"{ref.subject} uses Secret {key} for TLS ({ref.field}), but the program "
                    f"creates it with type {secret_type}; the broker reads tls.crt and tls.key "
                    f"from a {TLS_SECRET_TYPE} Secret.",
                    ref.urn,
                )
            ]
    if in_program or key in existing.secrets:
        return []
    return [
        Violation(
            f"{ref.subject} uses Secret {key} ({ref.field}), which this program does not "
            "create; without it the broker frontend never starts. Create the Secret in the "
            f"program, or if it already exists on the cluster add {key!r} to existingSecrets: "
            f"the stack file's <project>:existingSecrets (aio-mq:existingSecrets) or the "
            f"{REFERENCES_EXIST} policy config.",
            ref.urn,
        )
    ]


def issuer_key(kind: str, group: str, namespace: str | None, name: str) -> str:
    kind_part = kind if group == CERT_MANAGER_GROUP else f"{kind}.{group}"
    return f"{kind_part}/{namespace}/{name}" if namespace else f"{kind_part}/{name}"


def check_issuer(
    ref: Reference,
    issuer_ref: Mapping[str, Any],
    namespaces: Sequence[str],
    objects: Sequence[KubernetesObject],
    existing: Existing,
) -> list[Violation]:
    """The cert-manager issuer `issuer_ref` names is created by the program or declared as
    existing; an Issuer only counts in one of `namespaces` (where certificates are made; the
    listener's first)."""
    name = text(issuer_ref.get("name"))
    if name is None:
        return [Violation(f"{ref.subject}: {ref.field} has no name.", ref.urn)]
    kind = text(issuer_ref.get("kind")) or "Issuer"
    group = text(issuer_ref.get("group")) or CERT_MANAGER_GROUP
    if group == CERT_MANAGER_GROUP and kind == "ClusterIssuer":
        wanted = {issuer_key(kind, group, None, name)}
    else:
        wanted = {issuer_key(kind, group, ns, name) for ns in namespaces}
        if group != CERT_MANAGER_GROUP:  # an external issuer: namespaced or not is not known
            wanted.add(issuer_key(kind, group, None, name))
    in_program = {
        issuer_key(o.kind, o.group, _issuer_namespace(o, group, kind), o.name)
        for o in objects
        if o.group == group and o.kind == kind and o.name == name
    }
    if in_program & wanted or existing.issuers & wanted:
        return []
    first = namespaces[0]
    suggestion = issuer_key(kind, group, None if kind == "ClusterIssuer" else first, name)
    return [
        Violation(
            f"{ref.subject} uses {kind} {name!r} (group {group}) in {ref.field}, which this "
            "program does not create"
            + ("" if kind == "ClusterIssuer" else f" in namespace {first}")
            + "; cert-manager would never issue its certificate. Create the issuer in the "
            f"program, or if it already exists on the cluster add {suggestion!r} to "
            "existingIssuers: the stack file's <project>:existingIssuers (aio-mq:existingIssuers) "
            f"or the {REFERENCES_EXIST} policy config.",
            ref.urn,
        )
    ]


def _issuer_namespace(obj: KubernetesObject, group: str, kind: str) -> str | None:
    if group == CERT_MANAGER_GROUP and kind == "ClusterIssuer":
        return None
    if group == CERT_MANAGER_GROUP:
        return obj.namespace or DEFAULT_NAMESPACE
    return obj.namespace
