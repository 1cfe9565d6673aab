"""The Kubernetes target of a GA plan (components/v1/plan.py): its broker objects as custom
resources, each after what it uses.

BrokerAuthentications and BrokerAuthorizations are registered from their planned spec
(`BrokerObject`, components/v1/objects.py); each listener as `MqListenerV1` registers it
(`register_listener`), from the checked args its planned object came from, with the TLS Secrets
of its ports, but without a component of its own: the stack's (or the set's) resources, at a
third of the engine round trips. Issuers are registered before, by
components/kubernetes/provider.py.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from ..registry import CheckedListener
from ..v1.listener import TYPE_TOKEN, register_listener
from ..v1.models import MqListenerV1Args
from ..v1.objects import Wait, broker_object
from ..v1.plan import LISTENER_KIND, ObjectKey, PlanV1
from ..v1.wait import Watched
from .listener import former_component


def register(
    plan: PlanV1,
    listeners: Sequence[CheckedListener[MqListenerV1Args]],
    registered: Mapping[ObjectKey, pulumi.Resource],
    *,
    provider: k8s.Provider | None,
    parent: pulumi.Resource | None,
    gate: pulumi.Input[list[pulumi.Resource]],
    wait: Wait | None,
    on_cluster: bool,
) -> list[Watched]:
    """The plan's authentications and authorizations, then its listeners (`listeners`: the
    checked args of the plan's listeners, in its order). `registered`: the issuers, by plan key.
    Returns what `up` waits for (the listeners last)."""
    known: dict[ObjectKey, pulumi.Resource] = dict(registered)
    watched: list[Watched] = []
    planned_listeners = [obj for obj in plan.objects if obj.kind == LISTENER_KIND]
    for obj in plan.objects:
        if obj.kind == LISTENER_KIND:
            continue
        resource = broker_object(
            obj.pulumi_name,
            obj.kind,
            obj.name,
            obj.namespace,
            obj.spec,
            opts=pulumi.ResourceOptions(provider=provider, parent=parent, depends_on=gate),
            wait=wait,
        )
        known[obj.key] = resource
        watched.append(Watched(obj.kind, obj.namespace, obj.name, obj.origin, resource))
    for obj, checked in zip(planned_listeners, listeners, strict=True):
        depends_on = [known[key] for key in obj.uses if key in known]
        listener = register_listener(
            checked.resource_name,
            checked.args,
            pulumi.ResourceOptions(provider=provider, parent=parent, depends_on=gate),
            depends_on=depends_on or None,
            origin=obj.origin,
            wait=wait,
            on_cluster=on_cluster,
            formerly=functools.partial(
                former_component, component=checked.resource_name, token=TYPE_TOKEN, parent=parent
            ),
        )
        watched.append(
            Watched(obj.kind, obj.namespace, obj.name, obj.origin, listener.broker_listener)
        )
    return watched
