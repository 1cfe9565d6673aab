"""Where clients connect (components/v1/endpoints.py): URLs per way in, authentication, CA."""

from __future__ import annotations

import re
from typing import Any

import pytest

from components.issuer import IssuerArgs
from components.v1.endpoints import (
    LiveService,
    allocated_node_ports,
    listener_endpoints,
    load_balancer_ingress,
    node_addresses,
)
from components.v1.models import MqListenerV1Args

NS = "azure-iot-operations"
METHODS = {(NS, "default"): ("ServiceAccountToken",), (NS, "certs"): ("X509", "Custom")}
ISSUERS = [
    IssuerArgs.model_validate({"name": "own-ca", "ca": {"secretName": "root-ca"}}),
    IssuerArgs.model_validate(
        {"name": "cluster-ca", "kind": "ClusterIssuer", "ca": {"secretName": "root"}}
    ),
    IssuerArgs.model_validate({"name": "self", "selfSigned": {}}),
]


def endpoints(listener: dict[str, Any], live: LiveService | None = None) -> dict[str, Any]:
    args = MqListenerV1Args.model_validate(listener).resolved(NS, "default")
    return listener_endpoints(
        args, "listeners[2]", methods=METHODS, issuers=ISSUERS, stack_namespace=NS, live=live
    )


def automatic(name: str, kind: str = "Issuer", **more: Any) -> dict[str, Any]:
    return {
        "mode": "Automatic",
        "certManagerCertificateSpec": {"issuerRef": {"name": name, "kind": kind}, **more},
    }


def test_each_protocol_and_tls_has_its_scheme_and_every_type_its_cluster_name() -> None:
    found = endpoints(
        {
            "name": "edge",
            "serviceName": "edge-svc",
            "ports": [
                {"port": 1883},
                {"port": 8883, "tls": automatic("own-ca")},
                {"port": 8080, "protocol": "WebSockets"},
                {"port": 8443, "protocol": "WebSockets", "tls": automatic("own-ca")},
            ],
        }
    )
    assert found["keyPath"] == "listeners[2]"
    assert [p["urls"] for p in found["ports"]] == [
        [{"via": "cluster", "url": f"{scheme}://edge-svc.{NS}.svc.cluster.local:{port}"}]
        for scheme, port in [("mqtt", 1883), ("mqtts", 8883), ("ws", 8080), ("wss", 8443)]
    ]
    assert [p["tls"] for p in found["ports"]] == [False, True, False, True]


def test_a_load_balancer_is_reached_at_each_ingress_address() -> None:
    listener = {"name": "lb", "serviceType": "LoadBalancer", "ports": [{"port": 8885}]}
    service = {
        "status": {
            "loadBalancer": {
                "ingress": [{"ip": "192.0.2.1"}, {"hostname": "lb.example"}, {"ip": "2001:db8::1"}]
            }
        }
    }
    live = LiveService(load_balancer_ingress(service))
    assert [u["url"] for u in endpoints(listener, live)["ports"][0]["urls"]] == [
        f"mqtt://lb.{NS}.svc.cluster.local:8885",
        "mqtt://192.0.2.1:8885",
        "mqtt://lb.example:8885",
        "mqtt://[2001:db8::1]:8885",
    ]


def test_a_node_port_is_reached_at_each_node_with_the_given_or_allocated_node_port() -> None:
    nodes = {
        "items": [
            {
                "status": {
                    "addresses": [
                        {"type": "InternalIP", "address": "10.0.0.4"},
                        {"type": "ExternalIP", "address": "198.51.100.4"},
                    ]
                }
            },
            {"status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.5"}]}},
        ]
    }
    service = {
        "spec": {"ports": [{"port": 1883, "nodePort": 30001}, {"port": 1884, "nodePort": 31234}]}
    }
    live = LiveService((), node_addresses(nodes), allocated_node_ports(service))
    listener = {
        "name": "np",
        "serviceType": "NodePort",
        "ports": [{"port": 1883, "nodePort": 30001}, {"port": 1884}],
    }
    assert [
        [u["url"] for u in p["urls"] if u["via"] == "nodePort"]
        for p in endpoints(listener, live)["ports"]
    ] == [
        ["mqtt://198.51.100.4:30001", "mqtt://10.0.0.5:30001"],
        ["mqtt://198.51.100.4:31234", "mqtt://10.0.0.5:31234"],
    ]


def test_authentication_names_the_object_and_its_methods() -> None:
    found = endpoints(
        {
            "name": "a",
            "ports": [
                {"port": 1, "authenticationRef": "default"},
                {"port": 2, "authenticationRef": "certs", "tls": automatic("own-ca")},
                {"port": 3},
                {"port": 4, "authenticationRef": "unknown"},
            ],
        }
    )
    assert [p["authentication"] for p in found["ports"]] == [
        {"ref": "default", "methods": ["ServiceAccountToken"]},
        {"ref": "certs", "methods": ["X509", "Custom"]},
        None,
        {"ref": "unknown", "methods": []},
    ]


@pytest.mark.parametrize(
    ("tls", "ca"),
    [
        (None, None),
        (
            automatic("azure-iot-operations-aio-certificate-issuer", "ClusterIssuer"),
            {
                "kind": "ConfigMap",
                "namespace": NS,
                "name": "azure-iot-operations-aio-ca-trust-bundle",
                "key": "ca.crt",
            },
        ),
        (
            automatic("own-ca"),
            {"kind": "Secret", "namespace": NS, "name": "root-ca", "key": "tls.crt"},
        ),
        (
            automatic("cluster-ca", "ClusterIssuer"),
            {"kind": "Secret", "namespace": "cert-manager", "name": "root", "key": "tls.crt"},
        ),
        (
            automatic("self", secretName="a-cert"),
            {"kind": "Secret", "namespace": NS, "name": "a-cert", "key": "ca.crt"},
        ),
        (automatic("self"), None),  # the broker names the Secret: not known here
        (automatic("someone-elses"), None),
        (automatic("own-ca", "ClusterIssuer"), None),  # not the Issuer of that name
        (
            {"mode": "Manual", "manual": {"secretRef": "server-tls"}},
            {"kind": "Secret", "namespace": NS, "name": "server-tls", "key": "tls.crt"},
        ),
    ],
)
def test_the_ca_is_where_its_issuer_keeps_it(
    tls: dict[str, Any] | None, ca: dict[str, str] | None
) -> None:
    port: dict[str, Any] = {"port": 8883, **({"tls": tls} if tls else {})}
    assert endpoints({"name": "t", "ports": [port]})["ports"][0]["ca"] == ca


def test_make_up_prints_one_line_per_way_in() -> None:
    # tools/stacks prints this after a successful `up`, from `pulumi stack output --json`.
    from tools.runner import stacks  # noqa: PLC0415 (the test of a tool among the model's)

    tls = automatic("azure-iot-operations-aio-certificate-issuer", "ClusterIssuer")
    listener = {
        "name": "edge",
        "serviceType": "LoadBalancer",
        "ports": [{"port": 8885, "authenticationRef": "default", "tls": tls}, {"port": 1883}],
    }
    outputs = {
        "production": False,
        "endpoints": {"edge": endpoints(listener, LiveService(("192.0.2.9",)))},
    }
    lines = stacks.endpoints_table(outputs).splitlines()
    assert lines[:2] == ["", "Where clients connect (pulumi stack output endpoints):"]
    ca = "ConfigMap azure-iot-operations/azure-iot-operations-aio-ca-trust-bundle [ca.crt]"
    authentication = "default (ServiceAccountToken)"
    assert [re.split(r"\s{2,}", line.strip()) for line in lines[2:]] == [
        ["LISTENER", "KEY", "URL", "AUTHENTICATION", "CA"],
        ["edge", "listeners[2]", f"mqtts://edge.{NS}.svc.cluster.local:8885", authentication, ca],
        ["edge", "listeners[2]", "mqtts://192.0.2.9:8885", authentication, ca],
        ["edge", "listeners[2]", f"mqtt://edge.{NS}.svc.cluster.local:1883", "none", "-"],
        ["edge", "listeners[2]", "mqtt://192.0.2.9:1883", "none", "-"],
    ]
    # Columns line up.
    assert len({line.index("mqtt") for line in lines[3:]} | {lines[2].index("URL")}) == 1
    assert stacks.endpoints_table({"production": True, "listeners": {}}) == ""
