"""The `local` stack on a real API server: each test deploys it to a fresh local cluster (which
has the Azure IoT Operations defaults) and reads back what the API server holds."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.pki import tls_pair

from .conftest import AIO_NAMESPACE, MQ_GROUP, MQ_VERSION, Cluster, Project

pytestmark = [pytest.mark.e2e, pytest.mark.apiserver]

STACK = "local"
# What stacks/Pulumi.local.yaml declares, written out by hand with every default.
EXPECTED_LISTENERS: dict[str, dict[str, Any]] = {
    "local-plain": {
        "brokerRef": "broker",
        "port": 1883,
        "serviceType": "clusterIp",
        "serviceName": "aio-mq-dmqtt-frontend",
        "authenticationEnabled": False,
        "authorizationEnabled": False,
    },
    "local-tls": {
        "brokerRef": "broker",
        "port": 8884,
        "serviceType": "clusterIp",
        "serviceName": "aio-mq-dmqtt-frontend",
        "authenticationEnabled": True,
        "authorizationEnabled": False,
        "tls": {
            "automatic": {
                "issuerRef": {
                    "name": "aio-mq-local-selfsigned",
                    "kind": "Issuer",
                    "group": "cert-manager.io",
                },
                "san": {"dns": ["localhost"], "ip": ["127.0.0.1"]},
            }
        },
    },
    "local-edge": {
        "brokerRef": "broker",
        "port": 8885,
        "serviceType": "loadBalancer",
        "serviceName": "aio-mq-local-edge",
        "authenticationEnabled": False,
        "authorizationEnabled": False,
    },
}
SEEDED_LISTENERS = {"listener"}
SEEDED_ISSUERS = {"mq-dmqtt-frontend"}
# Bounds a destroy that waits on a finalizer nobody removes (it would hang for good): a working
# one takes seconds.
DESTROY_TIMEOUT = 240


def specs(cluster: Cluster) -> dict[str, dict[str, Any]]:
    return {name: item["spec"] for name, item in cluster.listeners(AIO_NAMESPACE).items()}


def issuers(cluster: Cluster) -> dict[str, dict[str, Any]]:
    found = cluster.custom.list_namespaced_custom_object(
        "cert-manager.io", "v1", AIO_NAMESPACE, "issuers"
    )
    return {item["metadata"]["name"]: item for item in found["items"]}  # type: ignore[index]


def resource_versions(cluster: Cluster) -> dict[str, str]:
    objects = {**cluster.listeners(AIO_NAMESPACE), **issuers(cluster)}
    return {name: item["metadata"]["resourceVersion"] for name, item in objects.items()}


@pytest.fixture
def deployed(fresh_cluster: Cluster, project: Project) -> Cluster:
    """The local stack, up on a fresh cluster."""
    fresh_cluster.use_in(project, STACK)
    project.init(STACK)
    project.pulumi("up", "--yes", "--stack", STACK)
    return fresh_cluster


def test_up_creates_exactly_the_declared_objects_with_defaults_written_out(
    deployed: Cluster, project: Project
) -> None:
    listeners = specs(deployed)
    assert set(listeners) == SEEDED_LISTENERS | set(EXPECTED_LISTENERS)
    for name, spec in EXPECTED_LISTENERS.items():
        assert listeners[name] == spec, name
    found = issuers(deployed)
    assert set(found) == SEEDED_ISSUERS | {"aio-mq-local-selfsigned"}
    assert found["aio-mq-local-selfsigned"]["spec"] == {"selfSigned": {}}
    cluster_issuers = deployed.custom.list_cluster_custom_object(
        "cert-manager.io", "v1", "clusterissuers"
    )
    # Only the one the GA install seeds: the preview stack creates none.
    assert [i["metadata"]["name"] for i in cluster_issuers["items"]] == [  # type: ignore[index]
        "azure-iot-operations-aio-certificate-issuer"
    ]
    assert deployed.core.list_namespaced_secret(AIO_NAMESPACE).items == []

    outputs = json.loads(project.pulumi("stack", "output", "--json", "--stack", STACK).stdout)[
        "listeners"
    ]
    assert (
        outputs["local-edge"]["host"] == "aio-mq-local-edge.azure-iot-operations.svc.cluster.local"
    )


def test_a_second_preview_expects_no_changes(deployed: Cluster, project: Project) -> None:
    project.pulumi("preview", "--expect-no-changes", "--stack", STACK)
    project.pulumi("preview", "--refresh", "--expect-no-changes", "--stack", STACK)


def test_a_one_field_change_updates_exactly_that_object(
    deployed: Cluster, project: Project
) -> None:
    before = resource_versions(deployed)
    uid = deployed.listeners(AIO_NAMESPACE)["local-edge"]["metadata"]["uid"]
    project.pulumi("config", "set", "--path", "listeners[2].port", "8886", "--stack", STACK)

    preview = project.pulumi("preview", "--diff", "--stack", STACK)
    assert "1 to update" in preview.stdout
    assert "local-edge" in preview.stdout
    project.pulumi("up", "--yes", "--stack", STACK)

    after = resource_versions(deployed)
    changed = {name for name in before if after.get(name) != before[name]}
    assert changed == {"local-edge"}
    edge = deployed.listeners(AIO_NAMESPACE)["local-edge"]
    assert edge["spec"] == {**EXPECTED_LISTENERS["local-edge"], "port": 8886}
    assert edge["metadata"]["uid"] == uid  # updated in place, not replaced


def test_drift_shows_in_a_refreshed_preview_and_up_puts_it_back(
    deployed: Cluster, project: Project
) -> None:
    # Someone edits the listener on the cluster, out of band.
    deployed.custom.patch_namespaced_custom_object(
        MQ_GROUP,
        MQ_VERSION,
        AIO_NAMESPACE,
        "brokerlisteners",
        "local-plain",
        {"spec": {"port": 1884, "authenticationEnabled": True}},
    )
    assert specs(deployed)["local-plain"]["port"] == 1884

    drift = project.pulumi(
        "preview", "--refresh", "--diff", "--expect-no-changes", "--stack", STACK, check=False
    )
    assert drift.returncode != 0
    assert "local-plain" in drift.stdout
    assert "1884" in drift.stdout

    project.pulumi("up", "--refresh", "--yes", "--stack", STACK)
    assert specs(deployed)["local-plain"] == EXPECTED_LISTENERS["local-plain"]
    project.pulumi("preview", "--refresh", "--expect-no-changes", "--stack", STACK)


def test_destroy_removes_what_the_stack_created_and_nothing_else(
    deployed: Cluster, project: Project
) -> None:
    project.pulumi("destroy", "--yes", "--stack", STACK, timeout=DESTROY_TIMEOUT)

    assert set(specs(deployed)) == SEEDED_LISTENERS
    assert set(issuers(deployed)) == SEEDED_ISSUERS
    assert deployed.get(MQ_GROUP, MQ_VERSION, "brokers", "broker", AIO_NAMESPACE)
    assert deployed.get(MQ_GROUP, MQ_VERSION, "brokerauthentications", "authn", AIO_NAMESPACE)
    namespace = deployed.core.read_namespace(AIO_NAMESPACE)
    assert namespace.status is not None
    assert namespace.status.phase == "Active"
    resources = project.export(STACK)["deployment"].get("resources", [])
    assert [r["type"] for r in resources if r["type"].startswith("kubernetes:")] == []


def test_manual_tls_secret_lands_as_kubernetes_tls_and_the_key_is_ciphertext_in_state(
    fresh_cluster: Cluster, project: Project
) -> None:
    cert, key = tls_pair()
    key_body = key.splitlines()[1]  # a line of the base64 body: unique to this key
    fresh_cluster.use_in(project, STACK)
    project.init(STACK)
    base = "listeners[3]"
    for path, value in (
        ("name", "local-manual"),
        ("port", "8887"),
        ("tls.manual.secretName", "local-manual-cert"),
        ("tls.manual.certificate", cert),
    ):
        project.pulumi(
            "config",
            "set",
            "--plaintext",
            "--path",
            f"{base}.{path}",
            "--stack",
            STACK,
            "--",
            value,
        )
    project.pulumi(
        "config",
        "set",
        "--secret",
        "--path",
        f"{base}.tls.manual.privateKey",
        "--stack",
        STACK,
        stdin=key,
    )
    project.pulumi("up", "--yes", "--stack", STACK)

    secret = fresh_cluster.core.read_namespaced_secret("local-manual-cert", AIO_NAMESPACE)
    assert secret.type == "kubernetes.io/tls"
    data = secret.data or {}
    # (`pulumi config set` drops the key's final newline)
    assert base64.b64decode(data["tls.key"]).decode().strip() == key.strip()
    assert base64.b64decode(data["tls.crt"]).decode().strip() == cert.strip()
    assert specs(fresh_cluster)["local-manual"]["tls"] == {
        "manual": {"secretName": "local-manual-cert"}
    }

    exported = json.dumps(project.export(STACK))
    assert key_body not in exported
    assert "ciphertext" in exported
