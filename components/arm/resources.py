"""The Azure resources of a GA plan: one description per broker object, used by both the
azure-native target (target.py) and the ARM template (template.py), so they cannot disagree.

The ARM `properties` of a listener, authentication and authorization are the GA custom
resource's spec without `brokerRef`: the broker is the resource's parent in ARM.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from ..v1.auth import AUTHENTICATION_KIND, AUTHORIZATION_KIND
from ..v1.plan import LISTENER_KIND, ObjectKey, PlannedObject, PlanV1

API_VERSION: Final = "2024-11-01"
"""The api-version of the resources: the default of the pinned azure-native SDK's module, and
the template's, so that `pulumi up` and `az deployment group create` write the same version."""
RESOURCE_TYPES: Final = {
    LISTENER_KIND: "Microsoft.IoTOperations/instances/brokers/listeners",
    AUTHENTICATION_KIND: "Microsoft.IoTOperations/instances/brokers/authentications",
    AUTHORIZATION_KIND: "Microsoft.IoTOperations/instances/brokers/authorizations",
}
NAME_ARGUMENT: Final = {
    LISTENER_KIND: "listener_name",
    AUTHENTICATION_KIND: "authentication_name",
    AUTHORIZATION_KIND: "authorization_name",
}
"""The azure-native argument that names each kind's resource."""


@dataclass(frozen=True)
class ArmResource:
    kind: str
    name: str
    properties: dict[str, Any]
    depends_on: tuple[ObjectKey, ...]
    """What the plan creates that this needs first: broker objects, and the issuers and TLS
    Secrets the Kubernetes target creates on the cluster."""
    retain: bool
    key: ObjectKey
    pulumi_name: str
    """The planned object's (`PlannedObject.pulumi_name`)."""

    @property
    def type(self) -> str:
        return RESOURCE_TYPES[self.kind]


def arm_resources(plan: PlanV1) -> list[ArmResource]:
    """The plan's broker objects as Azure resources, in creation order."""
    keys = plan.creates()
    return [_resource(obj, keys) for obj in plan.objects]


def _resource(obj: PlannedObject, keys: set[ObjectKey]) -> ArmResource:
    properties = {k: v for k, v in obj.spec.items() if k != "brokerRef"}
    return ArmResource(
        kind=obj.kind,
        name=obj.name,
        properties=properties,
        depends_on=tuple(key for key in obj.uses if key in keys),
        retain=obj.retain,
        key=obj.key,
        pulumi_name=obj.pulumi_name,
    )
