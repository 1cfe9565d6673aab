"""The CRDs under crds/ are strict: the API server itself refuses a BrokerListener of the wrong
shape, written raw with the Kubernetes client (no aio-mq model or component involved)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from .conftest import MQ_GROUP, MQ_VERSION, Cluster

pytestmark = [pytest.mark.e2e, pytest.mark.apiserver]

VALID_SPEC: dict[str, Any] = {
    "brokerRef": "broker",
    "port": 1883,
    "serviceType": "clusterIp",
    "serviceName": "aio-mq-dmqtt-frontend",
    "authenticationEnabled": False,
    "authorizationEnabled": False,
}
AUTOMATIC = {"automatic": {"issuerRef": {"name": "issuer", "kind": "Issuer"}}}
MANUAL = {"manual": {"secretName": "server-tls"}}


def listener(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"{MQ_GROUP}/{MQ_VERSION}",
        "kind": "BrokerListener",
        "metadata": {"name": name},
        "spec": spec,
    }


def with_spec(**changes: Any) -> dict[str, Any]:
    spec = copy.deepcopy(VALID_SPEC)
    for key, value in changes.items():
        if value is None:
            spec.pop(key, None)
        else:
            spec[key] = value
    return spec


def create(cluster: Cluster, namespace: str, body: dict[str, Any], strict: bool = False) -> Any:
    return cluster.custom.create_namespaced_custom_object(
        MQ_GROUP,
        MQ_VERSION,
        namespace,
        "brokerlisteners",
        body,
        field_validation="Strict" if strict else None,
    )


def message(refused: ApiException) -> str:
    """The API server's own message (the body is a JSON Status)."""
    return str(json.loads(refused.body or "{}").get("message"))


@pytest.fixture(scope="module")
def namespace(cluster: Cluster) -> str:
    return cluster.new_namespace("crds")


def test_a_listener_of_the_documented_shape_is_accepted(cluster: Cluster, namespace: str) -> None:
    for name, tls in (("plain", None), ("auto", AUTOMATIC), ("manual", MANUAL)):
        spec = with_spec(port=2000 + len(name), tls=tls)
        if tls is AUTOMATIC:
            spec["tls"] = {
                "automatic": {
                    "issuerRef": {"name": "issuer", "kind": "ClusterIssuer"},
                    "san": {"dns": ["mq.example.com"], "ip": []},
                    "privateKey": {"algorithm": "RSA", "rotationPolicy": "Never", "size": 2048},
                }
            }
        create(cluster, namespace, listener(name, spec), strict=True)
    assert set(cluster.listeners(namespace)) >= {"plain", "auto", "manual"}


@pytest.mark.parametrize(
    ("spec", "field", "why"),
    [
        (with_spec(serviceType="ClusterIP"), "spec.serviceType", "Unsupported value"),
        (with_spec(port=0), "spec.port", "should be greater than or equal to 1"),
        (with_spec(port=65536), "spec.port", "should be less than or equal to 65535"),
        (with_spec(port="1883"), "spec.port", "must be of type integer"),
        (with_spec(brokerRef=None), "spec.brokerRef", "Required value"),
        (with_spec(port=None), "spec.port", "Required value"),
        (with_spec(serviceName="My_Service"), "spec.serviceName", "should match"),
        (
            with_spec(authenticationEnabled="yes"),
            "spec.authenticationEnabled",
            "must be of type boolean",
        ),
        (
            with_spec(tls={**AUTOMATIC, **MANUAL}),
            "spec.tls",
            "must validate one and only one schema",
        ),
        (with_spec(tls={}), "spec.tls", "must validate one and only one schema"),
        (with_spec(tls={"automatic": {}}), "spec.tls.automatic.issuerRef", "Required value"),
        (
            with_spec(tls={"automatic": {"issuerRef": {"name": "i", "kind": "Bogus"}}}),
            "spec.tls.automatic.issuerRef.kind",
            "Unsupported value",
        ),
        (
            with_spec(
                tls={"automatic": {"issuerRef": {"name": "i"}, "san": {"dns": ["a.example"]}}}
            ),
            "spec.tls.automatic.san.ip",
            "Required value",
        ),
        (with_spec(tls={"manual": {}}), "spec.tls.manual.secretName", "Required value"),
        (
            with_spec(tls={"keyVault": {"vaultCert": {"name": "c"}}}),
            "spec.tls.keyVault.vault",
            "Required value",
        ),
        (with_spec(nodePort=70000), "spec.nodePort", "should be less than or equal to 65535"),
    ],
    ids=lambda value: value if isinstance(value, str) and "." not in value else None,
)
def test_a_wrong_shape_is_refused_by_the_api_server(
    cluster: Cluster, namespace: str, spec: dict[str, Any], field: str, why: str
) -> None:
    with pytest.raises(ApiException) as refused:
        create(cluster, namespace, listener("wrong", spec))
    assert refused.value.status == 422
    assert field in message(refused.value)
    assert why in message(refused.value)
    assert "wrong" not in cluster.listeners(namespace)


def test_an_unknown_field_is_refused_under_strict_field_validation(
    cluster: Cluster, namespace: str
) -> None:
    # kubectl validates strictly by default; the Pulumi provider's server-side apply does too.
    with pytest.raises(ApiException) as refused:
        create(cluster, namespace, listener("typo", with_spec(serviceTyp="clusterIp")), strict=True)
    assert refused.value.status == 400
    assert 'strict decoding error: unknown field "spec.serviceTyp"' in message(refused.value)


def test_the_aio_defaults_are_seeded(cluster: Cluster) -> None:
    default = cluster.get(
        MQ_GROUP, MQ_VERSION, "brokerlisteners", "listener", "azure-iot-operations"
    )
    assert default["spec"] == {
        "brokerRef": "broker",
        "port": 8883,
        "serviceType": "clusterIp",
        "serviceName": "aio-mq-dmqtt-frontend",
        "authenticationEnabled": True,
        "authorizationEnabled": False,
        "tls": {
            "automatic": {
                "issuerRef": {
                    "name": "mq-dmqtt-frontend",
                    "kind": "Issuer",
                    "group": "cert-manager.io",
                }
            }
        },
    }
    assert cluster.get(MQ_GROUP, MQ_VERSION, "brokers", "broker", "azure-iot-operations")
    authn = cluster.get(
        MQ_GROUP, MQ_VERSION, "brokerauthentications", "authn", "azure-iot-operations"
    )
    assert authn["spec"] == {
        "listenerRef": ["listener"],
        "authenticationMethods": [{"sat": {"audiences": ["aio-mq"]}}],
    }
    issuer = cluster.get(
        "cert-manager.io", "v1", "issuers", "mq-dmqtt-frontend", "azure-iot-operations"
    )
    assert issuer["spec"] == {"ca": {"secretName": "aio-ca-key-pair-test-only"}}


def test_the_ga_defaults_are_seeded_beside_them(cluster: Cluster) -> None:
    ga, version, ns = "mqttbroker.iotoperations.azure.com", "v1", "azure-iot-operations"
    default = cluster.get(ga, version, "brokerlisteners", "default", ns)
    assert default["spec"]["serviceName"] == "aio-broker"
    ((port,),) = [default["spec"]["ports"]]
    assert (port["port"], port["authenticationRef"], port["tls"]["mode"]) == (
        18883,
        "default",
        "Automatic",
    )
    assert cluster.get(ga, version, "brokers", "default", ns)
    authn = cluster.get(ga, version, "brokerauthentications", "default", ns)
    assert authn["spec"]["authenticationMethods"] == [
        {
            "method": "ServiceAccountToken",
            "serviceAccountTokenSettings": {"audiences": ["aio-internal"]},
        }
    ]
    assert cluster.custom.get_cluster_custom_object(
        "cert-manager.io", "v1", "clusterissuers", "azure-iot-operations-aio-certificate-issuer"
    )
