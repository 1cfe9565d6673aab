"""`metadata` of every object aio-mq creates, in one place: whatever marks an object as this
stack's (so that live discovery can tell it from someone else's) is added here."""

from __future__ import annotations


def object_metadata(name: str, namespace: str | None = None) -> dict[str, str]:
    """metadata for an object called `name`, namespaced unless `namespace` is None."""
    metadata = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return metadata
