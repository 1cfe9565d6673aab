"""The GA broker objects as Kubernetes custom resources: `BrokerObject`, with the annotations that
have the Kubernetes provider wait for the broker's verdict (`Wait`, components/v1/wait.py reads
the verdict)."""

from __future__ import annotations

import importlib.metadata
import time
from dataclasses import dataclass, field
from typing import Any

import pulumi

from ..metadata import object_metadata
from .models import API_VERSION

PROVIDER_GRACE_SECONDS = 10
"""How much longer than the program the provider waits (see `Wait.annotations`)."""
SUCCEEDED = "succeeded"
FAILED = "failed"


def _any_case(word: str) -> str:
    """An I-Regexp (RFC 9485) matching `word` in any letter case: it has no case flag."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)


FINAL_STATUS = (
    # The filter selects `.status` once its provisioningStatus.status is final; `match` is
    # guarded by the existence test because the provider's JSONPath library (theory/jsonpath
    # 0.9) crashes on `match` over a missing value.
    "jsonpath={$[?@.provisioningStatus.status && match(@.provisioningStatus.status, "
    f"'({_any_case(SUCCEEDED)}|{_any_case(FAILED)})')]}}"
)
"""The `pulumi.com/waitFor` condition: the broker's verdict is in, whichever it is."""


@dataclass(frozen=True)
class Wait:
    """How long `up` waits for the broker (and for a LoadBalancer's address), from `started`."""

    timeout_seconds: int
    started: float = field(default_factory=time.monotonic)

    def annotations(self) -> dict[str, str]:
        # The provider's own timeout is a backstop, a little later than the program's: when
        # it fires first, the engine stops the program before it can name the key path.
        backstop = self.timeout_seconds + PROVIDER_GRACE_SECONDS
        return {"pulumi.com/waitFor": FINAL_STATUS, "pulumi.com/timeoutSeconds": str(backstop)}

    @property
    def deadline(self) -> float:
        return self.started + self.timeout_seconds


class BrokerObject(pulumi.CustomResource):
    """A GA broker custom resource whose `status` is an output the program reads.

    `k8s.apiextensions.CustomResource` has no `status` output in Python (the SDK drops outputs
    it did not declare), so this registers the same resource type with `status` declared."""

    status: pulumi.Output[Any]

    def __init__(
        self,
        resource_name: str,
        *,
        api_version: str,
        kind: str,
        metadata: dict[str, Any],
        spec: dict[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "apiVersion": api_version,
            "kind": kind,
            "metadata": metadata,
            "spec": spec,
            "status": None,  # an output only: None is not sent
        }
        super().__init__(
            f"kubernetes:{api_version}:{kind}",
            resource_name,
            props,
            pulumi.ResourceOptions.merge(
                pulumi.ResourceOptions(version=importlib.metadata.version("pulumi-kubernetes")),
                opts,
            ),
        )


def with_wait(metadata: dict[str, Any], wait: Wait | None) -> dict[str, Any]:
    """`metadata` with the provider's await annotations when `up` waits."""
    if wait is None:
        return metadata
    return {**metadata, "annotations": {**metadata.get("annotations", {}), **wait.annotations()}}


def broker_object(
    resource_name: str,
    kind: str,
    name: str,
    namespace: str,
    spec: dict[str, Any],
    *,
    opts: pulumi.ResourceOptions | None = None,
    wait: Wait | None = None,
) -> BrokerObject:
    """A BrokerAuthentication or BrokerAuthorization custom resource; with `wait`, the provider
    keeps `up` on it until the broker has answered."""
    return BrokerObject(
        resource_name,
        api_version=API_VERSION,
        kind=kind,
        metadata=with_wait(object_metadata(name, namespace), wait),
        spec=spec,
        opts=opts,
    )
