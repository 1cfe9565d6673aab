"""cert-manager Issuers and ClusterIssuers that listeners with automatic TLS can reference."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from .metadata import object_metadata
from .spec import DEFAULT_NAMESPACE, Dns1123Label, IssuerKind, OneOf, ResourceName, Spec

CERT_MANAGER_API_VERSION = "cert-manager.io/v1"


class SelfSignedIssuer(Spec):
    """cert-manager's selfSigned issuer takes no settings."""


class CaIssuer(Spec):
    secret_name: ResourceName


class IssuerArgs(OneOf):
    """A cert-manager Issuer or ClusterIssuer to create (an item of `aio-mq:issuers`)."""

    one_of = ("selfSigned", "ca")
    one_of_fix = "give either selfSigned: {} or ca: {secretName: ...}"

    name: ResourceName
    kind: IssuerKind = "Issuer"
    namespace: Dns1123Label | None = Field(default=None, exclude=True)
    self_signed: SelfSignedIssuer | None = None
    ca: CaIssuer | None = None

    def spec(self) -> dict[str, Any]:
        spec = self.cr()
        for key in ("name", "kind"):
            del spec[key]
        return spec


def cert_manager_issuer(
    args: IssuerArgs,
    opts: pulumi.ResourceOptions | None = None,
    resource_name: str | None = None,
) -> k8s.apiextensions.CustomResource:
    """Register `args` as a cert-manager Issuer (in its namespace, by default
    azure-iot-operations) or ClusterIssuer (cluster-wide). The Pulumi name is `resource_name`,
    by default the issuer's name; the resource type tells an Issuer from a ClusterIssuer of
    the same name."""
    namespace = (args.namespace or DEFAULT_NAMESPACE) if args.kind == "Issuer" else None
    return k8s.apiextensions.CustomResource(
        resource_name or args.name,
        api_version=CERT_MANAGER_API_VERSION,
        kind=args.kind,
        metadata=object_metadata(args.name, namespace),
        spec=args.spec(),
        opts=opts,
    )
