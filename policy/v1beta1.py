"""The rules on BrokerListeners of the preview API (`mq.iotoperations.azure.com/v1beta1`): one
port per listener, TLS and authentication set on the listener, BrokerAuthentications list the
listeners they apply to (`listenerRef`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .common import (
    AUTHENTICATION_KIND,
    AUTHENTICATION_LINKED,
    DEFAULT_MAX_CERT_DAYS,
    IOT_OPERATIONS_NAMESPACE,
    LISTENER_KIND,
    Duration,
    Existing,
    Reference,
    Resource,
    Violation,
    check_duration,
    check_issuer,
    check_secret,
    custom_resource_of,
    field_at,
    mapping,
    metadata_of,
    objects_of,
    port_number,
    strings,
    text,
)

GROUP = "mq.iotoperations.azure.com"
EXPOSED_SERVICE_TYPES = ("loadBalancer", "nodePort")
TLS_MODES = ("automatic", "manual", "keyVault")
DEFAULT_CERT_DURATION = "720h"
"""tls.automatic.duration when absent (the BrokerListener API default)."""

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
        if text(field_at(tls[mode], path)) is None
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


def listener_of(resource: Resource) -> Listener | None:
    """The listener a resource declares or patches, or None if it does neither."""
    is_listener, patch = custom_resource_of(resource, GROUP, LISTENER_KIND)
    if not is_listener:
        return None
    name, namespace = metadata_of(resource)
    spec = mapping(resource.props.get("spec"))

    def flag(key: str) -> bool | None:
        if patch and key not in spec:
            return None
        return spec.get(key) is True

    tls = spec.get("tls")
    return Listener(
        name=name,
        namespace=namespace,
        urn=resource.urn,
        port=port_number(spec.get("port")),
        service_type=text(spec.get("serviceType")) or (None if patch else "clusterIp"),
        authentication=flag("authenticationEnabled"),
        authorization=flag("authorizationEnabled"),
        tls=tls if isinstance(tls, Mapping) else None,
        tls_known="tls" in spec or not patch,
        patch=patch,
    )


def listeners_of(resources: Iterable[Resource]) -> list[Listener]:
    return [listener for r in resources if (listener := listener_of(r)) is not None]


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


def check_certificate_duration(
    listener: Listener, max_days: float = DEFAULT_MAX_CERT_DAYS
) -> list[Violation]:
    automatic = mapping(listener.tls.get("automatic")) if listener.tls else {}
    if not automatic:
        return []
    field = "tls.automatic.duration"
    given = automatic.get("duration")
    duration = Duration(
        listener.ref, listener.urn, field, given, DEFAULT_CERT_DURATION, "the API's default"
    )
    return check_duration(duration, max_days)


# --- rule on the whole stack: what TLS references must exist --------------------------------


def check_references(resources: Sequence[Resource], existing: Existing) -> list[Violation]:
    """Every manual TLS Secret and cert-manager issuer a listener names is created by the
    program or declared as existing."""
    objects = objects_of(resources)
    violations: list[Violation] = []
    for listener in listeners_of(resources):
        tls = listener.tls or {}
        manual = mapping(tls.get("manual"))
        automatic = mapping(tls.get("automatic"))
        if manual:
            field = "tls.manual.secretName"
            name = text(manual.get("secretName"))
            if name is None:
                violations.append(Violation(f"{listener.ref}: {field} is missing.", listener.urn))
            else:
                namespace = text(manual.get("secretNamespace")) or listener.namespace
                ref = Reference(listener.ref, listener.urn, field)
                violations += check_secret(ref, name, namespace, objects, existing)
        if automatic:
            # An Issuer only signs certificates in its own namespace: the listener's, or the
            # one its certificate Secret is written to.
            namespaces = [listener.namespace, text(automatic.get("secretNamespace"))]
            ref = Reference(listener.ref, listener.urn, "tls.automatic.issuerRef")
            issuer_ref = mapping(automatic.get("issuerRef"))
            violations += check_issuer(
                ref, issuer_ref, [ns for ns in namespaces if ns], objects, existing
            )
    return violations


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


DEFAULT_EXISTING_AUTHENTICATIONS = (
    Authentication("authn", IOT_OPERATIONS_NAMESPACE, ("listener",)),
)
"""What every Azure IoT Operations (preview) deployment has."""


def authentication_of(resource: Resource) -> Authentication | None:
    if custom_resource_of(resource, GROUP, AUTHENTICATION_KIND) != (True, False):
        return None
    name, namespace = metadata_of(resource)
    spec = mapping(resource.props.get("spec"))
    methods = spec.get("authenticationMethods")
    return Authentication(
        name=name,
        namespace=namespace,
        listener_ref=tuple(strings(spec.get("listenerRef"))),
        x509=isinstance(methods, Sequence)
        and any(isinstance(mapping(m).get("x509"), Mapping) for m in methods),
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
            name=text(item.get("name")) or "",
            namespace=text(item.get("namespace")) or IOT_OPERATIONS_NAMESPACE,
            listener_ref=tuple(strings(item.get("listenerRef"))),
        )
        for item in map(mapping, given)
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
