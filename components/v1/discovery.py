"""What already runs on the cluster under the GA API: BrokerListeners, BrokerAuthentications and
BrokerAuthorizations that this stack does not manage, as facts for the GA rules
(components/discovery.py reads them).

Listeners are read from the namespaces the stack touches; elsewhere only their nodePorts
matter, since node ports are the one thing listeners share across namespaces.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..cluster import Cluster
from ..discovery import foreign, list_objects, read_cluster, with_declared
from ..metadata import managing_stack, stack_id
from ..registry import parse_items, program_listeners
from ..spec import DEFAULT_NAMESPACE
from . import live
from . import models as v1
from . import sharing as v1_sharing
from .registry import GA_RULES


@dataclass(frozen=True)
class DiscoveredV1:
    """The live GA objects (mqttbroker.iotoperations.azure.com/v1) of one cluster that this
    stack does not manage."""

    context: str
    listeners: tuple[v1_sharing.Listener, ...] = ()
    """Rule facts: the listeners of the stack's namespaces, and node-port listeners of any."""
    authentications: tuple[v1_sharing.Declared, ...] = ()
    authorizations: tuple[v1_sharing.Declared, ...] = ()


def discover(
    cluster: Cluster, namespaces: Iterable[str], this_stack: str | None = None
) -> DiscoveredV1:
    """Read the live GA objects that `this_stack` (default: the running stack) does not
    manage. Raises ClusterError when the cluster cannot be read."""
    touched = frozenset(namespaces)
    ours = this_stack if this_stack is not None else stack_id()
    listeners = []
    # `default` is retained on delete (components/v1/listener.py): once managed, it stays. Its
    # mark goes with the stack's Patch, but one left by an older aio-mq may still be on it.
    retained = frozenset({(DEFAULT_NAMESPACE, v1.DEFAULT_LISTENER.name)})
    for meta, spec, where in foreign(
        list_objects(cluster, v1.API_VERSION, "brokerlisteners", touched),
        ours,
        cluster.context,
        retained,
    ):
        owner = managing_stack(meta)
        fact = _listener(meta, spec, where, owner if owner != ours else None)
        if fact.namespace in touched or any(p.node_port is not None for p in fact.ports):
            listeners.append(fact)
    auth = {
        plural: tuple(
            live.auth_object(str(meta.get("name")), str(meta.get("namespace")), spec, where)
            for meta, spec, where in foreign(
                list_objects(cluster, v1.API_VERSION, plural, touched), ours, cluster.context
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


def _listener(
    meta: Mapping[str, Any], spec: Mapping[str, Any], where: str, other_stack: str | None
) -> v1_sharing.Listener:
    name, namespace = str(meta.get("name")), str(meta.get("namespace"))
    broker = str(spec.get("brokerRef") or v1.DEFAULT_BROKER)
    return live.listener(name, namespace, broker, spec, where, managed_by=other_stack or "")


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
    discovered = read_cluster(
        "discover_existing_listeners_v1",
        lambda cluster: discover(cluster, namespaces),
        kubeconfig,
        context,
    )
    registry = program_listeners()
    registry.on_cluster = True
    registry.declare_existing(
        with_declared(discovered.listeners, v1_sharing.existing_facts(declared, origin="also")),
        rules=GA_RULES,
    )
    return discovered
