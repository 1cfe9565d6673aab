"""`metadata` of every object aio-mq creates, in one place: the mark that tells live discovery
this stack's objects from anyone else's, and the claim on the fields the stack declares; and
the Pulumi name of an object (`resource_name`).

The mark is a label (`app.kubernetes.io/managed-by: aio-mq`, the recommended Kubernetes label,
so `kubectl get -l` finds aio-mq's objects) and an annotation naming the Pulumi stack
(`organization/project/stack`). A name alone proves nothing: someone may have created a
listener called `telemetry` by hand, and that one is a conflict, not ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "aio-mq"
STACK_ANNOTATION = "aio-mq/stack"


def stack_id() -> str:
    """`organization/project/stack` of the running Pulumi program (the organization of a
    self-managed backend is `organization`, as Pulumi names it)."""
    organization = pulumi.get_organization() or "organization"
    return f"{organization}/{pulumi.get_project()}/{pulumi.get_stack()}"


OWNED_FIELDS_ANNOTATIONS = {"pulumi.com/patchForce": "true"}
"""The stack owns the fields it declares: a field someone changed out of band (`kubectl edit`,
another field manager) is put back by the next `up` instead of failing it with a server-side
apply conflict."""


def object_metadata(
    name: str, namespace: str | None = None, *, marked: bool = True
) -> dict[str, Any]:
    """metadata for an object called `name`, namespaced unless `namespace` is None. Unmarked:
    for an object left on the cluster when the stack lets it go, whose mark is applied by a
    resource of its own that gives it up then (components/v1/listener.py)."""
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    if marked:
        metadata["labels"] = {MANAGED_BY_LABEL: MANAGED_BY}
    metadata["annotations"] = {
        **({STACK_ANNOTATION: stack_id()} if marked else {}),
        **OWNED_FIELDS_ANNOTATIONS,
    }
    return metadata


def managing_stack(metadata: Mapping[str, Any]) -> str | None:
    """The aio-mq stack (`organization/project/stack`) that created the live object with this
    metadata, or None when aio-mq did not (or the mark was removed)."""
    labels = metadata.get("labels") or {}
    if labels.get(MANAGED_BY_LABEL) != MANAGED_BY:
        return None
    stack = (metadata.get("annotations") or {}).get(STACK_ANNOTATION)
    return stack if isinstance(stack, str) else None


def resource_name(name: str, namespace: str, stack_namespace: str) -> str:
    """Pulumi name of an object: its name, qualified when outside the stack's namespace (a
    name may repeat across namespaces; '/' is in no Kubernetes name)."""
    return name if namespace == stack_namespace else f"{namespace}/{name}"
