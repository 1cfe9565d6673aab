"""The ARM deployment template of an ARM stack (`make render`: rendered/<stack>/azuredeploy.json).

Exactly the resources `pulumi up` registers (resources.py), deployable with
`az deployment group create --resource-group <group> --template-file azuredeploy.json` and
previewable with `az deployment group what-if`. An incremental deployment: resources of the
broker that the template does not list are left alone, as the stack leaves alone what it does
not manage.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from ..errors import Problem
from .config import AzureTarget
from .resources import API_VERSION, RESOURCE_TYPES, ArmResource

FILE_NAME: Final = "azuredeploy.json"
SCHEMA: Final = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


_NAMED = {"instance": "instance", "broker": "broker", "customLocation": "custom_location"}


def template_problems(target: AzureTarget) -> list[Problem]:
    """A template names its resources: values that are another resource's output cannot."""
    return [
        Problem(
            f"aio-mq:azure.{key}",
            "is another resource's output, unknown until it is deployed; an ARM template needs "
            "the name",
            "give the name as text to render a template",
        )
        for key, field in _NAMED.items()
        if not isinstance(getattr(target, field), str)
    ]


def arm_template(resources: Sequence[ArmResource], target: AzureTarget) -> dict[str, Any]:
    """The template of `resources` under `target` (plain values: template_problems)."""
    instance, broker, location = (str(getattr(target, f)) for f in _NAMED.values())

    # Issuers and Secrets are on the cluster: created before, by the Kubernetes target.
    def resource_id(kind: str, name: str) -> str:
        return f"[resourceId('{RESOURCE_TYPES[kind]}', '{instance}', '{broker}', '{name}')]"

    return {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": {},
        "resources": [
            {
                "type": resource.type,
                "apiVersion": API_VERSION,
                "name": f"{instance}/{broker}/{resource.name}",
                "extendedLocation": {"name": location, "type": "CustomLocation"},
                "properties": resource.properties,
                **(
                    {"dependsOn": [resource_id(kind, name) for kind, name, _ in needs]}
                    if (needs := [key for key in resource.depends_on if key[0] in RESOURCE_TYPES])
                    else {}
                ),
            }
            for resource in resources
        ],
    }


def write_template(directory: str, resources: Sequence[ArmResource], target: AzureTarget) -> Path:
    """Write the template into `directory` (created if needed); return its path."""
    path = Path(directory) / FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(arm_template(resources, target), indent=2) + "\n")
    return path
