"""tools/ as docs/architecture.md ("tools/") lays it out: the commands run from anywhere, each job's
package imports only the shared helpers, and the engine's recipe directory holds only recipes."""

from __future__ import annotations

import ast
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "tools"
JOBS = ("runner", "cluster", "ci", "bench")


def run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv),
        cwd=cwd,
        # As a user's shell has it: not this test run's PYTHONPATH (pytest puts the checkout there).
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "command", ["stacks", "pr-comment", "local-cluster", "operator-double", "migrate-to-v1"]
)
def test_a_command_runs_from_another_directory(command: str, tmp_path: Path) -> None:
    result = run(str(TOOLS / command), "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: tools/{command} ")


def test_recover_runs_from_another_directory_and_says_how_to_use_it(tmp_path: Path) -> None:
    result = run(str(TOOLS / "recover"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: tools/recover STACK")


def test_the_benchmark_explains_its_flags_instead_of_running(tmp_path: Path) -> None:
    result = run(str(ROOT / "venv" / "bin" / "python"), "-m", "tools.bench", "--help", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "--engine-only" in result.stdout and "--cluster-only" in result.stdout
    assert "aio-mq benchmark on" not in result.stdout
    # The two runs that measure one thing exclude each other.
    both = run(
        str(ROOT / "venv" / "bin" / "python"),
        "-m",
        "tools.bench",
        "--engine-only",
        "--cluster-only",
        cwd=ROOT,
    )
    assert both.returncode == 2
    assert "not allowed with argument" in both.stderr


def tools_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from tools import project` imports tools.project.
            tools_package = node.module == "tools"
            names = [f"tools.{a.name}" for a in node.names] if tools_package else [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {name for name in names if name.split(".")[0] == "tools"}
    return found


@pytest.mark.parametrize("job", JOBS)
def test_a_jobs_code_imports_only_the_shared_helpers_and_its_own_package(job: str) -> None:
    for path in sorted((TOOLS / job).glob("*.py")):
        for name in tools_imports(path):
            assert name.split(".")[1] in ("project", job), (
                f"{path.relative_to(ROOT)} imports {name}"
            )


def test_the_engine_recipe_directory_holds_only_recipes() -> None:
    # Every file there but *.md is hashed into the engine cache's key (tools/ensure-engine): a
    # helper added there would rebuild the engine on every machine.
    recipe = {".go", ".mod", ".sum", ".md"}
    files = [path for path in (TOOLS / "engine").rglob("*") if path.is_file()]
    assert files
    assert [str(path) for path in files if path.suffix not in recipe] == []
