"""What the tools share about the checkout they act on: where it is, its stacks, its engine
(tools/ensure-engine), its Pulumi CLI (tools/pulumi), and a throwaway copy of it to run the CLI in.

Only the standard library is used, so any python3 runs the tools that import it (tools/recover,
tools/pr-comment).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "aio-mq"
"""The Pulumi project's name (Pulumi.yaml), the prefix of its config keys."""
PULUMI = ROOT / "tools" / "pulumi"
"""The project's Pulumi CLI: offline, with its engine, backend and passphrase."""
ENSURE_ENGINE = ROOT / "tools" / "ensure-engine"
LOCAL_CLUSTER = ROOT / "tools" / "local-cluster"


class EngineUnavailableError(RuntimeError):
    pass


class PulumiError(RuntimeError):
    """A `check`ed tools/pulumi run that failed; the message holds what it printed."""


def stack_file(root: Path, stack: str) -> Path:
    return root / "stacks" / f"Pulumi.{stack}.yaml"


def stack_names(root: Path = ROOT) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("stacks/Pulumi.*.yaml"))


def engine_bin(root: Path = ROOT) -> Path:
    """The directory tools/ensure-engine prints last (building the engine on first use);
    EngineUnavailableError if it cannot."""
    script = root / ENSURE_ENGINE.relative_to(ROOT)
    if not script.exists():
        raise EngineUnavailableError(f"{script} is missing")
    result = subprocess.run(
        [str(script)], capture_output=True, text=True, check=False, timeout=3600
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines or not Path(lines[-1]).is_dir():
        raise EngineUnavailableError(
            f"tools/ensure-engine failed (exit {result.returncode}):\n{result.stderr[-2000:]}"
        )
    return Path(lines[-1])


def scratch_env(scratch: Path, bin_dir: Path, **more: str) -> dict[str, str]:
    """The environment for tools/pulumi on a throwaway copy: the engine in `bin_dir`, and a
    PULUMI_HOME and a file backend of its own under `scratch` (`home`, `state`), so that nothing
    is shared with the user's or another run's; nothing is rendered unless `more` says so."""
    (scratch / "state").mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.pop("AIO_MQ_RENDER_YAML_TO_DIRECTORY", None)
    env.update(
        AIO_MQ_ENGINE_BIN=str(bin_dir),
        PULUMI_HOME=str(scratch / "home"),
        PULUMI_BACKEND_URL=(scratch / "state").as_uri(),
        **more,
    )
    return env


def pulumi(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    capture: bool = True,
    check: bool = False,
    stdin: str | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """tools/pulumi `args` in `cwd`. Captured output (the default) means nobody sees a prompt,
    so the CLI runs --non-interactive; uncaptured, it talks to the user's terminal. `check`
    raises PulumiError, with what the CLI printed, when it fails."""
    flags = ["--non-interactive"] if capture else []
    result = subprocess.run(
        [str(PULUMI), *flags, *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=capture,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        printed = f"\n{result.stdout}\n{result.stderr}" if capture else ""
        raise PulumiError(f"pulumi {' '.join(args)} failed (exit {result.returncode}):{printed}")
    return result


def ensure_policy_venv(root: Path = ROOT) -> None:
    """The guardrails policy pack's virtualenv (policy/ensure-venv), before a run that uses it."""
    subprocess.run([str(root / "policy" / "ensure-venv")], check=True, stdout=subprocess.DEVNULL)


_COPY_SKIP = {".git", "venv", ".venv", "rendered", ".pulumi-state", "__pycache__"}


def copy_project(root: Path, dest: Path) -> None:
    """The working tree (tracked and untracked files, not ignored ones) into dest, with the
    program's and the policy pack's virtualenvs linked, not copied."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if listed.returncode == 0:
        for rel in filter(None, listed.stdout.decode().split("\0")):
            src = root / rel
            if src.is_file() and not _COPY_SKIP & set(Path(rel).parts):
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / rel)
    else:  # not a git checkout
        shutil.copytree(root, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*_COPY_SKIP))
    link_venvs(root, dest)


def link_venvs(root: Path, dest: Path) -> None:
    root = root.resolve()
    for rel in ("venv", "policy/venv"):
        if (root / rel).is_dir() and not (dest / rel).exists() and (dest / rel).parent.is_dir():
            (dest / rel).symlink_to(root / rel, target_is_directory=True)
