"""The `aio-mq:*` stack configuration, and the program that turns it into resources.

`__main__.py` is `deploy(load_config())`. Everything is validated before the first resource is
created: the config keys (pydantic), what only the whole config can tell (issuer references,
private keys stored in clear), in cluster mode the target cluster (components/preflight.py) and
what already runs on it (components/discovery.py), then each listener as `MqListener` checks
it. All problems are raised as one `ConfigError`.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi.runtime.config import CONFIG, get_config, get_config_env, is_config_secret
from pydantic import Field, StrictBool, ValidationError

from .auth import create_auth
from .discovery import Discovered, auth_key, with_declared
from .errors import ConfigError, Problem, problems_from_validation
from .issuer import IssuerArgs, cert_manager_issuer
from .listener import MqListener
from .preflight import check_cluster
from .registry import existing_auth_facts, existing_facts, existing_link_facts, program_listeners
from .spec import CERT_MANAGER_GROUP, DEFAULT_NAMESPACE, Dns1123Label, ResourceName, Spec
from .v1beta1.auth import (
    ExistingAuthentication,
    ExistingAuthorization,
    MqAuthenticationArgs,
    MqAuthorizationArgs,
)
from .v1beta1.authlinks import AuthObject, LinkedListener
from .v1beta1.models import (
    API_VERSION,
    DEFAULT_BROKER,
    DEFAULT_LISTENER,
    ExistingListener,
    MqListenerArgs,
)
from .v1beta1.sharing import Listener

PROJECT = "aio-mq"
RENDER_OVERRIDE_ENV = "AIO_MQ_RENDER_YAML_TO_DIRECTORY"
"""When set, manifests are rendered to this directory whatever `aio-mq:kubernetes` says: how
CI previews the cluster stacks offline."""


class KubernetesTarget(Spec):
    """Where the manifests go: rendered into a directory (no cluster), or to a cluster."""

    render_yaml_to_directory: str | None = None
    """Write YAML manifests here instead of talking to a cluster (relative to the project)."""
    context: str | None = None
    """kubeconfig context of the target cluster (default: the kubeconfig's current context)."""
    kubeconfig: str | None = None
    """Path of the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)."""


class StackConfig(Spec):
    """All `aio-mq:*` keys of a stack file."""

    namespace: Dns1123Label = DEFAULT_NAMESPACE
    """Namespace of listeners and Issuers that do not name one."""
    broker_ref: ResourceName = DEFAULT_BROKER
    """Broker of listeners that do not name one."""
    kubernetes: KubernetesTarget = Field(default_factory=KubernetesTarget)
    issuers: list[IssuerArgs] = Field(default_factory=list)
    """cert-manager issuers to create."""
    existing_listeners: list[ExistingListener] | None = None
    """Listeners already on the cluster. Rendering, absent means the documented default
    listener; on a cluster, the discovered listeners apply and these are added to them."""
    discovery: StrictBool = True
    """On a cluster, read the listeners and auth objects already there (false: only the
    existing* keys)."""
    listeners: list[MqListenerArgs] = Field(default_factory=list)
    """The BrokerListeners to create."""
    authentications: list[MqAuthenticationArgs] = Field(default_factory=list)
    """The BrokerAuthentications to create."""
    authorizations: list[MqAuthorizationArgs] = Field(default_factory=list)
    """The BrokerAuthorizations to create."""
    existing_authentications: list[ExistingAuthentication] | None = None
    """BrokerAuthentications already on the cluster; absent means the deployment's `authn`
    (on a cluster with discovery: the discovered ones, these added)."""
    existing_authorizations: list[ExistingAuthorization] | None = None
    """BrokerAuthorizations already on the cluster; absent means none (on a cluster with
    discovery: the discovered ones, these added)."""


_STRING_KEYS = {"namespace", "brokerRef"}


def read_config_keys() -> dict[str, Any]:
    """The raw `aio-mq:*` values of the running stack, structured ones parsed from JSON."""
    raw: dict[str, Any] = {}
    # The SDK has no public way to list keys: the engine's are in CONFIG, older hosts' in env.
    for full_key in sorted({*CONFIG.get(), *get_config_env()}):
        project, _, key = full_key.partition(":")
        if project != PROJECT:
            continue
        value = get_config(full_key)
        raw[key] = value if key in _STRING_KEYS else _parse_json(value)
    return raw


def _parse_json(value: Any) -> Any:
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def load_config(raw: dict[str, Any] | None = None) -> StackConfig:
    """Validate the stack configuration; raise one ConfigError with every problem found."""
    raw = read_config_keys() if raw is None else raw
    return validate_config(raw, _secrets_in_clear)


def validate_config(
    raw: dict[str, Any],
    *checks: Callable[[StackConfig], list[Problem]],
    subject: str = "the configuration",
) -> StackConfig:
    """`raw` as a StackConfig, checked as a whole (issuer references) and by `checks`; one
    ConfigError with every problem found. The package's MqListenerSet shares this with the
    stack file."""
    known = [field.alias or name for name, field in StackConfig.model_fields.items()]
    # Unknown keys are reported here, with the project prefix the stack file uses.
    problems = [_unknown_key(key, known) for key in raw if key not in known]
    try:
        stack = StackConfig.model_validate({k: v for k, v in raw.items() if k in known})
    except ValidationError as exc:
        raise ConfigError(problems + problems_from_validation(exc, StackConfig), subject) from None
    problems += _issuer_problems(stack) + [p for check in checks for p in check(stack)]
    if problems:
        raise ConfigError(problems, subject)
    return stack


def _unknown_key(key: str, known: list[str]) -> Problem:
    near = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    fix = f"did you mean {PROJECT}:{near[0]}?" if near else "remove it"
    return Problem(
        f"{PROJECT}:{key}", "unknown configuration key", f"{fix} (keys: {', '.join(known)})"
    )


def _issuer_problems(stack: StackConfig) -> list[Problem]:
    problems: list[Problem] = []
    declared: dict[str, list[tuple[int, IssuerArgs]]] = {}
    for j, issuer in enumerate(stack.issuers):
        same = [
            k
            for k, other in declared.get(issuer.name, [])
            if other.kind == issuer.kind and other.namespace == issuer.namespace
        ]
        if same:
            problems.append(
                Problem(
                    f"issuers[{j}].name",
                    f"{issuer.kind} {issuer.name!r} is declared twice (also issuers[{same[0]}])",
                    "rename one of them",
                )
            )
        declared.setdefault(issuer.name, []).append((j, issuer))
    for i, listener in enumerate(stack.listeners):
        automatic = listener.tls.automatic if listener.tls else None
        if automatic is None or automatic.issuer_ref.group != CERT_MANAGER_GROUP:
            continue
        ref = automatic.issuer_ref
        candidates = declared.get(ref.name, [])  # none: an issuer that exists on the cluster
        matching = [(j, issuer) for j, issuer in candidates if issuer.kind == ref.kind]
        path = f"listeners[{i}].tls.automatic.issuerRef"
        if candidates and not matching:
            j, issuer = candidates[0]
            problems.append(
                Problem(
                    f"{path}.kind",
                    f"{ref.name!r} is declared with kind {issuer.kind} (issuers[{j}]), "
                    f"but referenced with kind {ref.kind}",
                    f"set kind: {issuer.kind}",
                )
            )
        if ref.kind != "Issuer" or not matching:
            continue
        listener_ns = listener.namespace or stack.namespace
        if all((issuer.namespace or stack.namespace) != listener_ns for _, issuer in matching):
            j, issuer = matching[0]
            problems.append(
                Problem(
                    f"{path}.name",
                    f"Issuer {ref.name!r} (issuers[{j}]) is in namespace "
                    f"{issuer.namespace or stack.namespace!r}, the listener in {listener_ns!r}; "
                    "an Issuer only signs certificates in its own namespace",
                    "put both in one namespace, or declare the issuer with kind: ClusterIssuer",
                )
            )
    return problems


def _secrets_in_clear(stack: StackConfig) -> list[Problem]:
    # If any value inside aio-mq:listeners is `secure:`, Pulumi marks the whole key secret.
    if is_config_secret(f"{PROJECT}:listeners"):
        return []
    return [
        Problem(
            f"listeners[{i}].tls.manual.privateKey",
            "the private key is stored in clear in the stack file",
            f"store it encrypted: pulumi config set --secret --path "
            f"'listeners[{i}].tls.manual.privateKey' < key.pem",
        )
        for i, listener in enumerate(stack.listeners)
        if listener.tls and listener.tls.manual and listener.tls.manual.private_key is not None
    ]


def render_directory(target: KubernetesTarget) -> str | None:
    """Where manifests are rendered to; None when the stack talks to a cluster."""
    return os.environ.get(RENDER_OVERRIDE_ENV) or target.render_yaml_to_directory


def kubernetes_provider(
    target: KubernetesTarget, opts: pulumi.ResourceOptions | None = None
) -> k8s.Provider:
    render_to = render_directory(target)
    if render_to:
        return k8s.Provider("kubernetes", render_yaml_to_directory=render_to, opts=opts)
    return k8s.Provider(
        "kubernetes", context=target.context, kubeconfig=target.kubeconfig, opts=opts
    )


def deploy(
    stack: StackConfig, parent: pulumi.Resource | None = None
) -> dict[str, pulumi.Output[dict[str, Any]]]:
    """Create the stack's issuers and listeners; return each listener's summary by name.

    Without `parent` (the stack program) a Kubernetes provider is made from
    `stack.kubernetes`; under a parent (the package's MqListenerSet) everything is its child
    and uses the parent's provider, whose cluster cannot be read from here: the pre-flight
    checks and discovery run for the stack program only."""
    registry = program_listeners()
    problems: list[Problem] = []
    discovered = None
    # Under a parent the cluster is the consumer's provider, which cannot be read from here.
    if parent is None and render_directory(stack.kubernetes) is None:
        problems, discovered = check_cluster(stack, API_VERSION, stack.discovery)
    listeners, links, auth = _existing(stack, discovered)
    try:
        registry.declare_existing(listeners, links)
    except ConfigError as exc:
        problems += exc.problems

    # Everything waits on the gate, so a refused listener leaves nothing registered.
    provider = (
        kubernetes_provider(stack.kubernetes, pulumi.ResourceOptions(depends_on=registry.gate()))
        if parent is None
        else None
    )
    issuers = {
        (issuer.kind, issuer.name): cert_manager_issuer(
            issuer.model_copy(update={"namespace": issuer.namespace or stack.namespace}),
            pulumi.ResourceOptions(provider=provider, parent=parent, depends_on=registry.gate()),
        )
        for issuer in stack.issuers
    }

    create_auth(
        stack.namespace,
        pulumi.ResourceOptions(providers=[provider] if provider else None, parent=parent),
        authentications=stack.authentications,
        authorizations=stack.authorizations,
        existing=auth,
    )

    summaries: dict[str, pulumi.Output[dict[str, Any]]] = {}
    for i, item in enumerate(stack.listeners):
        args = item.resolved(stack.namespace, stack.broker_ref)
        automatic = args.tls.automatic if args.tls else None
        ref = automatic.issuer_ref if automatic else None
        uses = (
            issuers.get((ref.kind, ref.name)) if ref and ref.group == CERT_MANAGER_GROUP else None
        )
        try:
            listener = MqListener(
                args.name,
                args,
                pulumi.ResourceOptions(
                    providers=[provider] if provider else None,
                    parent=parent,
                    depends_on=[uses] if uses else None,
                ),
                origin=f"listeners[{i}]",
            )
        except ConfigError as exc:
            problems += exc.problems
            continue
        summaries[args.name] = listener.summary
    problems += registry.links().problems
    if problems:
        registry.refuse(ConfigError(problems))
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
