"""The stack program of the preview API: a checked `StackConfig` → Kubernetes custom resources
(`MqListener`, `MqAuthentication`, `MqAuthorization` and the cert-manager issuers)."""

from __future__ import annotations

import functools
from collections import Counter
from typing import Any

import pulumi

from ..config import render_directory
from ..discovery import with_declared
from ..errors import ConfigError, Problem
from ..kubernetes.listener import former_component
from ..kubernetes.provider import earlier_names, provider_and_issuers
from ..metadata import resource_name
from ..preflight import check_cluster
from ..registry import CheckedListener, program_listeners
from ..spec import CERT_MANAGER_GROUP
from .authlinks import AuthObject, LinkedListener
from .authobjects import admit_stack_auth
from .config import StackConfig
from .discovery import Discovered, auth_key, discover
from .listener import TYPE_TOKEN, check_listener, link_facts, linked_summary, register_listener
from .models import DEFAULT_LISTENER
from .registry import (
    PREVIEW_RULES,
    AuthLinks,
    auth_links,
    existing_auth_facts,
    existing_facts,
    existing_link_facts,
)
from .sharing import Listener


def deploy(
    stack: StackConfig, parent: pulumi.Resource | None = None
) -> dict[str, pulumi.Input[dict[str, Any]]]:
    """`deploy` (components/stack.py) for the preview API: on a cluster the pre-flight checks
    and discovery first; every listener checked with the existing ones and the stack's
    authentications and authorizations (their links too); then the issuers, the auth objects
    and each listener after the issuer it uses."""
    registry = program_listeners()
    cluster_problems: list[Problem] = []
    discovered = None
    if parent is None and render_directory(stack.kubernetes) is None:
        cluster_problems, discovered = check_cluster(stack, discover if stack.discovery else None)
    existing, existing_links, existing_auth = _existing(stack, discovered)
    try:
        registry.declare_existing(existing, existing_links, rules=PREVIEW_RULES)
    except ConfigError as exc:  # conflicts among them: reported with everything else
        cluster_problems += exc.problems
    create_auth = admit_stack_auth(
        stack.namespace,
        authentications=stack.authentications,
        authorizations=stack.authorizations,
        existing=existing_auth,
    )
    listeners = []
    for i, item in enumerate(stack.listeners):
        args = item.resolved(stack.namespace, stack.broker_ref)
        name = resource_name(args.name, str(args.namespace), stack.namespace)
        facts, problems = check_listener(args, origin=f"listeners[{i}]")
        links = link_facts(args, name, facts.origin)
        listeners.append(CheckedListener(name, args, facts, problems, links))
    # With the links of listeners and objects, and what the cluster lacks.
    registry.admit_all(listeners, cluster_problems, rules=PREVIEW_RULES)
    if parent is None:
        registry.seal()

    provider, issuers = provider_and_issuers(stack, registry, parent)
    create_auth(pulumi.ResourceOptions(providers=[provider] if provider else None, parent=parent))

    listener_names = {checked.resource_name for checked in listeners}
    uses_of_name = Counter(checked.args.name for checked in listeners)
    auth = auth_links(registry)
    summaries: dict[str, pulumi.Input[dict[str, Any]]] = {}
    for checked in listeners:
        args = checked.args
        automatic = args.tls.automatic if args.tls else None
        ref = automatic.issuer_ref if automatic else None
        uses = None
        if ref and ref.group == CERT_MANAGER_GROUP:
            scope = args.namespace if ref.kind == "Issuer" else None
            uses = issuers.get((ref.kind, ref.name, scope))
        # No component per listener: its resources are the stack's (or the set's), registered
        # at a third of the engine round trips; aliases keep those of earlier versions.
        earlier = earlier_names(args.name, checked.resource_name, listener_names)
        registered = register_listener(
            checked.resource_name,
            args,
            auth,
            pulumi.ResourceOptions(provider=provider, parent=parent, depends_on=registry.gate()),
            depends_on=[uses] if uses else None,
            origin=checked.facts.origin,
            formerly=functools.partial(
                former_component,
                component=checked.resource_name,
                token=TYPE_TOKEN,
                parent=parent,
                names=earlier,
            ),
        )
        # Exported by name; by Pulumi name only when the name repeats in another namespace.
        # Sealed, the links are final now: plain values, no Output (each one costs a task).
        shared = uses_of_name[args.name] > 1
        summary: pulumi.Input[dict[str, Any]] = (
            linked_summary(registered.summary, auth)
            if parent is None
            else registered.broker_listener.urn.apply(
                functools.partial(_after_registration, registered.summary, auth)
            )
        )
        summaries[checked.resource_name if shared else args.name] = summary
    return summaries


def _existing(
    stack: StackConfig, discovered: Discovered | None
) -> tuple[list[Listener], list[LinkedListener], list[AuthObject]]:
    """What the stack's objects must coexist with: without discovery the existing* keys (the
    deployment's defaults where absent); with it, what is on the cluster plus those keys."""
    ns, broker = stack.namespace, stack.broker_ref
    if discovered is None:
        existing = (
            [DEFAULT_LISTENER] if stack.existing_listeners is None else stack.existing_listeners
        )
        return (
            existing_facts(existing, ns, broker),
            existing_link_facts(existing, ns),
            existing_auth_facts(stack.existing_authentications, stack.existing_authorizations, ns),
        )
    declared = stack.existing_listeners or []
    return (
        with_declared(discovered.listeners, existing_facts(declared, ns, broker)),
        with_declared(discovered.listener_links, existing_link_facts(declared, ns)),
        with_declared(
            [*discovered.authentications, *discovered.authorizations],
            existing_auth_facts(
                stack.existing_authentications or [], stack.existing_authorizations or [], ns
            ),
            auth_key,
        ),
    )


def _after_registration(summary: dict[str, Any], links: AuthLinks, _: str) -> dict[str, Any]:
    """A listener's summary in a set: once its BrokerListener is registered (and the links of
    the set's program known), so a consumer of it is ordered after the listener."""
    return linked_summary(summary, links)
