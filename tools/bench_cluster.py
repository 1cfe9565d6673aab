"""The local-cluster part of `make bench`: `pulumi up` and `destroy` of N listeners on a real API
server (tools/local-cluster), side by side with a server-side apply and a delete of the same
rendered manifests through the Python Kubernetes client.

Each run gets a fresh cluster in a temporary directory (with the AIO defaults, so the listeners
share the default listener's Service as on a real install); it is stopped and deleted after.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import config, dynamic
from pr_comment import copy_project, engine_bin  # tools/ is on sys.path

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "local-cluster"
CONTEXT = "aio-mq-local"


@dataclass(frozen=True)
class ClusterTimes:
    """Seconds for N listeners (and the stack's one issuer)."""

    pulumi_up: float
    pulumi_destroy: float
    apply: float
    delete: float
    start: float


def cluster_seconds(stack: dict[str, Any]) -> ClusterTimes:
    """Times for the stack whose `aio-mq:*` keys are `stack` (anything but aio-mq:kubernetes)."""
    with tempfile.TemporaryDirectory(prefix="aio-mq-bench-cluster-") as tmp:
        base = Path(tmp)
        cluster_env = {**os.environ, "AIO_MQ_CLUSTER_DIR": str(base / "cluster")}
        began = time.perf_counter()
        kubeconfig = _tool(cluster_env, "up", "--aio-defaults").splitlines()[-1]
        start = time.perf_counter() - began
        try:
            env = {
                **os.environ,
                "AIO_MQ_ENGINE_BIN": str(engine_bin(ROOT)),
                "PULUMI_HOME": str(base / "home"),
                "PULUMI_CONFIG_PASSPHRASE": "bench",
            }
            env.pop("AIO_MQ_RENDER_YAML_TO_DIRECTORY", None)
            project = base / "project"
            project.mkdir()
            copy_project(ROOT, project)
            (project / "state").mkdir()
            env["PULUMI_BACKEND_URL"] = (project / "state").as_uri()
            targets = {
                "bench": {"kubeconfig": kubeconfig, "context": CONTEXT},
                "render": {"renderYamlToDirectory": "out"},
            }
            for name, target in targets.items():
                config_keys = {**stack, "aio-mq:kubernetes": target}
                stack_file = project / "stacks" / f"Pulumi.{name}.yaml"
                stack_file.write_text(yaml.safe_dump({"config": config_keys}))
                _pulumi(project, env, "stack", "init", name)

            # The manifests the stack sends, rendered by the same program.
            _pulumi(project, env, "up", "--yes", "--skip-preview", "--stack", "render")
            manifests = [
                doc
                for path in sorted((project / "out").rglob("*.yaml"))
                for doc in yaml.safe_load_all(path.read_text())
                if doc
            ]

            up = _timed(_pulumi, project, env, "up", "--yes", "--skip-preview", "--stack", "bench")
            destroy = _timed(
                _pulumi, project, env, "destroy", "--yes", "--skip-preview", "--stack", "bench"
            )
            client = dynamic.DynamicClient(  # type: ignore[no-untyped-call]
                config.new_client_from_config(  # type: ignore[no-untyped-call]
                    config_file=kubeconfig, context=CONTEXT
                )
            )
            apply = _timed(_server_side_apply, client, manifests)
            delete = _timed(_delete, client, manifests)
        finally:
            _tool(cluster_env, "down", "--purge")
    return ClusterTimes(up, destroy, apply, delete, start)


def _server_side_apply(client: Any, manifests: list[dict[str, Any]]) -> None:
    # One request per object, as `kubectl apply --server-side` does.
    for manifest in manifests:
        resource = client.resources.get(api_version=manifest["apiVersion"], kind=manifest["kind"])
        resource.server_side_apply(
            body=manifest,
            name=manifest["metadata"]["name"],
            namespace=manifest["metadata"].get("namespace"),
            field_manager="aio-mq-bench",
        )


def _delete(client: Any, manifests: list[dict[str, Any]]) -> None:
    # Foreground propagation, as Pulumi deletes: each delete completes once the collector ran.
    for manifest in manifests:
        resource = client.resources.get(api_version=manifest["apiVersion"], kind=manifest["kind"])
        resource.delete(
            name=manifest["metadata"]["name"],
            namespace=manifest["metadata"].get("namespace"),
            propagation_policy="Foreground",
        )
    for manifest in manifests:
        resource = client.resources.get(api_version=manifest["apiVersion"], kind=manifest["kind"])
        _wait_gone(resource, manifest["metadata"])


def _wait_gone(resource: Any, metadata: dict[str, Any]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = resource.get(namespace=metadata.get("namespace"))
        if all(item.metadata.name != metadata["name"] for item in found.items):
            return
        time.sleep(0.05)
    raise TimeoutError(f"{metadata['name']} was not deleted within 120 s")


def _timed(work: Any, *args: Any) -> float:
    start = time.perf_counter()
    work(*args)
    return time.perf_counter() - start


def _tool(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(TOOL), *args], env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"tools/local-cluster {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def _pulumi(directory: Path, env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [str(ROOT / "tools" / "pulumi"), "--non-interactive", *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"pulumi {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
