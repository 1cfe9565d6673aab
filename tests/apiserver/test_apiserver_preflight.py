"""Pre-flight checks and live discovery on a real API server, through the real engine.

Every refusal is asserted on `pulumi preview` / `pulumi up` output: the message, no Python
traceback, nothing applied. Each pulumi run has a timeout (PREFLIGHT_TIMEOUT), so a check that
hangs fails the test instead of stalling CI; the measured durations are printed (run with -s).
"""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s

from .conftest import CONTEXT, MQ_GROUP, MQ_VERSION, Cluster, Project, StartCluster

pytestmark = [pytest.mark.e2e, pytest.mark.apiserver]

STACK = "preflight"
PREFLIGHT_TIMEOUT = 120
"""Seconds a refused preview may take at most, engine start included (the checks themselves
are bounded at 10 s per request, and a dead server costs one request)."""
LIVE = f"on the cluster (context {CONTEXT}), not managed by this stack"


def configure(project: Project, cluster_or_kubeconfig: Cluster | str, **config: Any) -> None:
    """Set the test stack's aio-mq:* keys to `config`, creating the stack on first use."""
    kubeconfig = (
        cluster_or_kubeconfig
        if isinstance(cluster_or_kubeconfig, str)
        else str(cluster_or_kubeconfig.kubeconfig)
    )
    path = project.stack_file(STACK)
    if not path.exists():
        project.init(STACK)
    document = yaml.safe_load(path.read_text())
    document["config"] = {
        "aio-mq:kubernetes": {"kubeconfig": kubeconfig, "context": CONTEXT},
        **{f"aio-mq:{key}": value for key, value in config.items()},
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def refused(project: Project, command: str = "preview") -> str:
    """Run a command that must be refused; return its output."""
    args = ["up", "--yes"] if command == "up" else [command]
    started = time.monotonic()
    result = project.pulumi(*args, "--stack", STACK, check=False, timeout=PREFLIGHT_TIMEOUT)
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    print(f"\n[{command} refused in {elapsed:.1f} s]")
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    assert "no resource was registered" in output, output
    return output


def create(
    cluster: Cluster, namespace: str, plural: str, kind: str, name: str, **spec: Any
) -> None:
    cluster.custom.create_namespaced_custom_object(
        MQ_GROUP,
        MQ_VERSION,
        namespace,
        plural,
        {
            "apiVersion": f"{MQ_GROUP}/{MQ_VERSION}",
            "kind": kind,
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        },
    )


def namespace_with_broker(cluster: Cluster) -> str:
    namespace = cluster.new_namespace("pf")
    create(cluster, namespace, "brokers", "Broker", "broker")
    return namespace


def listener_spec(port: int, service_type: str, service_name: str) -> dict[str, Any]:
    return {
        "brokerRef": "broker",
        "port": port,
        "serviceType": service_type,
        "serviceName": service_name,
        "authenticationEnabled": False,
        "authorizationEnabled": False,
    }


def deployed_state(project: Project) -> list[tuple[str, Any]]:
    resources = project.export(STACK)["deployment"].get("resources") or []
    return sorted((r["urn"], r.get("outputs")) for r in resources)


# --- live listeners made out of band ---------------------------------------------------------

OUT_OF_BAND = {
    # Same type (clusterIp) as ours, another serviceName.
    "rule-1": ("intruder", listener_spec(1890, "clusterIp", "someone-else"), "Rule 1"),
    # Our Service name, another type.
    "rule-2": ("intruder", listener_spec(1891, "loadBalancer", "aio-mq-dmqtt-frontend"), "Rule 2"),
    # Our port on our broker.
    "ports": ("intruder", listener_spec(1884, "clusterIp", "aio-mq-dmqtt-frontend"), "Ports"),
    # The name of a listener the stack is about to create, made by someone else.
    "names": ("planned", listener_spec(1892, "clusterIp", "aio-mq-dmqtt-frontend"), "Names"),
}


@pytest.mark.parametrize("case", list(OUT_OF_BAND))
def test_a_live_listener_made_out_of_band_is_refused_until_it_is_deleted(
    case: str, cluster: Cluster, project: Project
) -> None:
    namespace = namespace_with_broker(cluster)
    mine = {"name": "mine", "port": 1884}
    configure(project, cluster, namespace=namespace, listeners=[mine])
    project.pulumi("up", "--yes", "--stack", STACK)
    state = deployed_state(project)
    live = cluster.listeners(namespace)
    assert live["mine"]["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "aio-mq"}

    name, spec, rule = OUT_OF_BAND[case]
    create(cluster, namespace, "brokerlisteners", "BrokerListener", name, **spec)
    # The stack also wants a second listener now, which must not be applied either.
    configure(
        project,
        cluster,
        namespace=namespace,
        listeners=[mine, {"name": "planned", "port": 1885}],
    )
    expected = f"the listener {name!r} {LIVE} ({spec['serviceType']} {spec['serviceName']}:"
    for command in ("preview", "up"):
        output = refused(project, command)
        assert f"{rule}: listeners[" in output and expected in output, output
        # Our own live listener ('mine', carrying the stack's mark) is no conflict.
        assert "the listener 'mine'" not in output
    assert deployed_state(project) == state
    after = cluster.listeners(namespace)
    assert sorted(after) == sorted(["mine", name])
    assert (
        after["mine"]["metadata"]["resourceVersion"] == live["mine"]["metadata"]["resourceVersion"]
    )

    cluster.custom.delete_namespaced_custom_object(
        MQ_GROUP, MQ_VERSION, namespace, "brokerlisteners", name
    )
    preview = project.pulumi("preview", "--stack", STACK, timeout=PREFLIGHT_TIMEOUT)
    assert "+ 1 to create" in preview.stdout  # 'planned': its BrokerListener


# --- every pre-flight problem: its message, in bounded time, no traceback ---------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_api_server_down(cluster: Cluster, project: Project, tmp_path: Any) -> None:
    kubeconfig = yaml.safe_load(cluster.kubeconfig.read_text())
    server = f"https://127.0.0.1:{free_port()}"
    for entry in kubeconfig["clusters"]:
        entry["cluster"]["server"] = server
    dead = tmp_path / "kubeconfig-dead"
    dead.write_text(yaml.safe_dump(kubeconfig))
    configure(project, str(dead), listeners=[{"name": "a", "port": 1884}])
    output = refused(project)
    assert (
        f"kubernetes.context: the API server of context '{CONTEXT}' ({server}) did not answer "
        "within 10 s:" in output
    )
    assert "fix: start the cluster (the local stack: tools/local-cluster up)" in output


def test_unknown_context(cluster: Cluster, project: Project) -> None:
    configure(project, cluster, listeners=[{"name": "a", "port": 1884}])
    path = project.stack_file(STACK)
    path.write_text(path.read_text().replace(f"context: {CONTEXT}", "context: aks-prod"))
    output = refused(project)
    assert (
        f"kubernetes.context: context 'aks-prod' is not in the kubeconfig {cluster.kubeconfig} "
        f"(contexts: {CONTEXT})" in output
    )
    assert (
        f"fix: set aio-mq:kubernetes.context to one of the kubeconfig's contexts ({CONTEXT})"
        in (output)
    )


def test_mq_crd_missing_then_ga_only(start_cluster: StartCluster, project: Project) -> None:
    bare = start_cluster(crds="cert-manager")
    configure(project, bare, listeners=[{"name": "a", "port": 1884}])
    output = refused(project)
    assert (
        f"kubernetes.context: the cluster (context {CONTEXT}) does not serve "
        "mq.iotoperations.azure.com/v1beta1 BrokerListener: Azure IoT Operations (preview MQ) is "
        "not installed there\n" in output
    )

    # The GA API: only a BrokerListener CRD of mqttbroker.iotoperations.azure.com/v1.
    extensions = k8s.ApiextensionsV1Api(bare.api)
    crd: Any = ga_listener_crd()  # the client takes a plain manifest as the body
    extensions.create_custom_resource_definition(crd)
    deadline = time.monotonic() + 30
    while not _established(extensions, "brokerlisteners.mqttbroker.iotoperations.azure.com"):
        assert time.monotonic() < deadline, "the GA CRD was not established"
        time.sleep(0.2)
    output = refused(project)
    assert (
        "is not installed there; it serves mqttbroker.iotoperations.azure.com/v1 instead: the "
        "cluster runs Azure IoT Operations (GA MQTT broker)" in output
    )
    assert (
        "fix: this stack writes mq.iotoperations.azure.com/v1beta1: point "
        "aio-mq:kubernetes.context at a cluster that runs Azure IoT Operations (preview MQ)"
        in output
    )


def ga_listener_crd() -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "brokerlisteners.mqttbroker.iotoperations.azure.com"},
        "spec": {
            "group": "mqttbroker.iotoperations.azure.com",
            "scope": "Namespaced",
            "names": {
                "kind": "BrokerListener",
                "plural": "brokerlisteners",
                "singular": "brokerlistener",
                "listKind": "BrokerListenerList",
            },
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }


def _established(extensions: k8s.ApiextensionsV1Api, name: str) -> bool:
    crd = extensions.read_custom_resource_definition(name)
    return any(
        c.type == "Established" and c.status == "True"
        for c in ((crd.status.conditions if crd.status else None) or [])
    )


def test_cert_manager_missing(start_cluster: StartCluster, project: Project) -> None:
    no_cert_manager = start_cluster(crds="v1beta1")
    configure(
        project,
        no_cert_manager,
        issuers=[{"name": "ss", "selfSigned": {}}],
        listeners=[
            {"name": "a", "port": 1884, "tls": {"automatic": {"issuerRef": {"name": "ss"}}}}
        ],
    )
    output = refused(project)
    assert (
        f"issuers[0]: cert-manager is not installed on the cluster (context {CONTEXT}): it does "
        "not serve cert-manager.io/v1 Issuer and ClusterIssuer (also used by 1 other key)" in output
    )


def test_namespace_broker_issuer_and_secrets_missing_in_one_report(
    cluster: Cluster, project: Project
) -> None:
    namespace = namespace_with_broker(cluster)
    cluster.core.create_namespaced_secret(
        namespace,
        k8s.V1Secret(
            metadata=k8s.V1ObjectMeta(name="opaque"), type="Opaque", string_data={"a": "b"}
        ),
    )
    absent = f"{namespace}-absent"
    configure(
        project,
        cluster,
        namespace=namespace,
        listeners=[
            {"name": "a", "port": 1884, "namespace": absent},
            {"name": "b", "port": 1885, "brokerRef": "no-broker"},
            {"name": "c", "port": 1886, "tls": {"manual": {"secretName": "no-secret"}}},
            {"name": "d", "port": 1887, "tls": {"manual": {"secretName": "opaque"}}},
            {"name": "e", "port": 1888, "tls": {"automatic": {"issuerRef": {"name": "no-ca"}}}},
        ],
    )
    output = refused(project)
    assert "the configuration has 5 problems" in output
    on = f"on the cluster (context {CONTEXT})"
    for expected in (
        f"listeners[0].namespace: namespace {absent!r} does not exist {on}",
        f"listeners[1].brokerRef: Broker 'no-broker' does not exist in namespace "
        f"{namespace!r} {on}",
        "fix: name a Broker of that namespace (on the cluster: broker)",
        f"listeners[2].tls.manual.secretName: Secret 'no-secret' does not exist in namespace "
        f"{namespace!r} {on}, and the stack does not create it; without it the broker "
        "frontend does not start",
        f"listeners[3].tls.manual.secretName: Secret 'opaque' in namespace {namespace!r} is "
        "of type Opaque, not kubernetes.io/tls",
        f"listeners[4].tls.automatic.issuerRef.name: Issuer 'no-ca' does not exist in "
        f"namespace {namespace!r} {on}, and the stack does not create it",
    ):
        assert expected in output, expected
    assert not cluster.listeners(namespace)
