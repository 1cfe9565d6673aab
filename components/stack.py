"""The `aio-mq:*` stack configuration, and the program that turns it into resources.

`__main__.py` is `deploy(load_config())`. Everything is validated before the first resource is
created: the config keys (pydantic), what only the whole config can tell (issuer references),
what only the stack file can tell (private keys stored in clear, secrets under the public
passphrase; components/secrets_check.py), in cluster mode the target cluster
(components/preflight.py) and what already runs on it (components/discovery.py), then each
listener as `MqListener` checks it. All problems are raised as one `ConfigError`.

`aio-mq:apiVersion` selects the shape of every other key: the preview API
(`mq.iotoperations.azure.com/v1beta1`, the default, `StackConfig`) or GA
(`mqttbroker.iotoperations.azure.com/v1`, `StackConfigV1`, whose listener rules and
authentication references are checked over the whole config too).
"""

from __future__ import annotations

import difflib
import importlib
import os
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pulumi.runtime.config import CONFIG, get_config, get_config_env
from pydantic import Field, StrictBool, ValidationError, model_validator

from .arm.config import AzureTarget, arm_problems, broker_of, preview_api_problem
from .arm.resources import arm_resources
from .arm.template import template_problems, write_template
from .auth import admit_stack_auth, resource_name
from .cluster import ClusterError
from .cluster import connect as read_cluster
from .declared import DeclaredIssuer, DeclaredSecret
from .discovery import Discovered, DiscoveredV1, auth_key, discover, discover_v1, with_declared
from .errors import ConfigError, Problem, join_path, problems_from_validation
from .issuer import IssuerArgs, IssuerRef, cert_manager_issuer
from .listener import MqListener, MqListenerV1, check_listener, check_listener_v1, link_facts
from .listener import _tls_secret as tls_secret  # the Secret MqListenerV1 makes, made here too
from .metadata import object_metadata
from .preflight import TlsSecret, check_cluster
from .registry import (
    CheckedListener,
    ProgramListeners,
    existing_auth_facts,
    existing_facts,
    existing_link_facts,
    program_listeners,
    v1_existing_facts,
)
from .secrets_check import (
    StackFile,
    loopback_cluster,
    private_keys_in_clear,
    public_passphrase,
)
from .spec import CERT_MANAGER_GROUP, DEFAULT_NAMESPACE, Dns1123Label, ResourceName, Spec
from .stack_file import PROJECT, program_value, with_decrypted_values_typed
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
from .v1.endpoints import listener_endpoints
from .v1.plan import SECRET_KIND, PlanV1, plan_v1
from .v1.wait import (
    DEFAULT_TIMEOUT_SECONDS,
    BrokerRefusalError,
    TimeoutSeconds,
    Wait,
    Watched,
    live_services,
)
from .v1.wait import verdicts as wait_verdicts
from .v1beta1.auth import (
    ExistingAuthentication,
    ExistingAuthorization,
    MqAuthenticationArgs,
    MqAuthorizationArgs,
)
from .v1beta1.authlinks import AuthObject, LinkedListener
from .v1beta1.models import API_VERSION as V1BETA1
from .v1beta1.models import (
    DEFAULT_BROKER,
    DEFAULT_LISTENER,
    ExistingListener,
    MqListenerArgs,
)
from .v1beta1.sharing import Listener

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

    production: StrictBool = True
    """Whether this stack is production (the guardrails policy pack, `make up` and the workflow's
    approval gate read it). Fail safe: a stack is production unless it says `false`."""
    namespace: Dns1123Label = DEFAULT_NAMESPACE
    """Namespace of listeners and Issuers that do not name one."""
    kubernetes: KubernetesTarget = Field(default_factory=KubernetesTarget)
    issuers: list[IssuerArgs] = Field(default_factory=list)
    """cert-manager issuers to create."""
    discovery: StrictBool = True
    """On a cluster, read the listeners and auth objects already there (false: only the
    existing* keys)."""
    existing_secrets: list[DeclaredSecret] = Field(default_factory=list)
    """TLS Secrets that exist on the cluster without this program, as `<namespace>/<name>`
    (e.g. filled by Azure IoT Operations' secret sync): the guardrails policy pack's
    tls-references-exist accepts a listener's manual TLS reference to them. On a cluster the
    pre-flight checks still read them."""
    existing_issuers: list[DeclaredIssuer] = Field(default_factory=list)
    """cert-manager issuers that exist on the cluster without this program, as
    `ClusterIssuer/<name>` or `Issuer/<namespace>/<name>` (e.g. the one Azure IoT Operations
    installs): tls-references-exist accepts a listener's reference to them."""


class StackConfig(StackBase):
    """All `aio-mq:*` keys of a stack file of the preview API (the default)."""

    api_version: Literal["mq.iotoperations.azure.com/v1beta1"] = V1BETA1
    """The API the custom resources are written for; it selects the shape of the other keys."""
    broker_ref: ResourceName = DEFAULT_BROKER
    """Broker of listeners that do not name one."""
    existing_listeners: list[ExistingListener] | None = None
    """Listeners already on the cluster. Rendering, absent means the documented default
    listener; on a cluster, the discovered listeners apply and these are added to them."""
    listeners: list[MqListenerArgs]
    """The BrokerListeners to create; `[]` (written out) for none."""
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

    def tls_secrets(self) -> list[TlsSecret]:
        return [
            TlsSecret(
                f"listeners[{i}].tls.manual",
                "secretName",
                item.tls.manual.secret_name,
                item.namespace,
                item.tls.manual.secret_namespace,
                item.tls.manual.creates_secret,
            )
            for i, item in enumerate(self.listeners)
            if item.tls and item.tls.manual
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
    existing_listeners: list[v1.ExistingListenerV1] | None = None
    """GA listeners already on the cluster. Rendering, absent means the `default` listener
    Azure IoT Operations installs, unless `listeners` declares it (the stack then manages it);
    on a cluster, the discovered listeners apply and these are added to them."""
    listeners: list[v1.MqListenerV1Args]
    """The GA BrokerListeners to create; `[]` (written out) for none."""
    authentications: list[BrokerAuthenticationArgs] = Field(default_factory=list)
    """The GA BrokerAuthentications to create."""
    existing_authentications: list[BrokerAuthenticationArgs] | None = None
    """BrokerAuthentications already on the cluster; rendering, absent means `default`
    (service account tokens, audience aio-internal); on a cluster, the discovered ones apply
    and these are added to them."""
    authorizations: list[BrokerAuthorizationArgs] = Field(default_factory=list)
    """The GA BrokerAuthorizations to create."""
    existing_authorizations: list[BrokerAuthorizationArgs] = Field(default_factory=list)
    """BrokerAuthorizations already on the cluster; absent means none."""
    wait_timeout_seconds: TimeoutSeconds = DEFAULT_TIMEOUT_SECONDS
    """On a cluster, how long `up` waits for the broker to accept each object it creates or
    changes, and for a LoadBalancer listener's address (seconds; 0: do not wait)."""

    azure: AzureTarget | None = None
    """Create the objects as Azure resources of this IoT Operations instance (Azure Resource
    Manager) instead of Kubernetes custom resources; issuers and TLS Secrets, which are no
    Azure resources, then need aio-mq:kubernetes naming the instance's cluster."""

    @model_validator(mode="before")
    @classmethod
    def _arm_broker_is_the_default_broker_ref(cls, data: Any) -> Any:
        """Without aio-mq:brokerRef, the ARM target's broker is the listeners' broker, as the
        ARM discovery reads it."""
        if isinstance(data, dict) and "brokerRef" not in data and "broker_ref" not in data:
            broker = broker_of(data.get("azure"))
            if broker is not None:
                return {**data, "brokerRef": broker}
        return data

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

    def tls_secrets(self) -> list[TlsSecret]:
        return [
            TlsSecret(
                f"listeners[{i}].ports[{j}].tls.manual",
                "secretRef",
                port.tls.manual.secret_ref,
                item.namespace,
                None,
                port.tls.manual.creates_secret,
            )
            for i, item in enumerate(self.listeners)
            for j, port in enumerate(item.ports)
            if port.tls and port.tls.manual
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

    def existing(self) -> list[v1.ExistingListenerV1]:
        if self.existing_listeners is not None:
            return self.existing_listeners
        return v1_sharing.assumed_existing(self.listener_facts())


CONFIG_MODELS: dict[str, type[StackConfig] | type[StackConfigV1]] = {
    V1BETA1: StackConfig,
    v1.API_VERSION: StackConfigV1,
}
"""The config model of each API version aio-mq speaks; the first is the default."""


def read_config_keys() -> dict[str, Any]:
    """The raw `aio-mq:*` values of the running stack, parsed as components/stack_file.py
    parses a stack file's (the engine passes every value as a string)."""
    raw: dict[str, Any] = {}
    # The SDK has no public way to list keys: the engine's are in CONFIG, older hosts' in env.
    for full_key in sorted({*CONFIG.get(), *get_config_env()}):
        project, _, key = full_key.partition(":")
        if project != PROJECT:
            continue
        value = get_config(full_key)
        raw[key] = value if value is None else program_value(key, value)
    return raw


def load_config(
    raw: dict[str, Any] | None = None, stack_file: StackFile | None = None
) -> StackConfig | StackConfigV1:
    """Validate the stack configuration; raise one ConfigError with every problem found.

    Without arguments, the running stack's keys and its stack file (which tells which values
    are encrypted) are read."""
    if raw is None:
        raw, stack_file = read_config_keys(), StackFile.of_running_stack()
        if stack_file is not None:
            raw = with_decrypted_values_typed(raw, stack_file.encrypted_paths())
    stack_name = pulumi.get_stack()
    if not raw:
        # An empty or cut-short stack file would otherwise delete every listener on `up`.
        raise ConfigError([_no_configuration(stack_file, stack_name)])
    first = private_keys_in_clear(raw, stack_file, stack_name)
    if "listeners" not in raw:
        first.append(
            Problem(
                f"{PROJECT}:listeners",
                "required key is missing",
                f"list the listeners; to remove every listener, write {PROJECT}:listeners: []",
            )
        )

    def public_passphrase_on_a_cluster(stack: StackConfig | StackConfigV1) -> list[Problem]:
        target = stack.kubernetes
        if target.render_yaml_to_directory is not None:
            return []
        if loopback_cluster(target.kubeconfig, target.context):  # nothing leaves the machine
            return []
        return public_passphrase(stack_file, stack_name)

    return validate_config(raw, public_passphrase_on_a_cluster, first=first, discovery_follows=True)


def validate_config(
    raw: dict[str, Any],
    *checks: Callable[[StackConfig | StackConfigV1], list[Problem]],
    subject: str = "the configuration",
    first: list[Problem] | None = None,
    discovery_follows: bool = False,
) -> StackConfig | StackConfigV1:
    """`raw` as the config model its `apiVersion` selects, checked as a whole (issuer
    references; under GA the listener rules and references) and by `checks`; one ConfigError
    with every problem found, after the `first` ones found on `raw`. The package's
    MqListenerSet shares this with the stack file.

    `discovery_follows`: the stack program, which on a cluster reads what exists there before
    it creates anything; the GA checks against existing objects then wait for that."""
    version = raw.get("apiVersion", V1BETA1)
    model = CONFIG_MODELS.get(version) if isinstance(version, str) else None
    if model is None:
        problem = Problem(
            f"{PROJECT}:apiVersion",
            f"{version!r} is not an API version aio-mq speaks",
            f"use one of {', '.join(CONFIG_MODELS)} (default: {V1BETA1})",
        )
        raise ConfigError([*(first or []), problem], subject)
    known = config_keys(model)
    # Unknown keys are reported here, with the project prefix the stack file uses.
    problems = [
        preview_api_problem() if key == "azure" else _unknown_key(key, known)
        for key in raw
        if key not in known
    ] + (first or [])
    given = {k: v for k, v in raw.items() if k in known}
    try:
        stack = model.model_validate({"listeners": [], **given})
    except ValidationError as exc:
        raise ConfigError(problems + problems_from_validation(exc, model), subject) from None
    problems += _issuer_problems(stack) + [p for check in checks for p in check(stack)]
    if isinstance(stack, StackConfigV1):
        problems += _v1_problems(stack, live=discovery_follows and discovers(stack))
        if stack.azure is not None:
            problems += arm_problems(
                stack.azure,
                broker_ref=stack.broker_ref if "broker_ref" in stack.model_fields_set else None,
                listeners=stack.listeners,
                authentications=stack.authentications,
                authorizations=stack.authorizations,
                namespace=stack.namespace,
                kubernetes_given=stack.kubernetes != KubernetesTarget(),
                issuers=len(stack.issuers),
            )
    if problems:
        raise ConfigError(problems, subject)
    return stack


def config_keys(model: type[Spec]) -> list[str]:
    """The stack-file keys (without the project prefix) of a config model."""
    return [field.alias or name for name, field in model.model_fields.items()]


def _no_configuration(stack_file: StackFile | None, stack: str) -> Problem:
    where = str(stack_file.path) if stack_file else f"stacks/Pulumi.{stack}.yaml"
    return Problem(
        "",
        f"the stack file sets no {PROJECT}: key ({where} is empty, cut short or missing); "
        f"running it would delete every listener of the stack",
        f"restore the file (e.g. git checkout -- {where}); to remove every listener on "
        f"purpose, write {PROJECT}:listeners: []",
    )


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


def _v1_problems(stack: StackConfigV1, live: bool = False) -> list[Problem]:
    """The GA rules over the whole config: listeners, names and references. `live`: what
    exists is read from the cluster later (`_deploy_v1`), so only the existing* keys count
    here, and references wait for the cluster."""
    authentications = _declared(stack, "authentications", stack.authentications)
    authorizations = _declared(stack, "authorizations", stack.authorizations)
    existing_authentications = _existing_authentications(stack, assume=not live)
    existing_authorizations = _declared(
        stack, "existingAuthorizations", stack.existing_authorizations
    )
    existing = stack.existing_listeners or [] if live else stack.existing()
    facts = v1_existing_facts(existing, stack.namespace, stack.broker_ref)
    problems = [
        # The registry checks these again listener by listener; here they join the others.
        *v1_sharing.listener_problems([*facts, *stack.listener_facts()]),
        *v1_sharing.duplicate_names(
            AUTHENTICATION_KIND, authentications + existing_authentications
        ),
        *v1_sharing.duplicate_names(AUTHORIZATION_KIND, authorizations + existing_authorizations),
    ]
    if not live:
        problems += v1_sharing.reference_problems(
            stack.listener_facts(),
            authentications + existing_authentications,
            authorizations + existing_authorizations,
        )
    return problems


def _existing_authentications(stack: StackConfigV1, assume: bool) -> list[v1_sharing.Declared]:
    """The declared existing authentications; absent, when `assume`, the default one."""
    declared = stack.existing_authentications
    if declared is None:
        declared = [DEFAULT_AUTHENTICATION] if assume else []
    return _declared(stack, "existingAuthentications", declared)


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


def render_directory(target: KubernetesTarget) -> str | None:
    """Where manifests are rendered to; None when the stack talks to a cluster."""
    return os.environ.get(RENDER_OVERRIDE_ENV) or target.render_yaml_to_directory


def discovers(stack: StackBase) -> bool:
    """Whether the stack program reads what already exists from its cluster."""
    return stack.discovery and render_directory(stack.kubernetes) is None


def kubernetes_provider(
    target: KubernetesTarget, opts: pulumi.ResourceOptions | None = None
) -> k8s.Provider:
    render_to = render_directory(target)
    if render_to:
        return k8s.Provider("kubernetes", render_yaml_to_directory=render_to, opts=opts)
    return k8s.Provider(
        "kubernetes", context=target.context, kubeconfig=target.kubeconfig, opts=opts
    )


def _renamed(name: str, pulumi_name: str, pulumi_names: set[str]) -> pulumi.ResourceOptions:
    """An alias to the plain name for a resource named `<namespace>/<name>` since namespaces
    became part of the name, unless another resource of the stack now has the plain name."""
    moved = pulumi_name != name and name not in pulumi_names
    return pulumi.ResourceOptions(aliases=[pulumi.Alias(name=name)] if moved else None)


def _provider_and_issuers(
    stack: StackConfig | StackConfigV1, registry: ProgramListeners, parent: pulumi.Resource | None
) -> tuple[
    k8s.Provider | None, dict[tuple[str, str, str | None], k8s.apiextensions.CustomResource]
]:
    """The Kubernetes provider (none under a parent) and the stack's issuers, by (kind, name,
    namespace: None for a ClusterIssuer)."""
    provider = (
        kubernetes_provider(stack.kubernetes, pulumi.ResourceOptions(depends_on=registry.gate()))
        if parent is None
        else None
    )
    issuers: dict[tuple[str, str, str | None], k8s.apiextensions.CustomResource] = {}
    issuer_names = {
        resource_name(i.name, i.namespace or stack.namespace, stack.namespace)
        for i in stack.issuers
        if i.kind == "Issuer"
    }
    for issuer in stack.issuers:
        namespace = (issuer.namespace or stack.namespace) if issuer.kind == "Issuer" else None
        name = resource_name(issuer.name, namespace or stack.namespace, stack.namespace)
        issuers[(issuer.kind, issuer.name, namespace)] = cert_manager_issuer(
            issuer.model_copy(update={"namespace": namespace}),
            pulumi.ResourceOptions.merge(
                pulumi.ResourceOptions(
                    provider=provider, parent=parent, depends_on=registry.gate()
                ),
                _renamed(issuer.name, name, issuer_names),
            ),
            resource_name=name,
        )
    return provider, issuers


def deploy(
    stack: StackConfig | StackConfigV1, parent: pulumi.Resource | None = None
) -> dict[str, pulumi.Input[dict[str, Any]]]:
    """Create the stack's issuers, authentications, authorizations and listeners; return each
    listener's summary by name (`<namespace>/<name>` for a name also used in the stack's
    namespace).

    Everything is checked before the first resource is created, so a refusal leaves nothing
    registered. Without `parent` (the stack program) nothing else can follow, so the registry
    is sealed and no resource waits on its gate; a Kubernetes provider is made from
    `stack.kubernetes`. Under a parent (the package's MqListenerSet) everything is its child,
    uses the parent's provider, and waits on the gate for what the program creates later.

    The stack program on a cluster first runs the pre-flight checks and discovery; under a
    parent the cluster is the consumer's provider, which cannot be read from here."""
    registry = program_listeners()
    if isinstance(stack, StackConfigV1) and stack.azure is not None:
        return _deploy_arm(stack, stack.azure, registry, parent)
    if isinstance(stack, StackConfigV1):
        return _deploy_v1(stack, registry, parent)
    cluster_problems: list[Problem] = []
    discovered = None
    if parent is None and render_directory(stack.kubernetes) is None:
        cluster_problems, discovered = check_cluster(stack, discover if stack.discovery else None)
    existing, existing_links, existing_auth = _existing(stack, discovered)
    try:
        registry.declare_existing(existing, existing_links)
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
    registry.admit_all(listeners, cluster_problems)
    if parent is None:
        registry.seal()

    provider, issuers = _provider_and_issuers(stack, registry, parent)
    create_auth(pulumi.ResourceOptions(providers=[provider] if provider else None, parent=parent))

    listener_names = {checked.resource_name for checked in listeners}
    uses_of_name = Counter(checked.args.name for checked in listeners)
    summaries: dict[str, pulumi.Input[dict[str, Any]]] = {}
    for checked in listeners:
        args = checked.args
        automatic = args.tls.automatic if args.tls else None
        ref = automatic.issuer_ref if automatic else None
        uses = None
        if ref and ref.group == CERT_MANAGER_GROUP:
            scope = args.namespace if ref.kind == "Issuer" else None
            uses = issuers.get((ref.kind, ref.name, scope))
        listener = MqListener(
            checked.resource_name,
            args,
            pulumi.ResourceOptions.merge(
                pulumi.ResourceOptions(
                    providers=[provider] if provider else None,
                    parent=parent,
                    depends_on=[uses] if uses else None,
                ),
                _renamed(args.name, checked.resource_name, listener_names),
            ),
            origin=checked.facts.origin,
        )
        # Exported by name; by Pulumi name only when the name repeats in another namespace.
        # Sealed, the links are final now: plain values, no Output (each one costs a task).
        shared = uses_of_name[args.name] > 1
        summary = listener.summary_values() if parent is None else listener.summary
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


def _deploy_v1(
    stack: StackConfigV1, registry: ProgramListeners, parent: pulumi.Resource | None
) -> dict[str, pulumi.Input[dict[str, Any]]]:
    """`deploy` for the GA API: every listener checked first (on a cluster, after the
    pre-flight checks and against what is there), then the issuers, authentications and
    authorizations, then each listener after what it uses.

    The stack program also exports `endpoints` (components/v1/endpoints.py) and, on a cluster,
    has `up` wait for the broker to accept each object (components/v1/wait.py)."""
    cluster_problems: list[Problem] = []
    existing = v1_existing_facts(stack.existing(), stack.namespace, stack.broker_ref)
    discovered: DiscoveredV1 | None = None
    if parent is None and render_directory(stack.kubernetes) is None:
        registry.on_cluster = True
        cluster_problems, discovered = check_cluster(
            stack, discover_v1 if stack.discovery else None
        )
        if discovered is not None:
            existing, live_problems = _live_v1(stack, discovered)
            cluster_problems += live_problems
    listeners = _admit_v1(stack, registry, parent, existing, cluster_problems)

    provider, issuers = _provider_and_issuers(stack, registry, parent)
    wait = _wait(stack) if parent is None else None
    opts = pulumi.ResourceOptions(provider=provider, parent=parent, depends_on=registry.gate())
    watched = _auth_objects(stack, opts, wait)  # what the broker answers for; listeners follow
    known: dict[tuple[str, str, str | None], pulumi.Resource] = {
        **issuers,
        **{(w.kind, w.name, w.namespace): w.resource for w in watched},
    }

    uses_of_name = Counter(checked.args.name for checked in listeners)
    summaries: dict[str, pulumi.Input[dict[str, Any]]] = {}
    for checked in listeners:
        args = checked.args
        namespace = str(args.namespace)
        wanted: list[tuple[str, str, str | None]] = []
        for port in args.ports:
            spec = port.tls.cert_manager_certificate_spec if port.tls else None
            if spec is not None and spec.issuer_ref.group == CERT_MANAGER_GROUP:
                ref = spec.issuer_ref
                wanted.append((ref.kind, ref.name, namespace if ref.kind == "Issuer" else None))
            wanted.append((AUTHENTICATION_KIND, str(port.authentication_ref), namespace))
            wanted.append((AUTHORIZATION_KIND, str(port.authorization_ref), namespace))
        depends_on = list({key: known[key] for key in wanted if key in known}.values())
        listener = MqListenerV1(
            checked.resource_name,
            args,
            pulumi.ResourceOptions(
                providers=[provider] if provider else None,
                parent=parent,
                depends_on=depends_on or None,
            ),
            origin=checked.facts.origin,
            wait=wait,
        )
        origin = checked.facts.origin
        watched.append(
            Watched("BrokerListener", namespace, args.name, origin, listener.broker_listener)
        )
        # Exported by name; by Pulumi name only when the name repeats in another namespace.
        shared = uses_of_name[args.name] > 1
        summary = listener.summary_values() if parent is None else listener.summary
        summaries[checked.resource_name if shared else args.name] = summary
    if parent is None:
        ways_in = _endpoints(
            stack, dict(zip(summaries, listeners, strict=True)), watched, wait, discovered
        )
        pulumi.export("endpoints", pulumi.Output.from_input(ways_in))
    return summaries


def _auth_objects(
    stack: StackConfigV1, opts: pulumi.ResourceOptions, wait: Wait | None
) -> list[Watched]:
    """Register the stack's BrokerAuthentications and BrokerAuthorizations."""
    objects: list[tuple[str, BrokerAuthenticationArgs | BrokerAuthorizationArgs]] = [
        *((f"authentications[{i}]", obj) for i, obj in enumerate(stack.authentications)),
        *((f"authorizations[{i}]", obj) for i, obj in enumerate(stack.authorizations)),
    ]
    watched = []
    for origin, obj in objects:
        namespace = obj.namespace or stack.namespace
        resource = broker_resource(obj.model_copy(update={"namespace": namespace}), opts, wait)
        watched.append(Watched(resource_kind(obj), namespace, obj.name, origin, resource))
    return watched


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
        *_declared(stack, "authentications", stack.authentications),
        *_existing_authentications(stack, assume=discovered is None),
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
    got no address in time."""
    accepted: dict[pulumi.Resource, bool] = {}
    cluster = None
    if render_directory(stack.kubernetes) is None and not pulumi.runtime.is_dry_run():
        said, problems = await wait_verdicts(watched, wait)
        if problems:
            raise BrokerRefusalError(problems)
        accepted = {w.resource: v == "succeeded" for w, v in zip(watched, said, strict=True)}
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


def _admit_v1(
    stack: StackConfigV1,
    registry: ProgramListeners,
    parent: pulumi.Resource | None,
    existing: list[v1_sharing.Listener],
    problems: list[Problem],
) -> list[CheckedListener[v1.MqListenerV1Args]]:
    """The stack's GA listeners, checked as one unit with what exists and the `problems` found
    so far (any problem: nothing is registered); the stack program's registry is then sealed."""
    try:
        registry.declare_existing(existing, api_version=v1.API_VERSION)
    except ConfigError as exc:  # conflicts among them: reported with everything else
        problems = [*problems, *exc.problems]
    listeners: list[CheckedListener[v1.MqListenerV1Args]] = []
    for i, item in enumerate(stack.listeners):
        args = item.resolved(stack.namespace, stack.broker_ref)
        name = resource_name(args.name, str(args.namespace), stack.namespace)
        facts, found = check_listener_v1(args, origin=f"listeners[{i}]")
        listeners.append(CheckedListener(name, args, facts, found, None))
    registry.admit_all(listeners, problems, api_version=v1.API_VERSION)
    if parent is None:
        registry.seal()
    return listeners


def _live_v1(
    stack: StackConfigV1, discovered: DiscoveredV1
) -> tuple[list[v1_sharing.Listener], list[Problem]]:
    """The existing listeners when the cluster was read: the live ones plus those the stack
    declares; and what the stack's references and names break against the live objects."""
    declared = v1_existing_facts(stack.existing_listeners or [], stack.namespace, stack.broker_ref)
    authentications = with_declared(
        discovered.authentications, _existing_authentications(stack, assume=False)
    )
    authorizations = with_declared(
        discovered.authorizations,
        _declared(stack, "existingAuthorizations", stack.existing_authorizations),
    )
    own_authentications = _declared(stack, "authentications", stack.authentications)
    own_authorizations = _declared(stack, "authorizations", stack.authorizations)
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
    existing = v1_existing_facts(stack.existing(), stack.namespace, stack.broker_ref)
    # A composition's target may hold Outputs: unknown now, ARM cannot be read with them.
    if parent is None and discovers(stack) and target.known():
        discovered, cluster_problems = _discover_arm(stack, target)
        if discovered is not None:
            existing, live_problems = _live_v1(stack, discovered)
            cluster_problems += live_problems
    render_to = render_directory(stack.kubernetes)
    if render_to is not None:
        cluster_problems += template_problems(target)
    listeners = _admit_v1(stack, registry, parent, existing, cluster_problems)

    plan = plan_v1(
        stack.namespace,
        [(checked.facts.origin, checked.args) for checked in listeners],
        stack.authentications,
        stack.authorizations,
        stack.issuers,
    )
    resources = arm_resources(plan)
    on_cluster = _on_cluster(stack, plan, registry, parent)
    if render_to is not None:
        if not pulumi.runtime.is_dry_run():  # like the Kubernetes target: files on update
            write_template(render_to, resources, target)
    else:
        # Imported here: the azure-native SDK adds ~0.2 s to every program that imports it.
        from .arm.target import AzureBrokerObjects  # noqa: PLC0415

        AzureBrokerObjects(
            "azure",
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
    provider, issuers = _provider_and_issuers(stack, registry, parent)
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
    discovery = importlib.import_module(".arm.discovery", __package__)
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
