"""The guardrails policy pack on the real engine: `pulumi preview --policy-pack policy`.

Production is what a stack's `aio-mq:production` says (undeclared: production), which the pack
learns from the engine's ConfigureStack call; these tests prove that path end to end.

The project is copied to a temporary directory (so stack init never writes into stacks/), stacks
live in a temporary file backend and render to a temporary directory, and the pack runs in a
virtualenv built once from policy/requirements.txt (policy/ensure-venv) under the user cache.

Without the engine (tools/ensure-engine fails) these tests skip, except under CI=true, where
they fail: a CI run must not pass without having run them.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools import project as tools_project
from tools.ci import pr_comment as pc

pytestmark = pytest.mark.e2e


ROOT = Path(__file__).resolve().parents[2]

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "aio-mq"


def require_engine() -> Path:
    """The engine's bin directory; skip (fail under CI=true) when it cannot be had."""
    try:
        return tools_project.engine_bin(ROOT)
    except tools_project.EngineUnavailableError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the Pulumi engine is not available: {exc}")
        pytest.skip(f"the Pulumi engine is not available: {exc}")


def policy_venv() -> Path:
    """A virtualenv for the pack, shared by every test copy (rebuilt when requirements change)."""
    result = subprocess.run(
        [str(ROOT / "policy" / "ensure-venv"), str(CACHE / "policy-venv")],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    return Path(result.stdout.strip().splitlines()[-1])


@dataclass
class Workspace:
    project: Path
    engine: pc.Engine

    def stack(self, name: str, config: dict[str, Any] | None = None) -> None:
        """Create stack `name`, with this config instead of its stack file's if given."""
        if config is not None:
            stack_file = self.project / "stacks" / f"Pulumi.{name}.yaml"
            stack_file.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
        pc.ensure_stack(self.engine, self.project, name)

    def preview(self, stack: str, *extra: str) -> tuple[int, str]:
        """Exit status and everything printed by a preview with the policy pack."""
        result = self.engine.run(
            self.project,
            stack,
            "preview",
            "--stack",
            stack,
            "--policy-pack",
            str(self.project / "policy"),
            *extra,
        )
        return result.returncode, result.stdout + result.stderr


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    bin_dir = require_engine()
    venv = policy_venv()
    scratch = tmp_path_factory.mktemp("policy-e2e")
    project = scratch / "project"
    tools_project.copy_project(ROOT, project)
    pack_venv = project / "policy" / "venv"
    if pack_venv.is_symlink():
        pack_venv.unlink()
    pack_venv.symlink_to(venv, target_is_directory=True)
    yield Workspace(project, pc.Engine(bin_dir, scratch))


_VIOLATION = re.compile(r"^\s*- \[(mandatory|advisory)\]\s+(\S+)\s+\((\S+): (\S+)\)\s*$", re.M)


def violations(out: str) -> set[tuple[str, str, str]]:
    """(level, policy, resource name) of each violation the CLI lists under Policies."""
    return {(level, policy, name) for level, policy, _type, name in _VIOLATION.findall(out)}


def prod_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())[
        "config"
    ]
    return copy.deepcopy(config)


PLAIN_NODE_PORT = {
    "name": "prod-plain",
    "port": 1883,
    "serviceType": "nodePort",
    "serviceName": "aio-mq-prod-plain",
}


def test_clean_prod_stack_passes(workspace: Workspace) -> None:
    workspace.stack("prod")
    status, out = workspace.preview("prod")
    assert status == 0, out
    assert "✅ aio-mq-guardrails@v0.1.0" in out  # the pack ran, and passed
    assert violations(out) == set()  # prod has authorization on and 30-day certificates


@pytest.mark.parametrize("name", ["prd", "Prod", "production-2"])
def test_a_copy_of_prod_under_another_name_is_production(workspace: Workspace, name: str) -> None:
    config = prod_config()
    config["aio-mq:listeners"].append(PLAIN_NODE_PORT)
    workspace.stack(name, config)
    status, out = workspace.preview(name)
    assert status != 0, out
    # Only the open listener is named, by every policy it breaks.
    assert violations(out) == {
        ("mandatory", "listener-tls-required", "prod-plain"),
        ("mandatory", "listener-authentication-required", "prod-plain"),
        ("mandatory", "exposed-listener-authentication", "prod-plain"),
        ("advisory", "listener-authorization", "prod-plain"),
    }
    assert "BrokerListener azure-iot-operations/prod-plain has no TLS" in out
    assert "(Production: the stack sets aio-mq:production: true.)" in out


def test_a_stack_that_does_not_declare_is_production(workspace: Workspace) -> None:
    config = prod_config()
    del config["aio-mq:production"]
    config["aio-mq:listeners"].append(PLAIN_NODE_PORT)
    workspace.stack("edge-eu", config)
    status, out = workspace.preview("edge-eu")
    assert status != 0, out
    assert ("mandatory", "listener-tls-required", "prod-plain") in violations(out)
    assert "the stack does not set aio-mq:production" in out


def test_policy_config_cannot_make_a_stack_non_production(
    workspace: Workspace, tmp_path: Path
) -> None:
    config = prod_config()
    config["aio-mq:listeners"].append(PLAIN_NODE_PORT)
    workspace.stack("prod-escape", config)
    escape = tmp_path / "escape.json"
    escape.write_text(json.dumps({"listener-tls-required": {"production": False}}))
    status, out = workspace.preview("prod-escape", "--policy-pack-config", str(escape))
    assert status != 0, out
    # The engine accepts the unknown key; the pack ignores it: production is the stack's word.
    assert ("mandatory", "listener-tls-required", "prod-plain") in violations(out)
    assert "(Production: the stack sets aio-mq:production: true.)" in out


def test_missing_issuer_fails_until_declared_existing(workspace: Workspace, tmp_path: Path) -> None:
    config = prod_config()
    config["aio-mq:listeners"].append(
        {
            "name": "prod-acme",
            "port": 8886,
            "authenticationEnabled": True,
            "authorizationEnabled": True,
            "tls": {"automatic": {"issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer"}}},
        }
    )
    for key in ("aio-mq:authentications", "aio-mq:authorizations"):
        config[key][0]["listenerRef"].append("prod-acme")
    workspace.stack("live-eu", config)
    status, out = workspace.preview("live-eu")
    assert status != 0, out
    assert violations(out) == {("mandatory", "tls-references-exist", "prod-acme")}
    assert "azure-iot-operations/prod-acme uses ClusterIssuer 'letsencrypt'" in out
    assert "add 'ClusterIssuer/letsencrypt' to existingIssuers" in out

    config_file = tmp_path / "existing.json"
    existing = {"existingIssuers": ["ClusterIssuer/letsencrypt"]}
    config_file.write_text(json.dumps({"tls-references-exist": existing}))
    status, out = workspace.preview("live-eu", "--policy-pack-config", str(config_file))
    assert status == 0, out

    # Declared not production, the stack gets no production checks.
    config["aio-mq:production"] = False
    workspace.stack("live-eu-test", config)
    status, out = workspace.preview("live-eu-test")
    assert status == 0, out


def test_dev_gets_advice_not_errors(workspace: Workspace) -> None:
    workspace.stack("dev")
    status, out = workspace.preview("dev")
    assert status == 0, out
    assert violations(out) == {
        ("advisory", "listener-authorization", "dev-plain"),
        ("advisory", "listener-authorization", "dev-tls"),
    }
    assert "dev-plain has authorization off" in out


def test_exposed_listener_without_authentication_fails_everywhere(
    workspace: Workspace, tmp_path: Path
) -> None:
    config: dict[str, Any] = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())[
        "config"
    ]
    config["aio-mq:listeners"].append(
        {"name": "dev-exposed", "port": 1884, "serviceType": "loadBalancer", "serviceName": "lb"}
    )
    workspace.stack("dev-exposed", config)
    status, out = workspace.preview("dev-exposed")
    assert status != 0, out
    mandatory = {v for v in violations(out) if v[0] == "mandatory"}
    assert mandatory == {("mandatory", "exposed-listener-authentication", "dev-exposed")}
    assert "azure-iot-operations/dev-exposed is exposed outside the cluster" in out

    # A stack's policy config may lower the level, as docs/policy.md describes.
    lowered = tmp_path / "lowered.json"
    lowered.write_text(json.dumps({"exposed-listener-authentication": "advisory"}))
    status, out = workspace.preview("dev-exposed", "--policy-pack-config", str(lowered))
    assert status == 0, out
    assert ("advisory", "exposed-listener-authentication", "dev-exposed") in violations(out)


HAND_WRITTEN_PROGRAM = """
import pulumi
import pulumi_kubernetes as k8s

provider = k8s.Provider("render", render_yaml_to_directory="out")
opts = pulumi.ResourceOptions(provider=provider)
api = "mq.iotoperations.azure.com/v1beta1"
ns = "azure-iot-operations"
k8s.apiextensions.CustomResourcePatch(
    "open-default", api_version=api, kind="BrokerListener",
    metadata={"name": "default", "namespace": ns}, spec={"authenticationEnabled": False},
    opts=opts,
)
k8s.apiextensions.CustomResource(
    "hollow", api_version=api, kind="BrokerListener",
    metadata={"name": "hollow", "namespace": ns},
    spec={"brokerRef": "default", "port": 8883, "authenticationEnabled": False,
          "authorizationEnabled": True, "tls": {"keyVault": {}}},
    opts=opts,
)
"""


def test_patches_and_hollow_tls_are_checked(workspace: Workspace, tmp_path: Path) -> None:
    # Another program of the same project name, writing the custom resources by hand; its stack
    # file says nothing about production, so it is production.
    program = tmp_path / "hand-written"
    (program / "stacks").mkdir(parents=True)
    (program / "Pulumi.yaml").write_text(
        "name: aio-mq\nstackConfigDir: stacks\nruntime:\n  name: python\n  options:\n"
        f"    toolchain: pip\n    virtualenv: {ROOT / 'venv'}\n"
    )
    (program / "__main__.py").write_text(HAND_WRITTEN_PROGRAM)
    pc.ensure_stack(workspace.engine, program, "ops")
    result = workspace.engine.run(
        program,
        "ops",
        "preview",
        "--stack",
        "ops",
        "--policy-pack",
        str(workspace.project / "policy"),
    )
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert {v for v in violations(out) if v[0] == "mandatory"} == {
        ("mandatory", "listener-authentication-required", "open-default"),
        ("mandatory", "listener-tls-required", "hollow"),
        ("mandatory", "listener-authentication-required", "hollow"),
    }
    assert "BrokerListener patch azure-iot-operations/default has authentication off" in out
    assert "spec.tls.keyVault.vault.name is missing" in out


def ga_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev-ga.yaml").read_text())[
        "config"
    ]
    return copy.deepcopy(config)


def test_a_ga_stack_is_judged_port_by_port(workspace: Workspace, tmp_path: Path) -> None:
    workspace.stack("dev-ga")
    status, out = workspace.preview("dev-ga")
    assert status == 0, out
    # Ports 18883 and 1883 of `default` have no authorizationRef: advice, on one resource.
    assert violations(out) == {("advisory", "listener-authorization", "default")}
    assert "azure-iot-operations/default port 1883 (spec.ports[1]) has no authorizationRef" in out

    # The same listeners in production: the one port without TLS and authentication is refused,
    # and so is the ClusterIssuer the program does not create, until declared existing.
    config = ga_config()
    config["aio-mq:production"] = True
    workspace.stack("ga-prod", config)
    status, out = workspace.preview("ga-prod")
    assert status != 0, out
    assert {v for v in violations(out) if v[0] == "mandatory"} == {
        ("mandatory", "listener-tls-required", "default"),
        ("mandatory", "listener-authentication-required", "default"),
        ("mandatory", "tls-references-exist", "default"),
    }
    assert "azure-iot-operations/default port 1883 (spec.ports[1]) has no TLS" in out
    assert "port 18883 (spec.ports[0]) has no TLS" not in out
    assert "port 18883 (spec.ports[0]) has no authenticationRef" not in out
    existing = tmp_path / "existing.json"
    issuer = "ClusterIssuer/azure-iot-operations-aio-certificate-issuer"
    existing.write_text(json.dumps({"tls-references-exist": {"existingIssuers": [issuer]}}))
    status, out = workspace.preview("ga-prod", "--policy-pack-config", str(existing))
    assert ("mandatory", "tls-references-exist", "default") not in violations(out)

    # Exposed without authenticationRef: refused on any stack.
    config = ga_config()
    config["aio-mq:listeners"][1]["ports"].append({"port": 1884})
    workspace.stack("ga-exposed", config)
    status, out = workspace.preview("ga-exposed")
    assert status != 0, out
    assert {v for v in violations(out) if v[0] == "mandatory"} == {
        ("mandatory", "exposed-listener-authentication", "dev-edge")
    }
    assert "azure-iot-operations/dev-edge port 1884 (spec.ports[2]) is exposed" in out
