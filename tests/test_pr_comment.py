"""tools/pr-comment without the engine: the markdown made from a `pulumi preview --json` digest.

The digests here are written by hand in the shape the engine prints (PreviewDigest: steps with
op, urn, oldState/newState inputs, detailedDiff; changeSummary; diagnostics). The e2e test runs
the tool on the real engine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tools import project
from tools.ci import pr_comment as pc

ROOT = Path(__file__).resolve().parent.parent

LISTENER = "kubernetes:mq.iotoperations.azure.com/v1beta1:BrokerListener"
PARENT = "aio:mq:MqListener"


def urn(type_: str, name: str, parent: str = "") -> str:
    qualified = f"{parent}${type_}" if parent else type_
    return f"urn:pulumi:prod::aio-mq::{qualified}::{name}"


def listener_inputs(port: int = 8884, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "mq.iotoperations.azure.com/v1beta1",
        "kind": "BrokerListener",
        "metadata": {"name": "edge", "namespace": "azure-iot-operations"},
        "spec": {"brokerRef": "broker", "port": port, **spec},
    }


def step(op: str, name: str, old: Any = None, new: Any = None, **more: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"op": op, "urn": urn(LISTENER, name, PARENT), **more}
    if old is not None:
        raw["oldState"] = {"type": LISTENER, "inputs": old, "outputs": old}
    if new is not None:
        raw["newState"] = {"type": LISTENER, "inputs": new, "outputs": new}
    return raw


DIGEST: dict[str, Any] = {
    "config": {"aio-mq:namespace": "azure-iot-operations"},
    "steps": [
        {"op": "same", "urn": "urn:pulumi:prod::aio-mq::pulumi:pulumi:Stack::aio-mq-prod"},
        step("create", "edge", new=listener_inputs(authenticationEnabled=True)),
        step(
            "update",
            "internal",
            old=listener_inputs(18883, tls={"automatic": {"duration": "720h"}}),
            new=listener_inputs(18884, tls={"automatic": {"duration": "720h"}}),
            diffReasons=["spec"],
            detailedDiff={"spec.port": {"kind": "update", "inputDiff": True}},
        ),
        step("delete", "legacy", old=listener_inputs(1883)),
        step("create-replacement", "moved", new=listener_inputs()),
        step(
            "replace",
            "moved",
            old=listener_inputs() | {"metadata": {"name": "old", "namespace": "a"}},
            new=listener_inputs(),
            replaceReasons=["metadata"],
            detailedDiff={"metadata.name": {"kind": "update-replace", "inputDiff": True}},
        ),
        step("delete-replaced", "moved", old=listener_inputs()),
    ],
    "diagnostics": [
        {"message": "debug chatter", "severity": "info"},
        {
            "urn": urn(LISTENER, "edge", PARENT),
            "message": "something looks off\n",
            "severity": "warning",
        },
    ],
    "duration": 1234,
    "changeSummary": {"create": 1, "update": 1, "delete": 1, "replace": 1, "same": 1},
}


def test_change_summary_in_pulumi_order() -> None:
    assert pc.change_summary({"same": 1, "create": 6}) == "6 to create, 1 unchanged"
    assert pc.change_summary({"delete": 2, "update": 1}) == "1 to update, 2 to delete"
    assert pc.change_summary({"same": 7}) == "no changes, 7 unchanged"
    assert pc.change_summary({}) == "no changes"
    assert pc.change_summary({"discard": 1}) == "1 discard"


def test_paths_and_values_as_pulumi_writes_them() -> None:
    assert pc.join_path("", "spec") == "spec"
    assert pc.join_path("spec", "port") == "spec.port"
    assert pc.join_path("spec.san.dns", 0) == "spec.san.dns[0]"
    assert pc.join_path("metadata.annotations", "pulumi.com/x") == (
        'metadata.annotations["pulumi.com/x"]'
    )
    assert pc.leaves({"a": {"b": [1, {"c": None}], "d": {}}, "e": []}) == {
        "a.b[0]": 1,
        "a.b[1].c": None,
        "a.d": {},
        "e": [],
    }
    secret = {pc.SECRET_SIG_KEY: pc.SECRET_SIG_VALUE, "ciphertext": "xyz"}
    assert pc.leaves({"data": secret}) == {"data": secret}
    assert pc.format_value(secret) == "[secret]"
    assert pc.format_value(pc.UNKNOWN_VALUE) == "[unknown]"
    assert pc.format_value("x") == '"x"'
    assert pc.format_value(True) == "true"
    assert pc.format_value({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'


def test_step_names_and_types_from_the_urn() -> None:
    parsed = pc.Step.from_json(step("create", "edge", new={}))
    assert (parsed.type, parsed.name) == (LISTENER, "edge")
    assert pc.Step("create", "garbage", {}, {}).name == "garbage"


def test_create_lists_every_input() -> None:
    lines = pc.Step.from_json(DIGEST["steps"][1]).lines()
    assert lines[0] == f"+ {LISTENER}: edge (create)"
    assert "+     spec.port: 8884" in lines
    assert "+     spec.authenticationEnabled: true" in lines
    assert '+     metadata.namespace: "azure-iot-operations"' in lines


def test_update_lists_only_what_the_provider_says_changed() -> None:
    lines = pc.Step.from_json(DIGEST["steps"][2]).lines()
    assert lines == [
        f"~ {LISTENER}: internal (update)",
        "-     spec.port: 18883",
        "+     spec.port: 18884",
    ]


def test_update_without_a_detailed_diff_compares_the_inputs() -> None:
    raw = step("update", "x", old={"a": 1, "b": {"c": 2}}, new={"a": 1, "b": {"d": 3}})
    assert pc.Step.from_json(raw).lines()[1:] == ["-     b.c: 2", "+     b.d: 3"]


def test_delete_lists_the_old_inputs() -> None:
    lines = pc.Step.from_json(DIGEST["steps"][3]).lines()
    assert lines[0] == f"- {LISTENER}: legacy (delete)"
    assert "-     spec.port: 1883" in lines


def test_comment() -> None:
    text = pc.render_comment(pc.Preview("prod", DIGEST, note="Diff against nothing."))
    assert text.startswith("#### :tropical_drink: `preview` on aio-mq/prod\n")
    assert "**Changes:** 1 to create, 1 to update, 1 to replace, 1 to delete, 1 unchanged" in text
    assert "| `+` create | 1 |" in text
    assert "| `+-` replace | 1 |" in text
    assert "_Diff against nothing._" in text
    assert "warning: edge: something looks off" in text
    assert "debug chatter" not in text
    diff = text.split("```diff\n", 1)[1].split("\n```", 1)[0].splitlines()
    headers = [line for line in diff if not line.startswith(("+     ", "-     "))]
    assert [h.rsplit(" ", 1)[1] for h in headers] == [
        "(create)",
        "(update)",
        "(delete)",
        "(replace)",
    ]
    # The replacement is shown once, with why.
    assert '-     metadata.name: "old"' in diff
    assert '+     metadata.name: "edge"' in diff
    assert "pulumi:pulumi:Stack" not in text  # unchanged resources are not listed
    assert ":x:" not in text


def test_comment_of_a_failed_preview() -> None:
    failed = pc.Preview(
        "prod",
        {"diagnostics": [{"message": "boom", "severity": "error"}]},
        failed=True,
        error="error: preview failed",
    )
    text = pc.render_comment(failed)
    assert ":x: **`pulumi preview` failed**" in text
    assert "error: stack: boom" in text
    assert "error: preview failed" in text
    assert "(no resource changes)" in text
    assert "**Changes:** no changes" in text


def test_document_has_one_comment_per_environment() -> None:
    text = pc.render_document([pc.Preview("dev", {}), pc.Preview("prod", DIGEST)])
    assert text.count("#### :tropical_drink:") == 2
    assert text.index("aio-mq/dev") < text.index("aio-mq/prod")


def test_cli_formats_a_saved_preview(tmp_path: Path) -> None:
    saved = tmp_path / "preview.json"
    saved.write_text(json.dumps(DIGEST))
    result = subprocess.run(
        [str(ROOT / "tools" / "pr-comment"), "--stack", "prod", "--from-json", str(saved)],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"},
    )
    assert result.stdout == pc.render_document([pc.Preview("prod", DIGEST)])


def test_cli_from_json_needs_one_stack(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        pc.main(["--from-json", str(tmp_path / "x.json")])


def test_stack_names_are_the_stack_files() -> None:
    assert project.stack_names() == sorted(
        p.name.split(".")[1] for p in (ROOT / "stacks").glob("Pulumi.*.yaml")
    )


def test_copy_project_links_the_virtualenvs(tmp_path: Path) -> None:
    project.copy_project(ROOT, tmp_path)
    assert (tmp_path / "Pulumi.yaml").read_text() == (ROOT / "Pulumi.yaml").read_text()
    assert (tmp_path / "stacks" / "Pulumi.prod.yaml").exists()
    assert (tmp_path / "venv").is_symlink()
    assert not (tmp_path / ".git").exists()


PREVIEW_TEXT = """\
Previewing update (prod):
 +  pulumi:pulumi:Stack aio-mq-prod create
Policies:
    ❌ aio-mq-guardrails@v0.1.0 (local: policy)
        - [mandatory]  listener-tls-required  (kubernetes:mq.iotoperations.azure.com/v1beta1:BrokerListener: plain)
          Every BrokerListener of a production stack has TLS.

          BrokerListener azure-iot-operations/plain has no TLS.

Diagnostics:
  pulumi:pulumi:Stack (aio-mq-prod):
    error: preview failed

Resources:
    + 7 to create
"""


def test_policies_section_of_the_text_preview() -> None:
    section = pc.policies_section(PREVIEW_TEXT)
    assert section.startswith("Policies:\n    ❌ aio-mq-guardrails@v0.1.0")
    assert "BrokerListener azure-iot-operations/plain has no TLS." in section
    assert "Diagnostics" not in section and "error: preview failed" not in section
    assert pc.policies_section("Previewing update (prod):\nResources:\n") == ""


def test_comment_shows_policy_results() -> None:
    preview = pc.Preview("prod", DIGEST, failed=True, policies=pc.policies_section(PREVIEW_TEXT))
    text = pc.render_comment(preview)
    assert "**Policies**\n\n```text\nPolicies:\n    ❌ aio-mq-guardrails" in text
    assert ":x: **`pulumi preview` failed**" in text


def test_internal_inputs_are_left_out() -> None:
    digest = {
        "steps": [
            {
                "op": "create",
                "urn": "urn:pulumi:dev::aio-mq::pulumi:providers:kubernetes::kubernetes",
                "newState": {"inputs": {"__internal": {}, "version": "4.25.0"}},
            }
        ],
    }
    text = pc.render_comment(pc.Preview("dev", digest))
    assert "Errors and warnings" not in text
    assert "__internal" not in text
    assert '+     version: "4.25.0"' in text
