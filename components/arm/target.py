"""The ARM target: a plan's broker objects registered as `pulumi-azure-native` resources.

One component per stack holds them as children; each resource waits for what it uses (the
authentication and authorization it names, the issuer and TLS Secret the Kubernetes target
created on the cluster). Only `pulumi_azure_native.iotoperations` is imported: the whole SDK is
about 150 MB.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi_azure_native import iotoperations

from ..v1.auth import AUTHENTICATION_KIND, AUTHORIZATION_KIND
from ..v1.plan import ObjectKey
from .config import AzureTarget
from .resources import NAME_ARGUMENT, ArmResource

TYPE_TOKEN = "aio:mq:AzureBrokerObjects"
_CLASSES: Mapping[str, Any] = {
    AUTHENTICATION_KIND: iotoperations.BrokerAuthentication,
    AUTHORIZATION_KIND: iotoperations.BrokerAuthorization,
    "BrokerListener": iotoperations.BrokerListener,
}


def azure_inputs(resource: ArmResource, target: AzureTarget) -> dict[str, Any]:
    """The azure-native arguments of `resource` under `target` (Outputs passed through)."""
    return {
        "resource_group_name": target.resource_group,
        "instance_name": target.instance,
        "broker_name": target.broker,
        NAME_ARGUMENT[resource.kind]: resource.name,
        "extended_location": {"name": target.custom_location, "type": "CustomLocation"},
        "properties": resource.properties,
    }


class AzureBrokerObjects(pulumi.ComponentResource):
    """The listeners, authentications and authorizations of one stack, as Azure resources under
    one broker. `on_cluster`: the issuers and TLS Secrets already registered for them, by
    plan key."""

    def __init__(
        self,
        resource_name: str,
        resources: Sequence[ArmResource],
        target: AzureTarget,
        opts: pulumi.ResourceOptions | None = None,
        *,
        on_cluster: Mapping[ObjectKey, pulumi.Resource] | None = None,
    ) -> None:
        super().__init__(TYPE_TOKEN, resource_name, None, opts)
        registered: dict[ObjectKey, pulumi.Resource] = dict(on_cluster or {})
        self.resources: dict[ObjectKey, pulumi.CustomResource] = {}
        for resource in resources:
            uses = [registered[key] for key in resource.depends_on if key in registered]
            created = _CLASSES[resource.kind](
                resource.pulumi_name,
                **azure_inputs(resource, target),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=uses or None,
                    # Azure IoT Operations' own components use `default`: a stack that
                    # manages it leaves it in place when it stops managing it.
                    retain_on_delete=resource.retain or None,
                ),
            )
            registered[resource.key] = created
            self.resources[resource.key] = created
        self.register_outputs({})
