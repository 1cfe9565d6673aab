"""What already runs on the cluster under the preview API: BrokerListeners,
BrokerAuthentications and BrokerAuthorizations that this stack does not manage, as facts for
the sharing rules and the link checks (components/discovery.py reads them).

Listeners are read from the namespaces the stack touches; elsewhere only their nodePorts
matter, since node ports are the one thing listeners share across namespaces.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..cluster import Cluster
from ..discovery import foreign, list_objects, read_cluster, with_declared
from ..metadata import stack_id
from ..registry import parse_items, program_listeners
from ..spec import DEFAULT_NAMESPACE
from . import authlinks
from .authlinks import AuthObject, LinkedListener
from .models import (
    API_VERSION,
    DEFAULT_BROKER,
    DEFAULT_SERVICE_NAME,
    DEFAULT_SERVICE_TYPE,
    ExistingListener,
)
from .registry import PREVIEW_RULES, auth_links, existing_facts, existing_link_facts
from .sharing import Listener


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
    for meta, spec, where in foreign(
        list_objects(cluster, api_version, "brokerlisteners", touched), ours, cluster.context
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
            for meta, spec, where in foreign(
                list_objects(cluster, api_version, plural, touched), ours, cluster.context
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


def auth_key(fact: AuthObject) -> Hashable:
    return (fact.kind, fact.namespace, fact.name)


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
    discovered = read_cluster(
        "discover_existing_listeners",
        lambda cluster: discover(cluster, namespaces),
        kubeconfig,
        context,
    )
    registry = program_listeners()
    registry.declare_existing(
        with_declared(discovered.listeners, existing_facts(declared, origin="also")),
        with_declared(discovered.listener_links, existing_link_facts(declared, origin="also")),
        rules=PREVIEW_RULES,
    )
    auth_links(registry).declare_existing_auth(
        [*discovered.authentications, *discovered.authorizations]
    )
    return discovered
