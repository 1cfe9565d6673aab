"""The `aio-mq:*` stack configuration, and the program that turns it into resources.

`__main__.py` is `deploy(load_config())`. `aio-mq:apiVersion` selects the shape of every other
key: the preview API (`mq.iotoperations.azure.com/v1beta1`, the default, `StackConfig`) or GA
(`mqttbroker.iotoperations.azure.com/v1`, `StackConfigV1`). Everything is validated before the
first resource is created: the config keys (pydantic), what only the whole config can tell
(issuer references, private keys stored in clear, GA authentication references), then each
listener as its component checks it. All problems are raised as one `ConfigError`.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pulumi.runtime.config import CONFIG, get_config, get_config_env, is_config_secret
from pydantic import Field, ValidationError

from .auth import create_auth
from .errors import ConfigError, Problem, join_path, problems_from_validation
from .issuer import IssuerArgs, IssuerRef, cert_manager_issuer
from .listener import MqListener, MqListenerV1
from .registry import (
    ProgramListeners,
    existing_facts,
    existing_link_facts,
    program_listeners,
    v1_existing_facts,
)
from .spec import CERT_MANAGER_GROUP, DEFAULT_NAMESPACE, Dns1123Label, ResourceName, Spec
from .v1 import models as v1
from .v1 import sharing as v1_sharing
from .v1.auth import (
    AUTHENTICATION_KIND,
    AUTHORIZATION_KIND,
    DEFAULT_AUTHENTICATION,
    BrokerAuthenticationArgs,
    BrokerAuthorizationArgs,
    broker_resource,
    resource_kind,
)
from .v1beta1.auth import (
    ExistingAuthentication,
    ExistingAuthorization,
    MqAuthenticationArgs,
    MqAuthorizationArgs,
)
from .v1beta1.models import API_VERSION as V1BETA1
from .v1beta1.models import DEFAULT_BROKER, DEFAULT_LISTENER, ExistingListener, MqListenerArgs

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


class StackBase(Spec):
    """The `aio-mq:*` keys of a stack file whatever the API version."""

    namespace: Dns1123Label = DEFAULT_NAMESPACE
    """Namespace of listeners and Issuers that do not name one."""
    kubernetes: KubernetesTarget = Field(default_factory=KubernetesTarget)
    issuers: list[IssuerArgs] = Field(default_factory=list)
    """cert-manager issuers to create."""


class StackConfig(StackBase):
    """All `aio-mq:*` keys of a stack file of the preview API (the default)."""

    api_version: Literal["mq.iotoperations.azure.com/v1beta1"] = V1BETA1
    """The API the custom resources are written for; it selects the shape of the other keys."""
    broker_ref: ResourceName = DEFAULT_BROKER
    """Broker of listeners that do not name one."""
    existing_listeners: list[ExistingListener] | None = None
    """Listeners already on the cluster; absent means the documented default listener."""
    listeners: list[MqListenerArgs] = Field(default_factory=list)
    """The BrokerListeners to create."""
    authentications: list[MqAuthenticationArgs] = Field(default_factory=list)
    """The BrokerAuthentications to create."""
    authorizations: list[MqAuthorizationArgs] = Field(default_factory=list)
    """The BrokerAuthorizations to create."""
    existing_authentications: list[ExistingAuthentication] | None = None
    """BrokerAuthentications already on the cluster; absent means the deployment's `authn`."""
    existing_authorizations: list[ExistingAuthorization] | None = None
    """BrokerAuthorizations already on the cluster; absent means none."""

    def certificate_requests(self) -> list[tuple[str, IssuerRef, str | None]]:
        """(key path, issuerRef, listener namespace) of every automatic-TLS certificate."""
        return [
            (f"listeners[{i}].tls.automatic", item.tls.automatic.issuer_ref, item.namespace)
            for i, item in enumerate(self.listeners)
            if item.tls and item.tls.automatic
        ]

    def private_keys(self) -> list[str]:
        """Key paths of the manual-TLS private keys given in the config."""
        return [
            f"listeners[{i}].tls.manual.privateKey"
            for i, item in enumerate(self.listeners)
            if item.tls and item.tls.manual and item.tls.manual.private_key is not None
        ]


class StackConfigV1(StackBase):
    """All `aio-mq:*` keys of a stack file of the GA API (mqttbroker.iotoperations.azure.com/v1)."""

    api_version: Literal["mqttbroker.iotoperations.azure.com/v1"]
    """The API the custom resources are written for; it selects the shape of the other keys."""
    broker_ref: ResourceName = v1.DEFAULT_BROKER
    """Broker of listeners that do not name one."""
    existing_listeners: list[v1.MqListenerV1Args] | None = None
    """GA listeners already on the cluster; absent means the `default` listener Azure IoT
    Operations installs, unless `listeners` declares it (the stack then manages it)."""
    listeners: list[v1.MqListenerV1Args] = Field(default_factory=list)
    """The GA BrokerListeners to create."""
    authentications: list[BrokerAuthenticationArgs] = Field(default_factory=list)
    """The GA BrokerAuthentications to create."""
    existing_authentications: list[BrokerAuthenticationArgs] | None = None
    """BrokerAuthentications already on the cluster; absent means `default` (service account
    tokens, audience aio-internal)."""
    authorizations: list[BrokerAuthorizationArgs] = Field(default_factory=list)
    """The GA BrokerAuthorizations to create."""
    existing_authorizations: list[BrokerAuthorizationArgs] = Field(default_factory=list)
    """BrokerAuthorizations already on the cluster; absent means none."""

    def certificate_requests(self) -> list[tuple[str, IssuerRef, str | None]]:
        return [
            (
                f"listeners[{i}].ports[{j}].tls.certManagerCertificateSpec",
                port.tls.cert_manager_certificate_spec.issuer_ref,
                item.namespace,
            )
            for i, item in enumerate(self.listeners)
            for j, port in enumerate(item.ports)
            if port.tls and port.tls.cert_manager_certificate_spec
        ]

    def private_keys(self) -> list[str]:
        return [
            f"listeners[{i}].ports[{j}].tls.manual.privateKey"
            for i, item in enumerate(self.listeners)
            for j, port in enumerate(item.ports)
            if port.tls and port.tls.manual and port.tls.manual.private_key is not None
        ]

    def listener_facts(self) -> list[v1_sharing.Listener]:
        return [
            v1_sharing.Listener.of(item, self.namespace, self.broker_ref, f"listeners[{i}]")
            for i, item in enumerate(self.listeners)
        ]

    def existing(self) -> list[v1.MqListenerV1Args]:
        if self.existing_listeners is not None:
            return self.existing_listeners
        return v1_sharing.assumed_existing(self.listener_facts())


CONFIG_MODELS: dict[str, type[StackConfig] | type[StackConfigV1]] = {
    V1BETA1: StackConfig,
    v1.API_VERSION: StackConfigV1,
}
"""The config model of each API version aio-mq speaks; the first is the default."""

_STRING_KEYS = {"namespace", "brokerRef", "apiVersion"}


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


def load_config(
    raw: dict[str, Any] | None = None, secret_keys: set[str] | None = None
) -> StackConfig | StackConfigV1:
    """Validate the stack configuration; raise one ConfigError with every problem found.

    Without arguments, the running stack's keys; `secret_keys` (default: as the running stack
    says) are the keys stored encrypted."""
    raw = read_config_keys() if raw is None else raw
    return validate_config(raw, lambda stack: _secrets_in_clear(stack, secret_keys))


def validate_config(
    raw: dict[str, Any],
    *checks: Callable[[StackConfig | StackConfigV1], list[Problem]],
    subject: str = "the configuration",
) -> StackConfig | StackConfigV1:
    """`raw` as the config model its `apiVersion` selects, checked as a whole (issuer
    references; under GA the listener rules and references) and by `checks`; one ConfigError
    with every problem found. The package's MqListenerSet shares this with the stack file."""
    version = raw.get("apiVersion", V1BETA1)
    model = CONFIG_MODELS.get(version) if isinstance(version, str) else None
    if model is None:
        raise ConfigError(
            [
                Problem(
                    f"{PROJECT}:apiVersion",
                    f"{version!r} is not an API version aio-mq speaks",
                    f"use one of {', '.join(CONFIG_MODELS)} (default: {V1BETA1})",
                )
            ],
            subject,
        )
    known = config_keys(model)
    # Unknown keys are reported here, with the project prefix the stack file uses.
    problems = [_unknown_key(key, known) for key in raw if key not in known]
    try:
        stack = model.model_validate({k: v for k, v in raw.items() if k in known})
    except ValidationError as exc:
        raise ConfigError(problems + problems_from_validation(exc, model), subject) from None
    problems += _issuer_problems(stack) + [p for check in checks for p in check(stack)]
    if isinstance(stack, StackConfigV1):
        problems += _v1_problems(stack)
    if problems:
        raise ConfigError(problems, subject)
    return stack


def config_keys(model: type[Spec]) -> list[str]:
    """The stack-file keys (without the project prefix) of a config model."""
    return [field.alias or name for name, field in model.model_fields.items()]


def _unknown_key(key: str, known: list[str]) -> Problem:
    near = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    fix = f"did you mean {PROJECT}:{near[0]}?" if near else "remove it"
    return Problem(
        f"{PROJECT}:{key}", "unknown configuration key", f"{fix} (keys: {', '.join(known)})"
    )


def _issuer_problems(stack: StackConfig | StackConfigV1) -> list[Problem]:
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
    for request, ref, namespace in stack.certificate_requests():
        if ref.group != CERT_MANAGER_GROUP:
            continue
        candidates = declared.get(ref.name, [])  # none: an issuer that exists on the cluster
        matching = [(j, issuer) for j, issuer in candidates if issuer.kind == ref.kind]
        path = join_path(request, ("issuerRef",))
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
        listener_ns = namespace or stack.namespace
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


def _secrets_in_clear(
    stack: StackConfig | StackConfigV1, secret_keys: set[str] | None
) -> list[Problem]:
    # If any value inside aio-mq:listeners is `secure:`, Pulumi marks the whole key secret.
    if (
        is_config_secret(f"{PROJECT}:listeners")
        if secret_keys is None
        else "listeners" in secret_keys
    ):
        return []
    return [
        Problem(
            path,
            "the private key is stored in clear in the stack file",
            f"store it encrypted: pulumi config set --secret --path '{path}' < key.pem",
        )
        for path in stack.private_keys()
    ]


def _v1_problems(stack: StackConfigV1) -> list[Problem]:
    """The GA rules over the whole config: listeners, names and references."""
    authentications = _declared(stack, "authentications", stack.authentications) + _declared(
        stack,
        "existingAuthentications",
        stack.existing_authentications
        if stack.existing_authentications is not None
        else [DEFAULT_AUTHENTICATION],
    )
    authorizations = _declared(stack, "authorizations", stack.authorizations) + _declared(
        stack, "existingAuthorizations", stack.existing_authorizations
    )
    existing = v1_existing_facts(stack.existing(), stack.namespace, stack.broker_ref)
    return [
        # The registry checks these again listener by listener; here they join the others.
        *v1_sharing.listener_problems([*existing, *stack.listener_facts()]),
        *v1_sharing.duplicate_names(AUTHENTICATION_KIND, authentications),
        *v1_sharing.duplicate_names(AUTHORIZATION_KIND, authorizations),
        *v1_sharing.reference_problems(stack.listener_facts(), authentications, authorizations),
    ]


def _declared(
    stack: StackConfigV1,
    key: str,
    items: Sequence[BrokerAuthenticationArgs | BrokerAuthorizationArgs],
) -> list[v1_sharing.Declared]:
    return [
        v1_sharing.Declared(
            name=item.name,
            namespace=item.namespace or stack.namespace,
            origin=f"{key}[{i}]"
            if item is not DEFAULT_AUTHENTICATION
            else "the default authentication",
            methods=tuple(item.methods) if isinstance(item, BrokerAuthenticationArgs) else (),
        )
        for i, item in enumerate(items)
    ]


def kubernetes_provider(
    target: KubernetesTarget, opts: pulumi.ResourceOptions | None = None
) -> k8s.Provider:
    render_to = os.environ.get(RENDER_OVERRIDE_ENV) or target.render_yaml_to_directory
    if render_to:
        return k8s.Provider("kubernetes", render_yaml_to_directory=render_to, opts=opts)
    return k8s.Provider(
        "kubernetes", context=target.context, kubeconfig=target.kubeconfig, opts=opts
    )


def deploy(
    stack: StackConfig | StackConfigV1, parent: pulumi.Resource | None = None
) -> dict[str, pulumi.Output[dict[str, Any]]]:
    """Create the stack's issuers and listeners (and, under GA, its authentications and
    authorizations); return each listener's summary by name.

    Without `parent` (the stack program) a Kubernetes provider is made from
    `stack.kubernetes`; under a parent (the package's MqListenerSet) everything is its child
    and uses the parent's provider."""
    registry = program_listeners()
    if isinstance(stack, StackConfigV1):
        registry.declare_existing(
            v1_existing_facts(stack.existing(), stack.namespace, stack.broker_ref),
            api_version=v1.API_VERSION,
        )
    else:
        existing = (
            [DEFAULT_LISTENER] if stack.existing_listeners is None else stack.existing_listeners
        )
        registry.declare_existing(
            existing_facts(existing, stack.namespace, stack.broker_ref),
            existing_link_facts(existing, stack.namespace),
        )

    # Everything waits on the gate, so a refused listener leaves nothing registered.
    provider = (
        kubernetes_provider(stack.kubernetes, pulumi.ResourceOptions(depends_on=registry.gate()))
        if parent is None
        else None
    )
    issuers: dict[tuple[str, str], pulumi.Resource] = {
        (issuer.kind, issuer.name): cert_manager_issuer(
            issuer.model_copy(update={"namespace": issuer.namespace or stack.namespace}),
            pulumi.ResourceOptions(provider=provider, parent=parent, depends_on=registry.gate()),
        )
        for issuer in stack.issuers
    }

    if isinstance(stack, StackConfigV1):
        return _deploy_v1(stack, registry, issuers, provider, parent)
    create_auth(
        stack.namespace,
        pulumi.ResourceOptions(providers=[provider] if provider else None, parent=parent),
        authentications=stack.authentications,
        authorizations=stack.authorizations,
        existing_authentications=stack.existing_authentications,
        existing_authorizations=stack.existing_authorizations,
    )

    problems: list[Problem] = []
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


def _deploy_v1(
    stack: StackConfigV1,
    registry: ProgramListeners,
    issuers: Mapping[tuple[str, str], pulumi.Resource],
    provider: k8s.Provider | None,
    parent: pulumi.Resource | None,
) -> dict[str, pulumi.Output[dict[str, Any]]]:
    """The GA authentications, authorizations and listeners; a listener after what it uses."""
    opts = pulumi.ResourceOptions(provider=provider, parent=parent, depends_on=registry.gate())
    known: dict[tuple[str, ...], pulumi.Resource] = {key: r for key, r in issuers.items()}
    objects: list[BrokerAuthenticationArgs | BrokerAuthorizationArgs] = [
        *stack.authentications,
        *stack.authorizations,
    ]
    for obj in objects:
        namespace = obj.namespace or stack.namespace
        resource = broker_resource(obj.model_copy(update={"namespace": namespace}), opts)
        known[(resource_kind(obj), namespace, obj.name)] = resource
    problems: list[Problem] = []
    summaries: dict[str, pulumi.Output[dict[str, Any]]] = {}
    for i, item in enumerate(stack.listeners):
        args = item.resolved(stack.namespace, stack.broker_ref)
        namespace = str(args.namespace)
        wanted: list[tuple[str, ...]] = []
        for port in args.ports:
            spec = port.tls.cert_manager_certificate_spec if port.tls else None
            if spec is not None and spec.issuer_ref.group == CERT_MANAGER_GROUP:
                wanted.append((spec.issuer_ref.kind, spec.issuer_ref.name))
            wanted.append((AUTHENTICATION_KIND, namespace, str(port.authentication_ref)))
            wanted.append((AUTHORIZATION_KIND, namespace, str(port.authorization_ref)))
        depends_on = list({key: known[key] for key in wanted if key in known}.values())
        try:
            listener = MqListenerV1(
                args.name,
                args,
                pulumi.ResourceOptions(
                    providers=[provider] if provider else None,
                    parent=parent,
                    depends_on=depends_on or None,
                ),
                origin=f"listeners[{i}]",
            )
        except ConfigError as exc:
            problems += exc.problems
            continue
        summaries[args.name] = listener.summary
    if problems:
        registry.refuse(ConfigError(problems))
    return summaries
