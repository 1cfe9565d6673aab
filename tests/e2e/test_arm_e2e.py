"""The ARM stack on the real engine, run the way `make` runs it: `make render STACK=prod-arm`
writes rendered/prod-arm/azuredeploy.json offline from the same plan the program registers; a
bad ARM stack is refused with aio-mq's report and writes nothing; `make preview` says in one line
that the azure-native plugin is missing (this machine has none) and runs no engine."""

from __future__ import annotations

import json

import pytest

from tests.apiserver.conftest import make
from tests.e2e.conftest import Project
from tests.e2e.test_policy_e2e import policy_venv
from tests.test_arm_stack import LOCATION

pytestmark = pytest.mark.e2e


def test_make_render_writes_the_arm_template_offline(project: Project) -> None:
    policy_venv()  # prod-arm is production: render runs the guardrails pack too
    result = make(project, "render", "STACK=prod-arm")
    assert result.returncode == 0, result.stdout + result.stderr
    rendered = project.root / "rendered" / "prod-arm"
    assert sorted(p.name for p in rendered.iterdir()) == ["azuredeploy.json"]
    template = json.loads((rendered / "azuredeploy.json").read_text())
    assert [(r["type"], r["name"]) for r in template["resources"]] == [
        (
            "Microsoft.IoTOperations/instances/brokers/authentications",
            "aio-factory/default/factory-devices",
        ),
        (
            "Microsoft.IoTOperations/instances/brokers/authorizations",
            "aio-factory/default/factory-telemetry",
        ),
        ("Microsoft.IoTOperations/instances/brokers/listeners", "aio-factory/default/factory-edge"),
    ]
    for resource in template["resources"]:
        assert resource["apiVersion"] == "2024-11-01"
        assert resource["extendedLocation"] == {"name": LOCATION, "type": "CustomLocation"}
        assert "brokerRef" not in json.dumps(resource["properties"])
    # Nothing of the stack's own state was made: the render ran on a disposable copy.
    assert project.pulumi("stack", "ls", "--json").stdout.strip() == "[]"


def test_a_bad_arm_stack_is_refused_and_writes_nothing(project: Project) -> None:
    policy_venv()
    stack_file = project.stack_file("prod-arm")
    stack_file.write_text(
        stack_file.read_text()
        .replace("instance: aio-factory", "instance: AIO_factory")
        .replace("name: factory-devices", "name: factory.devices")
    )
    result = make(project, "render", "STACK=prod-arm")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "aio-mq: the configuration has" in output
    assert "azure.instance: 'AIO_factory' is not an Azure IoT Operations resource name" in output
    assert "Traceback" not in output
    assert not (project.root / "rendered" / "prod-arm").exists()


@pytest.mark.parametrize("command", ["preview", "up"])
def test_make_preview_and_up_say_in_one_line_that_the_plugin_is_missing(
    project: Project, command: str
) -> None:
    extra = ["CLUSTER=yes"] if command == "up" else []
    result = make(project, command, "STACK=prod-arm", *extra)
    assert result.returncode != 0
    (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("stacks:")]
    assert line.startswith(
        f"stacks: prod-arm is an ARM stack (aio-mq:azure): `make {command}` needs the Pulumi "
        "azure-native provider plugin 3.29.0, which is not installed here"
    )
    assert line.endswith("`make render STACK=prod-arm` writes its ARM template offline")
    assert "Traceback" not in result.stderr and "plugin" not in result.stdout
