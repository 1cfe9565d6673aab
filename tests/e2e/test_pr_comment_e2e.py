"""tools/pr-comment on the real engine: the comment of each environment, offline."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_policy_e2e import policy_venv, require_engine
from tools.project import copy_project

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    require_engine()
    return subprocess.run(
        [str(ROOT / "tools" / "pr-comment"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
        env={**os.environ, "PYTHON": str(ROOT / "venv" / "bin" / "python")},
    )


def comments(markdown: str) -> dict[str, str]:
    """The comment of each stack in the tool's output, by stack name."""
    found = {}
    for part in markdown.split("#### :tropical_drink: `preview` on aio-mq/")[1:]:
        stack, _, body = part.partition("\n")
        found[stack] = body
    return found


def test_every_environment_gets_a_comment() -> None:
    before = {p: p.read_bytes() for p in ROOT.glob("stacks/*.yaml")}
    result = run_tool()
    assert result.returncode == 0, result.stderr
    by_stack = comments(result.stdout)
    assert sorted(by_stack) == sorted(p.name.split(".")[1] for p in ROOT.glob("stacks/*.yaml"))
    prod = by_stack["prod"]
    assert "**Changes:** " in prod and " to create" in prod
    assert "| `+` create |" in prod
    assert (
        "kubernetes:mq.iotoperations.azure.com/v1beta1:BrokerListener: prod-edge (create)" in prod
    )
    assert '+     spec.serviceType: "loadBalancer"' in prod
    assert "kubernetes:cert-manager.io/v1:ClusterIssuer: aio-mq-prod-ca (create)" in prod
    assert "dev-plain" in by_stack["dev"] and "dev-plain" not in prod
    # The stack files were not touched (stack init writes salts into them: it ran on a copy).
    assert {p: p.read_bytes() for p in ROOT.glob("stacks/*.yaml")} == before


def test_diff_against_a_base_revision(tmp_path: Path) -> None:
    # A throwaway repository: commit the project, then change a port in the working tree.
    require_engine()
    policy_venv()
    repo = tmp_path / "repo"
    copy_project(ROOT, repo)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], cwd=repo, check=True)
    stack_file = repo / "stacks" / "Pulumi.staging.yaml"
    stack_file.write_text(stack_file.read_text().replace("port: 8885", "port: 8890"))

    result = subprocess.run(
        [
            str(repo / "tools" / "pr-comment"),
            "--stack",
            "staging",
            "--base",
            "HEAD",
            "--policy-pack",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (staging,) = comments(result.stdout).values()
    assert "_Diff against the base revision" in staging
    assert "**Changes:** 1 to update, " in staging
    diff = staging.split("```diff\n", 1)[1].split("\n```", 1)[0]
    assert diff.splitlines() == [
        "~ kubernetes:mq.iotoperations.azure.com/v1beta1:BrokerListener: staging-edge (update)",
        "-     spec.port: 8885",
        "+     spec.port: 8890",
    ]
    # staging-tls has authorization off: the pack advises, the preview still passes.
    assert (
        "[advisory]  listener-authorization  (kubernetes:mq.iotoperations.azure.com/v1beta1:BrokerListener: staging-tls)"
        in staging
    )
