"""What already runs on the cluster: BrokerListeners, BrokerAuthentications and
BrokerAuthorizations that this stack does not manage, as facts for the sharing rules and the
link checks.

An object is this stack's when it carries the stack's mark (components/metadata.py), whatever
its name: those are skipped, since the stack is about to update or delete them. Everything
else is someone else's (a hand-made object, the Azure IoT Operations defaults, another aio-mq
stack) and the stack's objects must coexist with it.

Listeners are read from the namespaces the stack touches; elsewhere only their nodePorts
matter, since node ports are the one thing listeners share across namespaces.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from .cluster import Cluster, ClusterError, connect
from .errors import ConfigError, Problem
from .metadata import managing_stack, stack_id
from .registry import (
    existing_facts,
    existing_link_facts,
    parse_items,
    program_listeners,
)
from .spec import DEFAULT_NAMESPACE
from .v1 import live as v1_live
from .v1 import models as v1
from .v1 import sharing as v1_sharing
from .v1beta1 import authlinks
from .v1beta1.authlinks import AuthObject, LinkedListener
from .v1beta1.models import (
    API_VERSION,
    DEFAULT_BROKER,
    DEFAULT_SERVICE_NAME,
    DEFAULT_SERVICE_TYPE,
    ExistingListener,
)
from .v1beta1.sharing import Listener


class _Named(Protocol):
    @property
    def namespace(self) -> str: ...
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=_Named)


@dataclass(frozen=True)
class Discovered:
    """The live objects of one cluster that this stack does not manage."""

    context: str
    listeners: tuple[Listener, ...] = ()
    """Sharing-rule facts: the listeners of the stack's namespaces, and node-port listeners
    of any namespace."""
    listener_links: tuple[LinkedListener, ...] = ()
    """Link-check facts of the listeners of the stack's namespaces."""
    authentications: tuple[AuthObject, ...] = ()
    authorizations: tuple[AuthObject, ...] = ()
    namespaces: frozenset[str] = field(default_factory=frozenset)
    """The namespaces read in full."""


def discover(
    cluster: Cluster,
    namespaces: Iterable[str],
    api_version: str = API_VERSION,
    this_stack: str | None = None,
) -> Discovered:
    """Read the live objects of `api_version` that `this_stack` (default: the running stack)
    does not manage. Raises ClusterError when the cluster cannot be read."""
    touched = frozenset(namespaces)
    ours = this_stack if this_stack is not None else stack_id()
    listeners, links = [], []
    for meta, spec, where in _foreign(
        _list(cluster, api_version, "brokerlisteners", touched), ours, cluster.context
    ):
        fact = _listener(meta, spec, where)
        if fact is not None and (fact.namespace in touched or fact.node_port is not None):
            listeners.append(fact)
        if fact is not None and fact.namespace in touched:
            links.append(
                LinkedListener(
                    name=fact.name,
                    namespace=fact.namespace,
                    authentication=spec.get("authenticationEnabled") is True,
                    authorization=spec.get("authorizationEnabled") is True,
                    tls=spec.get("tls") is not None,
                    origin=where,
                    existing=True,
                )
            )
    auth = {
        kind: tuple(
            _auth_object(kind, meta, spec, where)
            for meta, spec, where in _foreign(
                _list(cluster, api_version, plural, touched), ours, cluster.context
            )
            if meta.get("namespace") in touched
        )
        for kind, plural in (
            (authlinks.AUTHENTICATION, "brokerauthentications"),
            (authlinks.AUTHORIZATION, "brokerauthorizations"),
        )
    }
    return Discovered(
        cluster.context,
        tuple(listeners),
        tuple(links),
        auth[authlinks.AUTHENTICATION],
        auth[authlinks.AUTHORIZATION],
        touched,
    )


@dataclass(frozen=True)
class DiscoveredV1:
    """The live GA objects (mqttbroker.iotoperations.azure.com/v1) of one cluster that this
    stack does not manage."""

    context: str
    listeners: tuple[v1_sharing.Listener, ...] = ()
    """Rule facts: the listeners of the stack's namespaces, and node-port listeners of any."""
    authentications: tuple[v1_sharing.Declared, ...] = ()
    authorizations: tuple[v1_sharing.Declared, ...] = ()


def discover_v1(
    cluster: Cluster, namespaces: Iterable[str], this_stack: str | None = None
) -> DiscoveredV1:
    """Read the live GA objects that `this_stack` (default: the running stack) does not
    manage. Raises ClusterError when the cluster cannot be read."""
    touched = frozenset(namespaces)
    ours = this_stack if this_stack is not None else stack_id()
    listeners = []
    # `default` is retained on delete (components/listener.py): once managed, it stays. Its
    # mark goes with the stack's Patch, but one left by an older aio-mq may still be on it.
    retained = frozenset({(DEFAULT_NAMESPACE, v1.DEFAULT_LISTENER.name)})
    for meta, spec, where in _foreign(
        _list(cluster, v1.API_VERSION, "brokerlisteners", touched),
        ours,
        cluster.context,
        retained,
    ):
        owner = managing_stack(meta)
        fact = _v1_listener(meta, spec, where, owner if owner != ours else None)
        if fact.namespace in touched or any(p.node_port is not None for p in fact.ports):
            listeners.append(fact)
    auth = {
        plural: tuple(
            v1_live.auth_object(str(meta.get("name")), str(meta.get("namespace")), spec, where)
            for meta, spec, where in _foreign(
                _list(cluster, v1.API_VERSION, plural, touched), ours, cluster.context
            )
            if meta.get("namespace") in touched
        )
        for plural in ("brokerauthentications", "brokerauthorizations")
    }
    return DiscoveredV1(
        cluster.context,
        tuple(listeners),
        auth["brokerauthentications"],
        auth["brokerauthorizations"],
    )


def _v1_listener(
    meta: Mapping[str, Any], spec: Mapping[str, Any], where: str, other_stack: str | None
) -> v1_sharing.Listener:
    name, namespace = str(meta.get("name")), str(meta.get("namespace"))
    broker = str(spec.get("brokerRef") or v1.DEFAULT_BROKER)
    return v1_live.listener(name, namespace, broker, spec, where, managed_by=other_stack or "")


def _list(
    cluster: Cluster, api_version: str, plural: str, namespaces: frozenset[str]
) -> list[dict[str, Any]]:
    """Every object of a kind, cluster-wide; where that is forbidden, those of `namespaces`.
    A kind the cluster does not serve has no objects."""
    try:
        found = cluster.get(f"/apis/{api_version}/{plural}")
    except ClusterError:
        if not namespaces:
            raise
        items: list[dict[str, Any]] = []
        for namespace in sorted(namespaces):
            listed = cluster.get(f"/apis/{api_version}/namespaces/{namespace}/{plural}")
            items += (listed or {}).get("items") or []
        return items
    return list((found or {}).get("items") or [])


def _foreign(
    items: Iterable[Mapping[str, Any]],
    ours: str,
    context: str,
    retained: frozenset[tuple[str, str]] = frozenset(),
) -> Iterable[tuple[Mapping[str, Any], Mapping[str, Any], str]]:
    """metadata, spec and a description of where each object not managed by `ours` is. An
    object of `retained` (namespace, name) counts even with our mark: the stack leaves it on
    the cluster when it stops managing it, and a stack that manages it says so itself."""
    for item in items:
        meta = item.get("metadata") or {}
        owner = managing_stack(meta)
        kept = (str(meta.get("namespace")), str(meta.get("name"))) in retained
        if owner == ours and not kept:
            continue
        whose = (
            "left in place by this stack"
            if owner == ours
            else f"managed by the aio-mq stack {owner}, not this one"
            if owner
            else "not managed by this stack"
        )
        yield meta, item.get("spec") or {}, f"on the cluster (context {context}), {whose}"


def _listener(meta: Mapping[str, Any], spec: Mapping[str, Any], where: str) -> Listener | None:
    port = spec.get("port")
    if not isinstance(port, int):
        return None  # not a v1beta1 listener shape: nothing the rules can compare
    node_port = spec.get("nodePort")
    return Listener(
        name=str(meta.get("name")),
        namespace=str(meta.get("namespace")),
        broker=str(spec.get("brokerRef") or DEFAULT_BROKER),
        port=port,
        service_type=str(spec.get("serviceType") or DEFAULT_SERVICE_TYPE),
        service_name=str(spec.get("serviceName") or DEFAULT_SERVICE_NAME),
        node_port=node_port if isinstance(node_port, int) else None,
        origin="the listener",
        on_cluster=where,
    )


def _auth_object(
    kind: authlinks.Kind, meta: Mapping[str, Any], spec: Mapping[str, Any], where: str
) -> AuthObject:
    methods = [
        next(iter(method), "") if isinstance(method, Mapping) else str(method)
        for method in spec.get("authenticationMethods") or ()
    ]
    return AuthObject(
        kind=kind,
        name=str(meta.get("name")),
        namespace=str(meta.get("namespace")),
        listener_ref=tuple(map(str, spec.get("listenerRef") or ())),
        origin=where,
        existing=True,
        x509=methods.index("x509") if "x509" in methods else None,
    )


def _by_name(fact: _Named) -> Hashable:
    return (fact.namespace, fact.name)


def auth_key(fact: AuthObject) -> Hashable:
    return (fact.kind, fact.namespace, fact.name)


def with_declared(
    live: Sequence[T], declared: Sequence[T], key: Callable[[T], Hashable] = _by_name
) -> list[T]:
    """The live facts, then the declared ones not live under the same key: the cluster's own
    account of an object wins over a hand-typed one."""
    seen: set[Hashable] = {key(fact) for fact in live}
    return list(live) + [fact for fact in declared if key(fact) not in seen]


def discover_existing_listeners(
    kubeconfig: str | None = None,
    context: str | None = None,
    namespaces: Iterable[str] = (DEFAULT_NAMESPACE,),
    also: Iterable[ExistingListener | Mapping[str, Any]] = (),
) -> Discovered:
    """For compositions: read what is already on the cluster, as the stack program does in
    cluster mode, and declare it as what this program's objects must coexist with: the
    listeners (with `also`, listeners you know of that are not there yet) and the
    BrokerAuthentications/Authorizations.

    Call it once, before the first MqListener, MqAuthentication or MqAuthorization, instead of
    `declare_existing_listeners` and `declare_existing_auth`. `namespaces` are those your
    objects go to; kubeconfig and context default as kubectl's. Objects carrying this stack's
    mark are skipped. When the cluster cannot be read within the bounded time, a ConfigError
    says why and nothing is registered.
    """
    declared = parse_items(also, ExistingListener, "also", "discover_existing_listeners")
    discovered = _read_cluster(
        "discover_existing_listeners",
        lambda cluster: discover(cluster, namespaces),
        kubeconfig,
        context,
    )
    registry = program_listeners()
    registry.declare_existing(
        with_declared(discovered.listeners, existing_facts(declared, origin="also")),
        with_declared(discovered.listener_links, existing_link_facts(declared, origin="also")),
    )
    registry.declare_existing_auth([*discovered.authentications, *discovered.authorizations])
    return discovered


def discover_existing_listeners_v1(
    kubeconfig: str | None = None,
    context: str | None = None,
    namespaces: Iterable[str] = (DEFAULT_NAMESPACE,),
    also: Iterable[v1.ExistingListenerV1 | Mapping[str, Any]] = (),
) -> DiscoveredV1:
    """The same for the GA API's `MqListenerV1`s: the live GA listeners (with `also`, GA
    listeners you know of that are not there yet) are what the program's must coexist with,
    instead of the assumed `default`. Call it once, before the first MqListenerV1. The live
    BrokerAuthentications/Authorizations are returned for your own reference checks."""
    declared = parse_items(also, v1.ExistingListenerV1, "also", "discover_existing_listeners_v1")
    discovered = _read_cluster(
        "discover_existing_listeners_v1",
        lambda cluster: discover_v1(cluster, namespaces),
        kubeconfig,
        context,
    )
    registry = program_listeners()
    registry.on_cluster = True
    registry.declare_existing(
        with_declared(discovered.listeners, v1_sharing.existing_facts(declared, origin="also")),
        api_version=v1.API_VERSION,
    )
    return discovered


R = TypeVar("R")


def _read_cluster(
    caller: str, read: Callable[[Cluster], R], kubeconfig: str | None, context: str | None
) -> R:
    """`read` on the cluster of a kubeconfig and context; a ConfigError naming `caller` when
    the cluster cannot be read within the bounded time."""
    try:
        return read(connect(kubeconfig, context))
    except ClusterError as exc:
        raise ConfigError(
            [Problem("", str(exc), "pass the kubeconfig and context of a running cluster")],
            caller,
        ) from None
