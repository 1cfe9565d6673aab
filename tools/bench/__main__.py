"""aio-mq benchmark: `make bench` (`python -m tools.bench [--engine-only | --cluster-only]`).

Prints a table, then as its last line
    bench: parse_10k_ms=P validate_10k_ms=X ratio_1000=Y ratio_5000=Z peak_mb_5000=W
where parse is validating 10,000 listener configs into models, validate is the sharing and
port rules over those 10,000 listeners, ratio_N is the MqListener program's run time under
mocks over a plain program registering the same BrokerListener CRs with CustomResource, and
peak_mb_5000 is the Python heap peak of the MqListener program with 5,000 listeners.
Everything runs in this one process so the ratios compare like with like. With the engine
available (tools/ensure-engine has built it, or AIO_MQ_BENCH_ENGINE=1), the wall time of a real
`pulumi preview` of 100 listeners is compared as well.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import shutil
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components import (
    MqAuthentication,
    MqAuthenticationArgs,
    MqListener,
    MqListenerArgs,
)
from components.v1beta1.models import API_VERSION
from components.v1beta1.sharing import Listener, conflicts
from tools.bench.cluster import bench_pulumi, cluster_seconds, scratch_project, timed

SIZES = (10, 100, 1_000, 5_000)
REPEATS = int(os.environ.get("AIO_MQ_BENCH_REPEATS", "3"))


def listener_items(n: int) -> list[dict[str, Any]]:
    """n valid listener configs: every fourth one with TLS, ports skipping the default 8883."""
    ports = (p for p in range(1024, 65536) if p != 8883)
    items: list[dict[str, Any]] = []
    for i, port in zip(range(n), ports, strict=False):
        item: dict[str, Any] = {
            "name": f"listener-{i}",
            "port": port,
            "authenticationEnabled": i % 2 == 0,
        }
        if i % 4 == 0:
            item["tls"] = {
                "automatic": {
                    "issuerRef": {"name": "bench-issuer"},
                    "san": {"dns": ["mq.example.com"]},
                }
            }
        items.append(item)
    return items


def authentication_item(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The one BrokerAuthentication that lists the authentication-enabled listeners (without
    it the program refuses them)."""
    return {
        "name": "bench-authn",
        "listenerRef": [item["name"] for item in items if item.get("authenticationEnabled")],
        "authenticationMethods": [{"sat": {"audiences": ["aio-mq"]}}],
    }


class NullMocks(pulumi.runtime.Mocks):
    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        return (f"{args.name}-id" if args.custom else None), {}

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def run_under_mocks(program: Callable[[], None]) -> float:
    """Seconds to run `program` to completion under mocks, on a fresh loop and engine."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    pulumi.runtime.set_mocks(NullMocks(), project="aio-mq", stack="bench", preview=False)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def wrapped() -> None:
        program()

    gc.collect()
    start = time.perf_counter()
    wrapped()
    elapsed = time.perf_counter() - start
    loop.close()
    return elapsed


def _authentication(args: list[MqListenerArgs]) -> MqAuthenticationArgs:
    return MqAuthenticationArgs.model_validate(
        authentication_item([a.model_dump(by_alias=True) for a in args])
    )


def component_program(args: list[MqListenerArgs]) -> Callable[[], None]:
    authentication = _authentication(args)

    def program() -> None:
        MqAuthentication(authentication.name, authentication)
        for a in args:
            MqListener(a.name, a)

    return program


def plain_program(args: list[MqListenerArgs]) -> Callable[[], None]:
    """The same CRs from the same parsed args, registered directly: no component, no checks."""
    authentication = _authentication(args)

    def program() -> None:
        k8s.apiextensions.CustomResource(
            authentication.name,
            api_version=API_VERSION,
            kind="BrokerAuthentication",
            metadata={"name": authentication.name, "namespace": "azure-iot-operations"},
            spec=authentication.spec(),
        )
        for a in args:
            k8s.apiextensions.CustomResource(
                a.name,
                api_version=API_VERSION,
                kind="BrokerListener",
                metadata={"name": a.name, "namespace": "azure-iot-operations"},
                spec=a.resolved("azure-iot-operations", "broker").spec(),
            )

    return program


def best(measure: Callable[..., float], *args: Any) -> float:
    """Fastest of REPEATS runs of measure(*args), in seconds."""
    return min(measure(*args) for _ in range(REPEATS))


def parse_all(items: list[dict[str, Any]]) -> list[MqListenerArgs]:
    return [MqListenerArgs.model_validate(item) for item in items]


def facts(args: list[MqListenerArgs]) -> list[Listener]:
    return [
        Listener(
            a.name,
            "azure-iot-operations",
            "broker",
            a.port,
            a.service_type,
            a.service_name,
            a.node_port,
        )
        for a in args
    ]


def peak_mb(program: Callable[[], None]) -> float:
    tracemalloc.start()
    run_under_mocks(program)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


ENGINE_SIZES = {100: 5, 1_000: 2}
"""Listeners of each real-engine preview, and how many timed previews per program (after a
warm-up one): a 1,000-listener preview takes a minute on a loaded 2-core machine."""


def engine_preview_seconds(n: int, samples: int = 5) -> tuple[float, float] | None:
    """Wall time of `pulumi preview` (render mode) for n listeners: project vs plain program,
    best of `samples`, the two programs' previews alternating so that both see the same load."""
    if not (
        shutil.which("pulumi") or os.environ.get("AIO_MQ_BENCH_ENGINE") == "1" or _engine_cached()
    ):
        return None
    items = listener_items(n)
    with tempfile.TemporaryDirectory(prefix="aio-mq-bench-") as tmp:
        base = Path(tmp)
        # Both projects are named aio-mq: each gets a backend (and a home) of its own.
        project, project_env = scratch_project(base / "component")
        config = {
            "config": {
                "aio-mq:kubernetes": {"renderYamlToDirectory": "rendered"},
                "aio-mq:issuers": [{"name": "bench-issuer", "selfSigned": {}}],
                "aio-mq:listeners": items,
                "aio-mq:authentications": [authentication_item(items)],
            }
        }
        (project / "stacks" / "Pulumi.bench.yaml").write_text(yaml.safe_dump(config))
        plain, plain_env = scratch_project(base / "plain")
        (plain / "__main__.py").write_text(_PLAIN_MAIN)
        (plain / "listeners.yaml").write_text(yaml.safe_dump(items))
        (plain / "authentication.yaml").write_text(yaml.safe_dump(authentication_item(items)))
        (plain / "stacks" / "Pulumi.bench.yaml").write_text("config: {}\n")
        envs = {project: project_env, plain: plain_env}
        for directory in (project, plain):
            bench_pulumi(directory, envs[directory], "stack", "init", "bench")
            # Warm-up: bytecode, page cache.
            bench_pulumi(directory, envs[directory], "preview", "--stack", "bench")
        times: dict[Path, list[float]] = {project: [], plain: []}
        for _ in range(samples):
            for directory in (project, plain):
                times[directory].append(
                    timed(bench_pulumi, directory, envs[directory], "preview", "--stack", "bench")
                )
        return min(times[project]), min(times[plain])


_PLAIN_MAIN = """\"\"\"The component stack's resources, registered directly.\"\"\"
import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.v1beta1.auth import MqAuthenticationArgs
from components.v1beta1.models import API_VERSION, MqListenerArgs

render = k8s.Provider("kubernetes", render_yaml_to_directory="rendered")
provider = pulumi.ResourceOptions(provider=render)
with open("authentication.yaml") as item:
    authentication = MqAuthenticationArgs.model_validate(yaml.safe_load(item))
k8s.apiextensions.CustomResource(
    authentication.name,
    api_version=API_VERSION,
    kind="BrokerAuthentication",
    metadata={"name": authentication.name, "namespace": "azure-iot-operations"},
    spec=authentication.spec(),
    opts=provider,
)
k8s.apiextensions.CustomResource(
    "bench-issuer",
    api_version="cert-manager.io/v1",
    kind="Issuer",
    metadata={"name": "bench-issuer", "namespace": "azure-iot-operations"},
    spec={"selfSigned": {}},
    opts=provider,
)
with open("listeners.yaml") as items:
    for item in yaml.safe_load(items):
        args = MqListenerArgs.model_validate(item).resolved("azure-iot-operations", "broker")
        k8s.apiextensions.CustomResource(
            args.name,
            api_version=API_VERSION,
            kind="BrokerListener",
            metadata={"name": args.name, "namespace": "azure-iot-operations"},
            spec=args.spec(),
            opts=provider,
        )
"""


def _engine_cached() -> bool:
    cache = os.environ.get("AIO_MQ_ENGINE_DIR") or Path.home() / ".cache" / "aio-mq" / "engine"
    return any(Path(cache).glob("*/bin/pulumi"))


def row(*cells: object) -> None:
    print("| " + " | ".join(str(cell) for cell in cells) + " |")


def print_engine_rows(previews: dict[int, tuple[float, float] | None]) -> None:
    load = os.getloadavg()[0]
    for n, preview in previews.items():
        if preview is None:
            print("engine preview: skipped (no engine: run tools/ensure-engine first)")
            return
        project, plain_s = preview
        print(
            f"engine preview, {n:,} listeners: project {project:.2f} s, plain {plain_s:.2f} s, "
            f"ratio {project / plain_s:.2f} (load average {load:.1f} on {os.cpu_count()} cores)"
        )


def cluster_rows(n: int) -> None:
    """`pulumi up`/`destroy` of n listeners on the local cluster against a server-side apply and
    delete of the same rendered manifests (tools/bench/cluster.py)."""
    items = listener_items(n)
    times = cluster_seconds(
        {
            "aio-mq:issuers": [{"name": "bench-issuer", "selfSigned": {}}],
            "aio-mq:listeners": items,
            "aio-mq:authentications": [authentication_item(items)],
        }
    )
    print(
        f"\nlocal cluster ({times.start:.1f} s to start), {n} listeners, "
        "1 issuer, 1 BrokerAuthentication:"
    )
    row("operation", "pulumi (s)", "server-side apply, Python client (s)", "ratio")
    row("---", "---:", "---:", "---:")
    row(
        "create",
        f"{times.pulumi_up:.2f}",
        f"{times.apply:.2f}",
        f"{times.pulumi_up / times.apply:.1f}",
    )
    row(
        "delete",
        f"{times.pulumi_destroy:.2f}",
        f"{times.delete:.2f}",
        f"{times.pulumi_destroy / times.delete:.1f}",
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench", description=(__doc__ or "").split("\n\n")[0]
    )
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--engine-only", action="store_true", help="only the real engine's previews")
    only.add_argument(
        "--cluster-only", action="store_true", help="only up/destroy on the local cluster"
    )
    only_one = parser.parse_args(argv)
    cores, python = os.cpu_count(), platform.python_version()
    print(f"# aio-mq benchmark on {platform.node()} ({cores} cores, Python {python})")
    print(f"# best of {REPEATS} runs per figure\n")
    if only_one.cluster_only:
        cluster_rows(100)
        return

    previews = {n: engine_preview_seconds(n, samples) for n, samples in ENGINE_SIZES.items()}
    if only_one.engine_only:
        print_engine_rows(previews)
        return

    items = listener_items(10_000)
    parse = {n: best(timed, parse_all, items[:n]) for n in (1_000, 10_000)}
    parsed = parse_all(items)
    rule_facts = facts(parsed)
    assert conflicts(rule_facts) == [], "the benchmark's listeners must be valid"
    rules = {n: best(timed, conflicts, rule_facts[:n]) for n in (1_000, 10_000)}

    row("what", "1,000", "10,000", "growth from 1,000 to 10,000")
    row("---", "---:", "---:", "---:")
    for label, times in (
        ("parse + validate configs (ms)", parse),
        ("sharing/port rules (ms)", rules),
    ):
        row(
            label,
            f"{times[1_000] * 1e3:.2f}",
            f"{times[10_000] * 1e3:.2f}",
            f"{times[10_000] / times[1_000]:.1f}",
        )

    print()
    row("listeners", "MqListener program (ms)", "plain program (ms)", "ratio", "per listener (µs)")
    row("---:", "---:", "---:", "---:", "---:")
    ratios: dict[int, float] = {}
    for n in SIZES:
        args = parsed[:n]
        component = best(run_under_mocks, component_program(args))
        plain = best(run_under_mocks, plain_program(args))
        ratios[n] = component / plain
        row(
            f"{n:,}",
            f"{component * 1e3:.0f}",
            f"{plain * 1e3:.0f}",
            f"{ratios[n]:.2f}",
            f"{component / n * 1e6:.0f}",
        )

    peak = peak_mb(component_program(parsed[:5_000]))
    plain_peak = peak_mb(plain_program(parsed[:5_000]))
    print(
        f"\npeak Python heap, 5,000 listeners: MqListener {peak:.1f} MB, plain {plain_peak:.1f} MB"
    )

    print_engine_rows(previews)
    if previews[100] is not None:  # the local cluster needs the engine too
        cluster_rows(100)

    print(
        f"bench: parse_10k_ms={parse[10_000] * 1e3:.1f} validate_10k_ms={rules[10_000] * 1e3:.2f} "
        f"ratio_1000={ratios[1_000]:.2f} ratio_5000={ratios[5_000]:.2f} peak_mb_5000={peak:.1f}"
    )


if __name__ == "__main__":
    main()
