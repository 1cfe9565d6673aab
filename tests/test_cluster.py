"""Reading a cluster through the official client (components/cluster.py), against servers on
127.0.0.1 made here: a closed port, one that never answers, and a small HTTP server that answers
like an API server."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from components.cluster import ClusterError, connect

TOKEN = "t0ken"


def kubeconfig(tmp_path: Path, server: str, context: str = "aio-mq-local") -> str:
    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": TOKEN}}],
                "contexts": [{"name": context, "context": {"cluster": "c", "user": "u"}}],
                "current-context": context,
            }
        )
    )
    return str(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class FakeApiServer(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, Any]] = {
        "/api": {"kind": "APIVersions", "versions": ["v1"]},
        "/api/v1/namespaces/ns/secrets/tls": {
            "kind": "Table",
            "columnDefinitions": [{"name": "Name"}, {"name": "Type"}, {"name": "Data"}],
            "rows": [{"cells": ["tls", "kubernetes.io/tls", 2]}],
        },
    }

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(401, {"kind": "Status", "message": "Unauthorized"})
        elif self.path in self.routes:
            self._send(200, self.routes[self.path])
        elif self.path == "/boom":
            self._send(500, {"kind": "Status", "message": "etcd is sad"})
        else:
            self._send(404, {"kind": "Status", "message": "not found"})

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def api_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApiServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_reads_objects_and_secret_types_without_secret_data(
    tmp_path: Path, api_server: str
) -> None:
    cluster = connect(kubeconfig(tmp_path, api_server), "aio-mq-local")
    assert cluster.context == "aio-mq-local"
    assert cluster.get("/api") == {"kind": "APIVersions", "versions": ["v1"]}
    assert cluster.get("/api/v1/namespaces/nope") is None
    assert cluster.secret_type("ns", "tls") == "kubernetes.io/tls"
    assert cluster.secret_type("ns", "missing") is None
    with pytest.raises(ClusterError, match=r"answered GET /boom with 500 .*: etcd is sad"):
        cluster.get("/boom")


def test_refused_credentials(tmp_path: Path, api_server: str) -> None:
    path = kubeconfig(tmp_path, api_server)
    Path(path).write_text(Path(path).read_text().replace(TOKEN, "wrong"))
    with pytest.raises(ClusterError) as caught:
        connect(path)
    assert str(caught.value) == (
        f"the API server of context 'aio-mq-local' ({api_server}) refused the credentials of "
        "the kubeconfig (401 Unauthorized)"
    )


def test_nothing_listening(tmp_path: Path) -> None:
    server = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ClusterError) as caught:
        connect(kubeconfig(tmp_path, server))
    message = str(caught.value)
    assert message.startswith(
        f"the API server of context 'aio-mq-local' ({server}) did not answer within 10 s: "
    )
    assert "Connection refused" in message


def test_a_server_that_never_answers_costs_one_timeout(tmp_path: Path) -> None:
    accepted: list[socket.socket] = []
    with socket.socket() as silent:  # accepts connections, never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        silent.settimeout(0.2)
        stop = threading.Event()

        def accept() -> None:
            while not stop.is_set():
                try:
                    accepted.append(silent.accept()[0])
                except TimeoutError:
                    continue

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        server = f"http://127.0.0.1:{silent.getsockname()[1]}"
        try:
            with pytest.raises(ClusterError, match=r"did not answer within 0.5 s: .*timed out"):
                connect(kubeconfig(tmp_path, server), timeout=0.5)
        finally:
            stop.set()
            thread.join()
            for connection in accepted:
                connection.close()
    assert len(accepted) == 1  # no retries: one timeout, not four


def test_a_cluster_that_went_away_fails_every_later_read_at_once(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApiServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    cluster = connect(kubeconfig(tmp_path, f"http://127.0.0.1:{server.server_address[1]}"))
    server.shutdown()
    server.server_close()
    with pytest.raises(ClusterError, match="did not answer") as first:
        cluster.get("/api/v1/namespaces/x")
    with pytest.raises(ClusterError) as second:
        cluster.secret_type("ns", "tls")
    assert str(second.value) == str(first.value)


def test_unreadable_kubeconfig_and_unknown_context(tmp_path: Path) -> None:
    with pytest.raises(ClusterError, match=r"cannot read the kubeconfig .*/absent"):
        connect(str(tmp_path / "absent"))
    path = kubeconfig(tmp_path, "http://127.0.0.1:1")
    with pytest.raises(ClusterError) as caught:
        connect(path, "prod")
    assert str(caught.value) == (
        f"context 'prod' is not in the kubeconfig {path} (contexts: aio-mq-local)"
    )
