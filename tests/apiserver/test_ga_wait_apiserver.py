"""`up` of the `local-ga` stack waits for the broker's answer, on a real API server (CRD sets v1
and cert-manager, with what a fresh GA install has). The broker cannot run there: the TEST DOUBLE
of its operator (tools/operator-double) answers in the objects' status subresource, creates the
listeners' Services and gives LoadBalancers an address, as the operator would.

Accepted: `up` succeeds and the `endpoints` output says where clients connect. Refused: `up`
fails with the broker's words and the key path; a re-run after the fix succeeds. Never answered:
`up` fails when the wait times out. A LoadBalancer without an address in time fails too."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import yaml

from .conftest import AIO_NAMESPACE, Cluster, OperatorDouble, Project, StartCluster

pytestmark = [pytest.mark.e2e, pytest.mark.apiserver]

STACK = "local-ga"
GROUP, VERSION = "mqttbroker.iotoperations.azure.com", "v1"
NS = AIO_NAMESPACE
REFUSAL = "port 8885 is reserved for the test"


def deploy_to(cluster: Cluster, project: Project, **keys: Any) -> None:
    cluster.use_in(project, STACK)
    configure(project, **keys)
    project.init(STACK)


def configure(project: Project, **keys: Any) -> None:
    path = project.stack_file(STACK)
    document = yaml.safe_load(path.read_text())
    document["config"].update({f"aio-mq:{key}": value for key, value in keys.items()})
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def up(project: Project) -> tuple[int, str, float]:
    started = time.monotonic()
    result = project.pulumi("up", "--yes", "--stack", STACK, check=False)
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


def failed_up(project: Project, what: str) -> tuple[str, float]:
    """`up`, which must fail, without a Python traceback; its output and duration."""
    status, output, took = up(project)
    print(f"\n[{what} up: {took:.1f} s]")
    assert status != 0, output
    assert "Traceback" not in output
    return output, took


def provisioning(cluster: Cluster, plural: str, name: str) -> Any:
    found = cluster.get(GROUP, VERSION, plural, name, NS)
    return (found.get("status") or {}).get("provisioningStatus")


def test_up_waits_for_the_broker_fails_with_its_words_and_succeeds_after_the_fix(
    start_cluster: StartCluster, project: Project, operator_double: OperatorDouble
) -> None:
    cluster = start_cluster(crds="v1,cert-manager")
    operator_double(cluster.kubeconfig, "--reject-port", f"8885={REFUSAL}")
    deploy_to(cluster, project)

    output, took = failed_up(project, "refused")
    assert (
        "aio-mq: the broker's answer has 1 problem; the objects are on the cluster, but not "
        "(all) in effect." in output
    )
    assert (
        "  - listeners[1]: the broker refused BrokerListener azure-iot-operations/local-ga-edge: "
        f"{REFUSAL}; code InvalidArgument" in output
    )
    assert provisioning(cluster, "brokerlisteners", "local-ga-edge")["status"] == "Failed"
    assert took < 60  # the refusal ends the wait, not the timeout

    # The fix: another port. The update is waited for again, and this time accepted.
    document = yaml.safe_load(project.stack_file(STACK).read_text())
    document["config"]["aio-mq:listeners"][1]["ports"][0]["port"] = 8886
    project.stack_file(STACK).write_text(yaml.safe_dump(document, sort_keys=False))
    status, output, took = up(project)
    print(f"[fixed up: {took:.1f} s]")
    assert status == 0, output
    assert provisioning(cluster, "brokerlisteners", "local-ga-edge")["status"] == "Succeeded"
    assert provisioning(cluster, "brokerlisteners", "default")["status"] == "Succeeded"

    outputs = json.loads(project.pulumi("stack", "output", "--json", "--stack", STACK).stdout)
    edge = outputs["endpoints"]["local-ga-edge"]
    assert edge["keyPath"] == "listeners[1]"
    assert edge["ports"] == [
        {
            "port": 8886,
            "protocol": "Mqtt",
            "tls": True,
            "urls": [
                {"via": "cluster", "url": f"mqtts://local-ga-edge.{NS}.svc.cluster.local:8886"},
                {"via": "loadBalancer", "url": "mqtts://127.0.0.1:8886"},  # the double's address
            ],
            "authentication": {"ref": "default", "methods": ["ServiceAccountToken"]},
            "ca": {
                "kind": "Secret",
                "namespace": NS,
                "name": "local-ga-edge-server-cert",
                "key": "ca.crt",
            },
        }
    ]
    default = outputs["endpoints"]["default"]
    assert [(p["port"], [u["url"] for u in p["urls"]], p["ca"]) for p in default["ports"]] == [
        (
            18883,
            [f"mqtts://aio-broker.{NS}.svc.cluster.local:18883"],
            {
                "kind": "ConfigMap",
                "namespace": NS,
                "name": "azure-iot-operations-aio-ca-trust-bundle",
                "key": "ca.crt",
            },
        ),
        (1883, [f"mqtt://aio-broker.{NS}.svc.cluster.local:1883"], None),
    ]
    # Nothing secret in the outputs: only where things are.
    assert "PRIVATE KEY" not in json.dumps(outputs)


def test_no_answer_and_no_load_balancer_address_time_out(
    start_cluster: StartCluster, project: Project, operator_double: OperatorDouble
) -> None:
    cluster = start_cluster(crds="v1,cert-manager")
    deploy_to(cluster, project, waitTimeoutSeconds=5)

    # Nobody answers for the broker.
    output, took = failed_up(project, "unanswered")
    assert (
        "- listeners[1]: the broker did not answer for BrokerListener "
        "azure-iot-operations/local-ga-edge within 5 s (aio-mq:waitTimeoutSeconds): its "
        "status.provisioningStatus is not Succeeded or Failed" in output
    ), output
    assert (
        "fix: check that the broker's operator runs and what it says: `kubectl -n "
        "azure-iot-operations get brokerlistener local-ga-edge -o yaml`; or raise "
        "aio-mq:waitTimeoutSeconds" in output
    )
    assert "- listeners[0]: the broker did not answer for BrokerListener" in output
    assert output.count("- listeners[1]: the broker did not answer") == 1
    assert took < 5 + 10 + 30  # the program's timeout, the provider's grace, the engine
    assert provisioning(cluster, "brokerlisteners", "local-ga-edge") is None

    # The double answers, but the cluster gives the LoadBalancer no address.
    operator_double(cluster.kubeconfig, "--no-load-balancer-address")
    output, _ = failed_up(project, "no address")
    assert (
        "- listeners[1]: the broker accepted listener azure-iot-operations/local-ga-edge, but "
        "its LoadBalancer Service azure-iot-operations/local-ga-edge has no external address "
        "after 5 s (aio-mq:waitTimeoutSeconds)" in output
    )
    assert provisioning(cluster, "brokerlisteners", "local-ga-edge")["status"] == "Succeeded"
