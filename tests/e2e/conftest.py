"""A copy of the project driven by the real Pulumi CLI (tools/pulumi), in a temporary folder.

Each test gets its own copy, file backend and PULUMI_HOME, so tests neither share state nor
write into the working tree. The engine comes from tools/ensure-engine; when it cannot be had
the tests fail rather than skip (`make test` builds it first).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools import project as tools_project

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def engine_bin() -> Path:
    try:
        return tools_project.engine_bin(ROOT)
    except tools_project.EngineUnavailableError as exc:
        pytest.fail(str(exc))


@dataclass
class Project:
    root: Path
    env: dict[str, str]

    def pulumi(
        self, *args: str, check: bool = True, stdin: str | None = None, timeout: float = 900
    ) -> subprocess.CompletedProcess[str]:
        return tools_project.pulumi(
            *args, cwd=self.root, env=self.env, check=check, stdin=stdin, timeout=timeout
        )

    def stack_file(self, stack: str) -> Path:
        return self.root / "stacks" / f"Pulumi.{stack}.yaml"

    def init(self, stack: str) -> None:
        self.pulumi("stack", "init", stack)

    def export(self, stack: str) -> dict[str, Any]:
        exported: dict[str, Any] = json.loads(
            self.pulumi("stack", "export", "--stack", stack).stdout
        )
        return exported

    def manifests(self, directory: str) -> dict[tuple[str, str], dict[str, Any]]:
        """Rendered manifests under `directory`, by (kind, metadata.name)."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for path in sorted((self.root / directory).rglob("*.yaml")):
            for doc in yaml.safe_load_all(path.read_text()):
                if doc:
                    found[(doc["kind"], doc["metadata"]["name"])] = doc
        return found


@pytest.fixture
def project(tmp_path: Path, engine_bin: Path) -> Project:
    root = tmp_path / "aio-mq"
    root.mkdir()
    tools_project.copy_project(ROOT, root)
    env = tools_project.scratch_env(tmp_path, engine_bin, PULUMI_CONFIG_PASSPHRASE="aio-mq-dev")
    env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
    return Project(root, env)
