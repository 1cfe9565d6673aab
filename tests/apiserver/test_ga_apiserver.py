"""A GA stack (mqttbroker.iotoperations.azure.com/v1) on a real API server with the GA CRDs of
crds/v1: `up` creates the listeners, authentication and authorization, read back they hold
exactly the spec aio-mq wrote, a second preview has nothing to do, and `destroy` removes them
and nothing else; a shape the CRD refuses never gets there, since the program refuses it first."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from .conftest import Cluster, OperatorDouble, Project

pytestmark = [pytest.mark.e2e, pytest.mark.apiserver]

GROUP, VERSION = "mqttbroker.iotoperations.azure.com", "v1"
STACK = "ga"
TLS = {
    "mode": "Automatic",
    "certManagerCertificateSpec": {"issuerRef": {"name": "ga-ca"}, "san": {"dns": ["localhost"]}},
}


def config(namespace: str) -> dict[str, Any]:
    return {
        "aio-mq:apiVersion": f"{GROUP}/{VERSION}",
        "aio-mq:namespace": namespace,
        # A namespace of its own: no listener Azure IoT Operations installed is there.
        "aio-mq:existingListeners": [],
        "aio-mq:issuers": [{"name": "ga-ca", "selfSigned": {}}],
        "aio-mq:authentications": [
            {
                "name": "devices",
                "authenticationMethods": [
                    {
                        "method": "ServiceAccountToken",
                        "serviceAccountTokenSettings": {"audiences": ["aio-internal"]},
                    },
                    {"method": "X509", "x509Settings": {}},
                ],
            }
        ],
        "aio-mq:authorizations": [
            {
                "name": "telemetry",
                "authorizationPolicies": {
                    "rules": [
                        {
                            "principals": {"usernames": ["sensor"]},
                            "brokerResources": [{"method": "Publish", "topics": ["t/#"]}],
                        }
                    ]
                },
            }
        ],
        "aio-mq:listeners": [
            {"name": "inside", "ports": [{"port": 1883}, {"port": 8883, "tls": TLS}]},
            {
                "name": "edge",
                "serviceType": "LoadBalancer",
                "ports": [
                    {
                        "port": 8884,
                        "authenticationRef": "devices",
                        "authorizationRef": "telemetry",
                        "tls": TLS,
                    },
                    {
                        "port": 8443,
                        "protocol": "WebSockets",
                        "authenticationRef": "devices",
                        "tls": TLS,
                    },
                ],
            },
        ],
    }


def read(cluster: Cluster, plural: str, name: str, namespace: str) -> Any:
    return cluster.get(GROUP, VERSION, plural, name, namespace)


def with_issuer_defaults(tls: dict[str, Any]) -> dict[str, Any]:
    spec = tls["certManagerCertificateSpec"]
    return {
        "mode": "Automatic",
        "certManagerCertificateSpec": {
            **spec,
            "issuerRef": {"kind": "Issuer", "group": "cert-manager.io", **spec["issuerRef"]},
            "san": {"dns": ["localhost"], "ip": []},
        },
    }


def test_ga_stack_up_reads_back_previews_clean_and_destroys(
    cluster: Cluster, project: Project, operator_double: OperatorDouble
) -> None:
    operator_double(cluster.kubeconfig)  # `up` waits for the broker's answer: the double's
    namespace = cluster.new_namespace("ga")
    cluster.custom.create_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        "brokers",
        {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Broker", "metadata": {"name": "default"}},
    )
    project.stack_file(STACK).write_text(yaml.safe_dump({"config": config(namespace)}))
    cluster.use_in(project, STACK)
    project.init(STACK)
    project.pulumi("up", "--yes", "--stack", STACK)

    inside = read(cluster, "brokerlisteners", "inside", namespace)
    assert inside["spec"] == {
        "brokerRef": "default",
        "serviceType": "ClusterIp",
        "serviceName": "inside",
        "ports": [
            {"port": 1883, "protocol": "Mqtt"},
            {"port": 8883, "protocol": "Mqtt", "tls": with_issuer_defaults(TLS)},
        ],
    }
    edge = read(cluster, "brokerlisteners", "edge", namespace)
    assert [
        (p["port"], p["protocol"], p.get("authorizationRef")) for p in edge["spec"]["ports"]
    ] == [
        (8884, "Mqtt", "telemetry"),
        (8443, "WebSockets", None),
    ]
    authn = read(cluster, "brokerauthentications", "devices", namespace)
    assert authn["spec"]["authenticationMethods"][1] == {
        "method": "X509",
        "x509Settings": {"trustedClientCaCert": "client-ca", "authorizationAttributes": {}},
    }
    authz = read(cluster, "brokerauthorizations", "telemetry", namespace)
    assert authz["spec"]["authorizationPolicies"]["cache"] == "Enabled"

    project.pulumi("preview", "--expect-no-changes", "--stack", STACK)

    # Refused by the program before the API server sees it: a second ClusterIp listener.
    document = yaml.safe_load(project.stack_file(STACK).read_text())
    document["config"]["aio-mq:listeners"].append({"name": "second", "ports": [{"port": 1884}]})
    project.stack_file(STACK).write_text(yaml.safe_dump(document))
    refused = project.pulumi("up", "--yes", "--stack", STACK, check=False)
    assert refused.returncode != 0
    assert (
        "Service types: broker 'default' has at most one ClusterIp listener"
        in refused.stdout + refused.stderr
    )
    assert read(cluster, "brokerlisteners", "second", namespace) is None

    project.pulumi("destroy", "--yes", "--stack", STACK)
    for plural, name in (
        ("brokerlisteners", "inside"),
        ("brokerlisteners", "edge"),
        ("brokerauthentications", "devices"),
        ("brokerauthorizations", "telemetry"),
    ):
        assert read(cluster, plural, name, namespace) is None, name
    assert read(cluster, "brokers", "default", namespace) is not None  # not the stack's
