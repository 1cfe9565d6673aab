"""The GA Kubernetes target reads the plan (components/kubernetes/ga.py): each listener is
registered after the issuer, authentication and authorization its planned object uses."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.kubernetes import ga as ga_target
from components.v1.listener import MqListenerV1
from tests.conftest import Engine
from tests.test_stack import ROOT, run_main, stack_config


def test_each_ga_listener_waits_for_what_its_plan_uses(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mocks do not see dependencies: the target's options to each MqListenerV1 are recorded."""
    seen: dict[str, pulumi.ResourceOptions] = {}

    def recording(name: str, args: Any, opts: pulumi.ResourceOptions, **keys: Any) -> Any:
        seen[name] = opts
        return MqListenerV1(name, args, opts, **keys)

    monkeypatch.setattr(ga_target, "MqListenerV1", recording)
    engine.configure(stack_config(ROOT / "stacks" / "Pulumi.dev-ga.yaml"))
    run_main(engine, monkeypatch)

    def names(opts: pulumi.ResourceOptions) -> list[str]:
        resources: list[pulumi.Resource] = opts.depends_on or []  # type: ignore[assignment]
        return [str(resource._name) for resource in resources]

    assert sorted(seen) == ["default", "dev-edge"]
    # Both ports name the same three objects: each once. `default` uses what the stack does
    # not create (the ClusterIssuer and authentication Azure IoT Operations installs).
    assert names(seen["dev-edge"]) == [
        "aio-mq-dev-selfsigned",
        "authentication-dev-devices",
        "authorization-dev-telemetry",
    ]
    assert names(seen["default"]) == []
