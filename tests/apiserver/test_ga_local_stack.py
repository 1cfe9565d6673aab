"""The `local-ga` stack on a real API server that serves only the GA API (a cluster of today:
CRD sets v1 and cert-manager, with what a fresh GA install has). What is there is discovered:
the stack takes over `default` to add a port, uses the live `default` authentication, is refused
while a listener made out of band breaks a rule, and `destroy` leaves `default` in place."""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import pytest

from .conftest import (
    AIO_NAMESPACE,
    CONTEXT,
    Cluster,
    OperatorDouble,
    Project,
    StartCluster,
    make,
    released,
)

pytestmark = [pytest.mark.e2e, pytest.mark.apiserver]

STACK = "local-ga"
GROUP, VERSION = "mqttbroker.iotoperations.azure.com", "v1"
LIVE = f"on the cluster (context {CONTEXT}), not managed by this stack"
REFUSAL = "port 8885 is reserved for the test"


def test_local_ga_discovers_manages_default_is_refused_out_of_band_and_leaves_default(
    start_cluster: StartCluster, project: Project, operator_double: OperatorDouble
) -> None:
    cluster = start_cluster(crds="v1,cert-manager")
    operator_double(cluster.kubeconfig)  # `up` waits for the broker's answer: the double's

    def listener(name: str) -> Any:
        return cluster.get(GROUP, VERSION, "brokerlisteners", name, AIO_NAMESPACE)

    installed_port = listener("default")["spec"]["ports"][0]
    cluster.use_in(project, STACK)
    project.init(STACK)
    project.pulumi("up", "--yes", "--stack", STACK)

    default = listener("default")
    assert [p["port"] for p in default["spec"]["ports"]] == [18883, 1883]
    assert default["spec"]["ports"][0] == installed_port  # as Azure IoT Operations installs it
    assert default["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "aio-mq"
    edge = listener("local-ga-edge")
    assert edge["spec"]["serviceType"] == "LoadBalancer"
    assert edge["spec"]["ports"][0]["authenticationRef"] == "default"  # the live one
    # The state of the mark's Patch is the listener it marked (not a stale copy without the
    # mark, which the next preview would propose to mark again).
    resources = project.export(STACK)["deployment"]["resources"]
    (mark,) = [r for r in resources if r["urn"].endswith("::default-mark")]
    assert mark["outputs"]["metadata"]["labels"] == default["metadata"]["labels"]
    preview = project.pulumi("preview", "--expect-no-changes", "--stack", STACK)
    assert "endpoints" not in preview.stdout  # the LoadBalancer's address is still there

    # Someone adds a second ClusterIp listener by hand: the stack's `default` now breaks the
    # one-listener-per-serviceType rule against it, and nothing is applied until it is gone.
    rogue = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "BrokerListener",
        "metadata": {"name": "rogue"},
        "spec": {"brokerRef": "default", "serviceType": "ClusterIp", "ports": [{"port": 1884}]},
    }
    cluster.custom.create_namespaced_custom_object(
        GROUP, VERSION, AIO_NAMESPACE, "brokerlisteners", rogue
    )
    started = time.monotonic()
    refused = project.pulumi("preview", "--stack", STACK, check=False)
    print(f"\n[preview refused in {time.monotonic() - started:.1f} s]")
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output
    assert "Traceback" not in output
    assert (
        "listeners[0].serviceType: Service types: broker 'default' has at most one ClusterIp "
        f"listener, and the listener 'rogue' (ClusterIp Service rogue) {LIVE} is one" in output
    )
    assert (
        "fix: 'rogue' takes the ClusterIp place of 'default', which Azure IoT Operations' "
        "components connect to: delete it on the cluster, or give it another serviceType" in output
    )
    assert "no resource was registered" in output
    cluster.custom.delete_namespaced_custom_object(
        GROUP, VERSION, AIO_NAMESPACE, "brokerlisteners", "rogue"
    )
    project.pulumi("preview", "--expect-no-changes", "--stack", STACK)

    project.pulumi("destroy", "--yes", "--stack", STACK)
    assert listener("local-ga-edge") is None
    kept = listener("default")  # retained: Azure IoT Operations' components connect to it
    assert [p["port"] for p in kept["spec"]["ports"]] == [18883, 1883]
    assert released(kept)
    assert cluster.get(GROUP, VERSION, "brokerauthentications", "default", AIO_NAMESPACE)


def test_a_ga_stack_on_a_preview_cluster_is_told_what_it_serves(
    start_cluster: StartCluster, project: Project
) -> None:
    cluster = start_cluster(crds="v1beta1,cert-manager")
    cluster.use_in(project, STACK)
    project.init(STACK)
    refused = project.pulumi("preview", "--stack", STACK, check=False)
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output
    assert (
        f"kubernetes.context: the cluster (context {CONTEXT}) does not serve "
        "mqttbroker.iotoperations.azure.com/v1 BrokerListener: Azure IoT Operations (GA MQTT "
        "broker) is not installed there; it serves mq.iotoperations.azure.com/v1beta1 instead"
        in output
    )
    assert "or write this stack for the preview API" in output
    assert "no resource was registered" in output


def seeded_objects(cluster: Cluster) -> dict[tuple[str, str], Any]:
    """Every GA object of the Azure IoT Operations namespace, whole, by (plural, name)."""
    found: dict[tuple[str, str], Any] = {}
    for plural in ("brokers", "brokerlisteners", "brokerauthentications"):
        listed: Any = cluster.custom.list_namespaced_custom_object(
            GROUP, VERSION, AIO_NAMESPACE, plural
        )
        found.update({(plural, item["metadata"]["name"]): item for item in listed["items"]})
    return found


def test_make_up_runs_a_ga_stack_rendered_and_on_the_local_cluster(
    project: Project, operator_double: OperatorDouble
) -> None:
    # As a user runs them: `make up STACK=dev-ga` renders; `make up STACK=local-ga` starts the
    # project's own local cluster, deploys, waits for the broker (here its test double, started
    # beside it as `make operator-double` would), prints the outputs and where clients connect;
    # destroy leaves `default`.
    operator_double(
        project.root / ".local-cluster" / "kubeconfig", "--reject-port", f"8885={REFUSAL}"
    )
    try:
        rendered = make(project, "up", "STACK=dev-ga")
        assert rendered.returncode == 0, rendered.stdout + rendered.stderr
        assert list((project.root / "rendered" / "dev-ga").rglob("*.yaml"))

        refused = make(project, "up", "STACK=local-ga", "CLUSTER=yes")
        output = refused.stdout + refused.stderr
        assert refused.returncode != 0, output
        assert (
            "local-ga is a local stack: starting (or reusing) tools/local-cluster" in refused.stderr
        )
        assert (
            "listeners[1]: the broker refused BrokerListener azure-iot-operations/local-ga-edge: "
            f"{REFUSAL}" in output
        )
        assert "Where clients connect" not in output

        # The user's fix: another port for the edge listener.
        stack_file = project.stack_file("local-ga")
        stack_file.write_text(stack_file.read_text().replace("- port: 8885", "- port: 8886"))
        up = make(project, "up", "STACK=local-ga", "CLUSTER=yes")
        assert up.returncode == 0, up.stdout + up.stderr
        # The outputs are the last JSON object printed (`pulumi stack output --json`).
        outputs, end = json.JSONDecoder().raw_decode(up.stdout, up.stdout.rindex("\n{") + 1)
        assert [p["port"] for p in outputs["listeners"]["default"]["ports"]] == [18883, 1883]
        table = up.stdout[end:].strip().splitlines()
        assert table[0] == "Where clients connect (pulumi stack output endpoints):"
        assert table[1].split() == ["LISTENER", "KEY", "URL", "AUTHENTICATION", "CA"]
        assert [line.split()[:3] for line in table[2:]] == [
            [
                "default",
                "listeners[0]",
                "mqtts://aio-broker.azure-iot-operations.svc.cluster.local:18883",
            ],
            [
                "default",
                "listeners[0]",
                "mqtt://aio-broker.azure-iot-operations.svc.cluster.local:1883",
            ],
            [
                "local-ga-edge",
                "listeners[1]",
                "mqtts://local-ga-edge.azure-iot-operations.svc.cluster.local:8886",
            ],
            ["local-ga-edge", "listeners[1]", "mqtts://127.0.0.1:8886"],
        ]

        local = project.root / ".local-cluster"
        cluster = Cluster.at(local, local / "kubeconfig")
        after_up = seeded_objects(cluster)
        assert [p["port"] for p in after_up["brokerlisteners", "default"]["spec"]["ports"]] == [
            18883,
            1883,
        ]

        # A preview reads: every object, `default` included, stays exactly as `up` left it (the
        # same resourceVersion: nothing was written), and the state still matches the cluster.
        preview = make(project, "preview", "STACK=local-ga")
        assert preview.returncode == 0, preview.stdout + preview.stderr
        # The stack, its provider, the issuer, two listeners' CRs and default's mark.
        assert "6 unchanged" in preview.stdout
        assert seeded_objects(cluster) == after_up
        project.pulumi("preview", "--refresh", "--expect-no-changes", "--stack", STACK)

        destroyed = make(project, "destroy", "STACK=local-ga")
        assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
        kept = seeded_objects(cluster)["brokerlisteners", "default"]
        assert kept["spec"] == after_up["brokerlisteners", "default"]["spec"]
        assert released(kept)
    finally:
        subprocess.run(
            [str(project.root / "tools" / "local-cluster"), "down", "--purge"],
            cwd=project.root,
            env=project.env,
            capture_output=True,
            timeout=120,
            check=False,
        )
