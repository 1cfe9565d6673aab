"""A stand-in for components/arm/discovery.py (the arm-discovery engineer's `discover_arm`,
contract plus its `declared_authentications`/`declared_authorizations`):
what the broker of a fresh Azure IoT Operations instance holds as ARM lists it, and every call
recorded, so tests of the ARM stack path see what it asks and how it uses the answer."""

from __future__ import annotations

import sys
import types
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import pytest

from components.errors import Problem
from components.spec import DEFAULT_NAMESPACE
from components.v1 import sharing as v1_sharing
from components.v1.auth import DEFAULT_AUTHENTICATION
from components.v1.discovery import DiscoveredV1
from components.v1.models import DEFAULT_LISTENER, MqListenerV1Args

MODULE = "components.arm.discovery"


@dataclass
class FakeArm:
    listeners: list[MqListenerV1Args] = field(default_factory=lambda: [DEFAULT_LISTENER])
    authentications: list[str] = field(default_factory=lambda: [DEFAULT_AUTHENTICATION.name])
    problems: list[Problem] = field(default_factory=list)
    """When given: ARM could not be read (None and these problems)."""
    calls: list[dict[str, Any]] = field(default_factory=list)

    def discover_arm(  # noqa: PLR0917 (the contract's signature)
        self,
        subscription_id: str,
        resource_group: str,
        instance: str,
        broker: str,
        namespace: str,
        declared: Collection[str] = (),
        *,
        declared_authentications: Collection[str] = (),
        declared_authorizations: Collection[str] = (),
        **options: Any,
    ) -> tuple[DiscoveredV1 | None, list[Problem]]:
        self.calls.append(
            {
                "subscription_id": subscription_id,
                "resource_group": resource_group,
                "instance": instance,
                "broker": broker,
                "namespace": namespace,
                "declared": list(declared),
                "declared_authentications": list(declared_authentications),
                "declared_authorizations": list(declared_authorizations),
                **options,
            }
        )
        if self.problems:
            return None, self.problems
        where = f"in Azure (instance {instance}, {resource_group}), not managed by this stack"
        listeners = [
            # As ARM has them: under the broker, in no namespace of their own.
            v1_sharing.Listener.of(
                item.model_copy(update={"namespace": None, "broker_ref": None}),
                namespace,
                broker,
                "the listener",
                existing=True,
            )
            for item in self.listeners
            if item.name not in declared
        ]
        return (
            DiscoveredV1(
                f"Azure instance {instance} ({resource_group})",
                tuple(
                    v1_sharing.Listener(**{**vars(fact), "on_cluster": where}) for fact in listeners
                ),
                tuple(
                    v1_sharing.Declared(name, DEFAULT_NAMESPACE, where, ("ServiceAccountToken",))
                    for name in self.authentications
                    if name not in declared_authentications
                ),
            ),
            [],
        )


def serve_arm(monkeypatch: pytest.MonkeyPatch, fake: FakeArm | None = None) -> FakeArm:
    """Make `fake` (default: a fresh instance) what every ARM stack reads from Azure."""
    fake = fake or FakeArm()
    module = types.ModuleType(MODULE)
    module.discover_arm = fake.discover_arm  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, MODULE, module)
    return fake
