"""tools/local-cluster itself: reuse, status, stopping by PID, stale PID files, a server that
dies while starting, CRD sets."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s

from tools.cluster.local_cluster import ClusterDir

from .conftest import AIO_NAMESPACE, MQ_GROUP, MQ_VERSION, TOOL, Cluster, StartCluster

pytestmark = [pytest.mark.e2e, pytest.mark.apiserver]

COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager")
GA_GROUP = "mqttbroker.iotoperations.azure.com"


def pids(cluster: Cluster) -> dict[str, int]:
    return {
        name: int((cluster.directory / "run" / f"{name}.pid").read_text())
        for name in COMPONENTS
        if (cluster.directory / "run" / f"{name}.pid").exists()
    }


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def served_kinds(cluster: Cluster) -> set[str]:
    crds = k8s.ApiextensionsV1Api(cluster.api).list_custom_resource_definition()
    return {f"{crd.spec.group}/{crd.spec.names.kind}" for crd in crds.items}


def test_up_reuses_the_running_cluster_and_status_says_ready(start_cluster: StartCluster) -> None:
    cluster = start_cluster()
    before = pids(cluster)
    assert set(before) == set(COMPONENTS)

    again = cluster.tool("up", "--aio-defaults")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == str(cluster.kubeconfig)
    assert "reusing the cluster" in again.stderr
    assert pids(cluster) == before

    status = cluster.tool("status")
    assert status.returncode == 0, status.stdout
    assert "api server: ready at https://127.0.0.1:" in status.stdout
    for name, pid in before.items():
        assert f"{name}: running (pid {pid})" in status.stdout


def private_keys_in(directory: Path) -> list[Path]:
    return [
        path
        for path in directory.rglob("*")
        if path.is_file() and b"PRIVATE KEY" in path.read_bytes()
    ]


def test_the_keys_are_made_at_up_outside_the_cluster_directory_and_purged_with_it(
    start_cluster: StartCluster,
) -> None:
    cluster = start_cluster()
    pki = ClusterDir(cluster.directory.resolve()).pki
    assert private_keys_in(cluster.directory) == []  # the directory is in the checkout
    keys = sorted(p.name for p in private_keys_in(pki))
    assert keys == ["apiserver.key", "service-account.key"]
    assert stat.S_IMODE(pki.stat().st_mode) == 0o700
    assert all(stat.S_IMODE((pki / key).stat().st_mode) == 0o600 for key in keys)

    result = cluster.tool("down", "--purge")
    assert result.returncode == 0, result.stderr
    assert not pki.exists()


def test_keys_a_cluster_directory_held_before_are_moved_out_and_kept(
    start_cluster: StartCluster,
) -> None:
    cluster = start_cluster()
    pki = ClusterDir(cluster.directory.resolve()).pki
    token = (pki / "tokens.csv").read_text()
    # A cluster directory as `up` left it before 2026-12-06, its servers still running.
    shutil.move(pki, cluster.directory / "pki")

    result = cluster.tool("up", "--aio-defaults")
    assert result.returncode == 0, result.stderr
    assert f"moved the cluster's keys out of {cluster.directory}" in result.stderr
    assert private_keys_in(cluster.directory) == []
    assert (pki / "tokens.csv").read_text() == token  # the same keys: the kubeconfig still works
    assert "reusing the cluster" in result.stderr
    assert cluster.get(MQ_GROUP, MQ_VERSION, "brokerlisteners", "listener", AIO_NAMESPACE)
    # And it starts again from the keys' new place, with its data.
    assert cluster.tool("down").returncode == 0
    again = cluster.tool("up")
    assert again.returncode == 0, again.stderr
    assert cluster.get(MQ_GROUP, MQ_VERSION, "brokerlisteners", "listener", AIO_NAMESPACE)


def test_down_stops_every_process_it_started(start_cluster: StartCluster) -> None:
    cluster = start_cluster()
    started = pids(cluster)
    assert all(alive(pid) for pid in started.values())

    result = cluster.tool("down")
    assert result.returncode == 0, result.stderr
    assert not any(alive(pid) for pid in started.values())
    assert pids(cluster) == {}
    status = cluster.tool("status")
    assert status.returncode == 3
    assert "api server: not ready" in status.stdout


def test_a_stale_pid_file_is_ignored_and_up_starts_again(start_cluster: StartCluster) -> None:
    cluster = start_cluster()
    assert cluster.tool("down").returncode == 0
    # As after a crash: the files remain, naming a dead PID and one reused by another program.
    run = cluster.directory / "run"
    (run / "etcd.pid").write_text("999999\n")
    (run / "kube-apiserver.pid").write_text(f"{os.getpid()}\n")

    status = cluster.tool("status")
    assert "etcd: stopped" in status.stdout
    assert "kube-apiserver: stopped" in status.stdout
    assert alive(os.getpid())

    result = cluster.tool("up")
    assert result.returncode == 0, result.stderr
    assert set(pids(cluster)) == set(COMPONENTS)
    assert os.getpid() not in pids(cluster).values()
    # The data survived the restart: the seeded listener is still there.
    assert cluster.get(MQ_GROUP, MQ_VERSION, "brokerlisteners", "listener", AIO_NAMESPACE)


def test_the_aio_defaults_are_created_with_the_cluster_and_never_written_again(
    start_cluster: StartCluster,
) -> None:
    cluster = start_cluster(crds="v1,cert-manager")

    def default() -> Any:
        return cluster.get(GA_GROUP, "v1", "brokerlisteners", "default", AIO_NAMESPACE)

    # As a stack that manages GA's `default` leaves it (a port added, its marks), and with the
    # seeded authentication deleted on purpose.
    managed = default()
    managed["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "aio-mq"}
    managed["spec"]["ports"].append({"port": 1883})
    cluster.custom.replace_namespaced_custom_object(
        GA_GROUP, "v1", AIO_NAMESPACE, "brokerlisteners", "default", managed
    )
    cluster.custom.delete_namespaced_custom_object(
        GA_GROUP, "v1", AIO_NAMESPACE, "brokerauthentications", "default"
    )
    before = default()

    # Every `make … STACK=local-ga` runs this: reusing the cluster, then restarting it.
    for args in ([], ["down"]):
        if args:
            assert cluster.tool(*args).returncode == 0
        again = cluster.tool("up", "--crds=v1,cert-manager", "--aio-defaults")
        assert again.returncode == 0, again.stderr
        assert "created the Azure IoT Operations defaults" not in again.stderr
        assert default() == before  # same resourceVersion: not written
        assert not cluster.get(GA_GROUP, "v1", "brokerauthentications", "default", AIO_NAMESPACE)


def test_the_aio_defaults_of_a_cluster_made_without_them_never_replace_what_exists(
    start_cluster: StartCluster,
) -> None:
    cluster = start_cluster(crds="v1,cert-manager", aio_defaults=False)
    mine = {
        "apiVersion": f"{GA_GROUP}/v1",
        "kind": "BrokerListener",
        "metadata": {"name": "default"},
        "spec": {"brokerRef": "default", "serviceType": "ClusterIp", "ports": [{"port": 1883}]},
    }
    cluster.core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=AIO_NAMESPACE)))
    cluster.custom.create_namespaced_custom_object(
        GA_GROUP, "v1", AIO_NAMESPACE, "brokerlisteners", mine
    )
    before = cluster.get(GA_GROUP, "v1", "brokerlisteners", "default", AIO_NAMESPACE)

    seeded = cluster.tool("up", "--crds=v1,cert-manager", "--aio-defaults")
    assert seeded.returncode == 0, seeded.stderr
    # The absent ones are created, the existing listener is left as it is.
    assert cluster.get(GA_GROUP, "v1", "brokerlisteners", "default", AIO_NAMESPACE) == before
    assert cluster.get(GA_GROUP, "v1", "brokerauthentications", "default", AIO_NAMESPACE)
    assert cluster.get(GA_GROUP, "v1", "brokers", "default", AIO_NAMESPACE)


def test_a_server_that_dies_while_starting_fails_up_with_its_log(
    start_cluster: StartCluster,
) -> None:
    cluster = start_cluster(aio_defaults=False)
    assert cluster.tool("down").returncode == 0
    # A corrupt store: etcd exits at start.
    for db in (cluster.directory / "etcd").rglob("db"):
        db.write_bytes(b"not a bbolt database" * 100)

    result = cluster.tool("up", timeout=120)
    assert result.returncode == 1
    assert "ERROR: etcd exited with code" in result.stderr
    assert "while starting; the end of" in result.stderr
    assert str(cluster.directory / "logs" / "etcd.log") in result.stderr
    assert "Traceback" not in result.stderr
    assert pids(cluster) == {}


def test_up_installs_only_the_crd_sets_asked_for(start_cluster: StartCluster) -> None:
    cluster = start_cluster(crds="v1beta1")
    kinds = served_kinds(cluster)
    assert f"{MQ_GROUP}/BrokerListener" in kinds
    assert "cert-manager.io/Issuer" not in kinds
    # The defaults whose CRD is missing are left out, the others are there.
    assert cluster.get(MQ_GROUP, MQ_VERSION, "brokerlisteners", "listener", AIO_NAMESPACE)

    # A running cluster is not silently reused for another CRD set.
    other = cluster.tool("up")
    assert other.returncode == 1
    assert "runs with CRD sets v1beta1, not " in other.stderr


def test_a_cluster_without_crds_serves_none_of_them(start_cluster: StartCluster) -> None:
    cluster = start_cluster(crds="none", aio_defaults=False)
    assert not {
        kind for kind in served_kinds(cluster) if "cert-manager" in kind or MQ_GROUP in kind
    }


def test_an_unknown_crd_set_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(TOOL), "up", "--crds=v1beta2"],
        env={**os.environ, "AIO_MQ_CLUSTER_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "unknown CRD set(s) v1beta2; the sets are the directories under" in result.stderr
    sets = sorted(p.name for p in (TOOL.parents[1] / "crds").iterdir() if p.is_dir())
    assert ", ".join(sets) in result.stderr
