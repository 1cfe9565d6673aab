"""Where a client connects to a GA listener: per port, the URL of each way in, the
authentication the port asks for, and where the CA that signs its server certificate is read.

Pure: what the cluster says about the listener's Service (a LoadBalancer's ingress, the node
addresses, allocated node ports) comes in as `LiveService`; no secret value is ever part of it
(a CA is named by the Secret or ConfigMap and key that hold it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..issuer import IssuerArgs
from ..spec import CERT_MANAGER_GROUP, DEFAULT_NAMESPACE
from .models import AIO_CERTIFICATE_ISSUER, ListenerPort, MqListenerV1Args

AIO_TRUST_BUNDLE = "azure-iot-operations-aio-ca-trust-bundle"
"""The ConfigMap in which Azure IoT Operations publishes the CA of its default issuer."""
CERT_MANAGER_NAMESPACE = "cert-manager"
"""cert-manager's cluster resource namespace (its default): where a ClusterIssuer's CA lives."""


@dataclass(frozen=True)
class LiveService:
    """What the cluster says about a listener's Service."""

    ingress: tuple[str, ...] = ()
    """LoadBalancer ingress IPs or hostnames."""
    node_addresses: tuple[str, ...] = ()
    node_ports: Mapping[int, int] | None = None
    """port -> nodePort Kubernetes allocated."""


def load_balancer_ingress(service: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The ingress addresses a Service's status lists (IP, else hostname)."""
    ingress = ((service or {}).get("status") or {}).get("loadBalancer", {}).get("ingress") or []
    return tuple(
        str(i.get("ip") or i.get("hostname")) for i in ingress if i.get("ip") or i.get("hostname")
    )


def allocated_node_ports(service: Mapping[str, Any] | None) -> dict[int, int]:
    ports = ((service or {}).get("spec") or {}).get("ports") or []
    return {int(p["port"]): int(p["nodePort"]) for p in ports if p.get("nodePort")}


def node_addresses(nodes: Mapping[str, Any] | None) -> tuple[str, ...]:
    """One address per node: its ExternalIP, else InternalIP, else Hostname."""
    found = []
    for node in (nodes or {}).get("items") or []:
        by_type = {
            a.get("type"): a.get("address") for a in node.get("status", {}).get("addresses") or []
        }
        address = by_type.get("ExternalIP") or by_type.get("InternalIP") or by_type.get("Hostname")
        if address:
            found.append(str(address))
    return tuple(found)


def scheme(port: ListenerPort) -> str:
    tls = port.tls is not None
    if port.protocol == "WebSockets":
        return "wss" if tls else "ws"
    return "mqtts" if tls else "mqtt"


def _host(address: str) -> str:
    return f"[{address}]" if ":" in address else address  # an IPv6 literal


def urls(
    listener: MqListenerV1Args, port: ListenerPort, live: LiveService | None
) -> list[dict[str, str]]:
    """Each way in to `port`: the cluster DNS name always; the LoadBalancer's addresses; the
    nodes' addresses with the node port."""
    namespace = str(listener.namespace)
    prefix = f"{scheme(port)}://"
    found = [
        {
            "via": "cluster",
            "url": f"{prefix}{listener.service}.{namespace}.svc.cluster.local:{port.port}",
        }
    ]
    live = live or LiveService()
    if listener.service_type == "LoadBalancer":
        found += [
            {"via": "loadBalancer", "url": f"{prefix}{_host(a)}:{port.port}"} for a in live.ingress
        ]
    if listener.service_type == "NodePort":
        node_port = port.node_port or (live.node_ports or {}).get(port.port)
        if node_port is not None:
            found += [
                {"via": "nodePort", "url": f"{prefix}{_host(a)}:{node_port}"}
                for a in live.node_addresses
            ]
    return found


def ca_location(
    port: ListenerPort, namespace: str, issuers: Sequence[IssuerArgs], stack_namespace: str
) -> dict[str, str] | None:
    """Where the CA that signs the port's server certificate can be read; None without TLS
    or when its issuer is not one whose CA aio-mq knows."""
    if port.tls is None:
        return None
    if port.tls.manual is not None:
        # Manual TLS: the Secret the port names; its chain ends with the issuing CA when included.
        return {
            "kind": "Secret",
            "namespace": namespace,
            "name": port.tls.manual.secret_ref,
            "key": "tls.crt",
        }
    spec = port.tls.cert_manager_certificate_spec
    if spec is None or spec.issuer_ref.group != CERT_MANAGER_GROUP:
        return None
    ref = spec.issuer_ref
    if ref.kind == "ClusterIssuer" and ref.name == AIO_CERTIFICATE_ISSUER:
        return {
            "kind": "ConfigMap",
            "namespace": DEFAULT_NAMESPACE,
            "name": AIO_TRUST_BUNDLE,
            "key": "ca.crt",
        }
    for issuer in issuers:
        issuer_namespace = issuer.namespace or stack_namespace
        same = issuer.name == ref.name and issuer.kind == ref.kind
        if not same or (ref.kind == "Issuer" and issuer_namespace != namespace):
            continue
        if issuer.ca is not None:
            where = issuer_namespace if issuer.kind == "Issuer" else CERT_MANAGER_NAMESPACE
            return {
                "kind": "Secret",
                "namespace": where,
                "name": issuer.ca.secret_name,
                "key": "tls.crt",
            }
        # Self-signed: each certificate is its own CA, in the certificate's Secret.
        if spec.secret_name is not None:
            return {
                "kind": "Secret",
                "namespace": namespace,
                "name": spec.secret_name,
                "key": "ca.crt",
            }
    return None


def listener_endpoints(
    listener: MqListenerV1Args,
    origin: str,
    *,
    methods: Mapping[tuple[str, str], Sequence[str]],
    issuers: Sequence[IssuerArgs],
    stack_namespace: str,
    live: LiveService | None = None,
) -> dict[str, Any]:
    """The `endpoints` output of one listener (namespace, brokerRef and serviceName resolved);
    `methods` gives each known BrokerAuthentication's methods by (namespace, name)."""
    namespace = str(listener.namespace)
    ports = []
    for port in listener.ports:
        ref = port.authentication_ref
        ports.append(
            {
                "port": port.port,
                "protocol": port.protocol,
                "tls": port.tls is not None,
                "urls": urls(listener, port, live),
                "authentication": None
                if ref is None
                else {"ref": ref, "methods": list(methods.get((namespace, ref), ()))},
                "ca": ca_location(port, namespace, issuers, stack_namespace),
            }
        )
    return {
        "keyPath": origin,
        "namespace": namespace,
        "serviceName": listener.service,
        "serviceType": listener.service_type,
        "ports": ports,
    }
