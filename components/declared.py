"""Objects a stack declares to exist on the cluster without the program, written as the
guardrails policy pack's config writes them (`tls-references-exist`: existingSecrets,
existingIssuers), so one notation serves the stack file and the policy config.

    aio-mq:existingSecrets: [azure-iot-operations/mq-edge-server-cert]
    aio-mq:existingIssuers: [ClusterIssuer/azure-iot-operations-aio-certificate-issuer]
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, TypeAdapter, ValidationError
from pydantic.json_schema import WithJsonSchema
from pydantic_core import PydanticCustomError

from .errors import quote
from .spec import CERT_MANAGER_GROUP, DEFAULT_NAMESPACE, Dns1123Label, ResourceName

_KIND = re.compile(r"[A-Z][A-Za-z0-9]*")
_GROUP = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+")


def _is(kind: Any, value: str) -> bool:
    try:
        TypeAdapter(kind).validate_python(value)
    except ValidationError:
        return False
    return True


def _secret(value: str) -> str:
    namespace, _, name = value.partition("/")
    if not (_is(Dns1123Label, namespace) and _is(ResourceName, name)):
        raise PydanticCustomError(
            "declared_secret",
            "{value} is not <namespace>/<name>",
            {
                "value": quote(value),
                "fix": "write the namespace, '/' and the name, e.g. "
                f"{DEFAULT_NAMESPACE}/mq-edge-server-cert",
            },
        )
    return value


def _issuer(value: str) -> str:
    parts = value.split("/")
    kind, _, group = parts[0].partition(".")
    cert_manager = not group
    namespaced = len(parts) == 3
    ok = (
        len(parts) in (2, 3)
        and _KIND.fullmatch(kind) is not None
        and (cert_manager or _GROUP.fullmatch(group) is not None)
        and (not namespaced or _is(Dns1123Label, parts[1]))
        and _is(ResourceName, parts[-1])
        # cert-manager's own kinds: an Issuer has a namespace, a ClusterIssuer none.
        and not (cert_manager and kind == "Issuer" and not namespaced)
        and not (cert_manager and kind == "ClusterIssuer" and namespaced)
    )
    if not ok:
        raise PydanticCustomError(
            "declared_issuer",
            "{value} is not Issuer/<namespace>/<name> or ClusterIssuer/<name>",
            {
                "value": quote(value),
                "fix": "write e.g. ClusterIssuer/azure-iot-operations-aio-certificate-issuer or "
                f"Issuer/{DEFAULT_NAMESPACE}/<name>; an issuer of another group than "
                f"{CERT_MANAGER_GROUP} as <Kind>.<group>/[<namespace>/]<name>",
            },
        )
    return value


DeclaredSecret = Annotated[
    str,
    AfterValidator(_secret),
    WithJsonSchema({"type": "string", "pattern": "^[^/]+/[^/]+$"}),
]
"""A Secret as `<namespace>/<name>`."""

DeclaredIssuer = Annotated[
    str,
    AfterValidator(_issuer),
    WithJsonSchema({"type": "string", "pattern": "^[^/]+/([^/]+/)?[^/]+$"}),
]
"""A cert-manager issuer as `ClusterIssuer/<name>` or `Issuer/<namespace>/<name>`; one of
another group as `<Kind>.<group>/[<namespace>/]<name>`."""


def issuer_key(kind: str, name: str, namespace: str) -> str:
    """How a cert-manager issuer is declared (a ClusterIssuer has no namespace)."""
    return f"{kind}/{name}" if kind == "ClusterIssuer" else f"{kind}/{namespace}/{name}"
