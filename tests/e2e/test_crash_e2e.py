"""A killed `up` on the real engine: nothing keeps running, and one command puts the stack back.

tools/pulumi runs the CLI under tools/runner/supervise.py; tools/recover unlocks a stack and drops the
operations a crash left pending. The stack is dev with many listeners, so that `up` is still
creating resources when it is killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import ROOT, Project

pytestmark = pytest.mark.e2e

LISTENERS = 200


def many_listeners(project: Project) -> None:
    path = project.stack_file("dev")
    stack = yaml.safe_load(path.read_text())
    stack["config"].pop("aio-mq:authentications", None)  # it links dev's own listeners
    stack["config"]["aio-mq:listeners"] = [
        {"name": f"l{i}", "port": 2000 + i} for i in range(LISTENERS)
    ]
    path.write_text(yaml.safe_dump(stack, sort_keys=False))


def checkpoint(project: Project) -> Path:
    state = Path(project.env["PULUMI_BACKEND_URL"].removeprefix("file://"))
    return state / ".pulumi" / "stacks" / "aio-mq" / "dev.json"


def latest(project: Project) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(checkpoint(project).read_text())["checkpoint"]["latest"]
    return state


def pending_creates(project: Project) -> list[str]:
    """URNs of the listeners' resources the last recorded state is creating."""
    return [
        op["resource"]["urn"]
        for op in latest(project).get("pending_operations") or []
        if op["type"] == "creating" and ":BrokerListener::" in op["resource"]["urn"]
    ]


def start_up(project: Project, log: Path) -> subprocess.Popen[bytes]:
    """`up` of dev, returned once the engine is creating listeners."""
    with log.open("wb") as out:
        up = subprocess.Popen(
            [
                str(ROOT / "tools" / "pulumi"),
                "--non-interactive",
                "up",
                "--yes",
                "--skip-preview",
                "--stack",
                "dev",
            ],
            cwd=project.root,
            env=project.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if (
            checkpoint(project).exists()
            and '"pending_operations"' in checkpoint(project).read_text()
        ):
            return up
        assert up.poll() is None, log.read_text()
        time.sleep(0.02)
    up.kill()
    raise AssertionError(f"up never got to creating resources:\n{log.read_text()}")


def processes_in(root: Path) -> dict[int, str]:
    """Live processes working in `root` (the CLI, language host, program, providers)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if state != "Z" and cwd.is_relative_to(root):
            found[int(entry.name)] = command
    return found


def left_running(root: Path, within: float = 30) -> dict[int, str]:
    """What still runs in `root` after waiting up to `within` seconds for it to end."""
    deadline = time.monotonic() + within
    while (running := processes_in(root)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return running


def recover(project: Project) -> str:
    result = subprocess.run(
        [str(ROOT / "tools" / "recover"), "dev"],
        cwd=project.root,
        env=project.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def assert_up_works_again(project: Project) -> None:
    project.pulumi("up", "--yes", "--stack", "dev")
    project.pulumi("preview", "--expect-no-changes", "--stack", "dev")
    outputs = json.loads(project.pulumi("stack", "output", "--json", "--stack", "dev").stdout)
    assert len(outputs["listeners"]) == LISTENERS


def test_kill_9_of_tools_pulumi_takes_the_engine_down_and_recover_says_all_is_well(
    project: Project, tmp_path: Path
) -> None:
    many_listeners(project)
    project.init("dev")
    up = start_up(project, tmp_path / "up.log")
    assert processes_in(project.root)  # the CLI and its plugins are running
    up.send_signal(signal.SIGKILL)
    up.wait(timeout=10)

    assert left_running(project.root) == {}
    # The CLI was given time to cancel: it recorded what it finished and unlocked the stack.
    assert "cancelling" in (tmp_path / "up.log").read_text()
    out = recover(project)
    assert "dev is unlocked and has no pending operations" in out
    assert_up_works_again(project)


def test_recover_after_the_engine_itself_was_killed(
    project: Project, tmp_path: Path, engine_bin: Path
) -> None:
    many_listeners(project)
    project.init("dev")
    up = start_up(project, tmp_path / "up.log")
    cli = [
        pid
        for pid in processes_in(project.root)
        if Path(os.readlink(f"/proc/{pid}/exe")) == (engine_bin / "pulumi").resolve()
    ]
    assert len(cli) == 1
    # Frozen while its last recorded state has operations in flight, then killed, as an OOM
    # kill or a crash would: nothing gets recorded after that.
    deadline = time.monotonic() + 120
    while True:
        os.kill(cli[0], signal.SIGSTOP)
        if pending_creates(project) or time.monotonic() > deadline:
            break
        os.kill(cli[0], signal.SIGCONT)
        time.sleep(0.005)
    os.kill(cli[0], signal.SIGKILL)
    up.wait(timeout=60)
    assert up.returncode != 0

    # The supervisor took the orphaned language host, program and provider down.
    assert left_running(project.root) == {}
    pending = pending_creates(project)
    assert pending
    blocked = project.pulumi("up", "--yes", "--stack", "dev", check=False)
    assert blocked.returncode != 0
    # Killed mid-save, the backend may also be left with an unreadable metadata sidecar.
    assert "locked" in blocked.stderr or "failed to load checkpoint" in blocked.stderr

    out = recover(project)
    assert f"removed the lock left by pid {cli[0]}" in out
    assert "pending operation(s) left by the crash:" in out
    for urn in pending:
        assert f"  creating  {urn.split('::')[2].rsplit('$', 1)[-1]} {urn.split('::')[-1]}:" in out
    assert "dev is unlocked and has no pending operations" in out
    saved = list((project.root / ".pulumi-state" / "recovered").glob("dev-*.json"))
    assert len(saved) == 1 and "pending_operations" in saved[0].read_text()
    assert "pending_operations" not in latest(project)
    assert_up_works_again(project)


def test_recover_repairs_a_checkpoint_whose_save_was_cut_off(project: Project) -> None:
    project.init("dev")
    project.pulumi("up", "--yes", "--stack", "dev")
    # What a kill in the middle of a checkpoint save leaves (seen with SIGKILL on the real engine).
    attrs = checkpoint(project).with_name("dev.json.attrs")
    assert attrs.exists()
    attrs.write_bytes(b"")
    broken = project.pulumi("preview", "--stack", "dev", check=False)
    assert "failed to load checkpoint" in broken.stderr

    out = recover(project)
    assert "removed dev.json.attrs, the checkpoint's metadata file the crash left unreadable" in out
    project.pulumi("preview", "--expect-no-changes", "--stack", "dev")
