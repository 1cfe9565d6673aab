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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .cluster import Cluster, ClusterError, connect
from .discovery import Discovered, discover
from .errors import Problem
from .spec import CERT_MANAGER_GROUP

if TYPE_CHECKING:
    from .stack import StackConfig

CERT_MANAGER = f"{CERT_MANAGER_GROUP}/v1"
MQ_APIS = {
    "mq.iotoperations.azure.com/v1beta1": "Azure IoT Operations (preview MQ)",
    "mqttbroker.iotoperations.azure.com/v1": "Azure IoT Operations (GA MQTT broker)",
}
"""The BrokerListener APIs and what installs each."""
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


def check_cluster(
    stack: StackConfig, api_version: str, discovery: bool = True
) -> tuple[list[Problem], Discovered | None]:
    """Every problem the target cluster has with `stack`, and, when `discovery` is on and the
    listener API is served, the live objects the stack must coexist with."""
    target = stack.kubernetes
    try:
        cluster = connect(target.kubeconfig, target.context)
    except ClusterError as exc:
        return [Problem(f"kubernetes.{exc.key}", str(exc), exc.fix or UNREACHABLE_FIX)], None
    try:
        return _check(cluster, stack, api_version, discovery)
    except ClusterError as exc:
        return [Problem("kubernetes.context", str(exc), exc.fix or UNREACHABLE_FIX)], None


def _check(
    cluster: Cluster, stack: StackConfig, api_version: str, discovery: bool
) -> tuple[list[Problem], Discovered | None]:
    problems: list[Problem] = []
    mq = _served_kinds(cluster, api_version)
    if "BrokerListener" not in mq:
        problems.append(_mq_not_served(cluster, api_version))
    missing_namespaces, namespace_problems = _namespaces(cluster, stack)
    problems += namespace_problems
    users = _cert_manager_users(stack)
    if users and not _served_kinds(cluster, CERT_MANAGER) >= {"Issuer", "ClusterIssuer"}:
        problems.append(
            _Uses(users).problem(
                f"cert-manager is not installed on the cluster (context {cluster.context}): it "
                f"does not serve {CERT_MANAGER} Issuer and ClusterIssuer",
                "install cert-manager on the cluster, or use tls.manual (a Secret) instead "
                "of tls.automatic and remove aio-mq:issuers",
            )
        )
    elif users:
        problems += _issuers(cluster, stack, missing_namespaces)
    if "Broker" in mq:
        problems += _brokers(cluster, stack, api_version, missing_namespaces)
    problems += _secrets(cluster, stack, missing_namespaces)
    if not discovery or "BrokerListener" not in mq:
        return problems, None
    # The namespaces of the stack's listeners and of the objects that list listeners.
    touched = {item.namespace or stack.namespace for item in stack.listeners}
    touched |= {item.namespace or stack.namespace for item in stack.authentications}
    touched |= {item.namespace or stack.namespace for item in stack.authorizations}
    return problems, discover(cluster, touched - missing_namespaces, api_version)


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
                f"that runs {product}"
            )
    return Problem("kubernetes.context", message, fix)


def _cert_manager_users(stack: StackConfig) -> list[str]:
    paths = [f"issuers[{j}]" for j in range(len(stack.issuers))]
    for i, listener in enumerate(stack.listeners):
        automatic = listener.tls.automatic if listener.tls else None
        if automatic is not None and automatic.issuer_ref.group == CERT_MANAGER_GROUP:
            paths.append(f"listeners[{i}].tls.automatic.issuerRef")
    return paths


def _issuers(cluster: Cluster, stack: StackConfig, missing_namespaces: set[str]) -> list[Problem]:
    declared = {issuer.name for issuer in stack.issuers}  # wrong kind/namespace: load_config
    uses: dict[tuple[str, str | None, str], _Uses] = {}
    for i, listener in enumerate(stack.listeners):
        automatic = listener.tls.automatic if listener.tls else None
        if automatic is None or automatic.issuer_ref.group != CERT_MANAGER_GROUP:
            continue
        ref = automatic.issuer_ref
        if ref.name in declared:
            continue
        namespace = (listener.namespace or stack.namespace) if ref.kind == "Issuer" else None
        if namespace in missing_namespaces:
            continue
        uses.setdefault((ref.kind, namespace, ref.name), _Uses()).paths.append(
            f"listeners[{i}].tls.automatic.issuerRef.name"
        )
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


def _namespaces(cluster: Cluster, stack: StackConfig) -> tuple[set[str], list[Problem]]:
    uses: dict[str, _Uses] = {}

    def use(namespace: str | None, path: str) -> None:
        uses.setdefault(namespace or stack.namespace, _Uses()).paths.append(
            path if namespace else "namespace"
        )

    for i, listener in enumerate(stack.listeners):
        use(listener.namespace, f"listeners[{i}].namespace")
        manual = listener.tls.manual if listener.tls else None
        if manual is not None and manual.secret_namespace:
            use(manual.secret_namespace, f"listeners[{i}].tls.manual.secretNamespace")
    for j, issuer in enumerate(stack.issuers):
        if issuer.kind == "Issuer":
            use(issuer.namespace, f"issuers[{j}].namespace")
    for key, objects in (
        ("authentications", stack.authentications),
        ("authorizations", stack.authorizations),
    ):
        for j, obj in enumerate(objects):
            use(obj.namespace, f"{key}[{j}].namespace")
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
    cluster: Cluster, stack: StackConfig, api_version: str, missing_namespaces: set[str]
) -> list[Problem]:
    uses: dict[tuple[str, str], _Uses] = {}
    for i, listener in enumerate(stack.listeners):
        namespace = listener.namespace or stack.namespace
        if namespace in missing_namespaces:
            continue
        path = f"listeners[{i}].brokerRef" if listener.broker_ref else "brokerRef"
        broker = listener.broker_ref or stack.broker_ref
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


def _secrets(cluster: Cluster, stack: StackConfig, missing_namespaces: set[str]) -> list[Problem]:
    created = set()
    uses: dict[tuple[str, str], _Uses] = {}
    for i, listener in enumerate(stack.listeners):
        manual = listener.tls.manual if listener.tls else None
        if manual is None:
            continue
        key = (manual.secret_namespace or listener.namespace or stack.namespace, manual.secret_name)
        if manual.creates_secret:
            created.add(key)
        elif key[0] not in missing_namespaces:
            uses.setdefault(key, _Uses()).paths.append(f"listeners[{i}].tls.manual.secretName")
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
