"""A stack written by an earlier aio-mq keeps its resources on the real engine.

Up to this round the stack program registered one component per listener (`aio:mq:MqListener`,
`aio:mq:MqListenerV1`) with the listener's resources as its children; now the stack owns them
directly (docs/benchmarks.md). Each test brings a stack up with the public components, laid
out exactly as the stack program did then, and previews and updates it with the stack program:
no listener may be created, replaced or deleted, only the components leave the state.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import Project
from tests.e2e.test_trust import RENDER, write_stack

pytestmark = pytest.mark.e2e

PREVIEW_LISTENERS = [
    {"name": "plain", "port": 1885},
    {"name": "lb", "port": 1886, "serviceType": "loadBalancer", "serviceName": "lb"},
]
GA_LISTENERS = [
    {"name": "edge", "serviceType": "LoadBalancer", "ports": [{"port": 1885}, {"port": 8883}]},
]

EARLIER = '''"""The stack program as it registered listeners before: one component each."""
import json

import pulumi
import pulumi_kubernetes as k8s

from components import {component}

provider = k8s.Provider("kubernetes", render_yaml_to_directory="rendered/x")
for item in json.loads({listeners!r}):
    {component}(item["name"], item, pulumi.ResourceOptions(providers=[provider]))
'''


def steps(project: Project) -> list[dict[str, Any]]:
    preview = project.pulumi("preview", "--json", "--stack", "x").stdout
    found: list[dict[str, Any]] = json.loads(preview)["steps"]
    return found


@pytest.mark.parametrize(
    ("api", "component", "listeners"),
    [
        (None, "MqListener", PREVIEW_LISTENERS),
        ("mqttbroker.iotoperations.azure.com/v1", "MqListenerV1", GA_LISTENERS),
    ],
    ids=["preview-api", "ga"],
)
def test_a_stack_of_listener_components_keeps_its_listeners(
    project: Project, api: str | None, component: str, listeners: list[dict[str, Any]]
) -> None:
    config: dict[str, Any] = {"kubernetes": RENDER, "listeners": listeners}
    if api:
        config["apiVersion"] = api
    write_stack(project, config)
    main = project.root / "__main__.py"
    program = main.read_text()
    main.write_text(EARLIER.format(component=component, listeners=json.dumps(listeners)))
    project.pulumi("up", "--yes", "--stack", "x")
    before = {r["urn"]: r for r in project.export("x")["deployment"]["resources"]}
    token = f"aio:mq:{component}"
    assert sum(urn.endswith(f"{token}::{i['name']}") for urn in before for i in listeners) == len(
        listeners
    )

    main.write_text(program)
    changes = [s for s in steps(project) if s["op"] != "same"]
    # Only the components go; every listener is the same resource, unchanged.
    assert sorted((s["op"], s["urn"].rsplit("::", 1)[1]) for s in changes) == sorted(
        ("delete", i["name"]) for i in listeners
    ), changes
    assert all(s["urn"].split("::")[2] == token for s in changes)

    project.pulumi("up", "--yes", "--stack", "x")
    after = {r["urn"]: r for r in project.export("x")["deployment"]["resources"]}
    listener_type = next(r["type"] for r in before.values() if r["type"].endswith("BrokerListener"))
    kept = {r["id"]: r for r in after.values() if r["type"] == listener_type}
    earlier = {r["id"]: r for r in before.values() if r["type"] == listener_type}
    assert sorted(kept) == sorted(earlier) and len(kept) == len(listeners)
    for id_, resource in kept.items():
        assert resource["inputs"] == earlier[id_]["inputs"]
        assert resource["parent"].endswith("pulumi:pulumi:Stack::aio-mq-x")
    assert not any(r["type"] == token for r in after.values())
    assert [s for s in steps(project) if s["op"] != "same"] == []
