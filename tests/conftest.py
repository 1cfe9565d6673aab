"""Pulumi mocks harness: each test gets its own event loop, engine connection and config."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pulumi
import pytest
from pulumi.runtime.sync_await import _sync_await

from components import preflight
from components.v1 import stack as ga_stack
from tests.fake_cluster import FakeCluster, aio_install

MARK = {
    "labels": {"app.kubernetes.io/managed-by": "aio-mq"},
    "annotations": {"aio-mq/stack": "organization/aio-mq/test", "pulumi.com/patchForce": "true"},
}
"""What object_metadata() adds to every object of the mocked stack (project aio-mq, stack test)."""


class RecordingMocks(pulumi.runtime.Mocks):
    """Records every registration; custom resources echo their inputs as outputs."""

    def __init__(self) -> None:
        self.registered: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        self.registered.append(args)
        return (f"{args.name}-id" if args.custom else None), dict(args.inputs)

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None

    def of_type(self, type_: str) -> list[pulumi.runtime.MockResourceArgs]:
        return [r for r in self.registered if r.typ == type_]

    @property
    def broker_listeners(self) -> dict[str, dict[str, Any]]:
        """Registered BrokerListener CRs by metadata.name."""
        found = self.of_type("kubernetes:mq.iotoperations.azure.com/v1beta1:BrokerListener")
        return {r.inputs["metadata"]["name"]: r.inputs for r in found}

    @property
    def ga_listeners(self) -> dict[str, dict[str, Any]]:
        """Registered GA BrokerListener CRs by metadata.name."""
        found = self.of_type("kubernetes:mqttbroker.iotoperations.azure.com/v1:BrokerListener")
        return {r.inputs["metadata"]["name"]: r.inputs for r in found}


class Engine:
    """Runs programs under mocks the way the engine runs __main__.py."""

    def __init__(self, mocks: RecordingMocks) -> None:
        self.mocks = mocks

    def configure(self, config: dict[str, Any], secret_keys: list[str] | None = None) -> None:
        """Set `aio-mq:*` keys as the engine passes them (structured values as JSON)."""
        pulumi.runtime.set_all_config(
            {
                f"aio-mq:{key}": value if isinstance(value, str) else json.dumps(value)
                for key, value in config.items()
            },
            [f"aio-mq:{key}" for key in secret_keys or []],
        )

    def run(self, program: Callable[[], Any]) -> Any:
        """Run `program`; return what it returned, its Outputs resolved."""
        result: dict[str, Any] = {}

        @pulumi.runtime.test  # type: ignore[untyped-decorator]
        def wrapped() -> Any:
            value = program()
            return pulumi.Output.from_input(value).apply(lambda v: result.setdefault("value", v))

        wrapped()
        return result.get("value")


@pytest.fixture
def engine() -> Iterator[Engine]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    mocks = RecordingMocks()
    # The root stack resource lives in a context variable that outlives the test; one whose
    # program was refused before the stack registered would leave later tests awaiting a future
    # of a closed loop. set_mocks makes a new one on this loop.
    pulumi.runtime.settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project="aio-mq", stack="test", preview=False)
    pulumi.runtime.set_all_config({}, [])
    try:
        yield Engine(mocks)
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def resolve(output: Any) -> Any:
    return _sync_await(pulumi.Output.from_input(output).future())


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    """The cluster that a stack in cluster mode connects to: a fresh Azure IoT Operations
    install with cert-manager, in memory. Tests change it before running the program."""
    return serve(monkeypatch, aio_install())


def serve(monkeypatch: pytest.MonkeyPatch, fake: FakeCluster) -> FakeCluster:
    """Make `fake` the cluster every stack in cluster mode connects to."""

    def connect(kubeconfig: str | None, context: str | None) -> FakeCluster:
        fake.connected_with = (kubeconfig, context)
        return fake

    monkeypatch.setattr(preflight, "connect", connect)
    monkeypatch.setattr(ga_stack, "read_cluster", connect)  # the endpoints' reads after `up`
    return fake
