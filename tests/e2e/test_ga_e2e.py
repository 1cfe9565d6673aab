"""GA stacks (mqttbroker.iotoperations.azure.com/v1) under the real engine: the dev-ga render
with its exact manifests, a conflict that fails with nothing written, and every preview stack
file migrated by tools/migrate-to-v1 previewing clean."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import ROOT, Project
from tests.fake_cluster import GA_DEFAULT_PORT
from tests.test_migrate import REPO_DECISIONS, documented_refusals
from tests.test_stack import PREVIEW_STACK_FILES
from tests.test_v1_stack import own

pytestmark = pytest.mark.e2e

GA = "mqttbroker.iotoperations.azure.com/v1"
NS = "azure-iot-operations"
SELF_SIGNED = {"name": "aio-mq-dev-selfsigned", "kind": "Issuer", "group": "cert-manager.io"}
EDGE_TLS = {
    "mode": "Automatic",
    "certManagerCertificateSpec": {
        "issuerRef": SELF_SIGNED,
        "san": {"dns": ["localhost"], "ip": ["127.0.0.1"]},
    },
}


def test_up_on_dev_ga_renders_the_exact_manifests_then_previews_clean(project: Project) -> None:
    project.init("dev-ga")
    project.pulumi("up", "--yes", "--stack", "dev-ga")
    manifests = project.manifests("rendered/dev-ga")
    assert sorted(manifests) == [
        ("BrokerAuthentication", "dev-devices"),
        ("BrokerAuthorization", "dev-telemetry"),
        ("BrokerListener", "default"),
        ("BrokerListener", "dev-edge"),
        ("Issuer", "aio-mq-dev-selfsigned"),
    ]
    default = manifests[("BrokerListener", "default")]
    assert own(default["metadata"]) == {"name": "default", "namespace": NS}
    assert {k: v for k, v in default.items() if k != "metadata"} == {
        "apiVersion": GA,
        "kind": "BrokerListener",
        "spec": {
            "brokerRef": "default",
            "serviceType": "ClusterIp",
            "serviceName": "aio-broker",
            "ports": [
                GA_DEFAULT_PORT,
                {"port": 1883, "protocol": "Mqtt"},
            ],
        },
    }
    assert manifests[("BrokerListener", "dev-edge")]["spec"] == {
        "brokerRef": "default",
        "serviceType": "LoadBalancer",
        "serviceName": "dev-edge",
        "ports": [
            {
                "port": 8884,
                "protocol": "Mqtt",
                "authenticationRef": "dev-devices",
                "authorizationRef": "dev-telemetry",
                "tls": EDGE_TLS,
            },
            {
                "port": 8443,
                "protocol": "WebSockets",
                "authenticationRef": "dev-devices",
                "authorizationRef": "dev-telemetry",
                "tls": EDGE_TLS,
            },
        ],
    }
    devices = manifests[("BrokerAuthentication", "dev-devices")]
    assert own(devices["metadata"]) == {"name": "dev-devices", "namespace": NS}
    assert {k: v for k, v in devices.items() if k != "metadata"} == {
        "apiVersion": GA,
        "kind": "BrokerAuthentication",
        "spec": {
            "authenticationMethods": [
                {
                    "method": "ServiceAccountToken",
                    "serviceAccountTokenSettings": {"audiences": ["aio-internal"]},
                },
                {
                    "method": "X509",
                    "x509Settings": {
                        "trustedClientCaCert": "dev-client-ca",
                        "authorizationAttributes": {},
                    },
                },
            ]
        },
    }
    assert manifests[("BrokerAuthorization", "dev-telemetry")]["spec"] == {
        "authorizationPolicies": {
            "cache": "Enabled",
            "rules": [
                {
                    "principals": {
                        "attributes": [{"group": "sensors"}],
                        "clientIds": [],
                        "usernames": [],
                    },
                    "brokerResources": [
                        {"method": "Connect", "clientIds": [], "topics": []},
                        {"method": "Publish", "clientIds": [], "topics": ["telemetry/#"]},
                    ],
                    "stateStoreResources": [],
                }
            ],
        }
    }

    outputs = json.loads(project.pulumi("stack", "output", "--json", "--stack", "dev-ga").stdout)
    edge = outputs["listeners"]["dev-edge"]
    assert edge["host"] == "dev-edge.azure-iot-operations.svc.cluster.local"
    assert [
        (p["port"], p["protocol"], p["tlsMode"], p["authentication"], p["authorization"])
        for p in edge["ports"]
    ] == [
        (8884, "Mqtt", "Automatic", "dev-devices", "dev-telemetry"),
        (8443, "WebSockets", "Automatic", "dev-devices", "dev-telemetry"),
    ]
    # Rendered, where clients connect is known in-cluster only (no Service exists to read).
    ways_in = outputs["endpoints"]["dev-edge"]
    assert ways_in["keyPath"] == "listeners[1]"
    assert [(p["port"], p["urls"]) for p in ways_in["ports"]] == [
        (8884, [{"via": "cluster", "url": f"mqtts://{edge['host']}:8884"}]),
        (8443, [{"via": "cluster", "url": f"wss://{edge['host']}:8443"}]),
    ]
    project.pulumi("preview", "--expect-no-changes", "--stack", "dev-ga")
    project.pulumi("destroy", "--yes", "--stack", "dev-ga")


def test_a_second_cluster_ip_listener_fails_preview_and_up_with_nothing_written(
    project: Project,
) -> None:
    project.init("dev-ga")
    project.pulumi(
        "config", "set", "--path", "listeners[1].serviceType", "ClusterIp", "--stack", "dev-ga"
    )
    preview = project.pulumi("preview", "--stack", "dev-ga", check=False)
    output = preview.stdout + preview.stderr
    assert preview.returncode != 0
    assert "aio-mq: the configuration has 1 problem; no resource was registered." in output
    assert (
        "listeners[1].serviceType: Service types: broker 'default' has at most one ClusterIp "
        "listener, and listeners[0] 'default' (ClusterIp Service aio-broker) is one"
    ) in output
    assert (
        "fix: move these ports into the ports of 'default', or use serviceType LoadBalancer or "
        "NodePort"
    ) in output
    assert "Traceback" not in output

    up = project.pulumi("up", "--yes", "--stack", "dev-ga", check=False)
    assert up.returncode != 0
    assert not (project.root / "rendered").exists()
    assert project.export("dev-ga")["deployment"].get("resources", []) == []


def migrate(
    project: Project, source: Path, target: str, *options: str
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(ROOT / "tools" / "migrate-to-v1"), str(source), *options],
        cwd=project.root,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode == 0:
        project.stack_file(target).write_text(done.stdout)
    return done


@pytest.mark.parametrize("stack_file", PREVIEW_STACK_FILES, ids=lambda p: p.name)
def test_every_preview_stack_migrated_previews_clean(project: Project, stack_file: Path) -> None:
    name = stack_file.name.split(".")[1]
    source = project.root / "stacks" / stack_file.name
    document = yaml.safe_load(source.read_text())
    config = document["config"]
    keys = {k.removeprefix("aio-mq:"): v for k, v in config.items() if k.startswith("aio-mq:")}
    if documented_refusals(keys):  # refused; then with the stack's documented decisions
        refused = migrate(project, source, f"{name}-ga")
        assert refused.returncode == 1
        assert "nothing was written" in refused.stderr
    done = migrate(project, source, f"{name}-ga", *REPO_DECISIONS.get(stack_file.name, []))
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("note: ")

    target = f"{name}-ga"
    project.init(target)
    project.env["AIO_MQ_RENDER_YAML_TO_DIRECTORY"] = str(project.root / "rendered" / target)
    project.env["AIO_MQ_DISPOSABLE_STATE"] = "1"  # the test's own backend, thrown away after
    preview = project.pulumi("preview", "--diff", "--stack", target)
    assert "to create" in preview.stdout
    assert f"{GA}:BrokerListener" in preview.stdout
    project.pulumi("up", "--yes", "--stack", target)
    project.pulumi("preview", "--expect-no-changes", "--stack", target)
