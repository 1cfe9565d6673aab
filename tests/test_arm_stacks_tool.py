"""tools/stacks on an ARM stack, without the engine: what it is, and `make preview`/`make up`
refused in one line before the engine runs when the azure-native provider plugin is missing
(it is downloaded from the internet; this machine has none)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tools.runner import stacks

ROOT = Path(__file__).resolve().parent.parent

VERSION = "3.29.0"


@pytest.fixture
def engine_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[str, ...]]:
    """The engine commands tools/stacks runs (none really run), with an empty PULUMI_HOME."""
    runs: list[tuple[str, ...]] = []

    def pulumi(root: Path, *args: str, env: dict[str, str] | None = None) -> int:
        runs.append(args)
        return 0

    monkeypatch.setattr(stacks, "pulumi", pulumi)
    monkeypatch.setattr(stacks, "policy_args", lambda root, command, stack: [])
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "pulumi-home"))
    return runs


def install_plugin(home: Path) -> None:
    plugin = home / "plugins" / f"resource-azure-native-v{VERSION}" / "pulumi-resource-azure-native"
    plugin.parent.mkdir(parents=True)
    plugin.write_text("#!/bin/sh\n")
    plugin.chmod(0o755)


def test_prod_arm_is_an_azure_stack() -> None:
    facts = stacks.facts(ROOT, "prod-arm")
    assert facts.azure and facts.production
    assert json.loads(json.dumps(facts.as_json()))["target"] == "azure"
    assert stacks.facts(ROOT, "prod").as_json()["target"] == "cluster"


@pytest.mark.parametrize("command", ["preview", "policy-preview", "up", "destroy"])
def test_without_the_plugin_the_engine_is_not_run_and_one_line_says_why(
    command: str, engine_runs: list[tuple[str, ...]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert stacks.run(ROOT, command, "prod-arm", cluster=command in ("up", "destroy")) == 2
    assert engine_runs == []
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        f"stacks: prod-arm is an ARM stack (aio-mq:azure): `make {command}` needs the Pulumi "
        f"azure-native provider plugin {VERSION}, which is not installed here (Pulumi downloads "
        f"it from the internet: tools/pulumi plugin install resource azure-native {VERSION}); "
        "`make render STACK=prod-arm` writes its ARM template offline"
    )


def test_with_the_plugin_preview_runs_on_the_stacks_own_state(
    engine_runs: list[tuple[str, ...]],
) -> None:
    install_plugin(Path(os.environ["PULUMI_HOME"]))
    assert stacks.run(ROOT, "preview", "prod-arm", cluster=False) == 0
    assert engine_runs[-1][:2] == ("preview", "--diff")
    assert ("stack", "init") not in [run[:2] for run in engine_runs]  # not a disposable copy


def test_with_the_plugin_up_still_needs_to_be_asked_for(
    engine_runs: list[tuple[str, ...]], capsys: pytest.CaptureFixture[str]
) -> None:
    install_plugin(Path(os.environ["PULUMI_HOME"]))
    assert stacks.run(ROOT, "up", "prod-arm", cluster=False) == 2
    assert engine_runs == []
    assert "make up STACK=prod-arm CLUSTER=yes" in capsys.readouterr().err
