"""Which GA BrokerListeners, authentications and authorizations can coexist: the rules of the
GA documentation (mqttbroker.iotoperations.azure.com/v1), over the objects of a program plus
those already on the cluster.

A GA listener is one Kubernetes Service with a list of ports, so sharing is explicit:

  Service types  a broker has at most one listener per serviceType (so at most three); more
                 ports of a type go into that listener's `ports`;
  Service names  a Service name is used once in a namespace (serviceName defaults to the
                 listener's name);
  Ports          a port is used once across the listeners of a broker, and once in a listener;
  NodePorts      a nodePort is used once in the cluster (node ports are cluster-wide);
  Names          a name is used once per kind and namespace;
  References     an authenticationRef / authorizationRef names a BrokerAuthentication /
                 BrokerAuthorization of the listener's namespace, declared or existing, and an
                 X509 method is only referenced from a port with TLS.

Checked on one listener by its model (components/v1/models.py): a nodePort only on a NodePort
listener and in 30000-32767, `tls.mode` matching its one block, no authorizationRef without an
authenticationRef on the same port.

The module is pure: no Pulumi, no I/O. `ListenerIndex.add` checks one listener against those
added before it, so the same rules serve a whole stack config and listeners created one by one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..errors import Problem, join_path
from ..spec import DEFAULT_NAMESPACE
from .models import DEFAULT_BROKER, DEFAULT_LISTENER, ExistingListenerV1

SERVICE_TYPES = ("ClusterIp", "LoadBalancer", "NodePort")


@dataclass(frozen=True)
class Port:
    port: int
    node_port: int | None
    authentication: str | None
    authorization: str | None
    tls: bool
    path: str
    """Key path of the port item, e.g. `listeners[1].ports[0]`."""


@dataclass(frozen=True)
class Listener:
    """The facts about a listener that the rules look at."""

    name: str
    namespace: str
    broker: str
    service_type: str
    service_name: str
    ports: tuple[Port, ...]
    origin: str = ""
    """Where it was declared, e.g. `listeners[2]` or `existingListeners[0]`."""
    existing: bool = False
    """On the cluster already, not created by this program."""
    on_cluster: str = ""
    """For a listener read from the cluster: where, and whose it is."""
    in_azure: bool = False
    """Read from Azure Resource Manager, not a cluster: a stack takes it over by importing it
    (`pulumi import`), not by deleting and re-creating it."""
    managed_by: str = ""
    """For a listener read from the cluster: the other aio-mq stack whose marks it carries."""

    @classmethod
    def of(
        cls,
        args: ExistingListenerV1,
        namespace: str,
        broker: str,
        origin: str,
        existing: bool = False,
    ) -> Listener:
        return cls(
            name=args.name,
            namespace=args.namespace or namespace,
            broker=args.broker_ref or broker,
            service_type=args.service_type,
            service_name=args.service,
            ports=tuple(
                Port(
                    port=p.port,
                    node_port=p.node_port,
                    authentication=p.authentication_ref,
                    authorization=p.authorization_ref,
                    tls=p.tls is not None,
                    path=join_path(origin, ("ports", i)),
                )
                for i, p in enumerate(args.ports)
            ),
            origin=origin,
            existing=existing,
        )

    @property
    def is_default(self) -> bool:
        """Whether this is the listener Azure IoT Operations installs."""
        return (self.namespace, self.name) == (DEFAULT_NAMESPACE, DEFAULT_LISTENER.name)

    def __str__(self) -> str:
        where = f"{self.origin} " if self.origin else ""
        live = f" {self.on_cluster}" if self.on_cluster else ""
        return f"{where}{self.name!r} ({self.service_type} Service {self.service_name}){live}"


def _both_live(a: Listener, b: Listener) -> bool:
    """Two listeners read from the cluster that clash are the cluster's business, not the
    stack's: only what the stack adds is judged against them."""
    return bool(a.on_cluster and b.on_cluster)


def _port_path(port: Port, key: str) -> str:
    return join_path(port.path, (key,))


def _where(listener: Listener, port: Port) -> str:
    """Where a port is: its key path, or for an existing listener the listener itself."""
    return str(listener) if listener.existing or not port.path else port.path


class ListenerIndex:
    """The listeners seen so far, indexed by what the rules compare."""

    def __init__(self) -> None:
        self._names: dict[tuple[str, str], Listener] = {}
        self._types: dict[tuple[str, str, str], Listener] = {}
        self._services: dict[tuple[str, str], Listener] = {}
        self._ports: dict[tuple[str, str, int], tuple[Listener, Port]] = {}
        self._node_ports: dict[int, tuple[Listener, Port]] = {}

    def add(self, new: Listener) -> list[Problem]:
        """Record `new` and return every rule it breaks against itself or an earlier listener."""
        problems: list[Problem] = []
        ns = new.namespace

        same_name = self._names.setdefault((ns, new.name), new)
        if same_name is not new and not _both_live(new, same_name):
            problems.append(
                Problem(
                    new.origin,
                    f"Names: {new} and {same_name} are both BrokerListener {new.name!r} in "
                    f"namespace {ns!r}",
                    f"rename {new.name!r} (to manage the live listener with this stack, delete "
                    "it on the cluster first)"
                    if same_name.on_cluster
                    else "rename one of them; to manage an existing listener in this stack, "
                    "leave it out of existingListeners",
                )
            )

        typed = self._types.setdefault((ns, new.broker, new.service_type), new)
        if typed is not new and not _both_live(new, typed):
            problems.append(
                Problem(
                    join_path(new.origin, ("serviceType",)),
                    f"Service types: broker {new.broker!r} has at most one {new.service_type} "
                    f"listener, and {typed} is one",
                    self._type_fix(new, typed),
                )
            )

        same_service = self._services.setdefault((ns, new.service_name), new)
        if same_service is not new and not _both_live(new, same_service):
            problems.append(
                Problem(
                    join_path(new.origin, ("serviceName",)),
                    f"Service names: {new} and {same_service} both use Service "
                    f"{new.service_name!r} in namespace {ns!r}",
                    f"give {new.name!r} a serviceName of its own (without serviceName the "
                    "listener's name is used)",
                )
            )

        for port in new.ports:
            other, other_port = self._ports.setdefault((ns, new.broker, port.port), (new, port))
            if other_port is not port and not _both_live(new, other):
                problems.append(
                    Problem(
                        _port_path(port, "port"),
                        f"Ports: port {port.port} is used twice on broker {new.broker!r} "
                        f"(also {_where(other, other_port)})",
                        "give this port another number"
                        + ("" if other is new else f", or remove it from {new.name!r}"),
                    )
                )
            if port.node_port is None:
                continue
            other, other_port = self._node_ports.setdefault(port.node_port, (new, port))
            if other_port is not port and not _both_live(new, other):
                problems.append(
                    Problem(
                        _port_path(port, "nodePort"),
                        f"NodePorts: nodePort {port.node_port} is used twice (also "
                        f"{_where(other, other_port)}); node ports are cluster-wide",
                        "give it another nodePort, or leave nodePort out to let Kubernetes "
                        "pick one",
                    )
                )
        return problems

    def _type_fix(self, new: Listener, typed: Listener) -> str:
        free = [t for t in SERVICE_TYPES if (new.namespace, new.broker, t) not in self._types]
        other_types = f", or use serviceType {' or '.join(free)}" if free else ""
        if typed.is_default and typed.existing:
            how = "leave it out of existingListeners and "
            if typed.on_cluster:
                how = "import it with `pulumi import`, then " if typed.in_azure else ""
            return (
                f"add these ports to {typed.name!r} instead: manage it in this stack ({how}"
                f"declare it with its port 18883 and yours){other_types}"
            )
        where = "in Azure" if typed.in_azure else "on the cluster"
        if typed.on_cluster and new.is_default:
            # `default` cannot move: Azure IoT Operations' components connect to it.
            return (
                f"{typed.name!r} takes the ClusterIp place of 'default', which Azure IoT "
                f"Operations' components connect to: delete it {where}, or give it another "
                "serviceType"
            )
        if typed.on_cluster:
            take_over = (
                "import it with `pulumi import`" if typed.in_azure else "delete it on the cluster"
            )
            return (
                f"add these ports to {typed.name!r} by managing it in this stack ({take_over}, "
                f"then declare it with its ports and yours){other_types}"
            )
        if typed.existing:
            return (
                f"add these ports to {typed.name!r} by managing it in this stack (leave it out "
                f"of existingListeners and declare it with its ports and yours){other_types}"
            )
        return f"move these ports into the ports of {typed.name!r}{other_types}"


def listener_problems(listeners: Iterable[Listener]) -> list[Problem]:
    """Every rule broken within a set of listeners (existing ones first, for clearer messages)."""
    index = ListenerIndex()
    return [problem for listener in listeners for problem in index.add(listener)]


def claimed_elsewhere(declared: Iterable[Listener], live: Iterable[Listener]) -> list[Problem]:
    """The listeners a stack declares that another aio-mq stack manages on the cluster. Only
    `default` gets this far (any other live listener of a declared name breaks the Names rule):
    declaring it takes over the live one, which two stacks must not do in turn."""
    claimed = {(f.namespace, f.name): f for f in live if f.managed_by}
    return [
        Problem(
            mine.origin,
            f"{other}: declaring {mine.name!r} here would take it over from that stack and "
            "rewrite its ports",
            f"add these ports to {mine.name!r} in {other.managed_by} and remove it from this "
            f"stack; or release it there first (`pulumi destroy` that stack, or remove "
            f"{mine.name!r} from its listeners and `up`: it stays on the cluster, unmarked)",
        )
        for mine in declared
        if (other := claimed.get((mine.namespace, mine.name))) is not None
    ]


def assumed_existing(declared: Iterable[Listener]) -> list[ExistingListenerV1]:
    """The existing listeners when a stack names none: the one Azure IoT Operations installs,
    unless the stack declares it, and so manages it."""
    if any(listener.is_default for listener in declared):
        return []
    return [DEFAULT_LISTENER]


def is_installed_default(listener: ExistingListenerV1) -> bool:
    """Whether `listener` is the `default` listener Azure IoT Operations installs."""
    return (listener.namespace or DEFAULT_NAMESPACE, listener.name) == (
        DEFAULT_NAMESPACE,
        DEFAULT_LISTENER.name,
    )


def default_listener_warnings(listener: ExistingListenerV1, origin: str) -> list[str]:
    """What differs from the `default` listener Azure IoT Operations installs, for a stack that
    manages it (its components connect to aio-broker:18883 with that authentication and TLS)."""
    installed = DEFAULT_LISTENER
    if not is_installed_default(listener):
        return []
    (expected,) = installed.ports
    ours = next((p for p in listener.ports if p.port == expected.port), None)
    where = f"{origin} manages the default listener {installed.name!r}"
    warnings: list[str] = []
    if listener.service != installed.service:
        warnings.append(
            f"{where} with serviceName {listener.service!r}; Azure IoT Operations components "
            f"connect to {installed.service!r}"
        )
    if ours is None:
        warnings.append(
            f"{where} without port {expected.port}; Azure IoT Operations components connect "
            f"to it: keep it in ports"
        )
        return warnings
    if ours.authentication_ref != expected.authentication_ref:
        warnings.append(
            f"{where} with authenticationRef {ours.authentication_ref!r} on port "
            f"{expected.port}; Azure IoT Operations installs {expected.authentication_ref!r}"
        )
    if ours.tls != expected.tls:
        warnings.append(
            f"{where} with other TLS settings on port {expected.port} than Azure IoT "
            f"Operations installs (mode Automatic, ClusterIssuer "
            f"{_issuer_name(installed)}, key Ec256/Always)"
        )
    return warnings


def _issuer_name(listener: ExistingListenerV1) -> str:
    tls = listener.ports[0].tls
    spec = tls.cert_manager_certificate_spec if tls else None
    return spec.issuer_ref.name if spec else ""


# --- references ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Declared:
    """A BrokerAuthentication or BrokerAuthorization, declared in the stack or existing."""

    name: str
    namespace: str
    origin: str
    methods: tuple[str, ...] = ()
    """Authentication methods (empty for an authorization)."""


def duplicate_names(kind: str, objects: Sequence[Declared]) -> list[Problem]:
    """Names: each name is used once per kind and namespace."""
    seen: dict[tuple[str, str], Declared] = {}
    problems: list[Problem] = []
    for obj in objects:
        first = seen.setdefault((obj.namespace, obj.name), obj)
        if first is not obj:
            problems.append(
                Problem(
                    join_path(obj.origin, ("name",)),
                    f"Names: {kind} {obj.name!r} is declared twice in namespace "
                    f"{obj.namespace!r} (also {first.origin})",
                    "rename one of them; to manage an existing one in this stack, leave it out "
                    f"of the existing{kind.removeprefix('Broker')}s list",
                )
            )
    return problems


def reference_problems(
    listeners: Iterable[Listener],
    authentications: Sequence[Declared],
    authorizations: Sequence[Declared],
) -> list[Problem]:
    """References: every port's authenticationRef / authorizationRef names an object of the
    listener's namespace, and an X509 method is referenced only from a port with TLS."""
    authns: dict[tuple[str, str], Declared] = {}
    for declared in authentications:
        # The first of a duplicate name counts; the duplicate is reported on its own.
        authns.setdefault((declared.namespace, declared.name), declared)
    authzs = {(a.namespace, a.name): a for a in authorizations}
    problems: list[Problem] = []
    for listener in listeners:
        ns = listener.namespace
        for port in listener.ports:
            if port.authentication is not None:
                authn = authns.get((ns, port.authentication))
                if authn is None:
                    problems.append(
                        _missing(port, "authenticationRef", "BrokerAuthentication", ns, authns)
                    )
                elif "X509" in authn.methods and not port.tls:
                    problems.append(
                        Problem(
                            _port_path(port, "authenticationRef"),
                            f"BrokerAuthentication {authn.name!r} ({authn.origin}) has an X509 "
                            f"method, but port {port.port} has no TLS: a client certificate is "
                            "only presented in a TLS handshake",
                            "give this port tls, or reference an authentication without X509",
                        )
                    )
            if port.authorization is not None and (ns, port.authorization) not in authzs:
                problems.append(
                    _missing(port, "authorizationRef", "BrokerAuthorization", ns, authzs)
                )
    return problems


def _missing(
    port: Port, key: str, kind: str, namespace: str, known: Mapping[tuple[str, str], Declared]
) -> Problem:
    name = port.authentication if key == "authenticationRef" else port.authorization
    names = sorted(n for ns, n in known if ns == namespace)
    near = difflib.get_close_matches(str(name), names, n=1, cutoff=0.6)
    plural = f"{kind[len('Broker') :].lower()}s"
    fix = f"did you mean {near[0]!r}? " if near else ""
    fix += (
        f"declare it in aio-mq:{plural}, or list it in aio-mq:existing"
        f"{plural[0].upper()}{plural[1:]} if it is already on the cluster"
        + (f" (known here: {', '.join(names)})" if names else "")
    )
    return Problem(
        _port_path(port, key),
        f"{kind} {name!r} is neither declared nor existing in namespace {namespace!r}",
        fix,
    )


def existing_facts(
    listeners: Sequence[ExistingListenerV1],
    namespace: str = DEFAULT_NAMESPACE,
    broker: str = DEFAULT_BROKER,
    origin: str = "existingListeners",
) -> list[Listener]:
    """Rule facts for existing GA listeners, namespace and broker defaulted as given."""
    return [
        Listener.of(
            e,
            namespace,
            broker,
            f"{origin}[{i}]" if e is not DEFAULT_LISTENER else "the default listener",
            existing=True,
        )
        for i, e in enumerate(listeners)
    ]
