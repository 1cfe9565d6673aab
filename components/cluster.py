"""Reading the target cluster: read-only, each request bounded in time.

The pre-flight checks and live discovery need a handful of GETs. `Cluster` is what they use;
`connect()` makes one from a kubeconfig and context with the official Python client, and tests
use a small fake. Once a request fails for want of a server (refused, timed out, credentials
refused) every later request fails at once with the same reason, so a dead cluster costs one
timeout, not one per check.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

REQUEST_TIMEOUT = 10.0
"""Seconds one request may take, connecting and reading together."""

_TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io, application/json"


class ClusterError(Exception):
    """The cluster cannot be read; the message says why, in the operator's terms."""

    def __init__(self, message: str, key: str = "context", fix: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        """The aio-mq:kubernetes key that leads to it: `kubeconfig` or `context`."""
        self.fix = fix
        """What to do, when it is not "bring the server back"."""


class Cluster(Protocol):
    """The few reads the checks make."""

    @property
    def context(self) -> str:
        """The kubeconfig context, for messages."""
        ...

    def get(self, path: str) -> dict[str, Any] | None:
        """The JSON object at an API path (e.g. `/api/v1/namespaces/x`), None if not found."""
        ...

    def secret_type(self, namespace: str, name: str) -> str | None:
        """The `type` of a Secret, None if not found. Its data is never read."""
        ...


def default_kubeconfig() -> str:
    """What kubectl and the Kubernetes provider read when no kubeconfig is named."""
    return os.environ.get("KUBECONFIG") or str(Path("~/.kube/config").expanduser())


@dataclass
class ApiServer:
    """A `Cluster` backed by the official client (imported on first use: render mode never
    pays for it)."""

    context: str
    server: str
    _client: Any = field(repr=False)
    timeout: float = REQUEST_TIMEOUT
    _down: str | None = None

    def get(self, path: str) -> dict[str, Any] | None:
        return self._request(path, "application/json")

    def secret_type(self, namespace: str, name: str) -> str | None:
        # As a Table the server sends the Secret's columns (Name, Type, Data count), not its
        # data: no key material enters this process.
        table = self._request(f"/api/v1/namespaces/{namespace}/secrets/{name}", _TABLE)
        if table is None:
            return None
        if table.get("kind") != "Table":
            return str(table.get("type", "Opaque"))
        columns = [column["name"] for column in table.get("columnDefinitions", [])]
        rows = table.get("rows") or [{}]
        cells = dict(zip(columns, rows[0].get("cells", []), strict=False))
        return str(cells.get("Type", "Opaque"))

    def _request(self, path: str, accept: str) -> dict[str, Any] | None:
        if self._down is not None:
            raise ClusterError(self._down)
        try:
            request = self._client.param_serialize(
                "GET", path, header_params={"Accept": accept}, auth_settings=["BearerToken"]
            )
            response = self._client.call_api(*request, _request_timeout=self.timeout)
            response.read()
        except Exception as exc:  # urllib3 and the client raise many kinds; all mean "no answer"
            self._down = (
                f"the API server of context {self.context!r} ({self.server}) did not answer "
                f"within {self.timeout:g} s: {_reason(exc)}"
            )
            raise ClusterError(self._down) from None
        status = int(response.status)
        if status == 404:
            return None
        if status in (401, 403) and path == "/api":
            raise ClusterError(
                f"the API server of context {self.context!r} ({self.server}) refused the "
                f"credentials of the kubeconfig ({status} {response.reason})",
                fix=f"renew the credentials of context {self.context!r} in the kubeconfig",
            )
        if status >= 400:
            raise ClusterError(
                f"the API server of context {self.context!r} answered GET {path} with "
                f"{status} {response.reason}: {_status_message(response.data)}"
            )
        loaded: dict[str, Any] = json.loads(response.data)
        return loaded


def connect(
    kubeconfig: str | None = None, context: str | None = None, timeout: float = REQUEST_TIMEOUT
) -> ApiServer:
    """A `Cluster` for `context` of `kubeconfig` (defaults as kubectl's), after one request that
    shows the API server answers and accepts the credentials."""
    from kubernetes import client, config  # noqa: PLC0415 (see ApiServer)

    path = kubeconfig or default_kubeconfig()
    try:
        contexts, active = config.list_kube_config_contexts(path)  # type: ignore[no-untyped-call]
    except Exception as exc:
        raise ClusterError(
            f"cannot read the kubeconfig {path}: {_reason(exc)}", "kubeconfig"
        ) from None
    names = [str(c.get("name")) for c in contexts or []]
    name = context or (active or {}).get("name")
    listing = ", ".join(names) or "none"
    choose = f"set aio-mq:kubernetes.context to one of the kubeconfig's contexts ({listing})"
    if not name:
        raise ClusterError(f"the kubeconfig {path} names no current context", fix=choose)
    if name not in names:
        raise ClusterError(
            f"context {name!r} is not in the kubeconfig {path} (contexts: {listing})", fix=choose
        )
    configuration = client.Configuration()
    try:
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=path,
            context=name,
            client_configuration=configuration,
            persist_config=False,
        )
    except Exception as exc:
        raise ClusterError(
            f"cannot use context {name!r} of the kubeconfig {path}: {_reason(exc)}",
            fix=f"repair context {name!r} in the kubeconfig, or choose another ({listing})",
        ) from None
    # One try per request: urllib3 would otherwise retry three times, each up to the timeout.
    configuration.retries = False
    cluster = ApiServer(name, configuration.host, client.ApiClient(configuration), timeout)
    cluster.get("/api")
    return cluster


def _reason(exc: BaseException) -> str:
    """The innermost cause, which is the one an operator can act on."""
    while True:
        inner = getattr(exc, "reason", None)
        if isinstance(inner, BaseException):
            exc = inner
        elif exc.__cause__ is not None:
            exc = exc.__cause__
        else:
            break
    text = str(exc).strip() or type(exc).__name__
    # urllib3 prefixes the connection object's repr: keep what follows it.
    return text.split(">: ", 1)[-1]


def _status_message(data: bytes | None) -> str:
    try:
        return str(json.loads(data or b"{}").get("message", ""))
    except ValueError:
        return (data or b"").decode(errors="replace")[:200]
