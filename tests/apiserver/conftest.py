"""Local clusters for the tests on a real API server (`@pytest.mark.apiserver`).

Each cluster runs from `tools/local-cluster up` in a temporary AIO_MQ_CLUSTER_DIR and is
stopped (`down --purge`) when its fixture ends. The binaries are built on first use (`make test`
builds them before pytest starts, with `make cluster-bin`). A cluster that cannot start fails
the test, with the tool's message; nothing is skipped.

- `cluster`: one cluster for the session, every CRD set, with the AIO defaults. Tests on it
  use their own namespaces.
- `fresh_cluster`: a cluster of its own for one test, every CRD set, with the AIO defaults.
- `start_cluster(crds=..., aio_defaults=...)`: any other shape (e.g. `crds="v1beta1"` for a
  cluster without cert-manager), stopped at the end of the test.
- `operator_double(kubeconfig, *args)`: the TEST DOUBLE of the broker's operator
  (tools/operator-double) answering on a cluster, stopped at the end of the test. The real
  operator cannot run on a bare API server; the double writes the status it would.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes import config
from kubernetes.client.exceptions import ApiException

from tests.e2e.conftest import Project, engine_bin, project

__all__ = ["Cluster", "Project", "engine_bin", "make", "project", "released"]

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "local-cluster"
DOUBLE = ROOT / "tools" / "operator-double"
CONTEXT = "aio-mq-local"
AIO_NAMESPACE = "azure-iot-operations"
MQ_GROUP, MQ_VERSION = "mq.iotoperations.azure.com", "v1beta1"
# A cold start builds the binaries first.
UP_TIMEOUT = 1800
DOWN_TIMEOUT = 120


@dataclass
class Cluster:
    """A running local cluster and clients for it."""

    directory: Path
    kubeconfig: Path
    api: k8s.ApiClient = field(repr=False)

    @classmethod
    def at(cls, directory: Path, kubeconfig: Path) -> Cluster:
        """Clients for the cluster `tools/local-cluster` runs in `directory`."""
        api = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(kubeconfig), context=CONTEXT
        )
        return cls(directory, kubeconfig, api)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "AIO_MQ_CLUSTER_DIR": str(self.directory)}

    @property
    def core(self) -> k8s.CoreV1Api:
        return k8s.CoreV1Api(self.api)

    @property
    def custom(self) -> k8s.CustomObjectsApi:
        return k8s.CustomObjectsApi(self.api)

    def tool(self, *args: str, timeout: float = UP_TIMEOUT) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(TOOL), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def new_namespace(self, prefix: str = "t") -> str:
        name = f"{prefix}-{secrets.token_hex(4)}"
        self.core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
        return name

    def listeners(self, namespace: str) -> dict[str, dict[str, Any]]:
        """The BrokerListeners in `namespace`, by name."""
        found: dict[str, Any] = self.custom.list_namespaced_custom_object(  # type: ignore[assignment]
            MQ_GROUP, MQ_VERSION, namespace, "brokerlisteners"
        )
        return {item["metadata"]["name"]: item for item in found["items"]}

    def get(self, group: str, version: str, plural: str, name: str, namespace: str) -> Any:
        """One custom object, or None when it does not exist."""
        try:
            return self.custom.get_namespaced_custom_object(group, version, namespace, plural, name)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def use_in(self, project: Project, stack: str) -> None:
        """Point `stack` of the copied project at this cluster's kubeconfig."""
        path = project.stack_file(stack)
        document = yaml.safe_load(path.read_text())
        document["config"]["aio-mq:kubernetes"] = {
            "kubeconfig": str(self.kubeconfig),
            "context": CONTEXT,
        }
        path.write_text(yaml.safe_dump(document, sort_keys=False))


def released(listener: Any) -> bool:
    """Whether a listener carries no aio-mq stack's marks (components/metadata.py)."""
    metadata = listener["metadata"]
    return "app.kubernetes.io/managed-by" not in (
        metadata.get("labels") or {}
    ) and "aio-mq/stack" not in (metadata.get("annotations") or {})


def make(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    """`make *args` in the project copy, as a user runs it."""
    return subprocess.run(
        # Under `make test` the outer make's flags would make this one print its directory.
        ["make", "--no-print-directory", *args],
        cwd=project.root,
        env=project.env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _up(directory: Path, *args: str) -> Cluster:
    result = subprocess.run(
        [str(TOOL), "up", *args],
        env={**os.environ, "AIO_MQ_CLUSTER_DIR": str(directory)},
        capture_output=True,
        text=True,
        timeout=UP_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"tools/local-cluster up {' '.join(args)} failed:\n{result.stderr}")
    return Cluster.at(directory, Path(result.stdout.strip().splitlines()[-1]))


def _down(cluster: Cluster) -> None:
    result = cluster.tool("down", "--purge", timeout=DOWN_TIMEOUT)
    assert result.returncode == 0, result.stderr


StartCluster = Callable[..., Cluster]


@pytest.fixture
def start_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartCluster]:
    started: list[Cluster] = []

    def start(crds: str | None = None, aio_defaults: bool = True) -> Cluster:
        args = [f"--crds={crds}"] if crds is not None else []
        if aio_defaults:
            args.append("--aio-defaults")
        cluster = _up(tmp_path_factory.mktemp("cluster"), *args)
        started.append(cluster)
        return cluster

    yield start
    for cluster in started:
        _down(cluster)


@pytest.fixture
def fresh_cluster(start_cluster: StartCluster) -> Cluster:
    return start_cluster()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    running = _up(tmp_path_factory.mktemp("cluster"), "--aio-defaults")
    yield running
    _down(running)


OperatorDouble = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def operator_double(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OperatorDouble]:
    """Start the broker operator's test double on a kubeconfig's cluster (it waits for the
    cluster to come up); each is stopped, by its own process id, when the test ends."""
    started: list[subprocess.Popen[str]] = []

    def start(kubeconfig: Path, *args: str) -> subprocess.Popen[str]:
        log = tmp_path_factory.mktemp("operator-double") / "log"
        double = subprocess.Popen(
            [str(DOUBLE), "--kubeconfig", str(kubeconfig), "--interval", "0.1", *args],
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
            text=True,
        )
        started.append(double)
        return double

    yield start
    for double in started:
        double.terminate()
        double.wait(timeout=30)
