"""What already exists under an Azure IoT Operations broker, read from Azure Resource Manager:
its listeners, authentications and authorizations, as the rule facts the GA rules compare a
stack's new objects with (the same `DiscoveredV1` the Kubernetes discovery returns).

Which objects are this stack's: ARM child resources carry no labels or annotations, so the
Kubernetes discovery's mark (components/metadata.py) has no ARM twin. An ARM resource's name is
unique under its broker and is the name the stack declares, so a listener, authentication or
authorization whose name the stack declares is the stack's (about to be updated, or created)
and is left out; every other one, Azure IoT Operations' `default`s included, is someone else's
and the stack's objects must coexist with it. A stack that declares `default` manages it (after
`pulumi import`), as a GA Kubernetes stack does.

Read-only and bounded, as the Kubernetes discovery: GETs only, no retries, 10 s per request.
Every failure is a Problem keyed at `aio-mq:azure` with a fix, never a traceback.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.core.rest import HttpRequest, HttpResponse

from ..errors import Problem
from ..v1 import live
from ..v1.discovery import DiscoveredV1

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.mgmt.iotoperations import IoTOperationsMgmtClient

ARM_ENDPOINT_ENV = "AIO_MQ_ARM_ENDPOINT"
"""base_url override (tests: a local ARM-shaped server)."""
PUBLIC_ARM = "https://management.azure.com"
KEY = "aio-mq:azure"
API_VERSION = "2024-11-01"
"""The api-version read: the one azure-native v3 writes these resources with, so what is read
has the shape of what the stack writes."""
TIMEOUT_SECONDS = 10
"""Per connection and per read, as the Kubernetes discovery's; with no retries, a read that
cannot succeed fails within it instead of retrying for minutes."""
KINDS = ("listeners", "authentications", "authorizations")
_SIGN_IN = (
    "sign in with `az login`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET "
    "for a service principal, or run where a managed identity is assigned"
)
_DISCOVERY_OFF = "or set aio-mq:discovery: false to check against the GA defaults instead"

# The SDK logs each failed credential at WARNING to stderr when the program configures no
# logging; the problem says it once, with the fix.
logging.getLogger("azure").addHandler(logging.NullHandler())


def discover_arm(  # noqa: PLR0917 - the contract's signature; the ARM target calls it so
    subscription_id: str,
    resource_group: str,
    instance: str,
    broker: str,
    namespace: str,
    declared: Collection[str] = (),
    *,
    declared_authentications: Collection[str] = (),
    declared_authorizations: Collection[str] = (),
    credential: TokenCredential | None = None,
    base_url: str | None = None,
) -> tuple[DiscoveredV1 | None, list[Problem]]:
    """The broker's existing listeners, authentications and authorizations read from ARM, as
    the same DiscoveredV1 the Kubernetes discovery returns (components/v1/discovery.py), minus the
    ones this stack manages: those whose names it declares (`declared` listeners,
    `declared_authentications`, `declared_authorizations`). Or None and problems keyed at
    `aio-mq:azure` (missing credentials, 401/403, unknown instance or broker, unreachable
    endpoint) — never a traceback.

    `credential` defaults to azure-identity's DefaultAzureCredential (`az login`, a service
    principal in AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, a managed identity);
    `base_url` to $AIO_MQ_ARM_ENDPOINT, else public Azure's Resource Manager. The facts get
    `namespace` (the stack's), as ARM objects have none of their own.
    """
    url = base_url or os.environ.get(ARM_ENDPOINT_ENV) or PUBLIC_ARM
    if urlsplit(url).scheme != "https" and not _loopback(url):
        return None, [
            Problem(
                KEY,
                f"the Azure Resource Manager endpoint {url} is not HTTPS: the bearer token "
                "would cross the network in clear (plain HTTP is for a test endpoint on this "
                "machine only)",
                f"give an https:// endpoint (${ARM_ENDPOINT_ENV}), or unset it for public Azure",
            )
        ]
    context = f"Azure instance {instance} ({resource_group})"
    where = f"in {context}, not managed by this stack"
    ours = {
        "listeners": frozenset(declared),
        "authentications": frozenset(declared_authentications),
        "authorizations": frozenset(declared_authorizations),
    }
    found: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
    try:
        with ExitStack() as stack:
            client = _client(subscription_id, url, credential, stack)
            read = _Reader(client, subscription_id, (resource_group, instance, broker), url)
            try:
                for kind in KINDS:
                    found[kind] = [(n, body) for n, body in read.items(kind) if n not in ours[kind]]
            except ResourceNotFoundError as exc:
                return None, [_not_found(exc, read)]
    except AzureError as exc:
        scope = f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
        return None, [_problem(exc, url, _objects(resource_group, instance, broker), scope)]
    return DiscoveredV1(
        context,
        tuple(
            live.listener(name, namespace, broker, body, where, in_azure=True)
            for name, body in found["listeners"]
        ),
        tuple(
            live.auth_object(name, namespace, body, where)
            for name, body in found["authentications"]
        ),
        tuple(
            live.auth_object(name, namespace, body, where) for name, body in found["authorizations"]
        ),
    ), []


def _client(
    subscription_id: str, url: str, credential: TokenCredential | None, stack: ExitStack
) -> IoTOperationsMgmtClient:
    # Imported when ARM is read: 0.1-0.2 s that a Kubernetes stack importing this module
    # (or its caller) should not pay.
    from azure.identity import DefaultAzureCredential  # noqa: PLC0415
    from azure.mgmt.iotoperations import IoTOperationsMgmtClient  # noqa: PLC0415

    if credential is None:
        credential = stack.enter_context(DefaultAzureCredential())
    return stack.enter_context(
        IoTOperationsMgmtClient(
            credential,
            subscription_id,
            base_url=url,
            api_version=API_VERSION,
            retry_total=0,
            connection_timeout=TIMEOUT_SECONDS,
            read_timeout=TIMEOUT_SECONDS,
            per_retry_policies=[_ReadOnly()],
        )
    )


class WriteRefusedError(AzureError):
    """A request other than a GET, which discovery never sends."""

    def __init__(self, method: str, url: str) -> None:
        super().__init__(f"discovery only reads, so it did not send {method} {url}")
        self.method, self.url = method, url


class _ReadOnly(SansIOHTTPPolicy[HttpRequest, HttpResponse]):
    """Refuses every request but a GET. The SDK's pipeline would send one on its own: on ARM's
    409 MissingSubscriptionRegistration it POSTs a resource provider registration and then
    polls it every 10 s until it succeeds."""

    def on_request(self, request: PipelineRequest[HttpRequest]) -> None:
        method = request.http_request.method
        if method != "GET":
            raise WriteRefusedError(method, request.http_request.url)


def _loopback(url: str) -> bool:
    """Whether `url` is on this machine: a test endpoint, the one place plain HTTP may carry a
    bearer token (the SDK refuses it elsewhere)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Reader:
    """The GETs of one broker: its child resources, page by page, and its instance (to tell
    an unknown instance from an unknown broker)."""

    def __init__(
        self,
        client: IoTOperationsMgmtClient,
        subscription_id: str,
        path: tuple[str, str, str],
        url: str,
    ) -> None:
        self.client = client
        self.subscription_id = subscription_id
        self.path = path
        """Resource group, instance, broker."""
        self.options: dict[str, Any] = {"enforce_https": False} if _loopback(url) else {}

    def items(self, kind: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        lists: dict[str, Callable[..., Iterable[Any]]] = {
            "listeners": self.client.broker_listener.list_by_resource_group,
            "authentications": self.client.broker_authentication.list_by_resource_group,
            "authorizations": self.client.broker_authorization.list_by_resource_group,
        }
        for item in lists[kind](*self.path, **self.options):
            body = item.as_dict()
            yield str(body.get("name")), body.get("properties") or {}

    def instance_exists(self) -> bool:
        try:
            self.client.instance.get(self.path[0], self.path[1], **self.options)
        except ResourceNotFoundError:
            return False
        return True


def _objects(resource_group: str, instance: str, broker: str) -> str:
    return f"what broker {instance}/{broker} (resource group {resource_group}) has"


def _problem(exc: AzureError, url: str, objects: str, scope: str) -> Problem:
    """What a failed read means for the user, and what to do about it."""
    if isinstance(exc, ClientAuthenticationError) and exc.status_code is None:
        # No response: the credential got no token (CredentialUnavailableError and friends).
        first = str(exc.message).splitlines()[0] if exc.message else type(exc).__name__
        return Problem(
            KEY,
            f"no Azure token to read {objects}: {first}",
            f"{_SIGN_IN}; {_DISCOVERY_OFF}",
        )
    if isinstance(exc, HttpResponseError) and exc.status_code is not None:
        code, said = _arm_error(exc)
        if exc.status_code == 401:
            return Problem(
                KEY,
                f"Azure Resource Manager refused the credential's token to read {objects} "
                f"(401 {code}: {said})",
                f"{_SIGN_IN} (a token of another tenant or cloud is refused); {_DISCOVERY_OFF}",
            )
        if exc.status_code == 403:
            return Problem(
                KEY,
                f"the Azure identity may not read {objects} (403 {code}: {said})",
                "give it read access to the instance, e.g. the Reader role on the resource "
                f"group (az role assignment create --assignee <identity> --role Reader "
                f"--scope {scope}); {_DISCOVERY_OFF}",
            )
        return Problem(
            KEY,
            f"Azure Resource Manager answered {exc.status_code} {code} to reading {objects}: "
            f"{said}",
            f"try again later; {_DISCOVERY_OFF}",
        )
    registering = isinstance(exc, WriteRefusedError) and re.search(
        r"/subscriptions/([^/]+)/providers/([^/]+)/register", exc.url
    )
    if registering:
        subscription, provider = registering.groups()
        return Problem(
            f"{KEY}.subscriptionId",
            f"subscription {subscription!r} has no IoT Operations: ARM says its resource "
            f"provider {provider} is not registered (discovery only reads, so it does not "
            "register it)",
            "set aio-mq:azure.subscriptionId (or the subscription in customLocation) to the "
            "instance's subscription",
        )
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        endpoint = f" (${ARM_ENDPOINT_ENV})" if os.environ.get(ARM_ENDPOINT_ENV) == url else ""
        return Problem(
            KEY,
            f"Azure Resource Manager at {url}{endpoint} cannot be reached within "
            f"{TIMEOUT_SECONDS} s to read {objects}: {exc.message}",
            f"check the network and the proxy (HTTPS_PROXY) to it; {_DISCOVERY_OFF}",
        )
    return Problem(
        KEY, f"reading {objects} from Azure Resource Manager failed: {exc.message}", _DISCOVERY_OFF
    )


def _not_found(exc: ResourceNotFoundError, read: _Reader) -> Problem:
    """Which of the stack's keys names something ARM does not have."""
    resource_group, instance, broker = read.path
    code, said = _arm_error(exc)
    arm = f"(404 {code}: {said})"
    if code == "SubscriptionNotFound":
        return Problem(
            f"{KEY}.subscriptionId",
            f"Azure does not know subscription {read.subscription_id!r}, or "
            f"the identity cannot see it {arm}",
            "set aio-mq:azure.subscriptionId (or the subscription in customLocation) to the "
            "instance's subscription, and sign in to its tenant",
        )
    if code == "ResourceGroupNotFound":
        return Problem(
            f"{KEY}.resourceGroup",
            f"there is no resource group {resource_group!r} {arm}",
            "set aio-mq:azure.resourceGroup to the instance's resource group "
            "(az iot ops list lists the instances and their groups)",
        )
    if not read.instance_exists():
        return Problem(
            f"{KEY}.instance",
            f"there is no IoT Operations instance {instance!r} in resource group "
            f"{resource_group!r} {arm}",
            f"set aio-mq:azure.instance to one of `az iot ops list -g {resource_group}`",
        )
    return Problem(
        f"{KEY}.broker",
        f"IoT Operations instance {instance!r} has no broker {broker!r} {arm}",
        "set aio-mq:azure.broker to the instance's broker (a deployment creates `default`; "
        f"az iot ops broker list --in {instance} -g {resource_group} lists them)",
    )


def _arm_error(exc: HttpResponseError) -> tuple[str, str]:
    """ARM's error code and message, from its error body."""
    if exc.error is not None:
        return str(exc.error.code), str(exc.error.message)
    return str(exc.reason or ""), str(exc.message)
