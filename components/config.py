"""What every stack config has whatever its API version: the shared `aio-mq:*` keys, where the
manifests go, and the checks that read only those (issuers, render or cluster).

Each API's config model (components/v1beta1/config.py, components/v1/config.py) extends
`StackBase`; components/stack.py reads a stack file into the one its `apiVersion` names.
"""

from __future__ import annotations

import os
from abc import abstractmethod
from dataclasses import dataclass

from pydantic import Field, StrictBool

from .declared import DeclaredIssuer, DeclaredSecret
from .errors import Problem, join_path
from .issuer import IssuerArgs, IssuerRef
from .spec import CERT_MANAGER_GROUP, DEFAULT_NAMESPACE, Dns1123Label, Spec

RENDER_OVERRIDE_ENV = "AIO_MQ_RENDER_YAML_TO_DIRECTORY"
"""When set, manifests are rendered to this directory whatever `aio-mq:kubernetes` says: how
CI previews the cluster stacks offline."""


@dataclass(frozen=True)
class TlsSecret:
    """A manual-TLS Secret a listener (GA: a port) uses."""

    path: str
    """Key path of the manual TLS block, e.g. `listeners[0].tls.manual`."""
    name_key: str
    """The key of the Secret's name in it (`secretName`, GA `secretRef`)."""
    name: str
    listener_namespace: str | None
    secret_namespace: str | None
    """Where the Secret is when not in the listener's namespace (preview API only)."""
    creates: bool
    """Whether the stack creates it (certificate and key given)."""

    @property
    def name_path(self) -> str:
        return f"{self.path}.{self.name_key}"


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

    @abstractmethod
    def certificate_requests(self) -> list[tuple[str, IssuerRef, str | None]]:
        """(key path, issuerRef, listener namespace) of every cert-manager certificate."""

    @abstractmethod
    def tls_secrets(self) -> list[TlsSecret]:
        """The manual-TLS Secrets the listeners use."""

    @abstractmethod
    def private_keys(self) -> list[str]:
        """Key paths of the manual-TLS private keys given in the config."""

    def problems(self, live: bool, cluster_given: bool = False) -> list[Problem]:
        """What the API's rules find over the whole config beyond each key's own checks.
        `live`: what exists is read from the cluster later, only the existing* keys count now.
        `cluster_given`: a composition, whose Kubernetes provider is the cluster for what the
        target cannot hold itself."""
        return []


def config_keys(model: type[Spec]) -> list[str]:
    """The stack-file keys (without the project prefix) of a config model."""
    return [field.alias or name for name, field in model.model_fields.items()]


def issuer_problems(stack: StackBase) -> list[Problem]:
    """What the issuers and the certificates that name them break: an issuer declared twice,
    a reference with the wrong kind, an Issuer in another namespace than its listener."""
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


def render_directory(target: KubernetesTarget) -> str | None:
    """Where manifests are rendered to; None when the stack talks to a cluster."""
    return os.environ.get(RENDER_OVERRIDE_ENV) or target.render_yaml_to_directory


def discovers(stack: StackBase) -> bool:
    """Whether the stack program reads what already exists from its cluster."""
    return stack.discovery and render_directory(stack.kubernetes) is None
