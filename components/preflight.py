"""Pre-flight checks in cluster mode: what the target cluster must have before the stack's first
resource is registered, read-only, each request bounded in time.

  - the kubeconfig and context can be read and the API server answers;
  - the cluster serves the stack's BrokerListener API (and if it serves the other MQ API
    instead, which one);
  - cert-manager (cert-manager.io/v1) is served when the stack creates issuers or a listener
    asks a cert-manager issuer for its certificate;
  - every issuerRef the stack does not satisfy itself names an issuer on the cluster;
  - the namespaces exist; each brokerRef names a Broker in its namespace;
  - every manual-TLS Secret the stack does not create exists, of type kubernetes.io/tls.

Each problem names the key that leads to it, once, however many listeners share the cause.
Both API versions are checked alike: `Needs` is what a stack of either asks of the cluster,
read from any config that has the shape of `StackNeeds`; the live objects are read by the
discovery function of the stack's API, which the caller passes in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import pulumi

from .cluster import Cluster, ClusterError, connect
from .config import TlsSecret
from .errors import Problem
from .issuer import IssuerRef
from .spec import CERT_MANAGER_GROUP

CERT_MANAGER = f"{CERT_MANAGER_GROUP}/v1"
MQ_GA = "mqttbroker.iotoperations.azure.com/v1"
MQ_APIS = {
    "mq.iotoperations.azure.com/v1beta1": "Azure IoT Operations (preview MQ)",
    MQ_GA: "Azure IoT Operations (GA MQTT broker)",
}
"""The BrokerListener APIs and what installs each."""
_CERTIFICATE_KEYS = {
    "mq.iotoperations.azure.com/v1beta1": "tls.automatic",
    MQ_GA: "tls.certManagerCertificateSpec",
}
"""Where a listener (GA: a port) asks cert-manager for its certificate."""
_OTHER_WAY = {
    "mq.iotoperations.azure.com/v1beta1": (
        "or move this stack to GA: tools/migrate-to-v1 {stack_file} > <a new stack file>"
    ),
    MQ_GA: (
        "or write this stack for the preview API (aio-mq:apiVersion "
        "mq.iotoperations.azure.com/v1beta1 and its keys)"
    ),
}
"""How a stack written for one MQ API can follow a cluster that serves the other."""
UNREACHABLE_FIX = (
    "start the cluster (the local stack: tools/local-cluster up), set aio-mq:kubernetes.context "
    "to a cluster that answers, or render offline with aio-mq:kubernetes.renderYamlToDirectory"
)


@dataclass
class _Uses:
    """The key paths that use one thing on the cluster; a missing thing is reported once, at
    its first use."""

    paths: list[str] = field(default_factory=list)

    def problem(self, message: str, fix: str) -> Problem:
        others = len(self.paths) - 1
        also = f" (also used by {others} other key{'s' if others > 1 else ''})" if others else ""
        return Problem(self.paths[0], message + also, fix)


class _Placed(Protocol):
    @property
    def namespace(self) -> str | None: ...


class _Listener(_Placed, Protocol):
    @property
    def broker_ref(self) -> str | None: ...


class StackNeeds(Protocol):
    """What the pre-flight checks read of a stack config, whatever its API version."""

    @property
    def api_version(self) -> str: ...
    @property
    def namespace(self) -> str: ...
    @property
    def broker_ref(self) -> str: ...
    @property
    def kubernetes(self) -> _Target: ...
    @property
    def issuers(self) -> Sequence[_Issuer]: ...
    @property
    def listeners(self) -> Sequence[_Listener]: ...
    @property
    def authentications(self) -> Sequence[_Placed]: ...
    @property
    def authorizations(self) -> Sequence[_Placed]: ...
    def certificate_requests(self) -> list[tuple[str, IssuerRef, str | None]]: ...
    def tls_secrets(self) -> list[TlsSecret]: ...


class _Target(Protocol):
    @property
    def kubeconfig(self) -> str | None: ...
    @property
    def context(self) -> str | None: ...


class _Issuer(_Placed, Protocol):
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...


@dataclass
class Needs:
    """What a stack asks of the cluster, each with the key path that asks it."""

    namespaces: list[tuple[str, str]] = field(default_factory=list)
    """(namespace, key path) of everything the stack puts or reads in a namespace."""
    listener_namespaces: set[str] = field(default_factory=set)
    """The namespaces of the stack's listeners and of its objects that name listeners."""
    issuers: list[tuple[str, str]] = field(default_factory=list)
    """(key path, name) of each issuer the stack creates."""
    issuer_refs: list[tuple[str, IssuerRef, str]] = field(default_factory=list)
    """(key path of an issuerRef, the ref, the listener's namespace) of every certificate."""
    brokers: list[tuple[str, str, str]] = field(default_factory=list)
    """(namespace, broker, key path) of every listener."""
    secrets: list[tuple[str, str, str, bool]] = field(default_factory=list)
    """(namespace, name, key path, whether the stack creates it) of every manual-TLS Secret."""

    @classmethod
    def of(cls, stack: StackNeeds) -> Needs:
        needs = cls()
        ns = stack.namespace

        def use(namespace: str | None, path: str) -> None:
            needs.namespaces.append((namespace or ns, path if namespace else "namespace"))

        for j, issuer in enumerate(stack.issuers):
            needs.issuers.append((f"issuers[{j}]", issuer.name))
            if issuer.kind == "Issuer":
                use(issuer.namespace, f"issuers[{j}].namespace")
        placed = [
            ("authentications", stack.authentications),
            ("authorizations", stack.authorizations),
        ]
        for key, objects in placed:
            for j, obj in enumerate(objects):
                use(obj.namespace, f"{key}[{j}].namespace")
                needs.listener_namespaces.add(obj.namespace or ns)
        for i, listener in enumerate(stack.listeners):
            namespace = listener.namespace or ns
            use(listener.namespace, f"listeners[{i}].namespace")
            needs.listener_namespaces.add(namespace)
            path = f"listeners[{i}].brokerRef" if listener.broker_ref else "brokerRef"
            needs.brokers.append((namespace, listener.broker_ref or stack.broker_ref, path))
        for path, ref, listener_namespace in stack.certificate_requests():
            needs.issuer_refs.append((f"{path}.issuerRef", ref, listener_namespace or ns))
        for secret in stack.tls_secrets():
            if secret.secret_namespace:
                use(secret.secret_namespace, f"{secret.path}.secretNamespace")
            namespace = secret.secret_namespace or secret.listener_namespace or ns
            needs.secrets.append((namespace, secret.name, secret.name_path, secret.creates))
        return needs


D = TypeVar("D")
Discover = Callable[[Cluster, frozenset[str]], D]
"""Reads the live objects of a stack's API in the given namespaces (a `discover` of
components/discovery.py or components/v1/discovery.py)."""


def check_cluster(
    stack: StackNeeds, discover: Discover[D] | None = None
) -> tuple[list[Problem], D | None]:
    """Every problem the target cluster has with `stack`, and, with `discover` (the stack's
    discovery is on) and a cluster that serves the stack's listener API, what `discover` read:
    the live objects of that API the stack must coexist with."""
    target = stack.kubernetes
    try:
        cluster = connect(target.kubeconfig, target.context)
    except ClusterError as exc:
        return [Problem(f"kubernetes.{exc.key}", str(exc), exc.fix or UNREACHABLE_FIX)], None
    try:
        return _check(cluster, Needs.of(stack), stack.api_version, discover)
    except ClusterError as exc:
        return [Problem("kubernetes.context", str(exc), exc.fix or UNREACHABLE_FIX)], None


def _check(
    cluster: Cluster, needs: Needs, api_version: str, discover: Discover[D] | None
) -> tuple[list[Problem], D | None]:
    problems: list[Problem] = []
    mq = _served_kinds(cluster, api_version)
    if "BrokerListener" not in mq:
        problems.append(_mq_not_served(cluster, api_version))
    missing_namespaces, namespace_problems = _namespaces(cluster, needs)
    problems += namespace_problems
    users = [path for path, _ in needs.issuers] + [
        path for path, ref, _ in needs.issuer_refs if ref.group == CERT_MANAGER_GROUP
    ]
    if users and not _served_kinds(cluster, CERT_MANAGER) >= {"Issuer", "ClusterIssuer"}:
        problems.append(
            _Uses(users).problem(
                f"cert-manager is not installed on the cluster (context {cluster.context}): it "
                f"does not serve {CERT_MANAGER} Issuer and ClusterIssuer",
                "install cert-manager on the cluster, or use tls.manual (a Secret) instead "
                f"of {_CERTIFICATE_KEYS[api_version]} and remove aio-mq:issuers",
            )
        )
    elif users:
        problems += _issuers(cluster, needs, missing_namespaces)
    if "Broker" in mq:
        problems += _brokers(cluster, needs, api_version, missing_namespaces)
    problems += _secrets(cluster, needs, missing_namespaces)
    if discover is None or "BrokerListener" not in mq:
        return problems, None
    return problems, discover(cluster, frozenset(needs.listener_namespaces - missing_namespaces))


def _served_kinds(cluster: Cluster, group_version: str) -> set[str]:
    resources = cluster.get(f"/apis/{group_version}") or {}
    return {
        str(resource.get("kind"))
        for resource in resources.get("resources") or []
        if "/" not in str(resource.get("name"))  # subresources such as brokerlisteners/status
    }


def _mq_not_served(cluster: Cluster, api_version: str) -> Problem:
    product = MQ_APIS.get(api_version, api_version)
    message = (
        f"the cluster (context {cluster.context}) does not serve {api_version} BrokerListener: "
        f"{product} is not installed there"
    )
    fix = f"install {product} on the cluster, or point aio-mq:kubernetes.context at one that has it"
    for other, other_product in MQ_APIS.items():
        if other != api_version and "BrokerListener" in _served_kinds(cluster, other):
            message += f"; it serves {other} instead: the cluster runs {other_product}"
            fix = (
                f"this stack writes {api_version}: point aio-mq:kubernetes.context at a cluster "
                f"that runs {product}, {_other_way(api_version)}"
            )
    return Problem("kubernetes.context", message, fix)


def _other_way(api_version: str) -> str:
    """How a stack can follow a cluster that serves the other MQ API."""
    return _OTHER_WAY[api_version].format(stack_file=f"stacks/Pulumi.{pulumi.get_stack()}.yaml")


def _issuers(cluster: Cluster, needs: Needs, missing_namespaces: set[str]) -> list[Problem]:
    declared = {name for _, name in needs.issuers}  # wrong kind/namespace: load_config
    uses: dict[tuple[str, str | None, str], _Uses] = {}
    for path, ref, listener_namespace in needs.issuer_refs:
        if ref.group != CERT_MANAGER_GROUP or ref.name in declared:
            continue
        namespace = listener_namespace if ref.kind == "Issuer" else None
        if namespace in missing_namespaces:
            continue
        uses.setdefault((ref.kind, namespace, ref.name), _Uses()).paths.append(f"{path}.name")
    problems = []
    for (kind, namespace, name), use in uses.items():
        where = f"/namespaces/{namespace}/issuers" if namespace else "/clusterissuers"
        if cluster.get(f"/apis/{CERT_MANAGER}{where}/{name}") is not None:
            continue
        there = f" in namespace {namespace!r}" if namespace else ""
        present = _names(cluster, f"/apis/{CERT_MANAGER}{where}")
        problems.append(
            use.problem(
                f"{kind} {name!r} does not exist{there} on the cluster "
                f"(context {cluster.context}), and the stack does not create it",
                f"declare it under aio-mq:issuers, create it on the cluster, or name one that "
                f"exists ({_listing(present)})",
            )
        )
    return problems


def _namespaces(cluster: Cluster, needs: Needs) -> tuple[set[str], list[Problem]]:
    uses: dict[str, _Uses] = {}
    for namespace, path in needs.namespaces:
        uses.setdefault(namespace, _Uses()).paths.append(path)
    missing = {ns for ns in uses if cluster.get(f"/api/v1/namespaces/{ns}") is None}
    if not missing:
        return missing, []
    present = _names(cluster, "/api/v1/namespaces")
    return missing, [
        uses[ns].problem(
            f"namespace {ns!r} does not exist on the cluster (context {cluster.context})",
            f"create it (kubectl create namespace {ns}), or use one that exists "
            f"({_listing(present)})",
        )
        for ns in sorted(missing, key=lambda ns: uses[ns].paths[0])
    ]


def _brokers(
    cluster: Cluster, needs: Needs, api_version: str, missing_namespaces: set[str]
) -> list[Problem]:
    uses: dict[tuple[str, str], _Uses] = {}
    for namespace, broker, path in needs.brokers:
        if namespace not in missing_namespaces:
            uses.setdefault((namespace, broker), _Uses()).paths.append(path)
    problems = []
    for (namespace, broker), use in uses.items():
        brokers = f"/apis/{api_version}/namespaces/{namespace}/brokers"
        if cluster.get(f"{brokers}/{broker}") is not None:
            continue
        problems.append(
            use.problem(
                f"Broker {broker!r} does not exist in namespace {namespace!r} on the cluster "
                f"(context {cluster.context})",
                f"name a Broker of that namespace ({_listing(_names(cluster, brokers))}), or "
                "deploy the broker first",
            )
        )
    return problems


def _secrets(cluster: Cluster, needs: Needs, missing_namespaces: set[str]) -> list[Problem]:
    created = set()
    uses: dict[tuple[str, str], _Uses] = {}
    for namespace, name, path, creates in needs.secrets:
        if creates:
            created.add((namespace, name))
        elif namespace not in missing_namespaces:
            uses.setdefault((namespace, name), _Uses()).paths.append(path)
    problems = []
    for (namespace, name), use in uses.items():
        if (namespace, name) in created:
            continue
        kind = cluster.secret_type(namespace, name)
        create = (
            f"kubectl create secret tls {name} -n {namespace} --cert=server.crt "
            "--key=server.key, or give tls.manual.certificate and privateKey so that the stack "
            "creates it"
        )
        if kind is None:
            problems.append(
                use.problem(
                    f"Secret {name!r} does not exist in namespace {namespace!r} on the cluster "
                    f"(context {cluster.context}), and the stack does not create it; without it "
                    "the broker frontend does not start",
                    create,
                )
            )
        elif kind != "kubernetes.io/tls":
            problems.append(
                use.problem(
                    f"Secret {name!r} in namespace {namespace!r} is of type {kind}, not "
                    "kubernetes.io/tls; the broker frontend does not start with it",
                    f"replace it with a TLS Secret: {create}",
                )
            )
    return problems


def _names(cluster: Cluster, path: str) -> list[str]:
    listed = cluster.get(path) or {}
    return sorted(str((item.get("metadata") or {}).get("name")) for item in listed.get("items", []))


def _listing(names: list[str], limit: int = 10) -> str:
    if not names:
        return "there are none"
    more = f", and {len(names) - limit} more" if len(names) > limit else ""
    return "on the cluster: " + ", ".join(names[:limit]) + more
