"""aio-mq as a component package, on the real engine: `pulumi package add` from a Pulumi YAML and
a Python program, the manifests they render, refusals, and the committed package schema.

The package is a clean copy of the checkout without a virtualenv, as a fresh clone is: the
language host creates the plugin's virtualenv on first use (once per module here).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.certs import service_hosts
from tests.e2e.conftest import ROOT, Project
from tests.pki import tls_pair
from tools.project import copy_project

pytestmark = pytest.mark.e2e

FIXTURES = ROOT / "tests" / "fixtures"
SCHEMA = ROOT / "schema" / "pulumi-package.schema.json"
SECRET_SIG = "4dabf18193072939515e22adb298388d"
"""How the Pulumi state marks an encrypted value."""


@pytest.fixture(scope="module")
def package_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("package") / "aio-mq"
    root.mkdir()
    copy_project(ROOT, root)
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


def stack_program_render(project: Project, stack: str = "dev") -> dict[str, list[Any]]:
    project.init(stack)
    project.pulumi("up", "--yes", "--stack", stack)
    return rendered(project.root / "rendered" / stack)


def edit_set(program: Project, edit: Callable[[dict[str, Any]], None]) -> None:
    """Apply `edit` to the properties of the program's set `dev`, in its Pulumi.yaml."""
    path = program.root / "Pulumi.yaml"
    spec = yaml.safe_load(path.read_text())
    edit(spec["resources"]["dev"]["properties"])
    path.write_text(yaml.safe_dump(spec, sort_keys=False))


def add_package(program: Project, package_dir: Path) -> str:
    added = program.pulumi("package", "add", str(package_dir))
    return added.stdout + added.stderr


def yaml_program_render(
    project: Project, package_dir: Path, fixture: str, stack: str
) -> tuple[Project, dict[str, list[Any]]]:
    """The YAML program tests/fixtures/<fixture> after `up`, and what it rendered: asserted to
    be what the stack program renders for `stack`, but for the marks naming each stack."""
    expected = stack_program_render(project, stack)
    program = consumer(fixture, project)
    add_package(program, package_dir)
    recorded = yaml.safe_load((program.root / "Pulumi.yaml").read_text())
    assert "aio-mq" in recorded["packages"]

    program.init("dev")
    up = program.pulumi("up", "--yes", "--stack", "dev")
    assert "Traceback" not in up.stdout + up.stderr
    found = rendered(program.root / "rendered")
    assert stack_marks(expected) == {f"organization/aio-mq/{stack}"}
    assert stack_marks(found) == {f"organization/{fixture}/dev"}
    assert found == expected
    return program, found


def test_yaml_program_renders_exactly_what_the_dev_stack_renders(
    project: Project, package_dir: Path
) -> None:
    program, _ = yaml_program_render(project, package_dir, "yaml-consumer", "dev")
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
    edit_set(program, lambda props: props["listeners"][0].update(serviceName="my-service"))
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


def test_ga_yaml_program_renders_exactly_what_the_dev_ga_stack_renders(
    project: Project, package_dir: Path
) -> None:
    program, found = yaml_program_render(project, package_dir, "yaml-consumer-ga", "dev-ga")
    kinds = {doc["kind"] for docs in found.values() for doc in docs}
    assert kinds == {"BrokerListener", "BrokerAuthentication", "BrokerAuthorization", "Issuer"}

    outputs = json.loads(program.pulumi("stack", "output", "--json", "--stack", "dev").stdout)
    assert sorted(outputs["listeners"]) == ["default", "dev-edge"]
    edge = outputs["listeners"]["dev-edge"]
    assert edge["serviceType"] == "LoadBalancer"
    assert [(p["port"], p["protocol"], p["authorization"]) for p in edge["ports"]] == [
        (8884, "Mqtt", "dev-telemetry"),
        (8443, "WebSockets", "dev-telemetry"),
    ]
    program.pulumi("preview", "--expect-no-changes", "--stack", "dev")


def test_ga_yaml_program_takes_a_manual_tls_key_only_as_a_secret_and_keeps_it_one(
    project: Project, package_dir: Path
) -> None:
    cert, key = tls_pair(service_hosts("dev-secure", "azure-iot-operations"))
    program = consumer("yaml-consumer-ga", project)
    manual: dict[str, Any] = {"secretRef": "dev-secure-tls", "certificate": cert, "privateKey": key}
    port = {"port": 8885, "nodePort": 30885, "tls": {"mode": "Manual", "manual": manual}}
    listener = {"name": "dev-secure", "serviceType": "NodePort", "ports": [port]}
    edit_set(program, lambda props: props["listeners"].append(listener))
    add_package(program, package_dir)
    program.init("dev")

    preview = program.pulumi("preview", "--stack", "dev", check=False)
    output = preview.stdout + preview.stderr
    assert preview.returncode != 0
    assert "MqListenerSetV1 'dev' has 1 problem; no resource was registered." in output
    assert (
        "- listeners[2].ports[0].tls.manual.privateKey: the private key is not a secret" in output
    )
    assert key.splitlines()[1] not in output

    manual["privateKey"] = {"fn::secret": key}
    edit_set(program, lambda props: props["listeners"][2].update(ports=[port]))
    program.pulumi("up", "--yes", "--stack", "dev")
    secrets = [
        r
        for r in program.export("dev")["deployment"]["resources"]
        if r["type"] == "kubernetes:core/v1:Secret"
    ]
    assert [r["inputs"]["metadata"]["name"] for r in secrets] == ["dev-secure-tls"]
    assert SECRET_SIG in json.dumps(secrets[0]), secrets[0]
    assert key.splitlines()[1] not in json.dumps(program.export("dev"))


def break_preview(props: dict[str, Any]) -> None:
    props["listeners"][0]["serviceType"] = "ClusterIP"
    props["listeners"][1]["port"] = 70000
    props["issuers"][0]["kind"] = "Clusterissuer"


def break_ga(props: dict[str, Any]) -> None:
    props["listeners"][1]["serviceType"] = "LOADBALANCER"
    props["listeners"][0]["ports"][1]["port"] = 70000
    props["listeners"][1]["ports"][1]["tls"]["mode"] = "Manual"


# One wrong-case enum (as Kubernetes spells it) and two other problems in one input, per API.
BAD_INPUTS: dict[str, tuple[Callable[[dict[str, Any]], None], list[str]]] = {
    "yaml-consumer": (
        break_preview,
        [
            "- listeners[0].serviceType: 'ClusterIP' is not accepted",
            "fix: did you mean 'clusterIp'? use one of clusterIp, loadBalancer, nodePort",
            "- listeners[1].port: 70000 is not a TCP port",
            "- issuers[0].kind: 'Clusterissuer' is not accepted",
            "fix: did you mean 'ClusterIssuer'?",
        ],
    ),
    "yaml-consumer-ga": (
        break_ga,
        [
            "- listeners[1].serviceType: 'LOADBALANCER' is not accepted",
            "fix: did you mean 'LoadBalancer'? use one of ClusterIp, LoadBalancer, NodePort",
            "- listeners[0].ports[1].port: 70000 is not a TCP port",
            "- listeners[1].ports[1].tls: mode Manual does not match the "
            "certManagerCertificateSpec block",
            "fix: set mode: Automatic",
        ],
    ),
}


def refused_up(program: Project) -> str:
    """The output of `up` of the consumer's stack dev, asserted refused by aio-mq before any
    resource of aio-mq, azure-native or Kubernetes was registered or rendered."""
    up = program.pulumi("up", "--yes", "--stack", "dev", check=False)
    output = up.stdout + up.stderr
    assert up.returncode != 0
    assert "Traceback" not in output
    assert not (program.root / "rendered").exists()
    registered = [r["type"] for r in program.export("dev")["deployment"].get("resources", [])]
    assert not [t for t in registered if t.startswith(("aio-mq:", "azure-native:", "kubernetes:"))]
    return output


@pytest.mark.parametrize("fixture", BAD_INPUTS)
def test_yaml_program_with_a_wrong_case_enum_gets_aio_mqs_report_of_every_problem(
    project: Project, package_dir: Path, fixture: str
) -> None:
    # Issue 17 item 7: the provider SDK refused the enum value alone ("Invalid value ... for
    # enum", no fix) and the other problems of the input went unreported.
    break_it, lines = BAD_INPUTS[fixture]
    program = consumer(fixture, project)
    edit_set(program, break_it)
    add_package(program, package_dir)
    program.init("dev")

    output = refused_up(program)
    assert "has 3 problems; no resource was registered." in output, output
    for line in lines:
        assert line in output, output
    assert output.count("fix: ") >= 3
    assert "for enum" not in output


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


LOCATION = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-factory/providers/"
    "Microsoft.ExtendedLocation/customLocations/cl-factory"
)


def test_yaml_program_with_a_bad_azure_target_is_refused_before_anything_is_registered(
    project: Project, package_dir: Path
) -> None:
    # The azure-native provider plugin is not on this machine: a good target cannot be run
    # here (tests/test_package_arm.py runs it under mocks); a bad one never reaches it.
    def break_target(props: dict[str, Any]) -> None:
        props["azure"] = {
            "resourceGroup": "rg-factory",
            "instance": "AIO",
            "customLocation": "cl-factory",
        }

    program = consumer("yaml-consumer-ga", project)
    edit_set(program, break_target)
    add_package(program, package_dir)
    program.init("dev")

    output = refused_up(program)
    assert "aio-mq: MqListenerSetV1 'dev' has 2 problems; no resource was registered." in output
    assert "- azure.instance: 'AIO' is not an Azure IoT Operations resource name" in output
    assert "- azure.customLocation: 'cl-factory' is not a custom location resource id" in output

    # Another resource's output in the target is taken (the YAML host passes it), and the rest
    # is checked: here a listener name ARM refuses.
    def output_in_target(props: dict[str, Any]) -> None:
        props["azure"] = {
            "resourceGroup": "rg-factory",
            "instance": "${k8s.id}",
            "customLocation": LOCATION,
        }
        props["listeners"][1]["name"] = "ab"

    edit_set(program, output_in_target)
    output = refused_up(program)
    assert "aio-mq: MqListenerSetV1 'dev' has 1 problem; no resource was registered." in output
    assert "- listeners[1].name: 'ab' is not a name Azure Resource Manager accepts" in output, (
        output
    )
