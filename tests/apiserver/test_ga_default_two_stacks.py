"""Two GA stacks on one real API server that both declare `default` (issue 17, item 2): run as
users run them (`make … CLUSTER=yes`), the second is refused while the first manages it, naming
the first; `destroy` of the first leaves `default` with its ports but without its marks, and
then the second may manage it; dropping `default` from a stack releases it too. `up` waits for
the broker's answer: the operator's test double gives it, as `make operator-double` would."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from .conftest import (
    AIO_NAMESPACE,
    CONTEXT,
    OperatorDouble,
    Project,
    StartCluster,
    make,
    released,
)

pytestmark = [pytest.mark.e2e, pytest.mark.apiserver]

FIRST, SECOND = "local-ga", "local-ga-second"
GROUP, VERSION = "mqttbroker.iotoperations.azure.com", "v1"
MANAGED_BY = "app.kubernetes.io/managed-by"
STACK_ANNOTATION = "aio-mq/stack"


def second_stack(project: Project) -> None:
    """A copy of local-ga (same cluster) that manages only `default`, with port 1884 added."""
    document = yaml.safe_load(project.stack_file(FIRST).read_text())
    (default,) = [
        item for item in document["config"]["aio-mq:listeners"] if item["name"] == "default"
    ]
    default["ports"] = [default["ports"][0], {"port": 1884}]
    document["config"]["aio-mq:listeners"] = [default]
    del document["config"]["aio-mq:issuers"]
    project.stack_file(SECOND).write_text(yaml.safe_dump(document, sort_keys=False))


def test_a_second_stack_cannot_take_default_until_the_first_releases_it(
    start_cluster: StartCluster, project: Project, operator_double: OperatorDouble
) -> None:
    cluster = start_cluster(crds="v1,cert-manager")
    operator_double(cluster.kubeconfig)
    cluster.use_in(project, FIRST)
    second_stack(project)

    def default() -> Any:
        return cluster.get(GROUP, VERSION, "brokerlisteners", "default", AIO_NAMESPACE)

    first_up = make(project, "up", f"STACK={FIRST}", "CLUSTER=yes")
    assert first_up.returncode == 0, first_up.stdout + first_up.stderr
    managed = default()
    assert [p["port"] for p in managed["spec"]["ports"]] == [18883, 1883]
    assert managed["metadata"]["labels"][MANAGED_BY] == "aio-mq"
    assert managed["metadata"]["annotations"][STACK_ANNOTATION] == f"organization/aio-mq/{FIRST}"

    # The second stack is refused, by preview and by up, and nothing of it is applied.
    for command in ("preview", "up"):
        refused = make(project, command, f"STACK={SECOND}", "CLUSTER=yes")
        output = refused.stdout + refused.stderr
        assert refused.returncode != 0, output
        assert "Traceback" not in output
        assert (
            f"listeners[0]: the listener 'default' (ClusterIp Service aio-broker) on the cluster "
            f"(context {CONTEXT}), managed by the aio-mq stack organization/aio-mq/{FIRST}, not "
            "this one: declaring 'default' here would take it over from that stack and rewrite "
            "its ports" in output
        )
        assert (
            f"fix: add these ports to 'default' in organization/aio-mq/{FIRST} and remove it "
            "from this stack; or release it there first (`pulumi destroy` that stack, or remove "
            "'default' from its listeners and `up`: it stays on the cluster, unmarked)" in output
        )
        assert "no resource was registered" in output
        assert default() == managed  # not written

    # Destroy releases it: kept with the first stack's ports (retained), without its marks.
    destroyed = make(project, "destroy", f"STACK={FIRST}", "CLUSTER=yes")
    assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
    kept = default()
    assert kept["spec"] == managed["spec"]
    assert released(kept)

    second_up = make(project, "up", f"STACK={SECOND}", "CLUSTER=yes")
    assert second_up.returncode == 0, second_up.stdout + second_up.stderr
    taken = default()
    assert [p["port"] for p in taken["spec"]["ports"]] == [18883, 1884]
    assert taken["metadata"]["annotations"][STACK_ANNOTATION] == f"organization/aio-mq/{SECOND}"

    # Removing `default` from the stack releases it the same way.
    document = yaml.safe_load(project.stack_file(SECOND).read_text())
    document["config"]["aio-mq:listeners"] = []
    project.stack_file(SECOND).write_text(yaml.safe_dump(document, sort_keys=False))
    dropped = make(project, "up", f"STACK={SECOND}", "CLUSTER=yes")
    assert dropped.returncode == 0, dropped.stdout + dropped.stderr
    left = default()
    assert left["spec"] == taken["spec"]
    assert released(left)
