"""Waiting for the broker to accept the GA objects a stack creates or changes.

The broker's operator writes its verdict on each BrokerListener, BrokerAuthentication and
BrokerAuthorization into `status.provisioningStatus` (`status`, `error {code, message}`,
`failureCause`). The exact values are not documented: `Succeeded` is done, `Failed` is a
refusal, anything else is pending, in any letter case (docs/decisions.md).

The Kubernetes provider does the watching: the `pulumi.com/waitFor` annotation keeps `up` on an
object until its status is *final* (Succeeded or Failed), `pulumi.com/timeoutSeconds` bounds
that. The provider can only wait for a value, not fail on one, so it waits for either and the
program reads which one from the object's `status` output: a Failed object fails `up` with the
broker's own words (`BrokerRefusalError`). Nothing here polls the objects by hand.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pulumi

from ..cluster import Cluster, ClusterError
from ..errors import ConfigError, Problem
from .endpoints import LiveService, allocated_node_ports, load_balancer_ingress, node_addresses
from .models import MqListenerV1Args
from .objects import FAILED, SUCCEEDED, BrokerObject, Wait

POLL_SECONDS = 1.0
"""How often a LoadBalancer Service is read while it has no address."""
TIMEOUT_KEY = "aio-mq:waitTimeoutSeconds"

Verdict = Literal["succeeded", "failed", "pending"]


def verdict(status: Any) -> Verdict:
    """What the broker said in an object's `status`."""
    provisioning = status.get("provisioningStatus") if isinstance(status, Mapping) else None
    value = provisioning.get("status") if isinstance(provisioning, Mapping) else None
    said = str(value).lower() if value is not None else ""
    if said == SUCCEEDED:
        return "succeeded"
    if said == FAILED:
        return "failed"
    return "pending"


def broker_reason(status: Any) -> str:
    """The broker's own explanation of a Failed status: error message, code and failure cause."""
    provisioning = status.get("provisioningStatus") if isinstance(status, Mapping) else None
    provisioning = provisioning if isinstance(provisioning, Mapping) else {}
    error = provisioning.get("error")
    error = error if isinstance(error, Mapping) else {}
    parts = []
    if error.get("message"):
        parts.append(str(error["message"]))
    if error.get("code"):
        parts.append(f"code {error['code']}")
    cause = provisioning.get("failureCause")
    if cause:
        parts.append(f"cause: {cause if isinstance(cause, str) else json.dumps(cause)}")
    return "; ".join(parts) or "the broker gave no reason"


def refusal(kind: str, namespace: str, name: str, origin: str, status: Any) -> Problem | None:
    """The problem to report for an object the broker refused (None when it did not)."""
    if verdict(status) != "failed":
        return None
    return Problem(
        origin,
        f"the broker refused {kind} {namespace}/{name}: {broker_reason(status)}",
        "correct it as the broker says and run up again (the object is on the cluster but not "
        "in effect); if the cause was outside the stack, run up with --refresh once it is fixed",
    )


class BrokerRefusalError(ConfigError):
    """What the broker refused, or what did not come in time: `up` fails with all of it."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(
            problems,
            subject="the broker's answer",
            outcome="the objects are on the cluster, but not (all) in effect",
        )


@dataclass(frozen=True)
class Watched:
    """An object `up` waits for, with its key path in the stack file."""

    kind: str
    namespace: str
    name: str
    origin: str
    resource: BrokerObject


async def verdicts(
    watched: Sequence[Watched], wait: Wait | None
) -> tuple[list[Verdict], list[Problem]]:
    """What the broker said of each of `watched` once the provider has their final status
    (with waiting off, or under mocks, a status may not be final: pending), and the problems
    of those it refused or did not answer by `wait`'s deadline."""
    tasks = [asyncio.ensure_future(w.resource.status.future()) for w in watched]
    if tasks:
        timeout = None if wait is None else max(0.0, wait.deadline - time.monotonic())
        await asyncio.wait(tasks, timeout=timeout)
    said: list[Verdict] = []
    problems: list[Problem] = []
    for w, task in zip(watched, tasks, strict=True):
        if not task.done():  # left running: cancelling it would cancel the output itself
            said.append("pending")
            problems.append(unanswered(w, wait))
            continue
        # A registration that failed is the engine's to report (it stops the program).
        status = None if task.exception() else task.result()
        said.append(verdict(status))
        refused = refusal(w.kind, w.namespace, w.name, w.origin, status)
        if refused is not None:
            problems.append(refused)
    return said, problems


def unanswered(watched: Watched, wait: Wait | None) -> Problem:
    seconds = wait.timeout_seconds if wait else 0
    kind, namespace, name = watched.kind, watched.namespace, watched.name
    return Problem(
        watched.origin,
        f"the broker did not answer for {kind} {namespace}/{name} within {seconds} s "
        f"({TIMEOUT_KEY}): its status.provisioningStatus is not Succeeded or Failed",
        "check that the broker's operator runs and what it says: "
        f"`kubectl -n {namespace} get {kind.lower()} {name} -o yaml`; or raise {TIMEOUT_KEY}",
    )


async def live_service(
    cluster: Cluster, listener: MqListenerV1Args, origin: str, wait: Wait | None
) -> tuple[LiveService, Problem | None]:
    """What the cluster says about the listener's Service; for a LoadBalancer, once it has an
    address, read again every POLL_SECONDS until `wait`'s deadline (the provider does not
    watch a Service the broker creates). Read-only."""
    namespace, name = str(listener.namespace), listener.service
    path = f"/api/v1/namespaces/{namespace}/services/{name}"
    while True:
        service = await asyncio.to_thread(cluster.get, path)
        ingress = load_balancer_ingress(service)
        if ingress or listener.service_type != "LoadBalancer" or wait is None:
            break
        if time.monotonic() >= wait.deadline:
            state = "has no external address" if service else "does not exist"
            return LiveService(), Problem(
                origin,
                f"the broker accepted listener {namespace}/{name}, but its LoadBalancer "
                f"Service {namespace}/{name} {state} after {wait.timeout_seconds} s "
                f"({TIMEOUT_KEY})",
                "the cluster's load-balancer controller (the cloud's, MetalLB, k3s ServiceLB) "
                f"gives it one: see `kubectl -n {namespace} describe service {name}`; or raise "
                f"{TIMEOUT_KEY}",
            )
        await asyncio.sleep(POLL_SECONDS)
    nodes: tuple[str, ...] = ()
    if listener.service_type == "NodePort":
        nodes = node_addresses(await asyncio.to_thread(cluster.get, "/api/v1/nodes"))
    return LiveService(ingress, nodes, allocated_node_ports(service)), None


async def live_services(
    cluster: Cluster | None,
    listeners: Sequence[tuple[MqListenerV1Args, str, Wait | None]],
) -> tuple[list[LiveService | None], list[Problem]]:
    """`live_service` of each (listener, key path, wait); nothing when there is no cluster to
    read or it cannot be read (the deployment stands; the output lacks the live addresses)."""
    if cluster is None:
        return [None] * len(listeners), []
    try:
        found = await asyncio.gather(*(live_service(cluster, *item) for item in listeners))
    except ClusterError as exc:
        pulumi.log.warn(f"aio-mq: endpoints without the cluster's addresses: {exc}")
        return [None] * len(listeners), []
    return [live for live, _ in found], [p for _, p in found if p is not None]
