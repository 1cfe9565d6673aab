"""A local endpoint shaped like Azure Resource Manager, for tests: no real Azure is reached.

`FakeArm` serves plain HTTP on 127.0.0.1 the GETs ARM answers about Azure IoT Operations
brokers (`Microsoft.IoTOperations`): an instance, a broker, and the paged lists of a broker's
listeners, authentications and authorizations, in ARM's JSON shapes (`value` with an absolute
`nextLink` per page) and with ARM's error bodies (`{"error": {"code", "message"}}`) for an
unknown subscription, resource group, instance or broker (404), a refused token (401) and a
denied read (403). It accepts one bearer token, `TOKEN`; a test passes `FakeCredential` (a
TokenCredential giving that token) to the real SDK client, or puts `fake_az_cli` first on
PATH so that azure-identity's DefaultAzureCredential gets it from "the Azure CLI" (also in a
Pulumi program run as a subprocess). Every request is recorded, so a test can prove that
discovery only reads.

Reuse it in any test: `with FakeArm() as arm: arm.broker("rg", "aio").listener("edge", {...})`,
then point the code at `arm.url`, or a Pulumi program's environment at `arm.env(tmp_path)`
($AIO_MQ_ARM_ENDPOINT, and a fake `az` first on PATH).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from azure.core.credentials import AccessToken

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
TOKEN = "fake-arm-token"
"""The one bearer token the fake endpoint accepts: nothing real."""
PROVIDER = "Microsoft.IoTOperations"
CHILD_KINDS = ("listeners", "authentications", "authorizations")
EXPIRES = 4_102_444_800  # 2100-01-01: the fake token never expires during a test


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, list[str]]
    authorization: str | None


@dataclass
class FakeBroker:
    """One broker of an instance; `listener`, `authentication` and `authorization` add
    ARM resources to its lists (in the order given, which is the order ARM pages them)."""

    resource_group: str
    instance: str
    name: str
    subscription: str
    children: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {kind: [] for kind in CHILD_KINDS}
    )

    @property
    def id(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
            f"/providers/{PROVIDER}/instances/{self.instance}/brokers/{self.name}"
        )

    def _add(self, kind: str, name: str, properties: Mapping[str, Any]) -> FakeBroker:
        self.children[kind].append(
            {
                "id": f"{self.id}/{kind}/{name}",
                "name": name,
                "type": f"{PROVIDER}/instances/brokers/{kind}",
                "extendedLocation": {
                    "name": f"/subscriptions/{self.subscription}/resourceGroups/"
                    f"{self.resource_group}/providers/Microsoft.ExtendedLocation/"
                    "customLocations/cl",
                    "type": "CustomLocation",
                },
                "properties": {**properties, "provisioningState": "Succeeded"},
                "systemData": {"createdBy": "someone@example.com", "createdByType": "User"},
            }
        )
        return self

    def listener(self, name: str, properties: Mapping[str, Any]) -> FakeBroker:
        return self._add("listeners", name, properties)

    def authentication(self, name: str, *methods: str) -> FakeBroker:
        listed = [{"method": m} for m in methods or ("ServiceAccountToken",)]
        return self._add("authentications", name, {"authenticationMethods": listed})

    def authorization(self, name: str) -> FakeBroker:
        policies = {"cache": "Enabled", "rules": [{"principals": {"usernames": ["x"]}}]}
        return self._add("authorizations", name, {"authorizationPolicies": policies})

    def installed_defaults(self) -> FakeBroker:
        """What an Azure IoT Operations deployment creates: listener and authentication
        `default` (port 18883, TLS from the deployment's ClusterIssuer)."""
        tls = {
            "mode": "Automatic",
            "certManagerCertificateSpec": {
                "issuerRef": {
                    "group": "cert-manager.io",
                    "kind": "ClusterIssuer",
                    "name": "azure-iot-operations-aio-certificate-issuer",
                }
            },
        }
        port = {"port": 18883, "authenticationRef": "default", "tls": tls}
        self.listener(
            "default", {"serviceName": "aio-broker", "serviceType": "ClusterIp", "ports": [port]}
        )
        return self.authentication("default", "ServiceAccountToken")


class FakeArm:
    """The local ARM-shaped endpoint (see the module docstring)."""

    def __init__(self, subscription: str = SUBSCRIPTION, page_size: int = 2) -> None:
        self.subscription = subscription
        self.page_size = page_size
        """Resources per page of a list; more make ARM-style `nextLink` pages."""
        self.brokers: dict[tuple[str, str, str], FakeBroker] = {}
        self.requests: list[Request] = []
        self.failure: tuple[int, dict[str, Any]] | None = None
        """An answer to every request instead of the resources (see `fail`, `deny`)."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def env(self, az_directory: Path | None = None) -> dict[str, str]:
        """What points aio-mq's ARM discovery at this endpoint; with `az_directory`, also a
        fake `az` there, first on PATH, from which DefaultAzureCredential takes this endpoint's
        token (for a Pulumi program run as a subprocess)."""
        env = {"AIO_MQ_ARM_ENDPOINT": self.url}
        if az_directory is not None:
            fake_az_cli(az_directory)
            env["PATH"] = f"{az_directory}{os.pathsep}{os.environ.get('PATH', '')}"
        return env

    def broker(self, resource_group: str, instance: str, name: str = "default") -> FakeBroker:
        key = (resource_group, instance, name)
        if key not in self.brokers:
            self.brokers[key] = FakeBroker(resource_group, instance, name, self.subscription)
        return self.brokers[key]

    def fail(self, status: int, code: str, message: str) -> None:
        """Answer every request with ARM's error `code` (e.g. 409 MissingSubscriptionRegistration)."""
        self.failure = status, _error(code, message)

    def deny(self) -> None:
        """Answer every request as ARM does an identity without read access."""
        self.fail(
            403,
            "AuthorizationFailed",
            "The client 'someone@example.com' with object id '1111' does not have "
            "authorization to perform action 'Microsoft.IoTOperations/instances/brokers/"
            "listeners/read' over scope '/subscriptions/...' or the scope is invalid.",
        )

    def __enter__(self) -> FakeArm:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    # --- answering --------------------------------------------------------------------------

    def answer(self, method: str, target: str, authorization: str | None) -> tuple[int, Any]:
        split = urlsplit(target)
        self.requests.append(Request(method, split.path, parse_qs(split.query), authorization))
        if authorization != f"Bearer {TOKEN}":
            return 401, _error("InvalidAuthenticationToken", "The access token is invalid.")
        if method != "GET":
            return 405, _error("MethodNotAllowed", f"the fake ARM endpoint only reads ({method})")
        if self.failure is not None:
            return self.failure
        return self._read(split.path.strip("/").split("/"), parse_qs(split.query))

    def _read(self, parts: list[str], query: Mapping[str, list[str]]) -> tuple[int, Any]:
        # subscriptions/{s}/resourceGroups/{rg}/providers/{provider}/instances/{i}[/brokers/{b}[/{kind}]]
        if len(parts) < 8 or parts[0] != "subscriptions" or parts[2] != "resourceGroups":
            return 404, _error("NotFound", f"no such path: /{'/'.join(parts)}")
        if parts[1] != self.subscription:
            return 404, _error(
                "SubscriptionNotFound", f"The subscription '{parts[1]}' could not be found."
            )
        rg, instance, rest = parts[3], parts[7], parts[8:]
        if not any(key[0] == rg for key in self.brokers):
            return 404, _error(
                "ResourceGroupNotFound", f"Resource group '{rg}' could not be found."
            )
        known_instance = any(key[:2] == (rg, instance) for key in self.brokers)
        if not rest:
            if not known_instance:
                return 404, _not_found(f"{PROVIDER}/instances/{instance}", rg)
            return 200, {"name": instance, "type": f"{PROVIDER}/instances", "properties": {}}
        if not known_instance:
            return 404, _parent_not_found(instance)
        broker = self.brokers.get((rg, instance, rest[1] if len(rest) > 1 else ""))
        if broker is None and len(rest) > 2:
            return 404, _parent_not_found(f"{instance}/{rest[1]}")
        if broker is None:
            return 404, _not_found(f"{PROVIDER}/instances/{instance}/brokers/{rest[-1]}", rg)
        if len(rest) == 2:
            return 200, {"id": broker.id, "name": broker.name, "properties": {}}
        if len(rest) != 3 or rest[2] not in CHILD_KINDS:
            return 404, _error("NotFound", f"no such path: /{'/'.join(parts)}")
        items = broker.children[rest[2]]
        start = int((query.get("$skiptoken") or ["0"])[0])
        page: dict[str, Any] = {"value": items[start : start + self.page_size]}
        if start + self.page_size < len(items):
            page["nextLink"] = (
                f"{self.url}/{'/'.join(parts)}?api-version="
                f"{(query.get('api-version') or [''])[0]}&$skiptoken={start + self.page_size}"
            )
        return 200, page


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _parent_not_found(parent: str) -> dict[str, Any]:
    return _error(
        "ParentResourceNotFound",
        "Can not perform requested operation on nested resource. Parent resource "
        f"'{parent}' not found.",
    )


def _not_found(resource: str, resource_group: str) -> dict[str, Any]:
    return _error(
        "ResourceNotFound",
        f"The Resource '{resource}' under resource group '{resource_group}' was not found.",
    )


def _handler(arm: FakeArm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _respond(self) -> None:
            status, body = arm.answer(self.command, self.path, self.headers.get("Authorization"))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-ms-request-id", "fake")
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _respond  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads `arm.requests` instead."""

    return Handler


class FakeCredential:
    """A TokenCredential giving the fake endpoint's token, as `az login` would give a real one;
    with `error`, one that cannot get a token and raises it (as azure-identity's credentials
    raise CredentialUnavailableError or ClientAuthenticationError)."""

    def __init__(self, token: str = TOKEN, error: Exception | None = None) -> None:
        self.token = token
        self.error = error
        self.scopes: list[tuple[str, ...]] = []

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        self.scopes.append(scopes)
        if self.error is not None:
            raise self.error
        return AccessToken(self.token, EXPIRES)


def fake_az_cli(directory: Path, token: str = TOKEN) -> Path:
    """An `az` in `directory` that answers `az account get-access-token` with `token`, as the
    Azure CLI does after `az login`: put `directory` first on PATH and DefaultAzureCredential
    (its AzureCliCredential) finds it."""
    answer = json.dumps({"accessToken": token, "expires_on": EXPIRES, "tokenType": "Bearer"})
    script = directory / "az"
    script.write_text(f"#!/bin/sh\necho '{answer}'\n")
    script.chmod(0o755)
    return script


@pytest.fixture
def fake_arm() -> Iterator[FakeArm]:
    with FakeArm() as arm:
        yield arm
