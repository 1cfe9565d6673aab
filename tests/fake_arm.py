"""A stand-in for components/arm/discovery.py (the arm-discovery engineer's `discover_arm`):
what the broker of a fresh Azure IoT Operations instance holds as ARM lists it, and every call
recorded, so tests of the ARM stack path see what it asks and how it uses the answer."""

from __future__ import annotations

import sys
import types
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import pytest

from components.discovery import DiscoveredV1
from components.errors import Problem
from components.spec import DEFAULT_NAMESPACE
from components.v1 import sharing as v1_sharing
from components.v1.auth import DEFAULT_AUTHENTICATION
from components.v1.models import DEFAULT_BROKER, DEFAULT_LISTENER, MqListenerV1Args

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
                **options,
            }
        )
        if self.problems:
            return None, self.problems
        where = f"in Azure (instance {instance}, {resource_group}), not managed by this stack"
        listeners = [
            v1_sharing.Listener.of(item, namespace, DEFAULT_BROKER, "the listener", existing=True)
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
