"""cert-manager Issuers and ClusterIssuers that listeners with automatic TLS can reference."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from .models import DEFAULT_NAMESPACE, IssuerArgs

CERT_MANAGER_API_VERSION = "cert-manager.io/v1"


def cert_manager_issuer(
    args: IssuerArgs,
    opts: pulumi.ResourceOptions | None = None,
) -> k8s.apiextensions.CustomResource:
    """Register `args` as a cert-manager Issuer (in its namespace, by default
    azure-iot-operations) or ClusterIssuer (cluster-wide). The Pulumi name is the issuer's
    name; the resource type tells an Issuer from a ClusterIssuer of the same name."""
    metadata: dict[str, str] = {"name": args.name}
    if args.kind == "Issuer":
        metadata["namespace"] = args.namespace or DEFAULT_NAMESPACE
    return k8s.apiextensions.CustomResource(
        args.name,
        api_version=CERT_MANAGER_API_VERSION,
        kind=args.kind,
        metadata=metadata,
        spec=args.spec(),
        opts=opts,
    )
