"""What tools/pulumi prints around an engine run, on the real engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, Project

pytestmark = pytest.mark.e2e


def kubernetes_sdk_version() -> str:
    pins = (ROOT / "requirements.txt").read_text().splitlines()
    (pin,) = [line for line in pins if line.startswith("pulumi-kubernetes==")]
    return pin.split("==", 1)[1]


def test_no_provider_from_path_warning(project: Project, engine_bin: Path) -> None:
    project.init("dev")
    preview = project.pulumi("preview", "--diff", "--stack", "dev")
    printed = preview.stdout + preview.stderr
    assert "to create" in preview.stdout  # the program ran, with the Kubernetes provider
    assert "from $PATH" not in printed
    assert "warning" not in printed.lower()
    # The provider came from the plugin cache: a link to the engine's binary, not a copy.
    plugin = (
        Path(project.env["PULUMI_HOME"])
        / "plugins"
        / f"resource-kubernetes-v{kubernetes_sdk_version()}"
        / "pulumi-resource-kubernetes"
    )
    assert plugin.is_symlink()
    assert plugin.resolve() == (engine_bin / "pulumi-resource-kubernetes").resolve()
