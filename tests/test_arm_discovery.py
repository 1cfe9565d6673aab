"""ARM discovery (components/arm/discovery.py) against a local ARM-shaped endpoint.

No real Azure is reached: the real SDK client (azure-mgmt-iotoperations, its real pipeline and
HTTP transport) talks to `tests/fake_arm.FakeArm` on 127.0.0.1, with a fake TokenCredential or,
for DefaultAzureCredential, a fake `az` on PATH. What is proven is the SDK wiring, the paging,
the facts and every failure mode's problem; what real ARM answers is taken from its REST
specification and documentation (README, "Production: Azure Resource Manager").
"""

from __future__ import annotations

import runpy
import socket
import time
from pathlib import Path
from typing import Any

import pulumi
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CredentialUnavailableError

from components.arm import discovery as discovery_module
from components.arm.discovery import API_VERSION, KEY, discover_arm
from components.errors import ConfigError, Problem
from components.v1 import sharing
from components.v1 import stack as stack_module
from components.v1.config import StackConfigV1
from components.v1.discovery import DiscoveredV1
from tests.conftest import Engine
from tests.fake_arm import (
    SUBSCRIPTION,
    FakeArm,
    FakeCredential,
    fake_arm,
)

__all__ = ["fake_arm"]  # the fixture

ROOT = Path(__file__).resolve().parent.parent
GA = "mqttbroker.iotoperations.azure.com/v1"
RG, INSTANCE, NS = "rg-factory", "aio-factory", "azure-iot-operations"
WHERE = "in Azure instance aio-factory (rg-factory), not managed by this stack"
TLS = {"mode": "Manual", "manual": {"secretRef": "edge-tls"}}
EDGE = {
    "serviceType": "LoadBalancer",
    "ports": [
        {"port": 8883, "authenticationRef": "devices", "authorizationRef": "topics", "tls": TLS},
        {"port": 1883, "nodePort": None},
    ],
}
NODES = {
    "serviceType": "nodePort",
    "serviceName": "mq-nodes",
    "ports": [{"port": 1884, "nodePort": 31884}],
}


NO_CREDENTIAL = CredentialUnavailableError("DefaultAzureCredential failed to retrieve a token")
"""What DefaultAzureCredential raises when no credential source is configured."""


def discover(
    arm: FakeArm, credential: Any = None, instance: str = INSTANCE, **kwargs: Any
) -> tuple[DiscoveredV1 | None, list[Problem]]:
    return discover_arm(
        kwargs.pop("subscription", SUBSCRIPTION),
        kwargs.pop("resource_group", RG),
        instance,
        kwargs.pop("broker", "default"),
        NS,
        kwargs.pop("declared", ()),
        credential=credential or FakeCredential(),
        base_url=arm.url,
        **kwargs,
    )


def factory(arm: FakeArm) -> None:
    (
        arm.broker(RG, INSTANCE)
        .installed_defaults()
        .listener("edge", EDGE)
        .listener("nodes", NODES)
        .authentication("devices", "X509", "ServiceAccountToken")
        .authorization("topics")
    )


def test_listeners_and_auth_objects_become_rule_facts(fake_arm: FakeArm) -> None:
    factory(fake_arm)
    credential = FakeCredential()
    found, problems = discover(fake_arm, credential)
    assert problems == []
    assert found is not None
    assert found.context == "Azure instance aio-factory (rg-factory)"
    default, edge, nodes = found.listeners
    assert edge == sharing.Listener(
        name="edge",
        namespace=NS,
        broker="default",
        service_type="LoadBalancer",
        service_name="edge",
        ports=(
            sharing.Port(8883, None, "devices", "topics", tls=True, path=""),
            sharing.Port(1883, None, None, None, tls=False, path=""),
        ),
        origin="the listener",
        existing=True,
        on_cluster=WHERE,
        in_azure=True,
    )
    assert (nodes.service_type, nodes.service_name, nodes.ports[0].node_port) == (
        "NodePort",
        "mq-nodes",
        31884,
    )
    assert (default.service_name, default.ports[0].port, default.ports[0].tls) == (
        "aio-broker",
        18883,
        True,
    )
    assert found.authentications == (
        sharing.Declared("default", NS, WHERE, ("ServiceAccountToken",)),
        sharing.Declared("devices", NS, WHERE, ("X509", "ServiceAccountToken")),
    )
    assert found.authorizations == (sharing.Declared("topics", NS, WHERE),)
    # Read-only, with the credential's ARM token, at the api-version azure-native writes.
    assert {r.method for r in fake_arm.requests} == {"GET"}
    assert {r.authorization for r in fake_arm.requests} == {"Bearer fake-arm-token"}
    assert {tuple(r.query["api-version"]) for r in fake_arm.requests} == {(API_VERSION,)}
    assert credential.scopes[0] == ("https://management.azure.com/.default",)


def test_every_page_is_read(fake_arm: FakeArm) -> None:
    broker = fake_arm.broker(RG, INSTANCE)
    for i in range(5):
        broker.listener(f"l{i}", {"ports": [{"port": 2000 + i}]})
    found, problems = discover(fake_arm)
    assert problems == []
    assert found is not None
    assert [f.name for f in found.listeners] == ["l0", "l1", "l2", "l3", "l4"]
    pages = [r for r in fake_arm.requests if r.path.endswith("/listeners")]
    assert [r.query.get("$skiptoken") for r in pages] == [None, ["2"], ["4"]]


def test_the_stacks_own_names_are_left_out(fake_arm: FakeArm) -> None:
    factory(fake_arm)
    found, _ = discover(
        fake_arm,
        declared=["edge", "default"],
        declared_authentications=["devices"],
        declared_authorizations=["topics"],
    )
    assert found is not None
    assert [f.name for f in found.listeners] == ["nodes"]
    assert [f.name for f in found.authentications] == ["default"]
    assert found.authorizations == ()


def test_a_new_listener_is_judged_against_the_arm_ones(fake_arm: FakeArm) -> None:
    """What the user sees: the GA rules name the ARM listener a new one clashes with."""
    factory(fake_arm)
    found, _ = discover(fake_arm)
    assert found is not None
    new = sharing.Listener(
        "edge2", NS, "default", "ClusterIp", "edge2",
        (sharing.Port(31884, 31884, None, None, tls=False, path="listeners[0].ports[0]"),),
        origin="listeners[0]",
    )  # fmt: skip
    problems = sharing.listener_problems([*found.listeners, new])
    assert [p.path for p in problems] == [
        "listeners[0].serviceType",
        "listeners[0].ports[0].nodePort",
    ]
    assert f"'default' (ClusterIp Service aio-broker) {WHERE}" in problems[0].message
    assert f"'nodes' (NodePort Service mq-nodes) {WHERE}" in problems[1].message


def test_no_credentials(fake_arm: FakeArm) -> None:
    found, (problem,) = discover(fake_arm, FakeCredential(error=NO_CREDENTIAL))
    assert found is None
    assert problem.path == KEY
    assert problem.message == (
        "no Azure token to read what broker aio-factory/default (resource group rg-factory) "
        "has: DefaultAzureCredential failed to retrieve a token"
    )
    assert problem.fix is not None
    assert problem.fix.startswith("sign in with `az login`, or set AZURE_TENANT_ID")
    assert problem.fix.endswith(
        "or set aio-mq:discovery: false to check against the GA defaults instead"
    )
    assert fake_arm.requests == []


WRONG_SECRET = ClientAuthenticationError(
    "ClientSecretCredential authentication failed: AADSTS7000215: Invalid client secret provided."
)


def test_refused_credential(fake_arm: FakeArm) -> None:
    _, (problem,) = discover(fake_arm, FakeCredential(error=WRONG_SECRET))
    assert problem.path == KEY
    assert "no Azure token to read what broker aio-factory/default" in problem.message
    assert problem.message.endswith("AADSTS7000215: Invalid client secret provided.")


@pytest.fixture
def bare_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No Azure sign-in of any kind: no AZURE_* variables, no az/azd/pwsh, an empty home."""
    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_USERNAME",
                 "AZURE_FEDERATED_TOKEN_FILE", "IDENTITY_ENDPOINT", "MSI_ENDPOINT"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def test_default_credential_without_any_sign_in(fake_arm: FakeArm, bare_environment: Path) -> None:
    start = time.monotonic()
    found, (problem,) = discover_arm(
        SUBSCRIPTION, RG, INSTANCE, "default", NS, base_url=fake_arm.url
    )
    assert time.monotonic() - start < 10
    assert found is None
    assert problem.path == KEY
    assert "no Azure token" in problem.message
    assert "DefaultAzureCredential failed to retrieve a token" in problem.message
    assert fake_arm.requests == []


def test_default_credential_uses_az_login(
    fake_arm: FakeArm, bare_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DefaultAzureCredential takes the Azure CLI's token (a fake `az`), and the endpoint
    comes from $AIO_MQ_ARM_ENDPOINT."""
    factory(fake_arm)
    for name, value in fake_arm.env(bare_environment).items():
        monkeypatch.setenv(name, value)
    found, problems = discover_arm(SUBSCRIPTION, RG, INSTANCE, "default", NS)
    assert problems == []
    assert found is not None
    assert [f.name for f in found.listeners] == ["default", "edge", "nodes"]


def test_refused_token(fake_arm: FakeArm) -> None:
    factory(fake_arm)
    _, (problem,) = discover(fake_arm, FakeCredential("expired"))
    assert problem.path == KEY
    assert problem.message.startswith("Azure Resource Manager refused the credential's token")
    assert "(401 InvalidAuthenticationToken: The access token is invalid.)" in problem.message


def test_forbidden(fake_arm: FakeArm) -> None:
    factory(fake_arm)
    fake_arm.deny()
    found, (problem,) = discover(fake_arm)
    assert found is None
    assert problem.path == KEY
    assert problem.message.startswith(
        "the Azure identity may not read what broker aio-factory/default (resource group "
        "rg-factory) has (403 AuthorizationFailed: The client 'someone@example.com'"
    )
    assert problem.fix is not None
    assert "the Reader role on the resource group" in problem.fix
    assert (
        f"--role Reader --scope /subscriptions/{SUBSCRIPTION}/resourceGroups/rg-factory)"
        in problem.fix
    )


@pytest.mark.parametrize(
    ("where", "key", "message"),
    [
        ({"instance": "aio-nope"}, "instance", "there is no IoT Operations instance 'aio-nope' in resource group 'rg-factory' (404 ParentResourceNotFound: Can not perform requested operation on nested resource. Parent resource 'aio-nope' not found.)"),
        ({"broker": "other"}, "broker", "IoT Operations instance 'aio-factory' has no broker 'other' (404 ParentResourceNotFound"),
        ({"resource_group": "rg-nope"}, "resourceGroup", "there is no resource group 'rg-nope' (404 ResourceGroupNotFound"),
        ({"subscription": "1" * 8}, "subscriptionId", "Azure does not know subscription '11111111', or the identity cannot see it (404 SubscriptionNotFound"),
    ],
)  # fmt: skip
def test_unknown(fake_arm: FakeArm, where: dict[str, str], key: str, message: str) -> None:
    factory(fake_arm)
    found, (problem,) = discover(fake_arm, **where)
    assert found is None
    assert problem.path == f"{KEY}.{key}"
    assert problem.message.startswith(message)


def test_unreachable_endpoint() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    start = time.monotonic()
    found, (problem,) = discover_arm(
        SUBSCRIPTION, RG, INSTANCE, "default", NS,
        credential=FakeCredential(), base_url=f"http://127.0.0.1:{port}",
    )  # fmt: skip
    assert time.monotonic() - start < 10
    assert found is None
    assert problem.path == KEY
    assert problem.message.startswith(
        f"Azure Resource Manager at http://127.0.0.1:{port} cannot be reached within 10 s"
    )


def test_a_silent_endpoint_fails_within_the_timeout_without_retries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An endpoint that accepts connections and never answers (a hung proxy): one read
    timeout, no retries. The timeout is cut to 1 s here; it is 10 s for real."""
    monkeypatch.setattr(discovery_module, "TIMEOUT_SECONDS", 1)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody reads or answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        start = time.monotonic()
        found, (problem,) = discover_arm(
            SUBSCRIPTION, RG, INSTANCE, "default", NS, credential=FakeCredential(), base_url=url
        )
        elapsed = time.monotonic() - start
    assert 1 <= elapsed < 3  # one timeout: a retry would add another
    assert found is None
    assert problem.message.startswith(
        f"Azure Resource Manager at {url} cannot be reached within 1 s"
    )


def test_no_token_over_plain_http_to_another_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIO_MQ_ARM_ENDPOINT", "http://arm.example.com")
    credential = FakeCredential()
    found, (problem,) = discover_arm(
        SUBSCRIPTION, RG, INSTANCE, "default", NS, credential=credential
    )
    assert found is None
    assert problem.path == KEY
    assert problem.message.startswith(
        "the Azure Resource Manager endpoint http://arm.example.com is not HTTPS"
    )
    assert credential.scopes == []  # no token was even asked for


def test_an_unregistered_provider_is_not_registered(fake_arm: FakeArm) -> None:
    """Read-only: ARM's answer to a subscription without Microsoft.IoTOperations makes the SDK
    offer to register the provider (a POST); discovery reports it instead."""
    factory(fake_arm)
    fake_arm.fail(
        409,
        "MissingSubscriptionRegistration",
        "The subscription is not registered to use namespace 'Microsoft.IoTOperations'.",
    )
    found, (problem,) = discover(fake_arm)
    assert found is None
    assert {r.method for r in fake_arm.requests} == {"GET"}
    assert problem.path == f"{KEY}.subscriptionId"
    assert problem.message == (
        f"subscription {SUBSCRIPTION!r} has no IoT Operations: ARM says its resource provider "
        "Microsoft.IoTOperations is not registered (discovery only reads, so it does not "
        "register it)"
    )


# --- what a stack does with the facts (the ARM target's wiring, stood in for here) -------------


def run_ga_stack(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, arm: FakeArm, config: dict[str, Any]
) -> None:
    """The GA stack program (__main__.py) with its cluster read replaced by ARM discovery, as
    the ARM target calls it: the names the stack declares are its own."""

    def read_arm(stack: StackConfigV1, discovery: bool = True) -> tuple[list[Problem], Any]:
        found, problems = discover_arm(
            SUBSCRIPTION, RG, INSTANCE, "default", stack.namespace,
            [listener.name for listener in stack.listeners],
            declared_authentications=[a.name for a in stack.authentications],
            declared_authorizations=[a.name for a in stack.authorizations],
            credential=FakeCredential(), base_url=arm.url,
        )  # fmt: skip
        return problems, found

    monkeypatch.setattr(stack_module, "check_cluster", read_arm)
    engine.configure({"apiVersion": GA, "kubernetes": {"context": "unused"}, **config})
    monkeypatch.setattr(pulumi, "export", lambda *_: None)
    engine.run(lambda: runpy.run_path(str(ROOT / "__main__.py")))


STACK = {
    "listeners": [EDGE | {"name": "edge"}],
    "authentications": [{"name": "devices", "authenticationMethods": [{"method": "ServiceAccountToken", "serviceAccountTokenSettings": {"audiences": ["aio-internal"]}}]}],
}  # fmt: skip


def test_a_stack_previews_again_over_its_own_arm_objects(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, fake_arm: FakeArm
) -> None:
    """After `up`, ARM has the stack's own listener and authentication: they are not counted
    as someone else's (the same name, the same ports, the same Service)."""
    factory(fake_arm)
    run_ga_stack(engine, monkeypatch, fake_arm, STACK)
    assert list(engine.mocks.ga_listeners) == ["edge"]


def test_a_new_listener_clashing_with_an_arm_one_is_refused(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, fake_arm: FakeArm
) -> None:
    factory(fake_arm)
    clash = {"name": "edge2", "serviceType": "NodePort", "ports": [{"port": 1885, "nodePort": 31884, "authenticationRef": "devices"}]}  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        run_ga_stack(engine, monkeypatch, fake_arm, {**STACK, "listeners": [clash]})
    assert engine.mocks.registered == []
    message = str(caught.value)
    assert (
        "listeners[0].serviceType: Service types: broker 'default' has at most one NodePort "
        f"listener, and the listener 'nodes' (NodePort Service mq-nodes) {WHERE} is one" in message
    )
    assert (
        "fix: add these ports to 'nodes' by managing it in this stack (import it with "
        "`pulumi import`, then declare it with its ports and yours)\n" in message
    )
    assert (
        f"listeners[0].ports[0].nodePort: NodePorts: nodePort 31884 is used twice (also the listener 'nodes' (NodePort Service mq-nodes) {WHERE})"
        in message
    )


def test_a_clusterip_listener_is_told_to_join_the_installed_default(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, fake_arm: FakeArm
) -> None:
    factory(fake_arm)
    mine = {"name": "mine", "ports": [{"port": 1883, "authenticationRef": "default"}]}
    with pytest.raises(ConfigError) as caught:
        run_ga_stack(engine, monkeypatch, fake_arm, {"listeners": [mine]})
    assert engine.mocks.registered == []
    assert (
        "fix: add these ports to 'default' instead: manage it in this stack (import it with "
        "`pulumi import`, then declare it with its port 18883 and yours)" in str(caught.value)
    )
