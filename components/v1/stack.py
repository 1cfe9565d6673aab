"""The stack program of the GA API: a checked `StackConfigV1`, checked again against what exists
(the existing* keys; on a cluster, discovery; on ARM, ARM discovery), then created on its target:
Kubernetes custom resources (with `endpoints` and the wait for the broker's answer) or Azure
resources (components/arm/)."""

from __future__ import annotations

import functools
import importlib
from collections import Counter
from typing import Any

import pulumi

from ..arm.config import AzureTarget
from ..arm.resources import arm_resources
from ..arm.template import template_problems, write_template
from ..cluster import ClusterError
from ..cluster import connect as read_cluster
from ..config import discovers, render_directory
from ..discovery import with_declared
from ..errors import ConfigError, Problem
from ..kubernetes.ga import register as kubernetes_target
from ..kubernetes.listener import tls_secret  # the Secret MqListenerV1 makes, made here too
from ..kubernetes.provider import provider_and_issuers
from ..metadata import object_metadata, resource_name
from ..preflight import check_cluster
from ..registry import CheckedListener, ProgramListeners, program_listeners
from . import models as v1
from . import sharing as v1_sharing
from .auth import (
    AUTHENTICATION_KIND,
    AUTHORIZATION_KIND,
)
from .config import StackConfigV1, declared_facts, existing_authentication_facts
from .discovery import DiscoveredV1, discover
from .endpoints import listener_endpoints
from .listener import check_listener
from .objects import Wait
from .plan import SECRET_KIND, PlanV1, plan_v1
from .registry import GA_RULES
from .wait import BrokerRefusalError, Watched, live_services
from .wait import verdicts as wait_verdicts


def deploy(
    stack: StackConfigV1, parent: pulumi.Resource | None = None
) -> dict[str, pulumi.Input[dict[str, Any]]]:
    """`deploy` (components/stack.py) for the GA API: to Azure Resource Manager when the stack
    names an aio-mq:azure instance, else as Kubernetes custom resources."""
    registry = program_listeners()
    if stack.azure is not None:
        return _deploy_arm(stack, stack.azure, registry, parent)
    return _deploy_kubernetes(stack, registry, parent)


def _deploy_kubernetes(
    stack: StackConfigV1, registry: ProgramListeners, parent: pulumi.Resource | None
) -> dict[str, pulumi.Input[dict[str, Any]]]:
    """The Kubernetes target: every listener checked first (on a cluster, after the
    pre-flight checks and against what is there), then the issuers, authentications and
    authorizations, then each listener after what it uses.

    The stack program also exports `endpoints` (components/v1/endpoints.py) and, on a cluster,
    has `up` wait for the broker to accept each object (components/v1/wait.py)."""
    cluster_problems: list[Problem] = []
    existing = v1_sharing.existing_facts(stack.existing(), stack.namespace, stack.broker_ref)
    discovered: DiscoveredV1 | None = None
    if parent is None and render_directory(stack.kubernetes) is None:
        registry.on_cluster = True
        cluster_problems, discovered = check_cluster(stack, discover if stack.discovery else None)
        if discovered is not None:
            existing, live_problems = _live(stack, discovered)
            cluster_problems += live_problems
    listeners = _admit(stack, registry, parent, existing, cluster_problems)

    plan = _plan(stack, listeners)
    provider, issuers = provider_and_issuers(stack, registry, parent)
    wait = _wait(stack) if parent is None else None
    # What the broker answers for: the authentications and authorizations, then the listeners.
    watched = kubernetes_target(
        plan,
        listeners,
        issuers,
        provider=provider,
        parent=parent,
        gate=registry.gate(),
        wait=wait,
        on_cluster=registry.on_cluster,
    )
    uses_of_name = Counter(checked.args.name for checked in listeners)
    summaries: dict[str, pulumi.Input[dict[str, Any]]] = {}
    registered_listeners = watched[len(watched) - len(listeners) :]  # the listeners come last
    for checked, registered in zip(listeners, registered_listeners, strict=True):
        name = checked.args.name
        # Exported by name; by Pulumi name only when the name repeats in another namespace.
        shared = uses_of_name[name] > 1
        values = checked.args.summary()
        # In a set, once the listener is registered: a consumer is ordered after it.
        summary = (
            values
            if parent is None
            else registered.resource.urn.apply(functools.partial(_registered, values))
        )
        summaries[checked.resource_name if shared else name] = summary
    if parent is None:
        ways_in = _endpoints(
            stack, dict(zip(summaries, listeners, strict=True)), watched, wait, discovered
        )
        pulumi.export("endpoints", pulumi.Output.from_input(ways_in))
    return summaries


def _registered(summary: dict[str, Any], _: str) -> dict[str, Any]:
    return summary


def _plan(stack: StackConfigV1, listeners: list[CheckedListener[v1.MqListenerV1Args]]) -> PlanV1:
    """What the checked stack creates, whatever the target."""
    return plan_v1(
        stack.namespace,
        [(checked.facts.origin, checked.args) for checked in listeners],
        stack.authentications,
        stack.authorizations,
        stack.issuers,
    )


def _wait(stack: StackConfigV1) -> Wait | None:
    """How `up` waits for the broker: on a cluster, unless the stack turned it off. Rendering
    and previews have no broker to wait for."""
    if render_directory(stack.kubernetes) is not None or not stack.wait_timeout_seconds:
        return None
    return Wait(stack.wait_timeout_seconds)


def _methods(
    stack: StackConfigV1, discovered: DiscoveredV1 | None
) -> dict[tuple[str, str], tuple[str, ...]]:
    """The methods of every BrokerAuthentication a port can name: the stack's, the declared or
    assumed existing ones, the live ones."""
    known = [
        *declared_facts(stack, "authentications", stack.authentications),
        *existing_authentication_facts(stack, assume=discovered is None),
        *(discovered.authentications if discovered else ()),
    ]
    return {(d.namespace, d.name): d.methods for d in known}


async def _endpoints(
    stack: StackConfigV1,
    listeners: dict[str, CheckedListener[v1.MqListenerV1Args]],
    watched: list[Watched],
    wait: Wait | None,
    discovered: DiscoveredV1 | None,
) -> dict[str, Any]:
    """The `endpoints` output of `listeners` (by output name; `watched` ends with them). On `up`
    on a cluster (not in a preview, where the status in the state may be an old answer), first
    what the broker said: refusals fail `up` (BrokerRefusalError), and so do LoadBalancers that
    got no address in time. A preview that discovers the live objects shows the addresses the
    Services have now, so an unchanged stack previews an unchanged output."""
    accepted: dict[pulumi.Resource, bool] = {}
    cluster = None
    on_cluster = render_directory(stack.kubernetes) is None
    preview = pulumi.runtime.is_dry_run()
    if on_cluster and not preview:
        said, problems = await wait_verdicts(watched, wait)
        if problems:
            raise BrokerRefusalError(problems)
        accepted = {w.resource: v == "succeeded" for w, v in zip(watched, said, strict=True)}
    if on_cluster and (not preview or discovered is not None):
        try:
            cluster = read_cluster(stack.kubernetes.kubeconfig, stack.kubernetes.context)
        except ClusterError as exc:
            pulumi.log.warn(f"aio-mq: endpoints without the cluster's addresses: {exc}")
    by_listener = [
        (c.args, c.facts.origin, wait if accepted.get(w.resource) else None)
        for c, w in zip(listeners.values(), watched[len(watched) - len(listeners) :], strict=True)
    ]
    live, late = await live_services(cluster, by_listener)
    if late:
        raise BrokerRefusalError(late)
    methods = _methods(stack, discovered)
    return {
        name: listener_endpoints(
            c.args,
            c.facts.origin,
            methods=methods,
            issuers=stack.issuers,
            stack_namespace=stack.namespace,
            live=found,
        )
        for (name, c), found in zip(listeners.items(), live, strict=True)
    }


def _admit(
    stack: StackConfigV1,
    registry: ProgramListeners,
    parent: pulumi.Resource | None,
    existing: list[v1_sharing.Listener],
    problems: list[Problem],
) -> list[CheckedListener[v1.MqListenerV1Args]]:
    """The stack's GA listeners, checked as one unit with what exists and the `problems` found
    so far (any problem: nothing is registered); the stack program's registry is then sealed."""
    try:
        registry.declare_existing(existing, rules=GA_RULES)
    except ConfigError as exc:  # conflicts among them: reported with everything else
        problems = [*problems, *exc.problems]
    listeners: list[CheckedListener[v1.MqListenerV1Args]] = []
    for i, item in enumerate(stack.listeners):
        args = item.resolved(stack.namespace, stack.broker_ref)
        name = resource_name(args.name, str(args.namespace), stack.namespace)
        facts, found = check_listener(args, origin=f"listeners[{i}]")
        listeners.append(CheckedListener(name, args, facts, found, None))
    registry.admit_all(listeners, problems, rules=GA_RULES)
    if parent is None:
        registry.seal()
    return listeners


def _live(
    stack: StackConfigV1, discovered: DiscoveredV1
) -> tuple[list[v1_sharing.Listener], list[Problem]]:
    """The existing listeners when the cluster was read: the live ones plus those the stack
    declares; and what the stack's references and names break against the live objects."""
    declared = v1_sharing.existing_facts(
        stack.existing_listeners or [], stack.namespace, stack.broker_ref
    )
    authentications = with_declared(
        discovered.authentications, existing_authentication_facts(stack, assume=False)
    )
    authorizations = with_declared(
        discovered.authorizations,
        declared_facts(stack, "existingAuthorizations", stack.existing_authorizations),
    )
    own_authentications = declared_facts(stack, "authentications", stack.authentications)
    own_authorizations = declared_facts(stack, "authorizations", stack.authorizations)
    live_names = [
        # Live objects first: a declared one of the same name is the duplicate.
        *v1_sharing.duplicate_names(
            AUTHENTICATION_KIND, [*discovered.authentications, *own_authentications]
        ),
        *v1_sharing.duplicate_names(
            AUTHORIZATION_KIND, [*discovered.authorizations, *own_authorizations]
        ),
    ]
    references = v1_sharing.reference_problems(
        stack.listener_facts(),
        own_authentications + authentications,
        own_authorizations + authorizations,
    )
    # A stack that declares `default` manages it: that is how GA adds ClusterIp ports; unless
    # another stack does already.
    managing = [f for f in stack.listener_facts() if f.is_default]
    claimed = v1_sharing.claimed_elsewhere(managing, discovered.listeners)
    managed = {(f.namespace, f.name) for f in managing}
    live = [f for f in discovered.listeners if (f.namespace, f.name) not in managed]
    return with_declared(live, declared), live_names + references + claimed


def _deploy_arm(
    stack: StackConfigV1,
    target: AzureTarget,
    registry: ProgramListeners,
    parent: pulumi.Resource | None,
) -> dict[str, pulumi.Input[dict[str, Any]]]:
    """`deploy` to the ARM target: the GA checks against what exists (read from ARM when
    discovery is on), then the plan's issuers and TLS Secrets on the cluster (Kubernetes
    target), then its broker objects as Azure resources; rendering, the ARM template instead."""
    cluster_problems: list[Problem] = []
    existing = v1_sharing.existing_facts(stack.existing(), stack.namespace, stack.broker_ref)
    # A composition's target may hold Outputs: unknown now, ARM cannot be read with them.
    if parent is None and discovers(stack) and target.known():
        discovered, cluster_problems = _discover_arm(stack, target)
        if discovered is not None:
            existing, live_problems = _live(stack, discovered)
            cluster_problems += live_problems
    render_to = render_directory(stack.kubernetes)
    if render_to is not None:
        cluster_problems += template_problems(target)
    listeners = _admit(stack, registry, parent, existing, cluster_problems)

    plan = _plan(stack, listeners)
    resources = arm_resources(plan)
    on_cluster = _on_cluster(stack, plan, registry, parent)
    if render_to is not None:
        if not pulumi.runtime.is_dry_run():  # like the Kubernetes target: files on update
            write_template(render_to, resources, target)
    else:
        # Imported here: the azure-native SDK adds ~0.2 s to every program that imports it.
        from ..arm.target import AzureBrokerObjects  # noqa: PLC0415

        AzureBrokerObjects(
            "azure" if parent is None else f"{parent.pulumi_resource_name}-azure",  # unique URN
            resources,
            target,
            pulumi.ResourceOptions(parent=parent, depends_on=registry.gate()),
            on_cluster=on_cluster,
        )
    return {checked.args.name: checked.args.summary() for checked in listeners}


def _on_cluster(
    stack: StackConfigV1, plan: PlanV1, registry: ProgramListeners, parent: pulumi.Resource | None
) -> dict[tuple[str, str, str | None], pulumi.Resource]:
    """The plan's issuers and TLS Secrets, created on aio-mq:kubernetes's cluster (the checks
    let an ARM stack have them only when it names one) before the Azure resources."""
    if not plan.issuers and not plan.tls_secrets:
        return {}
    provider, issuers = provider_and_issuers(stack, registry, parent)
    created: dict[tuple[str, str, str | None], pulumi.Resource] = dict(issuers)
    for secret in plan.tls_secrets:
        name = secret.material.secret_ref
        created[(SECRET_KIND, name, secret.namespace)] = tls_secret(
            f"tls-{name}",
            secret.material,
            secret.path,
            object_metadata(name, secret.namespace),
            pulumi.ResourceOptions(provider=provider, parent=parent, depends_on=registry.gate()),
        )
    return created


def _discover_arm(
    stack: StackConfigV1, target: AzureTarget
) -> tuple[DiscoveredV1 | None, list[Problem]]:
    """What the broker already has, read from ARM by components/arm/discovery.py (imported
    when used: it brings the Azure SDK)."""
    discovery = importlib.import_module("..arm.discovery", __package__)
    found: tuple[DiscoveredV1 | None, list[Problem]] = discovery.discover_arm(
        target.subscription(),
        str(target.resource_group),
        str(target.instance),
        str(target.broker),
        stack.namespace,
        [item.name for item in stack.listeners],
        declared_authentications=[item.name for item in stack.authentications],
        declared_authorizations=[item.name for item in stack.authorizations],
    )
    return found
