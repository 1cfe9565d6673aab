"""The rules on BrokerListeners of the GA API (`mqttbroker.iotoperations.azure.com/v1`): a listener
is one Service with a list of ports, and TLS, authentication and authorization are set per port
(`authenticationRef` / `authorizationRef` name a BrokerAuthentication / BrokerAuthorization of
the listener's namespace). So every rule here judges one port.

The same rules judge the ARM form of these objects (azure-native's
`azure-native:iotoperations:BrokerListener` / `BrokerAuthentication` / `BrokerAuthorization`):
their `properties` are the custom resource's `spec`, so only where an object lives differs
(`Home`: a namespace, or an ARM broker) and how messages name it.

The API accepts lower-camel forms of its enums (`loadBalancer`, `automatic`) beside the
PascalCase it writes, so the rules compare them without regard to case.
"""

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
    azure_native_kind,
    check_duration,
    check_issuer,
    check_secret,
    custom_resource_of,
    field_at,
    mapping,
    metadata_of,
    objects_of,
    port_number,
    text,
)

GROUP = "mqttbroker.iotoperations.azure.com"
EXPOSED_SERVICE_TYPES = ("loadbalancer", "nodeport")
"""Service types that reach outside the cluster, lower-cased."""
TLS_BLOCKS = {"automatic": "certManagerCertificateSpec", "manual": "manual"}
"""The block each TLS mode (lower-cased) takes; a port's tls has exactly one."""
TLS_REQUIRED_FIELDS = {"certManagerCertificateSpec": "issuerRef.name", "manual": "secretRef"}
"""What each block needs before the broker can serve TLS with it."""
DEFAULT_CERT_DURATION = "2160h"
"""certManagerCertificateSpec.duration when absent: the GA API has no default of its own, so
cert-manager's (90 days) applies."""
DEFAULT_EXISTING_AUTHENTICATIONS = (("default", IOT_OPERATIONS_NAMESPACE),)
"""What every Azure IoT Operations (GA) deployment has: BrokerAuthentication `default`."""


def tls_gaps(tls: Mapping[str, Any], where: str) -> list[str]:
    """Why a port's tls (at `where`) gives it no working TLS: [] when it does."""
    mode = text(tls.get("mode"))
    blocks = [block for block in TLS_REQUIRED_FIELDS if tls.get(block) is not None]
    if mode is None:
        return [f"{where}.mode is missing"]
    wanted = TLS_BLOCKS.get(mode.lower())
    if wanted is None:
        return [f"{where}.mode is {mode!r}, not Automatic or Manual"]
    if blocks != [wanted]:
        given = " and ".join(blocks) or "no block"
        return [f"{where}.mode {mode} takes exactly {wanted}, but the tls gives {given}"]
    required = TLS_REQUIRED_FIELDS[wanted]
    if text(field_at(tls[wanted], required)) is None:
        return [f"{where}.{wanted}.{required} is missing"]
    return []


@dataclass(frozen=True)
class Home:
    """Where a GA object lives: what messages put before its name, where its references
    resolve, and where its TLS Secrets and issuers are."""

    path: str
    """`azure-iot-operations` for a custom resource (its namespace), `aio-factory/default`
    for an ARM resource (its instance and broker)."""
    key: str
    """Objects whose homes have the same key see each other's names."""
    field: str
    """Where the object's body is: `spec`, or ARM's `properties`."""
    namespace: str
    """The Kubernetes namespace of its TLS Secrets and cert-manager Issuers."""
    arm: bool = False

    @property
    def words(self) -> str:
        return f"broker {self.path}" if self.arm else f"namespace {self.path}"


def namespace_home(namespace: str) -> Home:
    return Home(namespace, namespace, "spec", namespace)


ARM_NAME_KEYS = {
    LISTENER_KIND: "listenerName",
    AUTHENTICATION_KIND: "authenticationName",
    "BrokerAuthorization": "authorizationName",
}
"""The input that names an azure-native resource of each kind."""


@dataclass(frozen=True)
class Body:
    """A GA object a resource declares or patches: its name, home and spec (or properties)."""

    name: str
    home: Home
    fields: Mapping[str, Any]
    patch: bool = False


def body_of(resource: Resource, kind: str) -> Body | None:
    """The GA `kind` object a resource declares or patches: a custom resource, or its ARM form
    (azure-native), whose `properties` are the spec. None if it is neither."""
    if azure_native_kind(resource.type) == kind:
        props = resource.props
        instance, broker = text(props.get("instanceName")), text(props.get("brokerName"))
        path = f"{instance}/{broker}"
        # ARM resources are not in a namespace; their Secrets and issuers are on the cluster,
        # in the namespace Azure IoT Operations runs in.
        home = Home(
            path,
            f"{text(props.get('resourceGroupName'))}/{path}",
            "properties",
            IOT_OPERATIONS_NAMESPACE,
            arm=True,
        )
        name = text(props.get(ARM_NAME_KEYS[kind])) or resource.name
        return Body(name, home, mapping(props.get("properties")))
    is_kind, patch = custom_resource_of(resource, GROUP, kind)
    if not is_kind:
        return None
    name, namespace = metadata_of(resource)
    return Body(name, namespace_home(namespace), mapping(resource.props.get("spec")), patch)


@dataclass(frozen=True)
class Port:
    """One port of a GA BrokerListener, with what the rules read of its listener.

    A patch of a listener (`...:BrokerListenerPatch`, `CustomResourcePatch`) that sets `ports`
    replaces the whole list, so its ports are judged as given; one that leaves `ports` out has
    no ports here. A serviceType the patch leaves out is None: unknown, and not judged."""

    listener: str
    home: Home
    urn: str
    index: int
    port: int | None
    service_type: str | None
    authentication_ref: str | None
    authorization_ref: str | None
    tls: Mapping[str, Any] | None
    """spec.ports[index].tls as given; None: absent, that is no TLS."""
    patch: bool = False

    @property
    def ref(self) -> str:
        kind = "BrokerListener patch" if self.patch else "BrokerListener"
        number = f"port {self.port}" if self.port is not None else "a port without a number"
        return f"{kind} {self.home.path}/{self.listener} {number} ({self.path})"

    @property
    def path(self) -> str:
        return f"{self.home.field}.ports[{self.index}]"

    @property
    def tls_path(self) -> str:
        return f"{self.path}.tls"

    @property
    def tls_gaps(self) -> list[str]:
        if self.tls is None:
            return [f"{self.tls_path} is absent"]
        return tls_gaps(self.tls, self.tls_path)


def ports_of(resource: Resource) -> list[Port] | None:
    """The ports of the GA listener a resource declares or patches; None if it does neither."""
    body = body_of(resource, LISTENER_KIND)
    if body is None:
        return None
    service_type = text(body.fields.get("serviceType")) or (None if body.patch else "ClusterIp")
    items = body.fields.get("ports")
    if not isinstance(items, Sequence) or isinstance(items, str):
        return []
    ports = []
    for index, item in enumerate(map(mapping, items)):
        tls = item.get("tls")
        ports.append(
            Port(
                listener=body.name,
                home=body.home,
                urn=resource.urn,
                index=index,
                port=port_number(item.get("port")),
                service_type=service_type,
                authentication_ref=text(item.get("authenticationRef")),
                authorization_ref=text(item.get("authorizationRef")),
                tls=tls if isinstance(tls, Mapping) else None,
                patch=body.patch,
            )
        )
    return ports


def all_ports(resources: Iterable[Resource]) -> list[Port]:
    return [port for r in resources for port in ports_of(r) or []]


# --- rules on one port ----------------------------------------------------------------------

_TLS_FIX = (
    "credentials and messages would cross the network in clear. Give the port tls with mode "
    "Automatic and certManagerCertificateSpec.issuerRef.name (cert-manager), or mode Manual "
    "with manual.secretRef (a kubernetes.io/tls Secret)."
)


def check_tls_required(port: Port) -> list[Violation]:
    gaps = port.tls_gaps
    if not gaps:
        return []
    what = "has no TLS" if port.tls is None else "has no working TLS"
    return [Violation(f"{port.ref} {what} ({'; '.join(gaps)}): {_TLS_FIX}", port.urn)]


def check_authentication_required(port: Port) -> list[Violation]:
    if port.authentication_ref is not None:
        return []
    return [
        Violation(
            f"{port.ref} has no authenticationRef: any client that reaches it can connect. Set "
            "authenticationRef to a BrokerAuthentication of the namespace (Azure IoT Operations "
            "installs `default`).",
            port.urn,
        )
    ]


def check_exposed_authentication(port: Port) -> list[Violation]:
    service_type = (port.service_type or "").lower()
    if service_type not in EXPOSED_SERVICE_TYPES or port.authentication_ref is not None:
        return []
    return [
        Violation(
            f"{port.ref} is exposed outside the cluster (serviceType {port.service_type}) "
            "without authenticationRef: anyone who reaches the node or load balancer can "
            "connect. Set authenticationRef on the port, or move it to the ClusterIp listener.",
            port.urn,
        )
    ]


def check_authorization(port: Port) -> list[Violation]:
    if port.authorization_ref is not None:
        return []
    return [
        Violation(
            f"{port.ref} has no authorizationRef: every client it admits may publish and "
            "subscribe to every topic. Consider an authorizationRef (with an authenticationRef) "
            "to a BrokerAuthorization that lists what each client may do.",
            port.urn,
        )
    ]


def check_certificate_duration(
    port: Port, max_days: float = DEFAULT_MAX_CERT_DAYS
) -> list[Violation]:
    spec = mapping(port.tls.get("certManagerCertificateSpec")) if port.tls else {}
    if not spec:
        return []
    duration = Duration(
        port.ref,
        port.urn,
        f"{port.tls_path}.certManagerCertificateSpec.duration",
        spec.get("duration"),
        DEFAULT_CERT_DURATION,
        "cert-manager's default",
    )
    return check_duration(duration, max_days)


# --- rules on the whole stack ----------------------------------------------------------------


def check_references(resources: Sequence[Resource], existing: Existing) -> list[Violation]:
    """Every manual TLS Secret and cert-manager issuer a port names is created by the program
    or declared as existing. GA certificates and Secrets live in the listener's namespace; an
    ARM listener's, which are not ARM resources, in the one Azure IoT Operations runs in."""
    objects = objects_of(resources)
    violations: list[Violation] = []
    for port in all_ports(resources):
        tls = port.tls or {}
        secret = text(mapping(tls.get("manual")).get("secretRef"))
        spec = mapping(tls.get("certManagerCertificateSpec"))
        if secret is not None:
            ref = Reference(port.ref, port.urn, f"{port.tls_path}.manual.secretRef")
            violations += check_secret(ref, secret, port.home.namespace, objects, existing)
        if spec:
            field = f"{port.tls_path}.certManagerCertificateSpec.issuerRef"
            ref = Reference(port.ref, port.urn, field)
            issuer_ref = mapping(spec.get("issuerRef"))
            violations += check_issuer(ref, issuer_ref, [port.home.namespace], objects, existing)
    return violations


@dataclass(frozen=True)
class Authentication:
    """A GA BrokerAuthentication: ports name it, and it may have an X509 method."""

    name: str
    home: Home
    x509: bool = False
    urn: str | None = None
    """None for one declared as existing."""

    @property
    def ref(self) -> str:
        return f"BrokerAuthentication {self.home.path}/{self.name}"


def authentication_of(resource: Resource) -> Authentication | None:
    body = body_of(resource, AUTHENTICATION_KIND)
    if body is None or body.patch:
        return None
    methods = body.fields.get("authenticationMethods")
    x509 = isinstance(methods, Sequence) and any(
        str(mapping(m).get("method", "")).lower() == "x509" for m in methods
    )
    return Authentication(body.name, body.home, x509, resource.urn)


def existing_authentications(config: Mapping[str, Any]) -> list[Authentication]:
    """The authentication-linked policy config's `existingAuthentications` (their name and
    namespace); absent: the deployment's `default`."""
    given = config.get("existingAuthentications")
    if not isinstance(given, Sequence) or isinstance(given, str):
        return [
            Authentication(name, namespace_home(ns))
            for name, ns in DEFAULT_EXISTING_AUTHENTICATIONS
        ]
    return [
        Authentication(
            text(item.get("name")) or "",
            namespace_home(text(item.get("namespace")) or IOT_OPERATIONS_NAMESPACE),
        )
        for item in map(mapping, given)
    ]


def check_authentication_linked(
    resources: Sequence[Resource], existing: Sequence[Authentication]
) -> list[Violation]:
    """Every authenticationRef names a BrokerAuthentication of the port's home (namespace, or
    ARM broker) that the program creates or that is declared as existing. ARM brokers have no
    namespace, so there a declared existing one counts by its name in every broker."""
    known = {(a.home.key, a.name) for a in existing} | {
        (a.home.key, a.name) for r in resources if (a := authentication_of(r)) is not None
    }
    in_every_broker = {a.name for a in existing}
    return [
        Violation(
            f"{port.ref} has authenticationRef {port.authentication_ref!r}, but no "
            f"BrokerAuthentication of that name in {port.home.words} is created by "
            "this program or declared as existing: the broker refuses every client on the "
            "port. Create it in the program, name one that exists, or if it is "
            f"{'in Azure' if port.home.arm else 'on the cluster'} declare it in "
            f"existingAuthentications in the {AUTHENTICATION_LINKED} policy config.",
            port.urn,
        )
        for port in all_ports(resources)
        if port.authentication_ref is not None
        and (port.home.key, port.authentication_ref) not in known
        and not (port.home.arm and port.authentication_ref in in_every_broker)
    ]


def check_x509_requires_tls(resources: Sequence[Resource]) -> list[Violation]:
    """No port without TLS names a BrokerAuthentication with an X509 method."""
    x509 = {
        (a.home.key, a.name): a
        for r in resources
        if (a := authentication_of(r)) is not None and a.x509
    }
    violations = []
    for port in all_ports(resources):
        authentication = x509.get((port.home.key, port.authentication_ref or ""))
        if authentication is not None and port.tls_gaps:
            violations.append(
                Violation(
                    f"{port.ref} has authenticationRef {authentication.name!r}, whose "
                    f"{authentication.ref} has an X509 method, but the port has no TLS: a "
                    "client certificate is presented in the TLS handshake, so the method never "
                    "applies. Give the port TLS, or name an authentication without X509.",
                    port.urn,
                )
            )
    return violations
