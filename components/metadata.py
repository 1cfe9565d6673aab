"""`metadata` of every object aio-mq creates, in one place: whatever marks an object as this
stack's (so that live discovery can tell it from someone else's) is added here."""

from __future__ import annotations

from typing import Any

OWNED_FIELDS_ANNOTATIONS = {"pulumi.com/patchForce": "true"}
"""The stack owns the fields it declares: a field someone changed out of band (`kubectl edit`,
another field manager) is put back by the next `up` instead of failing it with a server-side
apply conflict."""


def object_metadata(name: str, namespace: str | None = None) -> dict[str, Any]:
    """metadata for an object called `name`, namespaced unless `namespace` is None."""
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    metadata["annotations"] = dict(OWNED_FIELDS_ANNOTATIONS)
    return metadata
