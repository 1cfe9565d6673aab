"""Reading what already runs on a cluster, whatever the API: each API's discovery
(components/v1beta1/discovery.py, components/v1/discovery.py) lists its kinds here and keeps the
objects this stack does not manage.

An object is this stack's when it carries the stack's mark (components/metadata.py), whatever
its name: those are skipped, since the stack is about to update or delete them. Everything
else is someone else's (a hand-made object, the Azure IoT Operations defaults, another aio-mq
stack) and the stack's objects must coexist with it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from .cluster import Cluster, ClusterError, connect
from .errors import ConfigError, Problem
from .metadata import managing_stack


class _Named(Protocol):
    @property
    def namespace(self) -> str: ...
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=_Named)


def list_objects(
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


def foreign(
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


def _by_name(fact: _Named) -> Hashable:
    return (fact.namespace, fact.name)


def with_declared(
    live: Sequence[T], declared: Sequence[T], key: Callable[[T], Hashable] = _by_name
) -> list[T]:
    """The live facts, then the declared ones not live under the same key: the cluster's own
    account of an object wins over a hand-typed one."""
    seen: set[Hashable] = {key(fact) for fact in live}
    return list(live) + [fact for fact in declared if key(fact) not in seen]


R = TypeVar("R")


def read_cluster(
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
