"""What already runs on the cluster: BrokerListeners, BrokerAuthentications and
BrokerAuthorizations that this stack does not manage, as facts for the rules.

An object is this stack's when it carries the stack's mark (components/metadata.py), whatever
its name: those are skipped, since the stack is about to update or delete them. Everything
else is someone else's (a hand-made object, the Azure IoT Operations defaults, another aio-mq
stack) and the stack's listeners must coexist with it.

Listeners are read from the namespaces the stack touches; elsewhere only their nodePorts
matter, since node ports are the one thing listeners share across namespaces.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .cluster import Cluster, ClusterError, connect
from .errors import ConfigError, Problem
from .metadata import managing_stack, stack_id
from .registry import parse_existing, program_listeners
from .spec import DEFAULT_NAMESPACE
from .v1beta1.models import (
    API_VERSION,
    DEFAULT_BROKER,
    DEFAULT_SERVICE_NAME,
    DEFAULT_SERVICE_TYPE,
    ExistingListener,
)
from .v1beta1.sharing import Listener


@dataclass(frozen=True)
class LiveAuthentication:
    """A BrokerAuthentication on the cluster that this stack does not manage."""

    name: str
    namespace: str
    listener_ref: tuple[str, ...]
    methods: tuple[str, ...]
    """The method of each item of authenticationMethods, in order (`sat`, `x509`, ...)."""
    managed_by: str | None = None
    """The aio-mq stack that created it, if another one did."""


@dataclass(frozen=True)
class LiveAuthorization:
    """A BrokerAuthorization on the cluster that this stack does not manage."""

    name: str
    namespace: str
    listener_ref: tuple[str, ...]
    managed_by: str | None = None


@dataclass(frozen=True)
class Discovered:
    """The live objects of one cluster that this stack does not manage."""

    context: str
    listeners: tuple[Listener, ...] = ()
    authentications: tuple[LiveAuthentication, ...] = ()
    authorizations: tuple[LiveAuthorization, ...] = ()
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
    listeners = []
    for item in _list(cluster, api_version, "brokerlisteners", touched):
        meta = item.get("metadata") or {}
        owner = managing_stack(meta)
        if owner == ours:
            continue
        fact = _listener(item, cluster.context, owner)
        if fact is not None and (fact.namespace in touched or fact.node_port is not None):
            listeners.append(fact)
    authentications = [
        LiveAuthentication(
            name=str(meta.get("name")),
            namespace=str(meta.get("namespace")),
            listener_ref=tuple(map(str, spec.get("listenerRef") or ())),
            methods=tuple(
                next(iter(method), "") if isinstance(method, Mapping) else str(method)
                for method in spec.get("authenticationMethods") or ()
            ),
            managed_by=owner,
        )
        for meta, spec, owner in _foreign(
            _list(cluster, api_version, "brokerauthentications", touched), touched, ours
        )
    ]
    authorizations = [
        LiveAuthorization(
            name=str(meta.get("name")),
            namespace=str(meta.get("namespace")),
            listener_ref=tuple(map(str, spec.get("listenerRef") or ())),
            managed_by=owner,
        )
        for meta, spec, owner in _foreign(
            _list(cluster, api_version, "brokerauthorizations", touched), touched, ours
        )
    ]
    return Discovered(
        cluster.context, tuple(listeners), tuple(authentications), tuple(authorizations), touched
    )


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
    items: Iterable[Mapping[str, Any]], namespaces: frozenset[str], ours: str
) -> Iterable[tuple[Mapping[str, Any], Mapping[str, Any], str | None]]:
    for item in items:
        meta = item.get("metadata") or {}
        owner = managing_stack(meta)
        if owner != ours and meta.get("namespace") in namespaces:
            yield meta, item.get("spec") or {}, owner


def _listener(item: Mapping[str, Any], context: str, owner: str | None) -> Listener | None:
    meta = item.get("metadata") or {}
    spec = item.get("spec") or {}
    port = spec.get("port")
    if not isinstance(port, int):
        return None  # not a v1beta1 listener shape: nothing the rules can compare
    node_port = spec.get("nodePort")
    whose = (
        f"managed by the aio-mq stack {owner}, not this one"
        if owner
        else "not managed by this stack"
    )
    return Listener(
        name=str(meta.get("name")),
        namespace=str(meta.get("namespace")),
        broker=str(spec.get("brokerRef") or DEFAULT_BROKER),
        port=port,
        service_type=str(spec.get("serviceType") or DEFAULT_SERVICE_TYPE),
        service_name=str(spec.get("serviceName") or DEFAULT_SERVICE_NAME),
        node_port=node_port if isinstance(node_port, int) else None,
        origin="the listener",
        on_cluster=f"on the cluster (context {context}), {whose}",
    )


def with_declared(live: Sequence[Listener], declared: Sequence[Listener]) -> list[Listener]:
    """The live listeners, then the declared existing ones that are not live under the same
    name: the cluster's own account of a listener wins over a hand-typed one."""
    seen = {(listener.namespace, listener.name) for listener in live}
    return [
        *live,
        *(listener for listener in declared if (listener.namespace, listener.name) not in seen),
    ]


def discover_existing_listeners(
    kubeconfig: str | None = None,
    context: str | None = None,
    namespaces: Iterable[str] = (DEFAULT_NAMESPACE,),
    also: Iterable[ExistingListener | Mapping[str, Any]] = (),
) -> Discovered:
    """For compositions: read the listeners already on the cluster, as the stack program does
    in cluster mode, and declare them (with `also`, listeners you know of that are not there
    yet) as the listeners this program's MqListeners must coexist with.

    Call it once, before the first MqListener, instead of `declare_existing_listeners`.
    `namespaces` are those your MqListeners go to; kubeconfig and context default as kubectl's.
    Listeners carrying this stack's mark are skipped. When the cluster cannot be read within
    the bounded time, a ConfigError says why and nothing is registered.
    """
    declared = parse_existing(also)
    try:
        discovered = discover(connect(kubeconfig, context), namespaces)
    except ClusterError as exc:
        raise ConfigError(
            [Problem("", str(exc), "pass the kubeconfig and context of a running cluster")],
            "discover_existing_listeners",
        ) from None
    program_listeners().declare_existing(with_declared(discovered.listeners, declared))
    return discovered
