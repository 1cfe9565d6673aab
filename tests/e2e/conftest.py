"""A copy of the project driven by the real Pulumi CLI (tools/pulumi), in a temporary folder.

Each test gets its own copy, file backend and PULUMI_HOME, so tests neither share state nor
write into the working tree. The engine comes from tools/ensure-engine; when it cannot be had
the tests fail rather than skip (`make test` builds it first).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# tools/ holds scripts, not a package: import the tool under the name mypy gives it.
sys.path.insert(0, str(ROOT / "tools"))
import pr_comment  # noqa: E402


@pytest.fixture(scope="session")
def engine_bin() -> Path:
    try:
        return pr_comment.engine_bin(ROOT)
    except pr_comment.EngineUnavailableError as exc:
        pytest.fail(str(exc))


@dataclass
class Project:
    root: Path
    env: dict[str, str]

    def pulumi(
        self, *args: str, check: bool = True, stdin: str | None = None, timeout: float = 900
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(ROOT / "tools" / "pulumi"), "--non-interactive", *args],
            cwd=self.root,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"pulumi {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result

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
    pr_comment.copy_project(ROOT, root)
    (tmp_path / "state").mkdir()
    env = {
        **os.environ,
        "AIO_MQ_ENGINE_BIN": str(engine_bin),
        "PULUMI_BACKEND_URL": (tmp_path / "state").as_uri(),
        "PULUMI_HOME": str(tmp_path / "pulumi-home"),
        "PULUMI_CONFIG_PASSPHRASE": "aio-mq-dev",
    }
    env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
    env.pop("AIO_MQ_RENDER_YAML_TO_DIRECTORY", None)
    return Project(root, env)
