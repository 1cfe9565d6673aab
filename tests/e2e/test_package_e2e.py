"""aio-mq as a component package, on the real engine: `pulumi package add` from a Pulumi YAML and
a Python program, the manifests they render, refusals, and the committed package schema.

The package is a clean copy of the checkout without a virtualenv, as a fresh clone is: the
language host creates the plugin's virtualenv on first use (once per module here).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pr_comment
import pytest
import yaml

from tests.e2e.conftest import ROOT, Project

pytestmark = pytest.mark.e2e

FIXTURES = ROOT / "tests" / "fixtures"
SCHEMA = ROOT / "schema" / "pulumi-package.schema.json"


@pytest.fixture(scope="module")
def package_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("package") / "aio-mq"
    root.mkdir()
    pr_comment.copy_project(ROOT, root)
    for rel in ("venv", "policy/venv"):
        if (root / rel).is_symlink():
            (root / rel).unlink()
    yield root


def consumer(name: str, project: Project) -> Project:
    """A copy of tests/fixtures/<name> next to the project copy, with the project's engine env."""
    root = project.root.parent / name
    shutil.copytree(FIXTURES / name, root)
    return Project(root, project.env)


def rendered(directory: Path) -> dict[str, list[Any]]:
    """Every rendered manifest file under `directory`, by relative path, parsed."""
    assert directory.is_dir(), f"nothing was rendered into {directory}"
    return {
        str(path.relative_to(directory)): list(yaml.safe_load_all(path.read_text()))
        for path in sorted(directory.rglob("*.yaml"))
    }


def stack_marks(manifests: dict[str, list[Any]]) -> set[str]:
    """The `aio-mq/stack` annotations of the manifests, taken out: the mark names the Pulumi
    stack that manages an object, the consumer's own when a program uses the package."""
    marks = set()
    for docs in manifests.values():
        for doc in docs:
            marks.add(doc["metadata"]["annotations"].pop("aio-mq/stack"))
    return marks


def stack_program_render(project: Project) -> dict[str, list[Any]]:
    project.init("dev")
    project.pulumi("up", "--yes", "--stack", "dev")
    return rendered(project.root / "rendered" / "dev")


def add_package(program: Project, package_dir: Path) -> str:
    added = program.pulumi("package", "add", str(package_dir))
    return added.stdout + added.stderr


def test_yaml_program_renders_exactly_what_the_dev_stack_renders(
    project: Project, package_dir: Path
) -> None:
    expected = stack_program_render(project)
    program = consumer("yaml-consumer", project)

    add_package(program, package_dir)
    recorded = yaml.safe_load((program.root / "Pulumi.yaml").read_text())
    assert "aio-mq" in recorded["packages"]

    program.init("dev")
    up = program.pulumi("up", "--yes", "--stack", "dev")
    assert "Traceback" not in up.stdout + up.stderr
    found = rendered(program.root / "rendered")
    assert stack_marks(expected) == {"organization/aio-mq/dev"}
    assert stack_marks(found) == {"organization/yaml-consumer/dev"}
    assert found == expected

    outputs = json.loads(program.pulumi("stack", "output", "--json", "--stack", "dev").stdout)
    assert sorted(outputs["listeners"]) == ["dev-plain", "dev-tls"]
    assert outputs["listeners"]["dev-tls"]["tlsIssuer"] == "aio-mq-dev-selfsigned"
    program.pulumi("preview", "--expect-no-changes", "--stack", "dev")


def test_yaml_program_with_a_conflicting_pair_fails_with_the_stack_file_message(
    project: Project, package_dir: Path
) -> None:
    # The same conflict in a stack file and in the YAML program: same problem lines.
    project.init("dev")
    project.pulumi(
        "config", "set", "--path", "listeners[0].serviceName", "my-service", "--stack", "dev"
    )
    stack_preview = project.pulumi("preview", "--stack", "dev", check=False)
    assert stack_preview.returncode != 0
    problems = [
        line.strip()
        for line in (stack_preview.stdout + stack_preview.stderr).splitlines()
        if line.strip().startswith(("- ", "fix: "))
    ]
    assert any("Rule 1: listeners[0] 'dev-plain'" in line for line in problems), problems

    program = consumer("yaml-consumer", project)
    spec = yaml.safe_load((program.root / "Pulumi.yaml").read_text())
    spec["resources"]["dev"]["properties"]["listeners"][0]["serviceName"] = "my-service"
    (program.root / "Pulumi.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    add_package(program, package_dir)
    program.init("dev")

    preview = program.pulumi("preview", "--stack", "dev", check=False)
    output = preview.stdout + preview.stderr
    assert preview.returncode != 0
    assert "aio-mq: MqListenerSet 'dev' has 1 problem; no resource was registered." in output
    for line in problems:
        assert line in output
    assert "Traceback" not in output

    up = program.pulumi("up", "--yes", "--stack", "dev", check=False)
    assert up.returncode != 0
    assert not (program.root / "rendered").exists()
    registered = [r["type"] for r in program.export("dev")["deployment"].get("resources", [])]
    assert not [
        t for t in registered if t.startswith(("aio-mq:", "kubernetes:cert", "kubernetes:mq"))
    ]


def test_python_program_with_the_generated_sdk_renders_what_the_dev_stack_renders(
    project: Project, package_dir: Path
) -> None:
    expected = stack_program_render(project)
    program = consumer("python-consumer", project)

    output = add_package(program, package_dir)
    assert "import pulumi_aio_mq as aio_mq" in output
    assert (program.root / "sdks" / "aio-mq").is_dir()
    assert "sdks/aio-mq" in (program.root / "requirements.txt").read_text()

    program.init("dev")
    program.pulumi("up", "--yes", "--stack", "dev")
    found = rendered(program.root / "rendered")
    assert stack_marks(expected) == {"organization/aio-mq/dev"}
    assert stack_marks(found) == {"organization/python-consumer/dev"}
    assert found == expected
    outputs = json.loads(program.pulumi("stack", "output", "--json", "--stack", "dev").stdout)
    assert sorted(outputs["listeners"]) == ["dev-plain", "dev-tls"]


def test_committed_package_schema_is_what_get_schema_prints(
    project: Project, package_dir: Path
) -> None:
    # Not from inside the package: `pulumi package` commands refuse a working directory that
    # has both Pulumi.yaml and PulumiPlugin.yaml.
    outside = Project(project.root.parent, project.env)
    printed = outside.pulumi("package", "get-schema", str(package_dir)).stdout
    assert json.loads(printed) == json.loads(SCHEMA.read_text()), (
        "schema/pulumi-package.schema.json is stale: run `make package-schema`"
    )
