"""The GitHub Actions workflow: actionlint finds nothing, and it does what docs/policy.md says."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
PULUMI_ACTION = "pulumi/actions@v6"


def test_actionlint_passes() -> None:
    # tools/ci/actionlint builds actionlint once from the Go module proxy and caches it.
    result = subprocess.run(
        [str(ROOT / "tools" / "ci" / "actionlint")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    # The check above means something only if actionlint does flag mistakes.
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: pulumi/actions@v6\n        with:\n          no-such-input: x\n"
    )
    result = subprocess.run(
        [str(ROOT / "tools" / "ci" / "actionlint"), str(broken)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode != 0
    assert "no-such-input" in result.stdout


def workflow() -> dict[str, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((WORKFLOWS / "pulumi.yml").read_text())
    # YAML 1.1 reads the key `on` as True.
    loaded["on"] = loaded.pop(True)
    return loaded


def pulumi_step(job: dict[str, Any]) -> dict[str, Any]:
    (step,) = [s for s in job["steps"] if s.get("uses") == PULUMI_ACTION]
    with_: dict[str, Any] = step["with"]
    return with_


def test_pull_requests_preview_every_stack_with_an_edited_comment() -> None:
    flow = workflow()
    assert "pull_request" in flow["on"]
    preview = flow["jobs"]["preview"]
    assert preview["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.all) }}"
    assert preview["permissions"]["pull-requests"] == "write"
    action = pulumi_step(preview)
    assert action["command"] == "preview"
    assert action["stack-name"] == "${{ matrix.stack }}"
    for flag in ("diff", "comment-on-pr", "edit-pr-comment"):
        assert action[flag] is True, flag
    assert action["policyPacks"] == "policy"


def test_main_runs_up_with_production_last_and_behind_its_environment() -> None:
    flow = workflow()
    assert flow["on"]["push"]["branches"] == ["main"]
    staged, production = flow["jobs"]["up"], flow["jobs"]["up-production"]
    assert staged["environment"] == "${{ matrix.stack }}"
    # Every production stack waits in one environment, so a new one cannot lack reviewers.
    assert production["environment"] == "production"
    for job in (staged, production):
        assert pulumi_step(job)["command"] == "up"
        assert pulumi_step(job)["policyPacks"] == "policy"
    assert "up" in production["needs"]
    assert "outputs.production" in production["strategy"]["matrix"]["stack"]


def run_list_step(stacks: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The `list` step's script, run as the runner would, on these stack files."""
    (step,) = [s for s in workflow()["jobs"]["stacks"]["steps"] if s.get("id") == "list"]
    (tmp_path / "stacks").mkdir()
    # The checkout's tools (the stack runner and the helpers it shares); no engine recipe.
    shutil.copytree(
        ROOT / "tools",
        tmp_path / "tools",
        ignore=shutil.ignore_patterns("engine", "__pycache__"),
    )
    # tools/runner/stacks.py reads stack files with the program's reader.
    shutil.copytree(ROOT / "components", tmp_path / "components")
    shutil.copy(ROOT / "requirements.txt", tmp_path / "requirements.txt")
    for name, text in stacks.items():
        (tmp_path / "stacks" / f"Pulumi.{name}.yaml").write_text(text)
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=tmp_path,
        # The runner's python (setup-python) is the venv's here: it has requirements.txt.
        env={
            "PATH": f"{ROOT / 'venv' / 'bin'}:{os.environ['PATH']}",
            "GITHUB_OUTPUT": str(tmp_path / "github-output"),
        },
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_stack_list_step_sorts_stacks_by_their_declaration(tmp_path: Path) -> None:
    stacks = {p.name.split(".")[1]: p.read_text() for p in (ROOT / "stacks").glob("Pulumi.*.yaml")}
    # Copies of prod under other names, and a stack that does not say: all production.
    for name in ("prd", "Prod", "production-2"):
        stacks[name] = stacks["prod"]
    stacks["undeclared"] = "config:\n  aio-mq:listeners: []\n"
    result = run_list_step(stacks, tmp_path)
    assert result.returncode == 0, result.stderr
    lists = {
        k: yaml.safe_load(v)
        for k, v in (
            ln.split("=", 1) for ln in (tmp_path / "github-output").read_text().splitlines()
        )
    }
    # The local stacks deploy to tools/local-cluster on a developer's machine: not in CI.
    local = {"local", "local-ga"}
    assert lists["all"] == sorted(set(stacks) - local)
    production = sorted(["prod", "prod-arm", "prd", "Prod", "production-2", "undeclared"])
    assert lists["production"] == production
    # The committed stacks other than prod and prod-arm all say aio-mq:production: false.
    assert lists["staged"] == sorted(set(stacks) - set(production) - local)
    assert "dev" in lists["staged"] and "staging" in lists["staged"]
    assert "dev-ga" in lists["staged"]


def test_the_stack_list_step_refuses_an_unclear_declaration(tmp_path: Path) -> None:
    result = run_list_step({"edge": "config:\n  aio-mq:production: no\n"}, tmp_path)
    assert result.returncode != 0
    assert "aio-mq:production is 'no'; set it to true or false" in result.stderr


def test_the_workflow_names_every_secret_it_reads() -> None:
    text = (WORKFLOWS / "pulumi.yml").read_text()
    header = text.split("\nname:", 1)[0]
    used = {part.split("}}", 1)[0].strip() for part in text.split("${{ secrets.")[1:]}
    assert used
    for secret in used:
        assert f"#   {secret} " in header, f"secret {secret} is not documented in the header"


def test_arm_stacks_get_azure_credentials_for_the_provider_and_the_discovery() -> None:
    # prod-arm is previewed and deployed like every stack: azure-native signs in with ARM_*,
    # the ARM discovery (DefaultAzureCredential) with AZURE_*; one service principal for both.
    env = workflow()["env"]
    for name in ("CLIENT_ID", "CLIENT_SECRET", "TENANT_ID"):
        assert env[f"ARM_{name}"] == env[f"AZURE_{name}"] == f"${{{{ secrets.AZURE_{name} }}}}"
