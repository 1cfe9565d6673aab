"""cert-manager Issuers and ClusterIssuers that listeners with automatic TLS can reference, and
what a listener asks of them (the certificate request both API versions embed)."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from .metadata import object_metadata
from .spec import (
    CERT_MANAGER_GROUP,
    DEFAULT_NAMESPACE,
    ApiGroup,
    CertificateDuration,
    Dns1123Label,
    IpAddress,
    IssuerKind,
    OneOf,
    RenewBefore,
    ResourceName,
    SanDnsName,
    Spec,
    go_duration_seconds,
)

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


class IssuerRef(Spec):
    """The cert-manager issuer that signs the listener's server certificate."""

    name: ResourceName
    kind: IssuerKind = "Issuer"
    group: ApiGroup = CERT_MANAGER_GROUP


class San(Spec):
    """Extra subject alternative names. The API wants both lists whenever san is present."""

    dns: list[SanDnsName] = Field(default_factory=list)
    ip: list[IpAddress] = Field(default_factory=list)


class CertificateRequest(Spec):
    """The cert-manager Certificate a listener asks for; each API version adds its private key
    shape (and the preview API a secret namespace)."""

    issuer_ref: IssuerRef
    duration: CertificateDuration | None = None
    renew_before: RenewBefore | None = None
    san: San | None = None
    secret_name: ResourceName | None = None

    @model_validator(mode="after")
    def _renew_before_duration(self) -> CertificateRequest:
        # cert-manager rejects a Certificate that would renew before it is issued.
        duration = go_duration_seconds(self.duration or "720h")
        renew = go_duration_seconds(self.renew_before or "240h")
        if renew >= duration:
            raise PydanticCustomError(
                "renew_before",
                "renewBefore ({renew}) is not shorter than duration ({duration})",
                {
                    "renew": self.renew_before or "240h (default)",
                    "duration": self.duration or "720h (default)",
                    "fix": "make renewBefore shorter than duration, "
                    "e.g. duration 720h, renewBefore 240h",
                },
            )
        return self


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
