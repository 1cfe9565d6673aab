"""The local-cluster part of `make bench`: `pulumi up` and `destroy` of N listeners on a real API
server (tools/local-cluster), side by side with a server-side apply and a delete of the same
rendered manifests through the Python Kubernetes client. Also the scratch project copies that
every engine run of the benchmark works in.

Each run gets a fresh cluster in a temporary directory (with the AIO defaults, so the listeners
share the default listener's Service as on a real install); it is stopped and deleted after.
"""

from __future__ import annotations

import gc
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import config, dynamic

from tools.project import LOCAL_CLUSTER, ROOT, copy_project, engine_bin, pulumi, scratch_env

CONTEXT = "aio-mq-local"
ENGINE_TIMEOUT = 1800


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
            project, env = scratch_project(base / "project")
            targets = {
                "bench": {"kubeconfig": kubeconfig, "context": CONTEXT},
                "render": {"renderYamlToDirectory": "out"},
            }
            for name, target in targets.items():
                config_keys = {**stack, "aio-mq:kubernetes": target}
                stack_file = project / "stacks" / f"Pulumi.{name}.yaml"
                stack_file.write_text(yaml.safe_dump({"config": config_keys}))
                bench_pulumi(project, env, "stack", "init", name)

            # The manifests the stack sends, rendered by the same program.
            bench_pulumi(project, env, "up", "--yes", "--skip-preview", "--stack", "render")
            manifests = [
                doc
                for path in sorted((project / "out").rglob("*.yaml"))
                for doc in yaml.safe_load_all(path.read_text())
                if doc
            ]

            up = timed(
                bench_pulumi, project, env, "up", "--yes", "--skip-preview", "--stack", "bench"
            )
            destroy = timed(
                bench_pulumi, project, env, "destroy", "--yes", "--skip-preview", "--stack", "bench"
            )
            client = dynamic.DynamicClient(  # type: ignore[no-untyped-call]
                config.new_client_from_config(  # type: ignore[no-untyped-call]
                    config_file=kubeconfig, context=CONTEXT
                )
            )
            apply = timed(_server_side_apply, client, manifests)
            delete = timed(_delete, client, manifests)
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


def timed(work: Callable[..., object], *args: Any) -> float:
    """Seconds `work(*args)` takes, after a garbage collection (so it pays for none of ours)."""
    gc.collect()
    start = time.perf_counter()
    work(*args)
    return time.perf_counter() - start


def _tool(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(LOCAL_CLUSTER), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"tools/local-cluster {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def scratch_project(directory: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the project in `directory`, and the environment for tools/pulumi on it: a home
    and a backend of its own inside it, the passphrase `bench`."""
    directory.mkdir(parents=True)
    copy_project(ROOT, directory)
    env = scratch_env(directory, engine_bin(ROOT), PULUMI_CONFIG_PASSPHRASE="bench")
    return directory, env


def bench_pulumi(directory: Path, env: dict[str, str], *args: str) -> None:
    pulumi(*args, cwd=directory, env=env, check=True, timeout=ENGINE_TIMEOUT)
