"""Issue 8 on the real engine: each defect the adversarial run found, reproduced as it was found.

Each test writes a stack file the way an operator would and runs tools/pulumi on a copy of the
project; before the fix each of them passed preview (or crashed with a traceback).
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.e2e.conftest import Project

pytestmark = pytest.mark.e2e

RENDER = {"renderYamlToDirectory": "rendered/x"}


def write_stack(project: Project, config: dict[str, Any], stack: str = "x") -> None:
    """A stack file holding `config` (keys without the aio-mq: prefix); the stack is created."""
    body = {"config": {f"aio-mq:{key}": value for key, value in config.items()}}
    project.stack_file(stack).write_text(yaml.safe_dump(body))
    project.init(stack)


def refused(project: Project, *args: str, stack: str = "x") -> str:
    """Output of a `preview` that must fail without a traceback and without registering."""
    result = project.pulumi("preview", "--stack", stack, *args, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "no resource was registered" in output, output
    assert "Traceback" not in output, output
    assert "+ 1 to create" not in output and "to create" not in output, output
    return output


def test_values_the_cluster_refuses_fail_preview(project: Project) -> None:
    write_stack(
        project,
        {
            "kubernetes": RENDER,
            "issuers": [{"name": "ca", "selfSigned": {}}],
            "listeners": [
                {"name": "l1\n", "port": 1884},
                {
                    "name": "l2",
                    "port": 1885,
                    "tls": {"automatic": {"issuerRef": {"name": "ca"}, "duration": "3000000h"}},
                },
                {
                    "name": "l3",
                    "port": 1886,
                    "tls": {"automatic": {"issuerRef": {"name": "ca"}, "duration": "30m"}},
                },
                {
                    "name": "l4",
                    "port": 1887,
                    "tls": {"automatic": {"issuerRef": {"name": "ca"}, "renewBefore": "1m"}},
                },
            ],
        },
    )
    output = refused(project)
    assert "the configuration has 4 problems" in output
    assert "listeners[0].name: 'l1\\n' is not a DNS-1123 label" in output
    assert (
        "listeners[1].tls.automatic.duration: '3000000h' is longer than a Go duration can hold "
        "(2562047h)" in output
    )
    assert (
        "listeners[2].tls.automatic.duration: '30m' is shorter than cert-manager's minimum "
        "certificate duration of 1h" in output
    )
    assert "fix: use at least 1h, e.g. 720h" in output
    assert (
        "listeners[3].tls.automatic.renewBefore: '1m' is shorter than cert-manager's minimum "
        "renewBefore of 5m" in output
    )


def test_an_error_quotes_a_capped_prefix_of_a_huge_value(project: Project) -> None:
    write_stack(
        project,
        {
            "kubernetes": RENDER,
            "listeners": [{"name": "l1", "port": 1884, "serviceName": "s" * 100_000}],
        },
    )
    output = refused(project)
    assert f"listeners[0].serviceName: '{'s' * 59}... (100,002 characters) is not" in output
    assert "s" * 61 not in output
