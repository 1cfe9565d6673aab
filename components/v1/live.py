"""Rule facts (components/v1/sharing.py) of GA objects that already exist, read from where they
live: a cluster's custom resources (components/v1/discovery.py) or Azure Resource Manager's
resources (components/arm/discovery.py). Both carry the same body, a custom resource's `spec`
being an ARM resource's `properties` (plus `brokerRef`, which ARM puts in the resource's path),
so one reading serves both.

Pure: no I/O. Lenient, since a live object was accepted by its API already: a field the rules do
not need is ignored, a missing one takes the API's default.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from . import sharing


def _pascal(value: str, canonical: Iterable[str]) -> str:
    """An enum value as the API writes it; the API also accepts lower-camel forms."""
    return next((c for c in canonical if c.lower() == value.lower()), value)


def listener(
    name: str,
    namespace: str,
    broker: str,
    body: Mapping[str, Any],
    where: str,
    *,
    in_azure: bool = False,
    managed_by: str = "",
) -> sharing.Listener:
    """A live BrokerListener named `name` of `broker`, with its spec or ARM properties `body`
    (`in_azure`); `where` says where it was read and whose it is, `managed_by` which other
    aio-mq stack's marks it carries."""
    ports = [p for p in body.get("ports") or () if isinstance(p, Mapping)]
    return sharing.Listener(
        name=name,
        namespace=namespace,
        broker=broker,
        service_type=_pascal(str(body.get("serviceType") or "ClusterIp"), sharing.SERVICE_TYPES),
        service_name=str(body.get("serviceName") or name),
        ports=tuple(
            sharing.Port(
                port=int(p.get("port") or 0),
                node_port=p["nodePort"] if isinstance(p.get("nodePort"), int) else None,
                authentication=p.get("authenticationRef"),
                authorization=p.get("authorizationRef"),
                tls=p.get("tls") is not None,
                path="",
            )
            for p in ports
        ),
        origin="the listener",
        existing=True,
        on_cluster=where,
        in_azure=in_azure,
        managed_by=managed_by,
    )


def auth_object(name: str, namespace: str, body: Mapping[str, Any], where: str) -> sharing.Declared:
    """A live BrokerAuthentication or BrokerAuthorization (an authorization has no methods)."""
    return sharing.Declared(
        name=name,
        namespace=namespace,
        origin=where,
        methods=tuple(
            _pascal(str(method.get("method")), ("X509",))
            for method in body.get("authenticationMethods") or ()
            if isinstance(method, Mapping)
        ),
    )
