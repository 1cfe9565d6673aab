"""Offline work never changes a cluster stack's real state (on the real engine).

staging and prod are given a real state first (as if deployed to their clusters). Then every
offline command a user or CI runs on them: make preview / policy-preview / render, make up and
make destroy without CLUSTER=yes (refused), tools/pr-comment, and tools/pulumi with the render
variable set. Afterwards the backend and the stack files are byte for byte what they were.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import Project
from tests.e2e.test_policy_e2e import policy_venv

pytestmark = pytest.mark.e2e

CLUSTER_STACKS = ("staging", "prod")


def files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def run(project: Project, *command: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command),
        cwd=project.root,
        env={**project.env, **env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def deployed(project: Project, stack: str, scratch: Path) -> None:
    """Give `stack` a state with resources in the project's backend, as a deployment would."""
    project.init(stack)
    render = {
        "PULUMI_BACKEND_URL": scratch.as_uri(),
        "AIO_MQ_RENDER_YAML_TO_DIRECTORY": str(scratch / "rendered"),
        "AIO_MQ_DISPOSABLE_STATE": "1",
    }
    scratch.mkdir()
    assert (
        run(project, "tools/pulumi", "stack", "init", stack, "--no-select", **render).returncode
        == 0
    )
    up = run(project, "tools/pulumi", "up", "--yes", "--stack", stack, **render)
    assert up.returncode == 0, up.stderr
    exported = run(project, "tools/pulumi", "stack", "export", "--stack", stack, **render)
    (scratch / "state.json").write_text(exported.stdout)
    project.pulumi("stack", "import", "--stack", stack, "--file", str(scratch / "state.json"))


def test_offline_commands_leave_cluster_stacks_untouched(project: Project, tmp_path: Path) -> None:
    pack_venv = project.root / "policy" / "venv"
    if pack_venv.is_symlink():
        pack_venv.unlink()
    pack_venv.symlink_to(policy_venv(), target_is_directory=True)
    for stack in CLUSTER_STACKS:
        deployed(project, stack, tmp_path / f"deploy-{stack}")
    state = Path(project.env["PULUMI_BACKEND_URL"].removeprefix("file://"))
    before = files(state)
    stack_files = {s: project.stack_file(s).read_bytes() for s in CLUSTER_STACKS}
    assert any("prod.json" in name for name in before)

    for stack in CLUSTER_STACKS:
        preview = run(project, "make", "preview", f"STACK={stack}")
        assert preview.returncode == 0, preview.stdout + preview.stderr
        assert "to create" in preview.stdout  # against a disposable, empty copy
        assert f"{stack} is a cluster stack: preview runs offline on a disposable copy" in (
            preview.stderr
        )

        for command in ("up", "destroy"):
            refused = run(project, "make", command, f"STACK={stack}")
            assert refused.returncode != 0
            assert f"make {command} STACK={stack} CLUSTER=yes" in refused.stderr
            assert f"make render STACK={stack}" in refused.stderr

        rendered = run(project, "make", "render", f"STACK={stack}")
        assert rendered.returncode == 0, rendered.stdout + rendered.stderr
        assert list((project.root / "rendered" / stack).rglob("*.yaml"))

        raw = run(
            project,
            "tools/pulumi",
            "up",
            "--yes",
            "--stack",
            stack,
            AIO_MQ_RENDER_YAML_TO_DIRECTORY=str(tmp_path / "raw"),
        )
        assert raw.returncode != 0
        assert "refusing `up` with AIO_MQ_RENDER_YAML_TO_DIRECTORY set" in raw.stderr

    checked = run(project, "make", "policy-preview", "STACK=prod")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "aio-mq-guardrails" in checked.stdout

    comment = run(project, "tools/pr-comment", "--stack", "staging", "--stack", "prod")
    assert comment.returncode == 0, comment.stdout + comment.stderr

    assert files(state) == before
    assert {s: project.stack_file(s).read_bytes() for s in CLUSTER_STACKS} == stack_files


def test_up_of_a_production_stack_runs_the_guardrails(project: Project) -> None:
    # A render stack that is production because it does not say otherwise: `make up` must run
    # the pack, and an open listener stops it before anything is written.
    pack_venv = project.root / "policy" / "venv"
    if pack_venv.is_symlink():
        pack_venv.unlink()
    pack_venv.symlink_to(policy_venv(), target_is_directory=True)
    stack_file = project.stack_file("dev").read_text()
    stack_file = stack_file.replace("  aio-mq:production: false\n", "")
    project.stack_file("prd").write_text(stack_file.replace("rendered/dev", "rendered/prd"))
    up = run(project, "make", "up", "STACK=prd")
    assert up.returncode != 0
    assert "prd is production (aio-mq:production): running the guardrails policy pack" in up.stderr
    assert "listener-tls-required" in up.stdout
    assert "the stack does not set aio-mq:production" in up.stdout
    assert not (project.root / "rendered" / "prd").exists()
