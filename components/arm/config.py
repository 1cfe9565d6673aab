"""`aio-mq:azure`: where a GA stack's objects go in Azure Resource Manager, and ARM's own rules.

ARM is stricter than Kubernetes about names (3-63 characters of `[a-z0-9-]`, no dots) and knows
no namespaces: every object of the stack lands under one broker of one IoT Operations instance,
and the instance's custom location decides the namespace on the cluster. These rules are checked
with the GA rules, before anything is registered, each with its key path and fix.

In a Python program that creates the instance and broker with `pulumi-azure-native`, the
target's values may be their Outputs (`instance.name`): those cannot be read before the
deployment runs, so only plain strings are checked here (decisions.md, "Azure Resource Manager").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any, Final

import pulumi
from pydantic import GetPydanticSchema
from pydantic_core import core_schema

from ..errors import Problem
from ..spec import _GUID, Spec, _Matching
from ..v1.auth import BrokerAuthenticationArgs, BrokerAuthorizationArgs
from ..v1.models import DEFAULT_BROKER, MqListenerV1Args

KEY: Final = "aio-mq:azure"

_ARM_NAME = re.compile(r"^(?=.{3,63}$)[a-z0-9][a-z0-9-]*[a-z0-9]$")
_ARM_NAME_FIX = (
    "use 3 to 63 lower-case letters (a-z), digits and '-', starting and ending with a letter "
    "or digit"
)
_RESOURCE_GROUP = re.compile(r"^(?=.{1,90}$)[-\w.()]*[-\w()]$")
_CUSTOM_LOCATION = re.compile(
    r"^/subscriptions/[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"
    r"/resourceGroups/[-\w.()]{1,90}"
    r"/providers/Microsoft\.ExtendedLocation/customLocations/[-\w.]{1,63}$",
    re.IGNORECASE,  # ARM resource ids are case-insensitive
)


def _keep_outputs(value: Any, handler: core_schema.ValidatorFunctionWrapHandler) -> Any:
    return value if isinstance(value, pulumi.Output) else handler(value)


def _or_output(constraint: Any) -> GetPydanticSchema:
    """The string `constraint`, or an Output passed through unchecked (a composition passes
    the outputs of the azure-native resources it creates)."""
    return GetPydanticSchema(
        lambda _source, handler: core_schema.no_info_wrap_validator_function(
            _keep_outputs, handler.generate_schema(constraint)
        )
    )


ArmName = Annotated[
    str, _Matching(_ARM_NAME, "arm_name", "an Azure IoT Operations resource name", _ARM_NAME_FIX)
]
ResourceGroupName = Annotated[
    str,
    _Matching(
        _RESOURCE_GROUP,
        "resource_group",
        "a resource group name",
        "use 1-90 letters, digits, '_', '-', '.' and parentheses, not ending with '.'",
    ),
]
CustomLocationId = Annotated[
    str,
    _Matching(
        _CUSTOM_LOCATION,
        "custom_location",
        "a custom location resource id",
        "write /subscriptions/<subscription id>/resourceGroups/<group>/providers/"
        "Microsoft.ExtendedLocation/customLocations/<name> (az customlocation show --query id)",
    ),
]
SubscriptionId = Annotated[
    str,
    _Matching(
        _GUID,
        "subscription_id",
        "a subscription id",
        "write the subscription's GUID (az account show --query id)",
    ),
]
Input = str | pulumi.Output[str]


class AzureTarget(Spec):
    """`aio-mq:azure`: the GA stack's objects become Azure resources under this broker of this
    IoT Operations instance (GA only). Without it, they are Kubernetes custom resources."""

    resource_group: Annotated[Input, _or_output(ResourceGroupName)]
    """Resource group of the IoT Operations instance."""
    instance: Annotated[Input, _or_output(ArmName)]
    """The IoT Operations instance."""
    broker: Annotated[Input, _or_output(ArmName)] = DEFAULT_BROKER
    """The broker of the instance (a deployment creates `default`)."""
    custom_location: Annotated[Input, _or_output(CustomLocationId)]
    """Resource id of the custom location of the instance's Arc-enabled cluster."""
    subscription_id: SubscriptionId | None = None
    """Subscription of the instance; default: the one in customLocation."""

    def known(self) -> bool:
        """Whether every value is a plain string (none is a composition's Output)."""
        values = (self.resource_group, self.instance, self.broker, self.custom_location)
        return all(isinstance(value, str) for value in values)

    def subscription(self) -> str | None:
        """The subscription to read and write in; None while customLocation is an Output."""
        if self.subscription_id is not None:
            return self.subscription_id
        if isinstance(self.custom_location, str):  # checked: /subscriptions/<id>/...
            return self.custom_location.split("/")[2]
        return None


def broker_of(raw: Any) -> str | None:
    """The broker a raw `aio-mq:azure` value names, when it is a valid plain name."""
    broker = raw.get("broker", DEFAULT_BROKER) if isinstance(raw, dict) else None
    return broker if isinstance(broker, str) and _ARM_NAME.fullmatch(broker) else None


def arm_problems(
    target: AzureTarget,
    *,
    broker_ref: str | None,
    listeners: Sequence[MqListenerV1Args],
    authentications: Sequence[BrokerAuthenticationArgs],
    authorizations: Sequence[BrokerAuthorizationArgs],
    namespace: str,
    kubernetes_given: bool,
    issuers: int,
) -> list[Problem]:
    """What ARM refuses or cannot hold, in a GA stack that is otherwise valid: names, objects
    in another namespace or broker than the target's, and cluster-only objects without a
    cluster to create them on (`kubernetes_given`: the stack names one in aio-mq:kubernetes).
    `broker_ref`: aio-mq:brokerRef when the stack gives it."""
    problems: list[Problem] = []
    broker = target.broker if isinstance(target.broker, str) else None
    if broker is not None and broker_ref is not None and broker_ref != broker:
        problems.append(
            Problem(
                "aio-mq:brokerRef",
                f"is {broker_ref!r}, but the ARM target's broker is {broker!r} ({KEY}.broker)",
                f"remove aio-mq:brokerRef, or set it to {broker!r}: on ARM the broker is the "
                "resources' parent",
            )
        )
    objects: list[tuple[str, BrokerAuthenticationArgs | BrokerAuthorizationArgs]] = [
        *((f"authentications[{i}]", a) for i, a in enumerate(authentications)),
        *((f"authorizations[{i}]", a) for i, a in enumerate(authorizations)),
    ]
    for path, name, item_namespace in [
        *((f"listeners[{i}]", item.name, item.namespace) for i, item in enumerate(listeners)),
        *((path, obj.name, obj.namespace) for path, obj in objects),
    ]:
        if not _ARM_NAME.fullmatch(name):
            problems.append(
                Problem(
                    f"{path}.name",
                    f"{name!r} is not a name Azure Resource Manager accepts",
                    _ARM_NAME_FIX,
                )
            )
        if item_namespace is not None and item_namespace != namespace:
            problems.append(
                Problem(
                    f"{path}.namespace",
                    f"is {item_namespace!r}; Azure resources have no namespace: the instance's "
                    f"custom location puts every object in one ({namespace!r} here)",
                    "remove namespace from this item (aio-mq:namespace names the instance's "
                    "namespace)",
                )
            )
    for i, item in enumerate(listeners):
        if item.broker_ref is not None and broker is not None and item.broker_ref != broker:
            problems.append(
                Problem(
                    f"listeners[{i}].brokerRef",
                    f"is {item.broker_ref!r}, but the ARM target's broker is {broker!r}",
                    f"remove brokerRef: every listener goes under {KEY}.broker",
                )
            )
    if not kubernetes_given:
        problems += _cluster_only(listeners, issuers)
    return problems


def _cluster_only(listeners: Sequence[MqListenerV1Args], issuers: int) -> list[Problem]:
    """cert-manager issuers and TLS Secrets are no ARM resources: without aio-mq:kubernetes
    there is no cluster to create them on."""
    fix = (
        "add aio-mq:kubernetes with the context (and kubeconfig) of the instance's cluster, "
        "where aio-mq creates them before the Azure resources; or create them there yourself "
        "and refer to them by name"
    )
    problems = [
        Problem(
            f"issuers[{j}]",
            "a cert-manager issuer is a Kubernetes object, not an Azure resource, and this ARM "
            "stack names no cluster",
            fix + " (issuerRef)",
        )
        for j in range(issuers)
    ]
    for i, item in enumerate(listeners):
        for j, port in enumerate(item.ports):
            manual = port.tls.manual if port.tls else None
            if manual is not None and manual.creates_secret:
                problems.append(
                    Problem(
                        f"listeners[{i}].ports[{j}].tls.manual",
                        "the certificate and key make a Kubernetes Secret, not an Azure "
                        "resource, and this ARM stack names no cluster",
                        fix + " (secretRef alone)",
                    )
                )
    return problems


def preview_api_problem() -> Problem:
    """`aio-mq:azure` on a preview-API stack."""
    return Problem(
        KEY,
        "the Azure Resource Manager target is for the GA API only: ARM has no resources of "
        "the preview API mq.iotoperations.azure.com/v1beta1",
        "set aio-mq:apiVersion: mqttbroker.iotoperations.azure.com/v1 (tools/migrate-to-v1 "
        "writes the GA form of this stack file), or remove aio-mq:azure",
    )
